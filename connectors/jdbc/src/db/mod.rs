//! A connection to the destination ([`Session`]), Postgres ([`postgres`]) or MySQL/MariaDB ([`mysql`]), and its
//! failures sorted by what the sink does about them ([`DbError`]).

pub mod mysql;
pub mod postgres;
pub mod text;

use thiserror::Error;

use crate::config::SinkConfig;
use crate::tls::SinkTls;
use crate::value::SqlValue;

/// A database failure, in the database's words, sorted by what the sink does about it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DbError {
    /// The database refused a row (a constraint, a value the column cannot hold): the record is rejected.
    #[error("{0}")]
    Refused(String),
    /// The connection broke, the server is unavailable or rolled the transaction back (a deadlock): retrying may
    /// help.
    #[error("{0}")]
    Unavailable(String),
    /// The login was refused (user or password).
    #[error("{0}")]
    Login(String),
    /// The database cannot be used (it does not exist, or the user may not use it).
    #[error("{0}")]
    Database(String),
    /// Anything else (a missing privilege, a statement the database refuses): retrying cannot help.
    #[error("{0}")]
    Failed(String),
}

/// A column of an existing table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableColumn {
    /// Its name.
    pub name: String,
    /// Its type, as a cast names it (Postgres) or as `information_schema` says (MySQL).
    pub sql_type: String,
}

/// An existing table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    /// Its columns in order.
    pub columns: Vec<TableColumn>,
}

/// The transaction control that goes with a statement: `START TRANSACTION` before it, `COMMIT` after it. Postgres
/// sends them together with the statement (pipelined: one round trip where there would be three); MySQL runs them in
/// turn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bracket {
    /// The statement is the transaction's first: start the transaction before it.
    pub begin: bool,
    /// The statement is the transaction's last: commit after it (only when it succeeds; when it fails the
    /// transaction is rolled back, whether by the database or by the caller's `ROLLBACK`).
    pub commit: bool,
}

impl Bracket {
    /// No transaction control: the statement runs inside the transaction as it stands.
    pub const INSIDE: Bracket = Bracket { begin: false, commit: false };
}

/// An open connection to the destination.
pub enum Session {
    /// To Postgres.
    Postgres(Box<postgres::PgSession>),
    /// To MySQL or MariaDB.
    MySql(mysql::MySqlSession),
}

impl Session {
    /// Connects to the database of `connection.url` with the settings' credentials, over TLS as the URL says.
    pub async fn connect(config: &SinkConfig) -> Result<Self, DbError> {
        Ok(match &config.tls {
            SinkTls::Postgres(tls) => Session::Postgres(Box::new(postgres::PgSession::connect(config, tls).await?)),
            SinkTls::MySql(tls) => Session::MySql(mysql::MySqlSession::connect(config, tls).await?),
        })
    }

    /// Runs SQL without parameters (transaction control, DDL).
    pub async fn run(&mut self, sql: &str) -> Result<(), DbError> {
        match self {
            Session::Postgres(session) => session.run(sql).await,
            Session::MySql(session) => session.run(sql).await,
        }
    }

    /// Runs a statement with `params`, bracketed as `bracket` says; answers the rows it changed.
    pub async fn execute(&mut self, sql: &str, params: &[&SqlValue], bracket: Bracket) -> Result<u64, DbError> {
        match self {
            Session::Postgres(session) => session.execute(sql, params, bracket).await,
            Session::MySql(session) => session.execute(sql, params, bracket).await,
        }
    }

    /// The table `name`, `None` when there is none.
    pub async fn table(&mut self, name: &str) -> Result<Option<TableInfo>, DbError> {
        match self {
            Session::Postgres(session) => session.table(name).await,
            Session::MySql(session) => session.table(name).await,
        }
    }

    /// Closes the connection.
    pub async fn close(self) {
        match self {
            // Dropping the client ends the connection task.
            Session::Postgres(_) => {}
            Session::MySql(session) => session.close().await,
        }
    }
}
