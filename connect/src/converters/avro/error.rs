//! [`AvroError`]: Avro schemas or bytes the converter cannot use. All are definite: retrying cannot fix them.

use thiserror::Error;

/// An Avro schema or Avro data that cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AvroError {
    /// Schema text that is not a valid Avro schema.
    #[error("invalid Avro schema: {0}")]
    InvalidSchema(String),
    /// Two different named types of one name in one schema (Avro's own message).
    #[error("Can't redefine: {0}")]
    Redefined(String),
    /// A recursive Avro schema: Connect schemas are trees, so it has no Connect form.
    #[error("the Avro type {0} contains itself; recursive schemas have no Kafka Connect form")]
    Recursive(String),
    /// An Avro schema `AvroData` cannot turn into a Connect schema (its messages).
    #[error("cannot convert the Avro schema to a Connect schema: {0}")]
    ToConnect(String),
    /// A Connect schema `AvroData` cannot turn into an Avro schema (its messages).
    #[error("cannot convert the Connect schema to an Avro schema: {0}")]
    FromConnect(String),
    /// Avro binary data that does not follow its schema.
    #[error("malformed Avro data at byte {offset}: {reason}")]
    Malformed {
        /// Where, from the start of the Avro data (after the 5-byte header).
        offset: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// Bytes that do not start with the Confluent wire format's magic byte 0.
    #[error("Unknown magic byte! (found {0}, expected 0: not the Confluent wire format)")]
    MagicByte(u8),
    /// Bytes too short for the magic byte and the 4-byte schema id.
    #[error("{0} bytes are too short for the Confluent wire format (magic byte, 4-byte schema id, data)")]
    TooShort(usize),
}
