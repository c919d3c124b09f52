//! Connect values into what a column takes ([`SqlValue`]), by the column's [`Kind`]: exact decimals as their plain
//! text, times and dates in µs and days, Debezium's ISO strings read into UTC instants. What Postgres and MySQL make
//! of a [`SqlValue`] is their session's business ([`crate::db`]).

use bytes::Bytes;
use tidemark_connect::data::decimal;
use tidemark_connect::data::Value;
use tidemark_debezium::Decimal;

use crate::kind::{Kind, TimeUnit};
use crate::temporal::{parse_zoned_time, parse_zoned_timestamp};

/// A value ready to bind to a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// NULL.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer (every integer width).
    Int(i64),
    /// A single-precision float.
    Float32(f32),
    /// A double-precision float.
    Float64(f64),
    /// An exact number, as plain decimal text (`-12.340`).
    Numeric(String),
    /// Text (also JSON, UUIDs and ISO intervals).
    Text(String),
    /// Bytes.
    Bytes(Bytes),
    /// Days since 1970-01-01.
    Date(i64),
    /// µs past midnight; negative or past a day for MySQL's `TIME` durations.
    Time(i64),
    /// µs past midnight UTC, of a time with a zone.
    TimeTz(i64),
    /// µs since 1970-01-01T00:00, a local timestamp.
    Timestamp(i64),
    /// µs since the epoch, an instant.
    TimestampTz(i64),
    /// A duration in µs.
    Duration(i64),
    /// An array (Postgres).
    Array(Vec<SqlValue>),
}

/// The value of a column of `kind`; `Err` says why the value does not fit (the caller names the field).
pub fn convert(kind: &Kind, value: &Value) -> Result<SqlValue, String> {
    if value.is_null() {
        return Ok(SqlValue::Null);
    }
    let mismatch = || format!("a {} value does not fit the field's schema ({kind:?})", value.type_name());
    Ok(match (kind, value) {
        (Kind::Boolean, Value::Boolean(b)) => SqlValue::Bool(*b),
        (Kind::Int8, Value::Int8(v)) => SqlValue::Int(i64::from(*v)),
        (Kind::Int16, Value::Int16(v)) => SqlValue::Int(i64::from(*v)),
        (Kind::Int32 | Kind::Year, Value::Int32(v)) => SqlValue::Int(i64::from(*v)),
        (Kind::Int64, Value::Int64(v)) => SqlValue::Int(*v),
        (Kind::Float32, Value::Float32(v)) => SqlValue::Float32(*v),
        (Kind::Float64, Value::Float64(v)) => SqlValue::Float64(*v),
        (Kind::Text | Kind::Json | Kind::Uuid | Kind::Interval, Value::String(s)) => SqlValue::Text(s.clone()),
        (Kind::Bytes, Value::Bytes(b)) => SqlValue::Bytes(b.clone()),
        (Kind::Decimal { scale, .. }, Value::Bytes(unscaled)) => SqlValue::Numeric(plain_decimal(unscaled, *scale)?),
        (Kind::VariableDecimal, Value::Struct(s)) => {
            let scale = match s.get("scale") {
                Ok(Value::Int32(scale)) => *scale,
                _ => return Err("a VariableScaleDecimal without its scale".to_owned()),
            };
            match s.get("value") {
                Ok(Value::Bytes(unscaled)) => SqlValue::Numeric(plain_decimal(unscaled, scale)?),
                _ => return Err("a VariableScaleDecimal without its value".to_owned()),
            }
        }
        (Kind::Date, Value::Int32(days)) => SqlValue::Date(i64::from(*days)),
        (Kind::Time(unit), Value::Int32(t)) => SqlValue::Time(to_micros(i64::from(*t), *unit)),
        (Kind::Time(unit), Value::Int64(t)) => SqlValue::Time(to_micros(*t, *unit)),
        (Kind::Timestamp(unit), Value::Int64(t)) => SqlValue::Timestamp(to_micros(*t, *unit)),
        (Kind::ZonedTimestamp, Value::String(s)) => SqlValue::TimestampTz(parse_zoned_timestamp(s)?),
        (Kind::ZonedTime, Value::String(s)) => SqlValue::TimeTz(parse_zoned_time(s)?),
        (Kind::Duration, Value::Int64(micros)) => SqlValue::Duration(*micros),
        (Kind::Array(element), Value::Array(items)) => {
            SqlValue::Array(items.iter().map(|item| convert(element, item)).collect::<Result<_, _>>()?)
        }
        _ => return Err(mismatch()),
    })
}

/// A count of `unit` in µs (nanoseconds truncated towards the past).
fn to_micros(value: i64, unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Millis => value.saturating_mul(1000),
        TimeUnit::Micros => value,
        TimeUnit::Nanos => value.div_euclid(1000),
    }
}

/// The plain text (no exponent) of a decimal's unscaled bytes at `scale`.
fn plain_decimal(unscaled: &[u8], scale: i32) -> Result<String, String> {
    let digits = decimal::to_text(unscaled, 0).map_err(|e| format!("a decimal that cannot be read: {e}"))?;
    let integer = Decimal::parse(&digits)?;
    Ok(Decimal { scale, ..integer }.plain())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidemark_connect::data::{SchemaBuilder, Struct};
    use tidemark_debezium::names;

    #[test]
    fn primitives() {
        assert_eq!(convert(&Kind::Int16, &Value::Int16(-7)), Ok(SqlValue::Int(-7)));
        assert_eq!(convert(&Kind::Year, &Value::Int32(2024)), Ok(SqlValue::Int(2024)));
        assert_eq!(convert(&Kind::Boolean, &Value::Boolean(true)), Ok(SqlValue::Bool(true)));
        assert_eq!(convert(&Kind::Json, &Value::from("{\"a\":1}")), Ok(SqlValue::Text("{\"a\":1}".into())));
        assert_eq!(convert(&Kind::Int64, &Value::Null), Ok(SqlValue::Null));
        let refused = convert(&Kind::Int64, &Value::from("7")).expect_err("mismatch");
        assert!(refused.contains("a STRING value"), "{refused}");
    }

    #[test]
    fn decimals_as_plain_text() {
        let kind = Kind::Decimal { precision: Some(10), scale: 2 };
        assert_eq!(
            convert(&kind, &Value::Bytes(decimal::unscaled_bytes(-1234))),
            Ok(SqlValue::Numeric("-12.34".into()))
        );
        let small = Kind::Decimal { precision: None, scale: 8 };
        assert_eq!(
            convert(&small, &Value::Bytes(decimal::unscaled_bytes(15))),
            Ok(SqlValue::Numeric("0.00000015".into()))
        );
        let negative_scale = Kind::Decimal { precision: None, scale: -3 };
        assert_eq!(
            convert(&negative_scale, &Value::Bytes(decimal::unscaled_bytes(12))),
            Ok(SqlValue::Numeric("12000".into()))
        );
        assert!(convert(&kind, &Value::Bytes(Bytes::new())).is_err());
        let schema = SchemaBuilder::struct_()
            .name(names::VARIABLE_SCALE_DECIMAL)
            .field("scale", SchemaBuilder::int32().build().expect("scale"))
            .field("value", SchemaBuilder::bytes().build().expect("value"))
            .build()
            .expect("schema");
        let value = Struct::from_values(schema, vec![Value::Int32(3), Value::Bytes(decimal::unscaled_bytes(1500))])
            .expect("struct");
        assert_eq!(convert(&Kind::VariableDecimal, &Value::Struct(value)), Ok(SqlValue::Numeric("1.500".into())));
    }

    #[test]
    fn times_in_micros() {
        assert_eq!(convert(&Kind::Time(TimeUnit::Millis), &Value::Int32(1500)), Ok(SqlValue::Time(1_500_000)));
        assert_eq!(convert(&Kind::Time(TimeUnit::Nanos), &Value::Int64(1_999)), Ok(SqlValue::Time(1)));
        assert_eq!(convert(&Kind::Timestamp(TimeUnit::Nanos), &Value::Int64(-1)), Ok(SqlValue::Timestamp(-1)));
        assert_eq!(convert(&Kind::Timestamp(TimeUnit::Millis), &Value::Int64(2)), Ok(SqlValue::Timestamp(2000)));
        assert_eq!(convert(&Kind::Date, &Value::Int32(-1)), Ok(SqlValue::Date(-1)));
        assert_eq!(
            convert(&Kind::ZonedTimestamp, &Value::from("1970-01-01T00:00:01.000001Z")),
            Ok(SqlValue::TimestampTz(1_000_001))
        );
        assert!(convert(&Kind::ZonedTimestamp, &Value::from("yesterday")).is_err());
        assert_eq!(convert(&Kind::ZonedTime, &Value::from("00:00:01Z")), Ok(SqlValue::TimeTz(1_000_000)));
    }

    #[test]
    fn arrays_element_by_element() {
        let kind = Kind::Array(Box::new(Kind::Date));
        let value = Value::Array(vec![Value::Int32(0), Value::Null]);
        assert_eq!(convert(&kind, &value), Ok(SqlValue::Array(vec![SqlValue::Date(0), SqlValue::Null])));
    }
}
