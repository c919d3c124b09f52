//! The connector's check against the database, run when a config is validated or stored: the settings are
//! consistent and the database answers to these credentials. Each problem is reported on the setting to fix, in the
//! database's words.

use std::collections::BTreeMap;

use tidemark_connect::config::{resolve, FieldError};

use crate::config::SinkConfig;
use crate::db::{DbError, Session};

/// Every problem with `props`, those only the database can tell included.
pub async fn validate(props: &BTreeMap<String, String>) -> Vec<FieldError> {
    // Config providers are resolved as a task would; a reference that does not resolve fails at task start.
    let Ok(resolved) = resolve(props) else { return Vec::new() };
    let config = match SinkConfig::from_props(&resolved) {
        Ok(config) => config,
        Err(errors) => return errors,
    };
    let target = format!("{} at {}", config.url.dialect, config.url.address());
    match Session::connect(&config).await {
        Ok(session) => {
            session.close().await;
            Vec::new()
        }
        Err(DbError::Login(message)) => {
            let message = format!("{target} refused the login: {message}");
            vec![error("connection.password", message.clone()), error("connection.username", message)]
        }
        Err(DbError::Database(message)) => vec![error("connection.url", format!("{target}: {message}"))],
        Err(other) => vec![error("connection.url", format!("Unable to connect to {target}: {other}"))],
    }
}

fn error(name: &str, message: String) -> FieldError {
    FieldError { name: name.to_owned(), message }
}
