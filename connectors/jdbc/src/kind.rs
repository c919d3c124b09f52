//! What a Connect schema holds, as the sink writes it ([`Kind`]): Kafka's logical types and Debezium's semantic
//! types resolved once per column, so that both the column type of a new column ([`crate::dialect`]) and the
//! conversion of each value ([`crate::value`]) follow from it.

use thiserror::Error;
use tidemark_connect::data::logical::{Logical, PRECISION};
use tidemark_connect::data::{Schema, Type};
use tidemark_debezium::names;

use crate::dialect::Dialect;

/// The unit of a time of day or an instant held as an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// Milliseconds.
    Millis,
    /// Microseconds.
    Micros,
    /// Nanoseconds.
    Nanos,
}

/// The sink's view of a column's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// BOOLEAN.
    Boolean,
    /// INT8.
    Int8,
    /// INT16.
    Int16,
    /// INT32.
    Int32,
    /// INT64.
    Int64,
    /// FLOAT32.
    Float32,
    /// FLOAT64.
    Float64,
    /// STRING, and Debezium's `Enum`, `EnumSet`, `Xml`, `Ltree` and `Tsvector`.
    Text,
    /// BYTES, and Debezium's `Bits`.
    Bytes,
    /// Kafka's `Decimal`, with Debezium's precision parameter when present.
    Decimal {
        /// `connect.decimal.precision`.
        precision: Option<u32>,
        /// The scale.
        scale: i32,
    },
    /// Debezium's `VariableScaleDecimal` struct.
    VariableDecimal,
    /// Days since the epoch: Kafka's `Date`, Debezium's `Date`.
    Date,
    /// A time of day: Kafka's `Time` and Debezium's `Time` (ms), `MicroTime`, `NanoTime`.
    Time(TimeUnit),
    /// A local date and time: Kafka's `Timestamp` and Debezium's `Timestamp` (ms), `MicroTimestamp`,
    /// `NanoTimestamp`.
    Timestamp(TimeUnit),
    /// Debezium's `ZonedTimestamp`: an ISO-8601 instant.
    ZonedTimestamp,
    /// Debezium's `ZonedTime`: an ISO-8601 time with its offset.
    ZonedTime,
    /// Debezium's `Year`.
    Year,
    /// Debezium's `Json`.
    Json,
    /// Debezium's `Uuid`.
    Uuid,
    /// Debezium's `MicroDuration`: INT64 µs.
    Duration,
    /// Debezium's `Interval`: an ISO-8601 duration string.
    Interval,
    /// An ARRAY of one kind (Postgres only).
    Array(Box<Kind>),
}

/// A schema no column type holds.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{what} cannot be written to a {dialect} column")]
pub struct Unmappable {
    /// What the schema is (`a STRUCT`, `an ARRAY`, `io.debezium.data.geometry.Point`).
    pub what: String,
    /// The database.
    pub dialect: Dialect,
}

impl Kind {
    /// The kind of `schema` in a `dialect` table.
    pub fn of(schema: &Schema, dialect: Dialect) -> Result<Kind, Unmappable> {
        let physical = schema.schema_type();
        if let Some(kind) = semantic(schema, physical) {
            return Ok(kind);
        }
        Ok(match physical {
            Type::Boolean => Kind::Boolean,
            Type::Int8 => Kind::Int8,
            Type::Int16 => Kind::Int16,
            Type::Int32 => Kind::Int32,
            Type::Int64 => Kind::Int64,
            Type::Float32 => Kind::Float32,
            Type::Float64 => Kind::Float64,
            Type::String => Kind::Text,
            Type::Bytes => Kind::Bytes,
            Type::Array if dialect == Dialect::Postgres => {
                let unmappable = || Unmappable { what: describe(schema), dialect };
                let element = schema.value_schema().ok_or_else(unmappable)?;
                match Kind::of(element, dialect)? {
                    Kind::Array(_) => return Err(unmappable()),
                    element => Kind::Array(Box::new(element)),
                }
            }
            Type::Array | Type::Map | Type::Struct => return Err(Unmappable { what: describe(schema), dialect }),
        })
    }
}

/// The kind a schema's name gives it, when the name is a logical or semantic type over the physical type it needs.
fn semantic(schema: &Schema, physical: Type) -> Option<Kind> {
    match Logical::of(schema) {
        Ok(Some(Logical::Decimal { scale })) => {
            let precision = schema.parameter(PRECISION).and_then(|p| p.trim().parse().ok());
            return Some(Kind::Decimal { precision, scale });
        }
        Ok(Some(Logical::Date)) => return Some(Kind::Date),
        Ok(Some(Logical::Time)) => return Some(Kind::Time(TimeUnit::Millis)),
        Ok(Some(Logical::Timestamp)) => return Some(Kind::Timestamp(TimeUnit::Millis)),
        Ok(None) | Err(_) => {}
    }
    let (kind, needs) = match schema.name()? {
        names::DATE => (Kind::Date, Type::Int32),
        names::TIME => (Kind::Time(TimeUnit::Millis), Type::Int32),
        names::MICRO_TIME => (Kind::Time(TimeUnit::Micros), Type::Int64),
        names::NANO_TIME => (Kind::Time(TimeUnit::Nanos), Type::Int64),
        names::TIMESTAMP => (Kind::Timestamp(TimeUnit::Millis), Type::Int64),
        names::MICRO_TIMESTAMP => (Kind::Timestamp(TimeUnit::Micros), Type::Int64),
        names::NANO_TIMESTAMP => (Kind::Timestamp(TimeUnit::Nanos), Type::Int64),
        names::ZONED_TIMESTAMP => (Kind::ZonedTimestamp, Type::String),
        names::ZONED_TIME => (Kind::ZonedTime, Type::String),
        names::YEAR => (Kind::Year, Type::Int32),
        names::JSON => (Kind::Json, Type::String),
        names::UUID => (Kind::Uuid, Type::String),
        names::MICRO_DURATION => (Kind::Duration, Type::Int64),
        names::INTERVAL => (Kind::Interval, Type::String),
        names::BITS => (Kind::Bytes, Type::Bytes),
        names::VARIABLE_SCALE_DECIMAL => (Kind::VariableDecimal, Type::Struct),
        _ => return None,
    };
    (physical == needs).then_some(kind)
}

/// How a schema is named in a message.
fn describe(schema: &Schema) -> String {
    let kind = schema.schema_type();
    let article = if kind == Type::Array { "an" } else { "a" };
    match schema.name() {
        Some(name) => format!("{name} ({article} {kind})"),
        None => format!("{article} {kind}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidemark_connect::data::{logical, SchemaBuilder};

    fn named(builder: SchemaBuilder, name: &str) -> Kind {
        Kind::of(&builder.name(name).build().expect("schema"), Dialect::Postgres).expect("kind")
    }

    #[test]
    fn logical_and_semantic_types() {
        let decimal = logical::decimal(2).parameter(PRECISION, "10").build().expect("decimal");
        assert_eq!(Kind::of(&decimal, Dialect::MySql), Ok(Kind::Decimal { precision: Some(10), scale: 2 }));
        assert_eq!(Kind::of(&logical::date().build().expect("date"), Dialect::MySql), Ok(Kind::Date));
        assert_eq!(named(SchemaBuilder::int64(), names::MICRO_TIMESTAMP), Kind::Timestamp(TimeUnit::Micros));
        assert_eq!(named(SchemaBuilder::int64(), names::NANO_TIME), Kind::Time(TimeUnit::Nanos));
        assert_eq!(named(SchemaBuilder::string(), names::ZONED_TIMESTAMP), Kind::ZonedTimestamp);
        assert_eq!(named(SchemaBuilder::string(), names::JSON), Kind::Json);
        assert_eq!(named(SchemaBuilder::string(), names::ENUM), Kind::Text);
        assert_eq!(named(SchemaBuilder::bytes(), names::BITS), Kind::Bytes);
        let variable = SchemaBuilder::struct_()
            .name(names::VARIABLE_SCALE_DECIMAL)
            .field("scale", SchemaBuilder::int32().build().expect("scale"))
            .field("value", SchemaBuilder::bytes().build().expect("value"))
            .build()
            .expect("variable");
        assert_eq!(Kind::of(&variable, Dialect::MySql), Ok(Kind::VariableDecimal));
    }

    #[test]
    fn a_name_over_the_wrong_type_is_ignored() {
        assert_eq!(named(SchemaBuilder::int64(), names::DATE), Kind::Int64);
        assert_eq!(named(SchemaBuilder::int32(), names::ZONED_TIMESTAMP), Kind::Int32);
    }

    #[test]
    fn arrays_in_postgres_only_and_never_structs() {
        let ints = SchemaBuilder::array(SchemaBuilder::int32().build().expect("int")).build().expect("array");
        assert_eq!(Kind::of(&ints, Dialect::Postgres), Ok(Kind::Array(Box::new(Kind::Int32))));
        let refused = Kind::of(&ints, Dialect::MySql).expect_err("no arrays in MySQL");
        assert_eq!(refused.to_string(), "an ARRAY cannot be written to a MySQL column");
        let nested = SchemaBuilder::array(ints).build().expect("nested");
        assert!(Kind::of(&nested, Dialect::Postgres).is_err());
        let point = SchemaBuilder::struct_()
            .name(names::POINT)
            .field("x", SchemaBuilder::float64().build().expect("x"))
            .build()
            .expect("point");
        let refused = Kind::of(&point, Dialect::Postgres).expect_err("no structs");
        assert_eq!(
            refused.to_string(),
            "io.debezium.data.geometry.Point (a STRUCT) cannot be written to a Postgres column"
        );
    }
}
