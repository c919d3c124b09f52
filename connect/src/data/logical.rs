//! Kafka Connect's logical types: schemas with Kafka's names over a physical type. Values keep the physical
//! representation (a DECIMAL is its unscaled bytes, a DATE its days), which is what converters write and what
//! Confluent's `AvroData` maps to Avro's `decimal`, `date`, `time-millis` and `timestamp-millis`.
//!
//! Debezium's semantic types (`io.debezium.time.MicroTimestamp` over INT64, `io.debezium.data.Json` and
//! `io.debezium.data.Uuid` over STRING, ...) are only names: they need nothing from this module.

use super::error::Reason;
use super::schema::{Schema, Type};
use super::SchemaBuilder;

/// `Decimal`: BYTES holding the unscaled value (big-endian two's complement), the scale in [`SCALE`].
pub const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
/// `Date`: INT32 days since 1970-01-01.
pub const DATE: &str = "org.apache.kafka.connect.data.Date";
/// `Time`: INT32 milliseconds since midnight.
pub const TIME: &str = "org.apache.kafka.connect.data.Time";
/// `Timestamp`: INT64 milliseconds since the epoch.
pub const TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";
/// The DECIMAL parameter holding the scale.
pub const SCALE: &str = "scale";
/// The DECIMAL parameter Debezium adds with the column's precision (read by Confluent's `AvroData`).
pub const PRECISION: &str = "connect.decimal.precision";
/// Milliseconds in a day: a TIME value lies in `0..MILLIS_PER_DAY`.
pub const MILLIS_PER_DAY: i32 = 86_400_000;

const PREFIX: &str = "org.apache.kafka.connect.data.";

/// A DECIMAL schema of `scale`, as Kafka's `Decimal.builder(scale)` makes it (version 1).
pub fn decimal(scale: i32) -> SchemaBuilder {
    SchemaBuilder::bytes().name(DECIMAL).version(1).parameter(SCALE, scale.to_string())
}

/// A DATE schema, as Kafka's `Date.builder()` makes it.
pub fn date() -> SchemaBuilder {
    SchemaBuilder::int32().name(DATE).version(1)
}

/// A TIME schema, as Kafka's `Time.builder()` makes it.
pub fn time() -> SchemaBuilder {
    SchemaBuilder::int32().name(TIME).version(1)
}

/// A TIMESTAMP schema, as Kafka's `Timestamp.builder()` makes it.
pub fn timestamp() -> SchemaBuilder {
    SchemaBuilder::int64().name(TIMESTAMP).version(1)
}

/// The Kafka logical type a schema stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logical {
    /// [`DECIMAL`] with its scale.
    Decimal {
        /// Digits after the decimal point (negative: zeros before it).
        scale: i32,
    },
    /// [`DATE`].
    Date,
    /// [`TIME`].
    Time,
    /// [`TIMESTAMP`].
    Timestamp,
}

impl Logical {
    /// The logical type of `schema`: `None` when its name is not one of Kafka's, an error when it is but the schema
    /// does not fit it (a DATE that is not INT32, a DECIMAL without a valid `scale`).
    pub fn of(schema: &Schema) -> Result<Option<Logical>, Reason> {
        let Some(name) = schema.name().filter(|name| name.starts_with(PREFIX)) else {
            return Ok(None);
        };
        let (logical, physical, name) = match name {
            DECIMAL => {
                let scale = schema.parameter(SCALE).and_then(|s| s.trim().parse().ok()).ok_or(Reason::DecimalScale)?;
                (Logical::Decimal { scale }, Type::Bytes, DECIMAL)
            }
            DATE => (Logical::Date, Type::Int32, DATE),
            TIME => (Logical::Time, Type::Int32, TIME),
            TIMESTAMP => (Logical::Timestamp, Type::Int64, TIMESTAMP),
            _ => return Ok(None),
        };
        if schema.schema_type() != physical {
            return Err(Reason::LogicalType { name, expected: physical, found: schema.schema_type() });
        }
        Ok(Some(logical))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_match_kafkas() {
        let decimal = decimal(2).parameter(PRECISION, "10").build().expect("decimal");
        assert_eq!(decimal.schema_type(), Type::Bytes);
        assert_eq!(decimal.name(), Some(DECIMAL));
        assert_eq!(decimal.version(), Some(1));
        assert_eq!(
            decimal.parameters(),
            &[("scale".to_owned(), "2".to_owned()), (PRECISION.to_owned(), "10".to_owned())]
        );
        assert_eq!(Logical::of(&decimal), Ok(Some(Logical::Decimal { scale: 2 })));
        assert_eq!(Logical::of(&date().build().expect("date")), Ok(Some(Logical::Date)));
        assert_eq!(Logical::of(&time().build().expect("time")), Ok(Some(Logical::Time)));
        assert_eq!(Logical::of(&timestamp().optional().build().expect("ts")), Ok(Some(Logical::Timestamp)));
    }

    #[test]
    fn other_names_are_not_logical() {
        let micro = SchemaBuilder::int64().name("io.debezium.time.MicroTimestamp").build().expect("micro");
        assert_eq!(Logical::of(&micro), Ok(None));
        let other = SchemaBuilder::int64().name("org.apache.kafka.connect.data.Other").build().expect("other");
        assert_eq!(Logical::of(&other), Ok(None));
        assert_eq!(Logical::of(&SchemaBuilder::int64().build().expect("plain")), Ok(None));
    }

    #[test]
    fn misfits_are_errors() {
        let date = SchemaBuilder::int64().name(DATE).build().expect("date");
        assert_eq!(
            Logical::of(&date),
            Err(Reason::LogicalType { name: DATE, expected: Type::Int32, found: Type::Int64 })
        );
        let no_scale = SchemaBuilder::bytes().name(DECIMAL).build().expect("decimal");
        assert_eq!(Logical::of(&no_scale), Err(Reason::DecimalScale));
        let bad_scale = SchemaBuilder::bytes().name(DECIMAL).parameter(SCALE, "two").build().expect("decimal");
        assert_eq!(Logical::of(&bad_scale), Err(Reason::DecimalScale));
    }
}
