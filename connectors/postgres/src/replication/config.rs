//! Where and as whom to connect.

use std::fmt;

use crate::tls::PgTls;

/// The parameters of a replication connection.
#[derive(Clone)]
pub struct ConnectConfig {
    /// Host name or address of the server.
    pub host: String,
    /// TCP port of the server (usually 5432).
    pub port: u16,
    /// The role to log in as; it needs the `REPLICATION` attribute (or to be a superuser).
    pub user: String,
    /// The role's password, sent as the server asks: SCRAM-SHA-256, MD5 or cleartext.
    pub password: String,
    /// The database whose changes are decoded (a logical slot belongs to one database).
    pub dbname: String,
    /// Shown in `pg_stat_replication.application_name` and the server's log.
    pub application_name: String,
    /// Whether and how the connection uses TLS (`sslmode`).
    pub tls: PgTls,
}

impl fmt::Debug for ConnectConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("dbname", &self.dbname)
            .field("application_name", &self.application_name)
            .field("tls", &self.tls)
            .finish()
    }
}
