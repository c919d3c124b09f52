//! Converters between Kafka Connect data ([`crate::data`]) and the bytes of a record's key, value or header, as
//! Kafka Connect's `Converter` interface has them: [`JsonConverter`] (`org.apache.kafka.connect.json.JsonConverter`,
//! byte for byte what Kafka writes), [`AvroConverter`] (`io.confluent.connect.avro.AvroConverter`, Confluent's wire
//! format over a schema registry), [`StringConverter`] and [`ByteArrayConverter`]. [`create_converter`] makes one
//! from the class name (or `json`, `avro`, `string`, `bytes`) and its properties, as a worker reads
//! `value.converter=...` and `value.converter.*`.
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
//! rarely changes, no conversion waits. A refused registration stays a definite error with the registry's
//! message; an unreachable registry is transient ([`ConvertError::is_transient`]).
//!
//! The runtime calls [`Converter::prepare_write`] (before [`Converter::to_bytes`]) and
//! [`Converter::prepare_read`] (before [`Converter::to_connect`]) for every record of a batch, in order, and awaits
//! each; converters without I/O keep the provided no-op, which costs no allocation.

pub mod avro;
mod bytes;
mod config;
mod error;
mod factory;
mod header;
mod java_text;
mod json;
mod string;

pub use self::bytes::ByteArrayConverter;
pub use avro::AvroConverter;
pub use config::{ConverterType, DecimalFormat, Encoding, JsonConverterConfig, StringConverterConfig};
pub use error::{ConfigError, ConvertError, JsonSchemaError};
pub use factory::{create_converter, AVRO_CONVERTER, BYTE_ARRAY_CONVERTER, JSON_CONVERTER, STRING_CONVERTER};
pub use header::{header_bytes, header_value};
pub use json::JsonConverter;
pub use string::StringConverter;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::bytes::{Bytes, BytesMut};
use futures::future::BoxFuture;

use crate::data::{SchemaRef, Value};

/// Turns Connect data into record bytes and back (Kafka Connect's `Converter`). One instance serves one role (key,
/// value or header) of one connector; it may be shared between threads.
///
/// Errors are definite (the data or its bytes are wrong, retrying cannot help: the runtime fails the record or
/// sends it to the dead-letter topic as `errors.tolerance` says), except those [`ConvertError::is_transient`]
/// marks (a schema registry that cannot be reached), which the runtime retries.
pub trait Converter: Send + Sync + std::fmt::Debug {
    /// The bytes of `value` for `topic`; `None` for a tombstone.
    fn to_bytes(&self, topic: &str, schema: Option<&SchemaRef>, value: &Value) -> Result<Option<Bytes>, ConvertError>;

    /// [`Converter::to_bytes`], the bytes written into `arena` (and split off it) where the converter can: the
    /// source runtime converts a poll's records into one arena, so that they share its allocations instead of
    /// taking one each. The default calls `to_bytes` and leaves the arena alone.
    fn to_bytes_in(
        &self,
        topic: &str,
        schema: Option<&SchemaRef>,
        value: &Value,
        arena: &mut BytesMut,
    ) -> Result<Option<Bytes>, ConvertError> {
        let _ = arena;
        self.to_bytes(topic, schema, value)
    }

    /// The schema (when the format carries or implies one) and value of record bytes; `None` bytes (a tombstone)
    /// give a null value.
    fn to_connect(&self, topic: &str, bytes: Option<&[u8]>) -> Result<(Option<SchemaRef>, Value), ConvertError>;

    /// Readies [`Converter::to_bytes`] for records of `schema` on `topic` (the Avro converter registers the
    /// schema unless it already has). Called before `to_bytes` for every record, so a converter answers at once
    /// (with [`prepared`]) when there is nothing to do. The default does nothing.
    fn prepare_write<'a>(
        &'a self,
        _topic: &'a str,
        _schema: Option<&'a SchemaRef>,
    ) -> BoxFuture<'a, Result<(), ConvertError>> {
        prepared()
    }

    /// Readies [`Converter::to_connect`] for `bytes` read from `topic` (the Avro converter fetches the writer
    /// schema of the id the bytes carry unless it already has). Called before `to_connect` for every record, so
    /// a converter answers at once (with [`prepared`]) when there is nothing to do. The default does nothing.
    fn prepare_read<'a>(
        &'a self,
        _topic: &'a str,
        _bytes: Option<&'a [u8]>,
    ) -> BoxFuture<'a, Result<(), ConvertError>> {
        prepared()
    }
}

/// Java's `Double.toString`, as Jackson and Kafka's converters write a double (shared with connectors that must
/// reproduce Debezium's text, e.g. money in `decimal.handling.mode=string`).
pub fn java_double_text(value: f64) -> String {
    java_text::double(value)
}

/// `s` as a JSON string literal, escaped as Jackson escapes it.
pub fn jackson_string(out: &mut String, s: &str) {
    json::write::string(out, s)
}

/// A preparation with nothing to do: an already completed future. Boxing it allocates nothing (it has no size).
pub fn prepared<'a>() -> BoxFuture<'a, Result<(), ConvertError>> {
    Box::pin(Prepared)
}

/// The zero-sized, already completed future behind [`prepared`].
struct Prepared;

impl Future for Prepared {
    type Output = Result<(), ConvertError>;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(Ok(()))
    }
}
