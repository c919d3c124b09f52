//! What can go wrong while reading the binary log or parsing GTIDs.

use super::flavor::Flavor;

/// The server error 1236, ER_MASTER_FATAL_ERROR_READING_BINLOG: the server cannot send the binlog from the requested
/// position.
const ER_MASTER_FATAL_ERROR_READING_BINLOG: u16 = 1236;

/// An error of the binlog reader.
#[derive(Debug, thiserror::Error)]
pub enum BinlogError {
    /// The connection or a query failed.
    #[error("MySQL: {0}")]
    Mysql(mysql_async::Error),
    /// The server cannot send the binlog from the requested position (its error 1236): mostly because the file, or
    /// on MariaDB the file holding the requested GTID position, was purged. The same error also reports a GTID
    /// position the server never had or an offset that is no event boundary; `message` tells which. The source must
    /// snapshot again (`snapshot.mode=when_needed`) or fail naming it.
    #[error("the server cannot send the binlog from the requested position (purged?): {message}")]
    Purged {
        /// The server's message.
        message: String,
    },
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
    /// A GTID set does not fit the server.
    #[error(transparent)]
    Gtid(#[from] GtidError),
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

impl From<mysql_async::Error> for BinlogError {
    /// Error 1236 becomes [`BinlogError::Purged`], whether it answers the dump request or arrives later in the
    /// stream; everything else stays [`BinlogError::Mysql`].
    fn from(error: mysql_async::Error) -> Self {
        match error {
            mysql_async::Error::Server(server) if server.code == ER_MASTER_FATAL_ERROR_READING_BINLOG => {
                BinlogError::Purged { message: server.message }
            }
            other => BinlogError::Mysql(other),
        }
    }
}

/// A GTID or GTID set that could not be parsed or does not fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GtidError {
    /// The text is not in the flavour's GTID syntax.
    #[error("`{text}` is not a {flavor:?} GTID set entry: {reason}")]
    Syntax {
        /// The flavour whose syntax was expected.
        flavor: Flavor,
        /// The offending entry.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A GTID or set of one flavour met a set or server of the other.
    #[error("a {expected:?} GTID set cannot take the {actual:?} GTID (set) {text}")]
    FlavorMismatch {
        /// The flavour of the set or server.
        expected: Flavor,
        /// The flavour of the GTID or set given.
        actual: Flavor,
        /// The GTID or set given.
        text: String,
    },
}
