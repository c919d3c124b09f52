//! Postgres column types in Kafka Connect's data model, as Debezium's Postgres connector maps them (DESIGN.md §1
//! event format): a column's Connect schema from its type (and the connector's `decimal.handling.mode`,
//! `time.precision.mode`, `binary.handling.mode`, ...), and its value from the text form pgoutput sends or the
//! binary form of `COPY ... (FORMAT binary)` and pgoutput's `binary 'true'`. Both forms of one value give the same
//! Connect value.
//!
//! [`ColumnConverter`] is the per-column fast path: build one per column of a relation, then convert every row's
//! values with it. The free functions [`column_schema`], [`text_value`], [`binary_value`] and
//! [`unavailable_value`] do the same for one value at a time (resolving the type on each call).
//!
//! # The mapping
//! Debezium's (2.x and 3.x) for each type; the schema's optionality follows the column's nullability.
//! - `bool`, and `bit(1)` / `varbit(1)`: BOOLEAN. `int2`, `int4`, `int8`: INT16, INT32, INT64; `oid`: INT64.
//!   `float4`, `float8`: FLOAT32, FLOAT64 (NaN and the infinities as such).
//! - `numeric(p,s)`: BYTES `org.apache.kafka.connect.data.Decimal` with parameters `scale` = s and
//!   `connect.decimal.precision` = p, the unscaled value at scale s. `numeric` without a precision: STRUCT
//!   `io.debezium.data.VariableScaleDecimal` {scale INT32, value BYTES}, trailing zeros stripped. NaN and the
//!   infinities cannot be represented ([`TypeError::SpecialNumeric`], as Debezium fails too). Under
//!   `decimal.handling.mode=double`: FLOAT64; `string`: STRING as Java's `BigDecimal.toString()` (`1E-7`), the
//!   special values as `NAN`, `POSITIVE_INFINITY`, `NEGATIVE_INFINITY`.
//! - `money`: `Decimal` with scale `money.fraction.digits` (rounded half up), FLOAT64, or STRING as Java's
//!   `Double.toString()`.
//! - `text`, `varchar`, `bpchar` (padding kept), `name`, `"char"`, `citext`: STRING.
//! - `bytea`: BYTES, or a STRING in base64, URL-safe base64 or hex (`binary.handling.mode`).
//! - `date`: INT32 days `io.debezium.time.Date` (`time.precision.mode=connect`: Kafka's `Date`); `infinity` and
//!   `-infinity` become -2147472692 and -2147472691, the days of the `LocalDate`s Debezium substitutes.
//! - `time(0..3)`: INT32 milliseconds `io.debezium.time.Time`; `time(4..6)` and `time`: INT64 microseconds
//!   `io.debezium.time.MicroTime` (always under `adaptive_time_microseconds`); `connect`: Kafka's `Time`.
//! - `timetz`: STRING `io.debezium.time.ZonedTime`, the UTC time as `HH:mm:ss[.f]Z` (`24:00:00+00` stays
//!   `24:00:00Z`).
//! - `timestamp(0..3)`: INT64 milliseconds `io.debezium.time.Timestamp`; `timestamp(4..6)` and `timestamp`: INT64
//!   microseconds `io.debezium.time.MicroTimestamp`; `connect`: Kafka's `Timestamp`. The wall clock is read as
//!   UTC; `infinity` and `-infinity` become 9223372036825200000 and -9223372036832400000 microseconds (pgjdbc's
//!   substitutes; divided by 1000 in milliseconds).
//! - `timestamptz(p)`: STRING `io.debezium.time.ZonedTimestamp`, UTC ISO-8601 with exactly p fraction digits (6
//!   when undeclared, none for 0) and `Z`; `infinity` and `-infinity` as such.
//! - `interval`: INT64 microseconds `io.debezium.time.MicroDuration` (a month is 365.25 / 12 days), or under
//!   `interval.handling.mode=string` STRING `io.debezium.time.Interval` (`P1Y2M3DT4H5M6.78S`).
//! - `uuid`, `json` and `jsonb`, `xml`: STRING `io.debezium.data.Uuid`, `io.debezium.data.Json`,
//!   `io.debezium.data.Xml`. `inet`, `cidr`, `macaddr`, `macaddr8` and the six built-in ranges: STRING.
//!   `tsvector`: STRING `io.debezium.data.Tsvector`; `ltree`: STRING `io.debezium.data.Ltree`. All as their text
//!   output, whichever form they came in.
//! - `bit(n>1)`, `varbit(n>1)`, `varbit`: BYTES `io.debezium.data.Bits` with parameter `length` (2147483647 for
//!   `varbit`), the bit string read as a binary number in little-endian bytes, as few as its highest set bit needs.
//! - `point`: STRUCT `io.debezium.data.geometry.Point` {x FLOAT64, y FLOAT64, wkb BYTES?, srid INT32?}, the WKB
//!   little-endian, srid null.
//! - enums: STRING `io.debezium.data.Enum` with parameter `allowed`, the labels joined by commas.
//! - `hstore`: STRING `io.debezium.data.Json` of an object, or under `hstore.handling.mode=map` a MAP of STRING to
//!   optional STRING; in the iteration order of the Java `HashMap` Debezium builds.
//! - arrays of the above: ARRAY of the element's optional schema (multi-dimensional arrays flattened).
//!   Domains: their base type, with the domain's modifier.
//! - anything else (`box`, `circle`, composites, multiranges, ...): left out ([`TypeError::Unknown`]), or under
//!   `include.unknown.datatypes` the bytes of its text form under `binary.handling.mode`.
//!
//! Beyond Debezium, on purpose: arrays of `money`, `interval`, `varbit`, `xml`, `point`, `name` and of domains are
//! mapped (Debezium leaves them out); nested domains keep their modifier; negative `numeric` scales (PostgreSQL 15)
//! are read correctly; a `timetz` of `24:00:00` with another offset is converted instead of failing.

mod array;
mod bits;
mod bytea;
mod catalog;
mod converter;
mod datetime;
mod decode;
mod error;
mod hstore;
mod interval;
mod java;
mod kind;
mod network;
mod numeric;
mod placeholder;
mod range;
mod represent;
mod schema;
mod settings;
mod tsvector;
mod wire;

use tidemark_connect::data::{SchemaRef, Value};

pub use catalog::{load_column_type, CatalogError};
pub use converter::ColumnConverter;
pub use error::{Format, TypeError};
pub use represent::{
    DATE_NEGATIVE_INFINITY, DATE_POSITIVE_INFINITY, TIMESTAMP_NEGATIVE_INFINITY_MICROS,
    TIMESTAMP_POSITIVE_INFINITY_MICROS,
};
pub use settings::{
    BinaryHandling, DecimalHandling, HstoreHandling, IntervalHandling, TimePrecision, TypeSettings, DEFAULT_PLACEHOLDER,
};
pub use tidemark_debezium::names;

/// A column's type as the source knows it: from a pgoutput Relation message (oid and modifier) and the catalog
/// (name, and for arrays, enums and domains what they are built on; [`load_column_type`] fills it in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnType {
    /// The type's oid.
    pub oid: u32,
    /// The type modifier (`atttypmod`: length, precision and scale, time precision), -1 when none.
    pub modifier: i32,
    /// The type's name in `pg_type` (`int4`, `numeric`, `_text`, a user's enum name, ...). Extension types are
    /// recognised by it (`hstore`, `citext`, `ltree`).
    pub name: String,
    /// For an array type (`typlen = -1` and `typelem <> 0`): its element type (`typelem`). Its modifier, when -1,
    /// is the column's. Built-in arrays (`_int4`, `_text`, ...) are recognised without it.
    pub element: Option<Box<ColumnType>>,
    /// For a domain (`typtype = 'd'`): its base type (`typbasetype`) with the domain's modifier (`typtypmod`),
    /// itself possibly a domain or an array.
    pub base: Option<Box<ColumnType>>,
    /// For an enum (`typtype = 'e'`): its labels in `pg_enum.enumsortorder` order.
    pub enum_values: Option<Vec<String>>,
}

impl ColumnType {
    /// A type known by oid, modifier and name alone (a built-in type or an extension type).
    pub fn new(oid: u32, modifier: i32, name: impl Into<String>) -> Self {
        ColumnType { oid, modifier, name: name.into(), element: None, base: None, enum_values: None }
    }
}

/// The Connect schema of a column of type `ty`, nullable when `optional`. [`TypeError::Unknown`] for a type
/// without a mapping (unless `include.unknown.datatypes`): leave the column out.
pub fn column_schema(ty: &ColumnType, optional: bool, settings: &TypeSettings) -> Result<SchemaRef, TypeError> {
    ColumnConverter::new(ty, optional, settings).map(|converter| converter.schema().clone())
}

/// A value of a column of type `ty` in its text form (pgoutput's `t`), as Debezium represents it. Struct values
/// are built against the schema of a nullable column (`column_schema(ty, true, settings)`); for a `NOT NULL`
/// column of `point` or unconstrained `numeric`, use a [`ColumnConverter`] built with `optional` false.
pub fn text_value(ty: &ColumnType, text: &[u8], settings: &TypeSettings) -> Result<Value, TypeError> {
    ColumnConverter::new(ty, true, settings)?.text(text)
}

/// A value of a column of type `ty` in its binary send form (`COPY BINARY`, pgoutput's `b`); the same value the
/// text form gives. Struct values as in [`text_value`].
pub fn binary_value(ty: &ColumnType, bytes: &[u8], settings: &TypeSettings) -> Result<Value, TypeError> {
    ColumnConverter::new(ty, true, settings)?.binary(bytes)
}

/// What an unchanged TOASTed value of a column of type `ty` becomes (see [`ColumnConverter::unavailable`]).
pub fn unavailable_value(ty: &ColumnType, settings: &TypeSettings) -> Result<Value, TypeError> {
    ColumnConverter::new(ty, true, settings)?.unavailable()
}
