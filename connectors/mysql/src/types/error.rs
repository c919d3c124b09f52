//! [`TypeError`] (a column's type or value cannot be converted) and [`CatalogError`] (reading a table's columns from
//! information_schema failed).

use thiserror::Error;
use tidemark_connect::data::{DataError, SchemaError};

/// Why a column's type or one of its values could not be converted. All are definite: the same input fails again.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TypeError {
    /// A type without a mapping here ([`super::MySqlType::Unsupported`]: MariaDB's UUID, INET4, INET6, VECTOR,
    /// text in a character set not decoded here, ...): leave the column out, as Debezium leaves out what it cannot
    /// map.
    #[error("column {column}: type {type_name} has no mapping; the column is left out")]
    Unsupported {
        /// The column.
        column: String,
        /// The type.
        type_name: String,
    },
    /// The description lacks what the type's mapping needs: a table map without its optional metadata
    /// (`binlog_row_metadata=FULL`), or an information_schema row without a precision. Describe the table from
    /// information_schema instead.
    #[error("column {column}: the column description lacks {what}")]
    MissingMetadata {
        /// The column (its position when the description has no name).
        column: String,
        /// What is missing.
        what: &'static str,
    },
    /// A value that is not what the server sends for the column's type.
    #[error("column {column} ({type_name}): invalid {path} value: {reason}")]
    Malformed {
        /// The column.
        column: String,
        /// Its type, as `MySqlType` prints it.
        type_name: String,
        /// The path it came by: `binlog` or `text`.
        path: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A value the representation cannot hold: under `time.precision.mode=connect`, a TIME outside 00:00:00 to
    /// 23:59:59.999999 (Debezium fails on negative ones and those above 24:00:00 too).
    #[error("column {column}: {reason}")]
    OutOfRange {
        /// The column.
        column: String,
        /// Why.
        reason: String,
    },
    /// A partial JSON update (`binlog_row_value_options=PARTIAL_JSON`), which carries no whole value: the server
    /// must log full JSON values.
    #[error("column {column}: a partial JSON update has no whole value; set binlog_row_value_options=''")]
    PartialJson {
        /// The column.
        column: String,
    },
    /// A schema or struct that could not be built (a bug here, not bad input).
    #[error("column {column}: building its schema or value: {reason}")]
    Internal {
        /// The column.
        column: String,
        /// The data model's complaint.
        reason: String,
    },
}

impl TypeError {
    /// A [`TypeError::Internal`] from a schema error.
    pub(super) fn schema(column: &str, error: SchemaError) -> Self {
        TypeError::Internal { column: column.to_owned(), reason: error.to_string() }
    }

    /// A [`TypeError::Internal`] from a struct error.
    pub(super) fn data(column: &str, error: DataError) -> Self {
        TypeError::Internal { column: column.to_owned(), reason: error.to_string() }
    }
}

/// Why a table's columns could not be read from information_schema.
#[derive(Debug, Error)]
pub enum CatalogError {
    /// The query failed.
    #[error("reading the columns of {database}.{table} from information_schema: {source}")]
    Query {
        /// The database.
        database: String,
        /// The table.
        table: String,
        /// The client's error.
        source: mysql_async::Error,
    },
    /// A row that does not have the expected columns or types.
    #[error("unexpected information_schema row for {database}.{table}: {reason}")]
    UnexpectedRow {
        /// The database.
        database: String,
        /// The table.
        table: String,
        /// What was wrong.
        reason: String,
    },
    /// A column's row lacks what its type needs.
    #[error(transparent)]
    Column(#[from] TypeError),
    /// No such table (or no privilege to see it).
    #[error("table {database}.{table} has no columns in information_schema (missing, or not visible)")]
    NoSuchTable {
        /// The database.
        database: String,
        /// The table.
        table: String,
    },
}
