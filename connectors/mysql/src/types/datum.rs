//! [`Datum`]: a column value decoded from either path (a binlog row image, the text protocol), before it is
//! represented as Debezium does. Both decoders produce the same datum for the same stored value; one
//! representation step then gives the Connect value, so the two paths cannot disagree.

use tidemark_debezium::Decimal;

use super::temporal::CivilDate;

/// A decoded column value.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Datum {
    /// SQL NULL, and MySQL's zero dates (null for an optional column, Debezium's fallback otherwise).
    Null,
    /// Any integer type, exactly (BIGINT UNSIGNED included).
    Int(i128),
    /// FLOAT.
    Float(f32),
    /// DOUBLE.
    Double(f64),
    /// DECIMAL.
    Decimal(Decimal),
    /// BIT (big-endian, as stored), the binary types (BINARY padded to its length), GEOMETRY (SRID and WKB).
    Bytes(Vec<u8>),
    /// Text types, ENUM and SET labels, JSON text.
    Text(String),
    /// DATE.
    Date(CivilDate),
    /// TIME: a signed duration in µs.
    Time(i64),
    /// DATETIME: the date and the time of day in µs.
    DateTime(CivilDate, i64),
    /// TIMESTAMP: µs since the epoch.
    Timestamp(i64),
    /// YEAR (0 for `0000`).
    Year(i32),
}
