//! [`TypeError`]: why a column's schema or value could not be made. All are definite: the same input fails again.

use std::fmt;

use thiserror::Error;
use tidemark_connect::data::{DataError, SchemaError};

/// Which of Postgres's two wire forms a value came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The type's output function (pgoutput's `t` values, a simple query's results).
    Text,
    /// The type's send function (`COPY ... (FORMAT binary)`, pgoutput's `b` values).
    Binary,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Text => "text",
            Format::Binary => "binary",
        })
    }
}

/// Why a column's schema or value could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TypeError {
    /// The type has no Debezium mapping and `include.unknown.datatypes` is false: Debezium leaves such a column
    /// out of the event, and so should the source (this is the variant to skip the column on).
    #[error("type {name} (oid {oid}) has no mapping; the column is left out unless include.unknown.datatypes=true")]
    Unknown {
        /// The type's oid.
        oid: u32,
        /// The type's name.
        name: String,
    },
    /// A value that is not what the type's output or send function produces.
    #[error("invalid {format} {type_name} value: {reason}")]
    Malformed {
        /// The column's type name.
        type_name: String,
        /// The form the value came in.
        format: Format,
        /// What is wrong with it.
        reason: String,
    },
    /// NaN or an infinity in a `numeric` column under `decimal.handling.mode=precise`, which Debezium refuses too.
    #[error(
        "{type_name} value {value} cannot be represented under decimal.handling.mode=precise; \
         set decimal.handling.mode to string or double"
    )]
    SpecialNumeric {
        /// The column's type name.
        type_name: String,
        /// `NaN`, `Infinity` or `-Infinity`.
        value: &'static str,
    },
    /// A type whose binary form is not decoded (the unknown types captured under `include.unknown.datatypes`,
    /// which Debezium captures as their text): read the column in text form.
    #[error("the binary form of {type_name} is not decoded; read the column as text")]
    TextRequired {
        /// The column's type name.
        type_name: String,
    },
    /// A type with no representation of an unchanged TOASTed value (its schema is neither a string nor bytes,
    /// nor an array or hstore Debezium defines a placeholder for).
    #[error("{type_name} has no placeholder for an unchanged TOASTed value")]
    NoPlaceholder {
        /// The column's type name.
        type_name: String,
    },
    /// A schema or struct that could not be built (a bug here, not bad input).
    #[error("building the {type_name} schema or value: {reason}")]
    Internal {
        /// The column's type name.
        type_name: String,
        /// The data model's complaint.
        reason: String,
    },
}

impl TypeError {
    /// A [`TypeError::Internal`] from a schema error.
    pub(crate) fn schema(type_name: &str, error: SchemaError) -> Self {
        TypeError::Internal { type_name: type_name.to_owned(), reason: error.to_string() }
    }

    /// A [`TypeError::Internal`] from a struct error.
    pub(crate) fn data(type_name: &str, error: DataError) -> Self {
        TypeError::Internal { type_name: type_name.to_owned(), reason: error.to_string() }
    }
}
