//! The publication the slot streams (`publication.name`), made to exist as `publication.autocreate.mode` says:
//! `all_tables` creates it `FOR ALL TABLES` when missing (the connector then filters), `filtered` creates it, or
//! sets its tables, `FOR TABLE` the captured tables, `disabled` only checks that it exists.
//!
//! It must exist before the slot is created: pgoutput looks the publication up as of each change it decodes.

use tokio_postgres::Client;

use super::catalog;
use super::config::{AutocreateMode, SourceConfig};
use super::error::SourceError;
use crate::replication::quote_identifier;

/// Creates or alters the publication as configured.
pub async fn ensure(client: &Client, config: &SourceConfig) -> Result<(), SourceError> {
    let name = &config.publication_name;
    let exists = client.query_opt("SELECT 1 FROM pg_publication WHERE pubname = $1", &[name]).await?.is_some();
    let quoted = quote_identifier(name);
    match config.autocreate {
        AutocreateMode::Disabled if exists => Ok(()),
        AutocreateMode::Disabled => Err(SourceError::Refused(format!(
            "the publication \"{name}\" does not exist and publication.autocreate.mode is disabled: create it \
             (CREATE PUBLICATION {quoted} FOR TABLE ...) or set publication.autocreate.mode to all_tables or filtered"
        ))),
        AutocreateMode::AllTables if exists => Ok(()),
        AutocreateMode::AllTables => {
            tracing::info!(publication = %name, "creating the publication FOR ALL TABLES");
            client.batch_execute(&format!("CREATE PUBLICATION {quoted} FOR ALL TABLES")).await?;
            Ok(())
        }
        AutocreateMode::Filtered => {
            let tables = catalog::captured_tables(client, &config.filter).await?;
            if tables.is_empty() {
                return Err(SourceError::Refused(format!(
                    "no table matches the connector's table and schema lists, so the publication \"{name}\" \
                     (publication.autocreate.mode=filtered) would be empty"
                )));
            }
            let list: Vec<String> = tables
                .iter()
                .map(|t| format!("{}.{}", quote_identifier(&t.schema), quote_identifier(&t.name)))
                .collect();
            let list = list.join(", ");
            let statement = if exists {
                format!("ALTER PUBLICATION {quoted} SET TABLE {list}")
            } else {
                format!("CREATE PUBLICATION {quoted} FOR TABLE {list}")
            };
            tracing::info!(publication = %name, tables = %list, "publishing the captured tables");
            client.batch_execute(&statement).await?;
            Ok(())
        }
    }
}
