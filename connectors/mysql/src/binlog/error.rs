//! What can go wrong while reading the binary log.

/// An error of the binlog reader.
#[derive(Debug, thiserror::Error)]
pub enum BinlogError {
    /// The connection or a query failed.
    #[error("MySQL: {0}")]
    Mysql(#[from] mysql_async::Error),
    /// A server variable has a value the source cannot work with; the task must not start.
    #[error("the server's {variable} is {actual}, but the MySQL source needs {variable}={required}")]
    Setting {
        /// The variable, such as `binlog_format`.
        variable: &'static str,
        /// Its value on the server.
        actual: String,
        /// The value needed.
        required: &'static str,
    },
    /// A query the reader relies on returned no row or an unexpected value.
    #[error("unexpected answer to `{query}`")]
    UnexpectedAnswer {
        /// The query.
        query: &'static str,
    },
    /// mysql_common could not decode an event.
    #[error("decoding a binlog event: {0}")]
    Decode(#[from] std::io::Error),
    /// A MariaDB event the reader decodes itself was shorter or otherwise different from its format.
    #[error("malformed {event} event: {reason}")]
    Malformed {
        /// The event's name.
        event: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
    /// A rows event named a table id no table map event announced.
    #[error("rows event for table id {0} without a preceding table map event")]
    UnknownTable(u64),
}
