//! Opening connections from the settings.

use mysql_async::{Conn, OptsBuilder};

use super::config::SourceConfig;
use super::error::SourceError;
use crate::tls::ConnectOpts;

/// The connection options of the settings, with TLS as `database.ssl.mode` says (no pool: each use opens its own
/// connection).
pub fn opts(config: &SourceConfig) -> ConnectOpts {
    let builder = OptsBuilder::default()
        .ip_or_hostname(config.host.clone())
        .tcp_port(config.port)
        .user(Some(config.user.clone()))
        .pass(Some(config.password.clone()))
        .prefer_socket(false);
    config.tls.connect_opts(builder)
}

/// An ordinary connection, in UTC (`TIMESTAMP` values then read as stored).
pub async fn sql(config: &SourceConfig) -> Result<Conn, SourceError> {
    use mysql_async::prelude::Queryable;
    let opts = opts(config);
    let connecting = opts.connect();
    let mut conn = match tokio::time::timeout(config.connect_timeout, connecting).await {
        Ok(connected) => connected?,
        Err(_) => return Err(SourceError::ConnectTimeout { address: format!("{}:{}", config.host, config.port) }),
    };
    conn.query_drop("SET time_zone = '+00:00'").await?;
    Ok(conn)
}
