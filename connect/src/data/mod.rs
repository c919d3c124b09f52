//! The Kafka Connect data model: [`Schema`] (shared as [`SchemaRef`], made with [`SchemaBuilder`]), [`Value`] and
//! [`Struct`], Kafka's logical types ([`logical`], [`decimal`]) and checking a value against its schema
//! ([`validate()`]).
//!
//! It keeps everything Kafka's `ConnectSchema` keeps (name, version, doc, ordered parameters, default,
//! optionality, field order), so the JSON converter writes Kafka's bytes and an Avro mapping as Confluent's
//! `AvroData` does it loses nothing. Logical values stay in their physical form (a DECIMAL is its unscaled bytes),
//! which is what every converter writes. Records (topic, partition, key, value, headers) are not part of it.

mod builder;
pub mod decimal;
mod error;
pub mod logical;
mod path;
mod schema;
mod validate;
mod value;

pub use builder::SchemaBuilder;
pub use error::{DataError, Reason, SchemaError, ValidationError};
pub(crate) use path::Path;
pub use schema::{Field, Schema, SchemaRef, Type};
pub use validate::validate;
pub use value::{Struct, Value};
