//! What can go wrong in the source, and whether retrying can help ([`SourceError::into_task_error`]).

use tidemark_connect::connector::TaskError;
use tidemark_connect::data::{DataError, SchemaError};
use tidemark_debezium::TableError;

use crate::binlog::BinlogError;
use crate::tls::is_definite_tls_failure;
use crate::types::{CatalogError, TypeError};

/// An error of the MySQL source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A query failed or the connection broke.
    #[error("MySQL: {0}")]
    Sql(#[from] mysql_async::Error),
    /// Reading the binlog failed.
    #[error("MySQL binlog: {0}")]
    Binlog(#[from] BinlogError),
    /// Reading a table's definition from `information_schema` failed.
    #[error("MySQL: {0}")]
    Catalog(#[from] Box<CatalogError>),
    /// A column's type or value cannot be represented.
    #[error("table {table}, column {column}: {source}")]
    Column {
        /// `<database>.<table>`.
        table: String,
        /// The column.
        column: String,
        /// Why (boxed: type errors carry a lot).
        source: Box<TypeError>,
    },
    /// A schema could not be built.
    #[error("schema of {name}: {source}")]
    Schema {
        /// The schema's name.
        name: String,
        /// Why.
        source: SchemaError,
    },
    /// A value did not fit its schema.
    #[error("event of {table}: {source}")]
    Data {
        /// `<database>.<table>`.
        table: String,
        /// Why.
        source: DataError,
    },
    /// Opening a connection took longer than `connect.timeout.ms`.
    #[error("connecting to MySQL at {address} timed out")]
    ConnectTimeout {
        /// `host:port`.
        address: String,
    },
    /// The server or the stored position cannot be worked with; the message says what to do.
    #[error("{0}")]
    Refused(String),
}

impl From<TableError<TypeError>> for SourceError {
    fn from(error: TableError<TypeError>) -> Self {
        match error {
            TableError::Column { table, column, source } => {
                SourceError::Column { table, column, source: Box::new(source) }
            }
            TableError::Schema { name, source } => SourceError::Schema { name, source },
            TableError::Data { table, source } => SourceError::Data { table, source },
        }
    }
}

impl From<SourceError> for TaskError {
    fn from(error: SourceError) -> Self {
        error.into_task_error()
    }
}

impl SourceError {
    /// The task error: transient for a lost connection or a server that is restarting or busy (the runtime
    /// retries, and the task resumes from its last position), definite otherwise.
    pub fn into_task_error(self) -> TaskError {
        let transient = match &self {
            SourceError::Sql(error) | SourceError::Binlog(BinlogError::Mysql(error)) => transient(error),
            SourceError::ConnectTimeout { .. } => true,
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

/// Whether retrying can help: the connection broke, or the server said it is shutting down, starting, out of
/// connections, or in a deadlock or lock wait. TLS failures that connecting again cannot mend (a certificate
/// refused, no TLS on the server) are definite.
fn transient(error: &mysql_async::Error) -> bool {
    match error {
        _ if is_definite_tls_failure(error) => false,
        mysql_async::Error::Io(_) | mysql_async::Error::Driver(_) => true,
        // ER_CON_COUNT_ERROR, ER_SERVER_SHUTDOWN, ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK, ER_QUERY_INTERRUPTED,
        // ER_SERVER_IS_IN_SECURE_AUTH_MODE-free startup errors (ER_NORMAL_SHUTDOWN, ER_SHUTDOWN_COMPLETE).
        mysql_async::Error::Server(server) => matches!(server.code, 1040 | 1053 | 1077 | 1079 | 1205 | 1213 | 1317),
        _ => false,
    }
}

impl From<CatalogError> for SourceError {
    fn from(error: CatalogError) -> Self {
        SourceError::Catalog(Box::new(error))
    }
}
