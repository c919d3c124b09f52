//! Converters between Kafka Connect data ([`crate::data`]) and the bytes of a record's key, value or header, as
//! Kafka Connect's `Converter` interface has them: [`JsonConverter`] (`org.apache.kafka.connect.json.JsonConverter`,
//! byte for byte what Kafka writes), [`StringConverter`] and [`ByteArrayConverter`]. [`create_converter`] makes one
//! from the class name (or `json`, `string`, `bytes`) and its properties, as a worker reads `value.converter=...`
//! and `value.converter.*`.
//!
//! Tombstones: a null value without a schema becomes no bytes (`None`), and no bytes read back as null.
//!
//! # How the Avro converter plugs in
//!
//! [`Converter`] is synchronous on purpose: a conversion is CPU work on one record, and a per-record future would
//! cost every converter on the hot path. The registry-backed Avro converter (`io.confluent.connect.avro.AvroConverter`)
//! keeps registry I/O off that path: it implements this trait over its caches (schema to id for writing, id to
//! schema for reading) and reports a schema it has not resolved yet as an error the runtime can act on. It also
//! offers an async step the runtime awaits before converting a batch (register or look up the batch's new
//! schemas, fetch the ids its bytes carry), so in the steady state of change data capture, where a table's schema
//! rarely changes, no conversion waits. [`create_converter`] will learn its class name; a refused registration
//! stays a definite error with the registry's message.

mod bytes;
mod config;
mod error;
mod factory;
mod header;
mod java_text;
mod json;
mod string;

pub use self::bytes::ByteArrayConverter;
pub use config::{ConverterType, DecimalFormat, Encoding, JsonConverterConfig, StringConverterConfig};
pub use error::{ConfigError, ConvertError, JsonSchemaError};
pub use factory::{create_converter, BYTE_ARRAY_CONVERTER, JSON_CONVERTER, STRING_CONVERTER};
pub use header::{header_bytes, header_value};
pub use json::JsonConverter;
pub use string::StringConverter;

use ::bytes::Bytes;

use crate::data::{SchemaRef, Value};

/// Turns Connect data into record bytes and back (Kafka Connect's `Converter`). One instance serves one role (key,
/// value or header) of one connector; it may be shared between threads.
///
/// Errors are definite (the data or its bytes are wrong, retrying cannot help): the runtime fails the record or
/// sends it to the dead-letter topic as `errors.tolerance` says.
pub trait Converter: Send + Sync + std::fmt::Debug {
    /// The bytes of `value` for `topic`; `None` for a tombstone.
    fn to_bytes(&self, topic: &str, schema: Option<&SchemaRef>, value: &Value) -> Result<Option<Bytes>, ConvertError>;

    /// The schema (when the format carries or implies one) and value of record bytes; `None` bytes (a tombstone)
    /// give a null value.
    fn to_connect(&self, topic: &str, bytes: Option<&[u8]>) -> Result<(Option<SchemaRef>, Value), ConvertError>;
}
