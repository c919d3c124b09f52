//! The connector's checks against the server, run when a config is validated or stored: the server answers to
//! these credentials, logs full row images, and lets the user read the binlog. Each problem is reported on the
//! setting to fix, in the server's words.

use std::collections::BTreeMap;

use tidemark_connect::config::{resolve, FieldError};

use super::config::SourceConfig;
use super::connect;
use crate::binlog::{BinlogError, BinlogReader};
use crate::tls::{is_definite_tls_failure, SslMode};

/// Every problem with `props` that only the server can tell.
pub async fn validate(props: &BTreeMap<String, String>) -> Vec<FieldError> {
    // Config providers are resolved as a task would; a reference that does not resolve fails at task start.
    let Ok(resolved) = resolve(props) else { return Vec::new() };
    let config = match SourceConfig::from_props(&resolved) {
        Ok(config) => config,
        Err(errors) => return errors,
    };
    let address = format!("{}:{}", config.host, config.port);
    let connecting = BinlogReader::connect(connect::opts(&config), config.server_id);
    let reader = match tokio::time::timeout(config.connect_timeout, connecting).await {
        Ok(Ok(reader)) => reader,
        Ok(Err(error)) => return reader_errors(&error, &address, config.tls.mode()),
        Err(_) => return vec![error("database.hostname", format!("connecting to MySQL at {address} timed out"))],
    };
    match reader.current_position().await {
        Ok(_) => Vec::new(),
        Err(e) => vec![error(
            "database.user",
            format!(
                "user {} cannot read the binlog position ({e}): grant it REPLICATION CLIENT and REPLICATION SLAVE",
                config.user
            ),
        )],
    }
}

/// A failed connection or check, on the setting to fix.
fn reader_errors(failure: &BinlogError, address: &str, tls: SslMode) -> Vec<FieldError> {
    match failure {
        BinlogError::Mysql(tls) if is_definite_tls_failure(tls) => {
            vec![error("database.ssl.mode", format!("TLS to MySQL at {address} failed: {tls}"))]
        }
        // ER_ACCESS_DENIED_ERROR: wrong user or password, or (MariaDB) TLS the server or the user requires.
        BinlogError::Mysql(mysql_async::Error::Server(server)) if server.code == 1045 => {
            let message = format!("MySQL at {address} refused the login: {}", server.message);
            let mut errors = vec![error("database.password", message.clone()), error("database.user", message)];
            if tls == SslMode::Disabled {
                errors.push(error(
                    "database.ssl.mode",
                    format!(
                        "MySQL at {address} refused the login without TLS ({}); MariaDB answers so too when it \
                         requires TLS (require_secure_transport, REQUIRE SSL)",
                        server.message
                    ),
                ));
            }
            errors
        }
        BinlogError::Mysql(mysql_async::Error::Server(server)) => {
            vec![error("database.user", format!("MySQL at {address}: {}", server.message))]
        }
        BinlogError::Setting { .. } => vec![error("database.hostname", format!("MySQL at {address}: {failure}"))],
        other => vec![error("database.hostname", format!("Unable to connect to MySQL at {address}: {other}"))],
    }
}

fn error(name: &str, message: String) -> FieldError {
    FieldError { name: name.to_owned(), message }
}
