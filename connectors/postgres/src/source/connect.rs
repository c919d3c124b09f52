//! Opening the two kinds of connections from the settings: an ordinary one (tokio-postgres) for SQL and the
//! catalog, and a replication one ([`crate::replication`]) for the slot.

use std::time::Duration;

use tokio_postgres::Client;

use super::config::SourceConfig;
use crate::replication::{ConnectConfig, ReplicationConnection, ReplicationError};

/// How long opening a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The name the connections show in `pg_stat_activity` and `pg_stat_replication`.
fn application_name(config: &SourceConfig) -> String {
    format!("tidemark-{}", config.topic_prefix)
}

/// An ordinary connection, with TLS as `database.sslmode` says; its I/O runs on a task of its own until the client
/// is dropped.
pub async fn sql(config: &SourceConfig) -> Result<Client, tokio_postgres::Error> {
    let mut settings = tokio_postgres::Config::new();
    settings
        .host(&config.host)
        .port(config.port)
        .user(&config.user)
        .password(&config.password)
        .dbname(&config.dbname)
        .application_name(application_name(config))
        .connect_timeout(CONNECT_TIMEOUT);
    let (client, connection) = config.tls.connect_sql(&settings).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(error = %error, "a Postgres connection ended");
        }
    });
    Ok(client)
}

/// A replication connection, with TLS as `database.sslmode` says.
pub async fn replication(config: &SourceConfig) -> Result<ReplicationConnection, ReplicationError> {
    let settings = ConnectConfig {
        host: config.host.clone(),
        port: config.port,
        user: config.user.clone(),
        password: config.password.clone(),
        dbname: config.dbname.clone(),
        application_name: application_name(config),
        tls: config.tls.clone(),
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, ReplicationConnection::connect(&settings)).await {
        Ok(connected) => connected,
        Err(_) => Err(ReplicationError::Connect {
            address: format!("{}:{}", config.host, config.port),
            source: std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out"),
        }),
    }
}
