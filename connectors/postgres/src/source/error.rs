//! What can go wrong in the source, and whether retrying can help ([`SourceError::into_task_error`]).

use tidemark_connect::connector::TaskError;
use tidemark_connect::data::{DataError, SchemaError};

use super::columns::{CatalogError, TypeError};
use crate::pgoutput::{DecodeError, UnknownRelation};
use crate::replication::ReplicationError;
use crate::tls::is_definite_tls_failure;

/// A failure of the Postgres source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// An ordinary SQL connection or statement failed.
    #[error("Postgres: {}", sql_message(.0))]
    Sql(#[from] tokio_postgres::Error),
    /// The replication connection failed.
    #[error("Postgres replication: {0}")]
    Replication(#[from] ReplicationError),
    /// A pgoutput message did not decode.
    #[error("pgoutput: {0}")]
    Decode(#[from] DecodeError),
    /// A column's type could not be read from the catalog.
    #[error("Postgres: {0}")]
    Catalog(#[from] CatalogError),
    /// A row change named a relation the session never described.
    #[error("pgoutput: {0}")]
    UnknownRelation(#[from] UnknownRelation),
    /// A column's type or value could not be converted.
    #[error("table {table}, column {column}: {source}")]
    Column {
        /// `<schema>.<table>`.
        table: String,
        /// The column.
        column: String,
        /// Why.
        source: TypeError,
    },
    /// A schema could not be built.
    #[error("schema of {name}: {source}")]
    Schema {
        /// The schema's name.
        name: String,
        /// Why.
        source: SchemaError,
    },
    /// A struct could not be built.
    #[error("event of {table}: {source}")]
    Data {
        /// `<schema>.<table>` (or the topic).
        table: String,
        /// Why.
        source: DataError,
    },
    /// The binary COPY data of the snapshot was malformed.
    #[error("snapshot of {table}: malformed COPY data: {why}")]
    Copy {
        /// `<schema>.<table>`.
        table: String,
        /// What was wrong.
        why: String,
    },
    /// A streamed transaction could not be held in or read back from its temporary file.
    #[error("holding a streamed transaction on disk: {0}")]
    Spill(std::io::Error),
    /// The database or the stored state does not allow the task to go on; the message says what to do.
    #[error("{0}")]
    Refused(String),
}

impl From<SourceError> for TaskError {
    fn from(error: SourceError) -> Self {
        error.into_task_error()
    }
}

impl SourceError {
    /// The task error: transient (retried with backoff) when the connection broke, the server is shutting down
    /// or busy, or the slot is still held by a stopping session; definite otherwise, TLS failures that connecting
    /// again cannot mend (a certificate refused, no TLS on the server) among them.
    pub fn into_task_error(self) -> TaskError {
        let transient = match &self {
            SourceError::Sql(error) => match error.as_db_error() {
                Some(db) => transient_sqlstate(db.code().code()),
                None => !is_definite_tls_failure(error),
            },
            SourceError::Catalog(CatalogError::Query { source, .. }) => match source.as_db_error() {
                Some(db) => transient_sqlstate(db.code().code()),
                None => true,
            },
            SourceError::Replication(error) => match error {
                ReplicationError::Server(server) => transient_sqlstate(&server.code),
                ReplicationError::Authentication(_)
                | ReplicationError::Protocol(_)
                | ReplicationError::NoTls { .. } => false,
                ReplicationError::Tls { .. } => !is_definite_tls_failure(error),
                ReplicationError::Connect { .. }
                | ReplicationError::Io(_)
                | ReplicationError::Closed
                | ReplicationError::StreamEnded => true,
            },
            // A full disk may be freed: the transaction is streamed again after a reconnection.
            SourceError::Spill(_) => true,
            _ => false,
        };
        let message = self.to_string();
        if transient {
            TaskError::Transient(message)
        } else {
            TaskError::Definite(message)
        }
    }
}

/// Connection failures (class 08), the server shutting down or not yet accepting connections (57P01-57P03),
/// too many connections (53300), an object in use such as an active slot (55006), and serialization or deadlock
/// failures (40001, 40P01).
fn transient_sqlstate(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300" | "55006" | "40001" | "40P01")
}

/// The server's own words for a database error (`FATAL: password authentication failed ... (SQLSTATE 28P01)`),
/// the driver's for anything else.
pub fn sql_message(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => {
            let mut message = format!("{}: {} (SQLSTATE {})", db.severity(), db.message(), db.code().code());
            if let Some(detail) = db.detail() {
                message.push_str(&format!("; detail: {detail}"));
            }
            if let Some(hint) = db.hint() {
                message.push_str(&format!("; hint: {hint}"));
            }
            message
        }
        None => {
            let mut message = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                let cause_text = cause.to_string();
                if !message.contains(&cause_text) {
                    message.push_str(&format!(": {cause_text}"));
                }
                source = cause.source();
            }
            message
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replication::ServerError;

    #[test]
    fn connection_trouble_is_transient_and_the_rest_definite() {
        let closed = SourceError::Replication(ReplicationError::Closed);
        assert!(matches!(closed.into_task_error(), TaskError::Transient(_)));
        let busy = ServerError { code: "55006".into(), message: "slot is active".into(), ..ServerError::default() };
        assert!(matches!(
            SourceError::Replication(ReplicationError::Server(busy)).into_task_error(),
            TaskError::Transient(_)
        ));
        let auth = ServerError { code: "28P01".into(), message: "password".into(), ..ServerError::default() };
        assert!(matches!(
            SourceError::Replication(ReplicationError::Server(auth)).into_task_error(),
            TaskError::Definite(_)
        ));
        let refused = SourceError::Refused("set wal_level".into()).into_task_error();
        assert_eq!(refused, TaskError::Definite("set wal_level".into()));
    }

    #[test]
    fn refused_certificates_are_definite_and_broken_handshakes_transient() {
        let tls = |source| SourceError::Replication(ReplicationError::Tls { address: "db:5432".into(), source });
        let refused = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let refused = tls(std::io::Error::new(std::io::ErrorKind::InvalidData, refused)).into_task_error();
        assert!(matches!(&refused, TaskError::Definite(m) if m.contains("UnknownIssuer")), "{refused:?}");
        let reset = tls(std::io::Error::from(std::io::ErrorKind::ConnectionReset)).into_task_error();
        assert!(matches!(reset, TaskError::Transient(_)));
        let no_tls = SourceError::Replication(ReplicationError::NoTls { address: "db:5432".into() });
        assert!(matches!(no_tls.into_task_error(), TaskError::Definite(_)));
    }
}
