//! Opening connections from the settings.

use mysql_async::{Conn, Opts, OptsBuilder};

use super::config::SourceConfig;
use super::error::SourceError;

/// The connection options of the settings (no pool: each use opens its own connection).
pub fn opts(config: &SourceConfig) -> Opts {
    OptsBuilder::default()
        .ip_or_hostname(config.host.clone())
        .tcp_port(config.port)
        .user(Some(config.user.clone()))
        .pass(Some(config.password.clone()))
        .prefer_socket(false)
        .into()
}

/// An ordinary connection, in UTC (`TIMESTAMP` values then read as stored).
pub async fn sql(config: &SourceConfig) -> Result<Conn, SourceError> {
    use mysql_async::prelude::Queryable;
    let connecting = Conn::new(opts(config));
    let mut conn = match tokio::time::timeout(config.connect_timeout, connecting).await {
        Ok(connected) => connected?,
        Err(_) => return Err(SourceError::ConnectTimeout { address: format!("{}:{}", config.host, config.port) }),
    };
    conn.query_drop("SET time_zone = '+00:00'").await?;
    Ok(conn)
}
