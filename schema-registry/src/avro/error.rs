//! Why a schema string is not a valid Avro schema.

use thiserror::Error;

/// A schema (or one of its references) that is not a valid Avro schema. The message is the detail of Confluent's
/// 42201 answer, to follow "Invalid schema: "; it says what is wrong in the user's terms.
#[derive(Debug, Error)]
pub enum SchemaError {
    /// The schema text is not JSON at all.
    #[error("not valid JSON: {0}")]
    InvalidJson(#[source] serde_json::Error),
    /// A referenced schema's text is not JSON.
    #[error("reference {index} is not valid JSON: {source}")]
    InvalidReferenceJson {
        /// The position of the reference in the list given to [`parse`](super::parse).
        index: usize,
        /// What the JSON parser said.
        #[source]
        source: serde_json::Error,
    },
    /// A referenced schema is not the definition of a named type (record, enum or fixed).
    #[error("reference {index} must define a named type (a record, enum or fixed), not {found}")]
    ReferenceNotNamed {
        /// The position of the reference in the list given to [`parse`](super::parse).
        index: usize,
        /// What the reference is instead, in words.
        found: String,
    },
    /// apache-avro refused the schema or one of its references.
    #[error("{0}")]
    Avro(#[source] apache_avro::Error),
    /// The same full name is defined twice with different definitions.
    #[error("Can't redefine: {0}")]
    Redefined(String),
    /// A type is used by a name that no schema defines.
    #[error("Unknown type: {0}")]
    UnknownType(String),
}
