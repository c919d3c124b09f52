//! The connector's checks against the database, run when a config is validated or stored: the server answers to
//! these credentials, has `wal_level=logical`, and lets the role replicate, over an ordinary and a replication
//! connection. Each problem is reported on the setting to fix, in the driver's or the server's words (a TLS
//! failure on `database.sslmode`).

use std::collections::BTreeMap;

use tidemark_connect::config::{resolve, FieldError};

use super::catalog;
use super::config::SourceConfig;
use super::connect;
use super::error::sql_message;
use crate::replication::ReplicationError;
use crate::tls::is_definite_tls_failure;

/// Every problem with `props` that only the database can tell.
pub async fn validate(props: &BTreeMap<String, String>) -> Vec<FieldError> {
    // Config providers are resolved as a task would; a reference that does not resolve fails at task start.
    let Ok(resolved) = resolve(props) else { return Vec::new() };
    let config = match SourceConfig::from_props(&resolved) {
        Ok(config) => config,
        Err(errors) => return errors,
    };
    let address = format!("{}:{}", config.host, config.port);
    let client = match connect::sql(&config).await {
        Ok(client) => client,
        Err(error) if is_definite_tls_failure(&error) => {
            return vec![tls_error(&address, &sql_message(&error))];
        }
        Err(error) => {
            let code = error.as_db_error().map(|db| db.code().code().to_owned());
            return connection_errors(code.as_deref(), &address, &sql_message(&error));
        }
    };
    let mut errors = Vec::new();
    match catalog::wal_level(&client).await {
        Ok(level) if level == "logical" => {}
        Ok(level) => errors.push(error(
            "plugin.name",
            format!(
                "the Postgres server at {address} has wal_level={level}, but logical decoding (pgoutput) needs \
                 wal_level=logical: set it (ALTER SYSTEM SET wal_level = logical) and restart the server"
            ),
        )),
        Err(e) => errors.push(error("database.hostname", sql_message(&e))),
    }
    match catalog::may_replicate(&client).await {
        Ok(true) => {}
        Ok(false) => errors.push(error(
            "database.user",
            format!(
                "the role {} may not replicate: give it the REPLICATION attribute (ALTER ROLE {} REPLICATION) or use \
                 a superuser",
                config.user, config.user
            ),
        )),
        Err(e) => errors.push(error("database.user", sql_message(&e))),
    }
    if errors.is_empty() {
        match connect::replication(&config).await {
            Ok(connection) => {
                if let Err(e) = connection.close().await {
                    tracing::debug!(error = %e, "closing the validation's replication connection");
                }
            }
            Err(e) => {
                let message = format!("a replication connection failed: {e}");
                match &e {
                    ReplicationError::NoTls { .. } => errors.push(tls_error(&address, &message)),
                    ReplicationError::Tls { .. } if is_definite_tls_failure(&e) => {
                        errors.push(tls_error(&address, &message));
                    }
                    _ => errors.extend(connection_errors(e.sqlstate(), &address, &message)),
                }
            }
        }
    }
    errors
}

/// A failed connection, on the setting to fix: the password or user for authentication failures (SQLSTATE class
/// 28), the database when it does not exist (3D000), the host otherwise.
fn connection_errors(sqlstate: Option<&str>, address: &str, message: &str) -> Vec<FieldError> {
    match sqlstate {
        Some("28P01") => {
            vec![error("database.password", message.to_owned()), error("database.user", message.to_owned())]
        }
        Some(code) if code.starts_with("28") => vec![error("database.user", message.to_owned())],
        Some("3D000") => vec![error("database.dbname", message.to_owned())],
        _ => vec![error("database.hostname", format!("Unable to connect to Postgres at {address}: {message}"))],
    }
}

/// A TLS failure: the mode, the root certificates or the host name to fix.
fn tls_error(address: &str, message: &str) -> FieldError {
    error("database.sslmode", format!("TLS to Postgres at {address} failed: {message}"))
}

fn error(name: &str, message: String) -> FieldError {
    FieldError { name: name.to_owned(), message }
}
