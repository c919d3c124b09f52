//! The errors of the replication connection.

use std::fmt;
use std::io;

use fallible_iterator::FallibleIterator;
use postgres_protocol::message::backend::ErrorFields;

/// What went wrong on a replication connection.
#[derive(Debug, thiserror::Error)]
pub enum ReplicationError {
    /// The TCP connection could not be opened (nothing listening, host unknown, unreachable).
    #[error("could not connect to Postgres at {address}: {source}")]
    Connect {
        /// `host:port` as configured.
        address: String,
        /// The operating system's error.
        source: io::Error,
    },
    /// The server does not accept TLS (`ssl=off`) while `sslmode` requires it.
    #[error("the Postgres server at {address} does not accept TLS connections (ssl=off), and sslmode requires TLS")]
    NoTls {
        /// `host:port` as configured.
        address: String,
    },
    /// The TLS handshake failed: the server's certificate was refused (not signed by a CA of the root certificates,
    /// not issued for the host, expired), the server refused the client's, or the connection broke during it.
    #[error("TLS handshake with the Postgres server at {address} failed: {source}")]
    Tls {
        /// `host:port` as configured.
        address: String,
        /// rustls's error, in an I/O error.
        source: io::Error,
    },
    /// Reading from or writing to an open connection failed.
    #[error("I/O error on the Postgres replication connection: {0}")]
    Io(#[from] io::Error),
    /// The server closed the connection without an error message (it stopped, or ended the walsender, for example
    /// after `wal_sender_timeout` without status updates).
    #[error("the Postgres server closed the replication connection")]
    Closed,
    /// The server answered with an ErrorResponse.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The server asked for an authentication method this client does not speak, or the exchange failed on the
    /// client's side (a SCRAM server signature that does not verify).
    #[error("authentication with Postgres failed: {0}")]
    Authentication(String),
    /// The server ended the replication stream with CopyDone (it is shutting down, for example).
    #[error("the Postgres server ended the replication stream")]
    StreamEnded,
    /// The server sent something this client did not expect at this point of the protocol.
    #[error("unexpected message from the Postgres server: {0}")]
    Protocol(String),
}

impl ReplicationError {
    /// The SQLSTATE code when the server reported the error (`28P01` for a wrong password, `42704` for a missing
    /// slot or publication, ...).
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            ReplicationError::Server(error) => Some(&error.code),
            _ => None,
        }
    }
}

/// An ErrorResponse (or NoticeResponse) from the server, in the server's words.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerError {
    /// `ERROR`, `FATAL`, `PANIC` (or `WARNING`, `NOTICE`, ... for notices), never localized.
    pub severity: String,
    /// The SQLSTATE code, such as `28P01`.
    pub code: String,
    /// The primary message.
    pub message: String,
    /// The optional detail message.
    pub detail: Option<String>,
    /// The optional hint.
    pub hint: Option<String>,
}

impl ServerError {
    /// Collects the fields of an ErrorResponse or NoticeResponse body.
    pub(crate) fn from_fields(mut fields: ErrorFields<'_>) -> io::Result<Self> {
        let mut error = ServerError::default();
        let mut localized_severity = None;
        while let Some(field) = fields.next()? {
            let value = String::from_utf8_lossy(field.value_bytes()).into_owned();
            match field.type_() {
                b'V' => error.severity = value,
                b'S' => localized_severity = Some(value),
                b'C' => error.code = value,
                b'M' => error.message = value,
                b'D' => error.detail = Some(value),
                b'H' => error.hint = Some(value),
                _ => {}
            }
        }
        // Servers before 9.6 send only the localized severity.
        if error.severity.is_empty() {
            error.severity = localized_severity.unwrap_or_default();
        }
        Ok(error)
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} (SQLSTATE {})", self.severity, self.message, self.code)?;
        if let Some(detail) = &self.detail {
            write!(f, "; detail: {detail}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "; hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ServerError {}
