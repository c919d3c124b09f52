//! Errors of converters: configuring one ([`ConfigError`], naming the key) and converting ([`ConvertError`]).

use thiserror::Error;

use super::avro::{AvroError, SchemaRegistryError};
use crate::data::{SchemaError, ValidationError};

/// A converter configuration that cannot be used. Keys are named as the user writes them, with the converter's
/// prefix (`value.converter.schemas.enable`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// A required key is missing.
    #[error("{key}: missing required configuration")]
    Missing {
        /// The key.
        key: String,
    },
    /// A key's value is not one of the accepted ones.
    #[error("{key}: invalid value {value:?}, expected {expected}")]
    Invalid {
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// A setting the converter has but does not implement (refused rather than ignored).
    #[error("{key}: {value:?} is not supported: {reason}")]
    Unsupported {
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// Why, and what to do instead.
        reason: &'static str,
    },
    /// A setting names something that cannot be used (an unreadable file, say).
    #[error("{key}: {why}")]
    Unusable {
        /// The key.
        key: String,
        /// What is wrong.
        why: String,
    },
    /// A converter class that is not available.
    #[error("{key}: unknown converter class {class:?}, expected one of {}", super::factory::KNOWN.join(", "))]
    UnknownClass {
        /// The key that named it (`key.converter`, `value.converter`, `header.converter`).
        key: &'static str,
        /// The class given.
        class: String,
    },
}

/// Why a JSON envelope's schema cannot be read (Kafka's messages, in other words).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JsonSchemaError {
    /// No string `type`.
    #[error("a schema must be a JSON object with a string \"type\"")]
    MissingType,
    /// A `type` Kafka does not know.
    #[error("unknown schema type {0:?}")]
    UnknownType(String),
    /// An array schema without `items`.
    #[error("an array schema needs \"items\"")]
    MissingItems,
    /// A map schema without `keys` or `values`.
    #[error("a map schema needs \"keys\" and \"values\"")]
    MissingKeysOrValues,
    /// A struct schema whose `fields` is not an array.
    #[error("a struct schema's \"fields\" must be an array")]
    FieldsNotArray,
    /// A struct field without a string `field` name.
    #[error("a struct field needs a string \"field\" name")]
    FieldName,
    /// A parameter whose value is not a string.
    #[error("schema parameters must have string values")]
    ParameterNotString,
    /// A `version` that is not a 32-bit integer.
    #[error("\"version\" must be a 32-bit integer")]
    Version,
    /// A schema the data model refuses (a duplicate field name).
    #[error(transparent)]
    Build(#[from] SchemaError),
    /// A `default` that does not fit the schema.
    #[error("invalid default: {0}")]
    Default(ValidationError),
}

/// A conversion that failed. All are definite except a schema registry that cannot be reached or cannot answer
/// now ([`ConvertError::is_transient`]), which the runtime retries.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConvertError {
    /// The value does not fit the schema (writing), or the payload does not fit the schema it came with (reading).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The bytes are not JSON.
    #[error("malformed JSON at byte {offset}: {reason}")]
    Json {
        /// Where parsing stopped.
        offset: usize,
        /// What was wrong there.
        reason: &'static str,
    },
    /// `schemas.enable=true` but the JSON is not a `{"schema": ..., "payload": ...}` envelope.
    #[error(
        "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional \
         fields; to read plain JSON, set schemas.enable=false"
    )]
    Envelope,
    /// The envelope's schema cannot be read.
    #[error("invalid schema in the JSON envelope: {0}")]
    Schema(#[from] JsonSchemaError),
    /// A value this converter cannot represent.
    #[error("{converter} cannot convert {what}")]
    Unsupported {
        /// The converter.
        converter: &'static str,
        /// What it was given.
        what: String,
    },
    /// The schema registry could not be reached, could not answer, or refused (an incompatible schema keeps the
    /// registry's message).
    #[error(transparent)]
    Registry(#[from] SchemaRegistryError),
    /// An Avro schema or Avro data that cannot be converted.
    #[error(transparent)]
    Avro(#[from] AvroError),
    /// A schema or schema id that the converter's preparation step has not resolved: the runtime calls
    /// `prepare_write` / `prepare_read` before converting.
    #[error("{0}")]
    NotPrepared(String),
}

impl ConvertError {
    /// Whether retrying the same conversion later may succeed: the schema registry was unreachable or answered
    /// 5xx, 408 or 429. Every other error is definite.
    pub fn is_transient(&self) -> bool {
        matches!(self, ConvertError::Registry(e) if e.is_transient())
    }
}
