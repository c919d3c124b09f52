//! A captured table's Connect schemas ([`tidemark_debezium::TableSchema`], shared with the Postgres source) built
//! from MySQL column definitions: the snapshot reads them from `information_schema`, the stream from the table map
//! events (`binlog_row_metadata=FULL`); both go through [`build_table`] so a table has the same schemas in both.

use tidemark_connect::data::SchemaRef;

use super::config::SourceConfig;
use super::envelope::Envelopes;
use super::error::SourceError;
use crate::types::{ColumnConverter, ColumnDef, TypeError};

pub use tidemark_debezium::Row;

/// A captured table's schemas, with a MySQL converter per column.
pub type TableSchema = tidemark_debezium::TableSchema<ColumnConverter>;

/// The schemas of `database.table` with `columns` (in table order), keyed by the columns `message.key.columns`
/// names for it, else by `primary_key`.
pub fn build_table(
    envelopes: &Envelopes,
    config: &SourceConfig,
    (database, table): (&str, &str),
    columns: Vec<ColumnDef>,
    primary_key: &[String],
) -> Result<TableSchema, SourceError> {
    let columns = columns.into_iter().map(|def| (def.name.clone(), def)).collect();
    // A column of a type without a mapping is left out, as Debezium leaves it out.
    let convert = |def: ColumnDef| match ColumnConverter::new(&def, &config.types) {
        Ok(converter) => Ok(Some(converter)),
        Err(TypeError::Unsupported { .. }) => Ok(None),
        Err(other) => Err(other),
    };
    let envelope = |name: &str, row: &SchemaRef| envelopes.envelope_schema(name, row);
    Ok(TableSchema::build(
        envelopes.prefix(),
        (database, table),
        columns,
        primary_key,
        config.column_rules(),
        convert,
        envelope,
    )?)
}
