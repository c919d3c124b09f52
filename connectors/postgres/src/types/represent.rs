//! A [`Datum`] in Debezium's representation for the column's kind and the connector's settings: the values
//! `PostgresValueConverter` (over `JdbcValueConverters`) produces.

use bytes::Bytes;
use tidemark_connect::data::{Struct, Value};

use super::converter::ColumnConverter;
use tidemark_debezium::calendar::{java_zoned_time, java_zoned_timestamp};

use super::datetime::{Date, Stamp, DAY_MICROS};
use super::decode::Datum;
use super::error::{Format, TypeError};
use super::hstore;
use super::kind::Kind;
use super::numeric::Numeric;
use super::settings::{DecimalHandling, HstoreHandling, IntervalHandling, TimePrecision};
use tidemark_connect::converters::java_double_text as double_to_string;
use tidemark_debezium::Decimal;

/// Debezium's `date` for `infinity`: the epoch day of `-5877611-06-21`, the `LocalDate` it substitutes.
pub const DATE_POSITIVE_INFINITY: i32 = -2_147_472_692;
/// Debezium's `date` for `-infinity`: the epoch day of `-5877611-06-22`.
pub const DATE_NEGATIVE_INFINITY: i32 = -2_147_472_691;
/// Debezium's `timestamp` for `infinity` in microseconds (pgjdbc's `DATE_POSITIVE_INFINITY` read as micros).
pub const TIMESTAMP_POSITIVE_INFINITY_MICROS: i64 = 9_223_372_036_825_200_000;
/// Debezium's `timestamp` for `-infinity` in microseconds.
pub const TIMESTAMP_NEGATIVE_INFINITY_MICROS: i64 = -9_223_372_036_832_400_000;

impl ColumnConverter {
    /// The representation of `datum` in this column.
    pub(super) fn represent(&self, datum: Datum, format: Format) -> Result<Value, TypeError> {
        Ok(match (&self.kind, datum) {
            (_, Datum::Bool(v)) => Value::Boolean(v),
            (_, Datum::I16(v)) => Value::Int16(v),
            (_, Datum::I32(v)) => Value::Int32(v),
            (_, Datum::I64(v)) => Value::Int64(v),
            (_, Datum::F32(v)) => Value::Float32(v),
            (_, Datum::F64(v)) => Value::Float64(v),
            (Kind::Numeric { precision, scale }, Datum::Numeric(n)) => self.numeric(n, *precision, *scale, format)?,
            (_, Datum::Money(amount)) => self.money(&amount, format)?,
            (_, Datum::Text(s)) => Value::String(s),
            (_, Datum::Bytes(b)) => tidemark_debezium::represent_binary(b, self.settings.binary),
            (_, Datum::Date(date)) => Value::Int32(self.date(date, format)?),
            (Kind::Time { precision }, Datum::Time(micros)) => self.time(micros, *precision),
            (_, Datum::TimeTz(micros, offset)) => Value::String(if micros == DAY_MICROS && offset == 0 {
                "24:00:00Z".to_owned()
            } else {
                java_zoned_time((micros - i64::from(offset) * 1_000_000).rem_euclid(DAY_MICROS))
            }),
            (Kind::Timestamp { precision }, Datum::Stamp(stamp)) => self.timestamp(stamp, *precision),
            (Kind::TimestampTz { precision }, Datum::Stamp(stamp)) => Value::String(match stamp {
                Stamp::At { days, micros } => java_zoned_timestamp(days, micros, *precision),
                Stamp::PosInf => "infinity".to_owned(),
                Stamp::NegInf => "-infinity".to_owned(),
            }),
            (_, Datum::Interval(interval)) => match self.settings.interval {
                IntervalHandling::Numeric => Value::Int64(interval.micro_duration()),
                IntervalHandling::String => Value::String(interval.iso_string()),
            },
            (Kind::Bits { length }, Datum::Bits(bits)) if *length <= 1 => Value::Boolean(bits.any()),
            (_, Datum::Bits(bits)) => Value::Bytes(Bytes::from(bits.little_endian())),
            (_, Datum::Point(x, y)) => {
                let mut wkb = Vec::with_capacity(21);
                wkb.push(1);
                wkb.extend_from_slice(&1u32.to_le_bytes());
                wkb.extend_from_slice(&x.to_le_bytes());
                wkb.extend_from_slice(&y.to_le_bytes());
                let values = vec![Value::Float64(x), Value::Float64(y), Value::Bytes(Bytes::from(wkb)), Value::Null];
                self.structure(values)?
            }
            (_, Datum::Hstore(pairs)) => match self.settings.hstore {
                HstoreHandling::Json => hstore::json(&pairs),
                HstoreHandling::Map => hstore::map(pairs),
            },
            (kind, datum) => {
                return Err(TypeError::Internal {
                    type_name: self.type_name.clone(),
                    reason: format!("a {datum:?} read for a column of kind {kind:?}"),
                })
            }
        })
    }

    /// A struct of this column's schema.
    pub(super) fn structure(&self, values: Vec<Value>) -> Result<Value, TypeError> {
        Struct::from_values(self.schema.clone(), values)
            .map(Value::Struct)
            .map_err(|e| TypeError::data(&self.type_name, e))
    }

    /// `numeric` under `decimal.handling.mode`; `precision` 0 for a column without a declared precision.
    fn numeric(&self, n: Numeric, precision: i32, scale: i32, format: Format) -> Result<Value, TypeError> {
        let special = |value: &'static str| TypeError::SpecialNumeric { type_name: self.type_name.clone(), value };
        let scaled = |d: Decimal| match precision {
            0 => Ok(d),
            _ => d.with_scale(scale).map_err(|why| self.malformed(format, why)),
        };
        Ok(match (self.settings.decimal, n) {
            (DecimalHandling::Precise, Numeric::Finite(d)) if precision == 0 => {
                let d = d.stripped();
                let unscaled = d.unscaled_bytes().map_err(|why| self.malformed(format, why))?;
                self.structure(vec![Value::Int32(d.scale), Value::Bytes(unscaled)])?
            }
            (DecimalHandling::Precise, Numeric::Finite(d)) => {
                Value::Bytes(scaled(d)?.unscaled_bytes().map_err(|why| self.malformed(format, why))?)
            }
            (DecimalHandling::Precise, Numeric::NaN) => return Err(special("NaN")),
            (DecimalHandling::Precise, Numeric::PosInf) => return Err(special("Infinity")),
            (DecimalHandling::Precise, Numeric::NegInf) => return Err(special("-Infinity")),
            (DecimalHandling::Double, Numeric::Finite(d)) => Value::Float64(d.to_f64()),
            (DecimalHandling::Double, Numeric::NaN) => Value::Float64(f64::NAN),
            (DecimalHandling::Double, Numeric::PosInf) => Value::Float64(f64::INFINITY),
            (DecimalHandling::Double, Numeric::NegInf) => Value::Float64(f64::NEG_INFINITY),
            (DecimalHandling::String, Numeric::Finite(d)) => Value::String(scaled(d)?.java_string()),
            (DecimalHandling::String, Numeric::NaN) => Value::String("NAN".to_owned()),
            (DecimalHandling::String, Numeric::PosInf) => Value::String("POSITIVE_INFINITY".to_owned()),
            (DecimalHandling::String, Numeric::NegInf) => Value::String("NEGATIVE_INFINITY".to_owned()),
        })
    }

    /// `money`: a `Decimal` at `money.fraction.digits` (rounded half up), or via a double as pgjdbc reads it.
    fn money(&self, amount: &Decimal, format: Format) -> Result<Value, TypeError> {
        Ok(match self.settings.decimal {
            DecimalHandling::Precise => Value::Bytes(
                amount
                    .rounded_half_up(i32::from(self.settings.money_fraction_digits))
                    .unscaled_bytes()
                    .map_err(|why| self.malformed(format, why))?,
            ),
            DecimalHandling::Double => Value::Float64(amount.to_f64()),
            DecimalHandling::String => Value::String(double_to_string(amount.to_f64())),
        })
    }

    /// Days since the epoch (INT32 in every mode), infinities as Debezium substitutes them.
    fn date(&self, date: Date, format: Format) -> Result<i32, TypeError> {
        match date {
            Date::Days(days) => {
                i32::try_from(days).map_err(|_| self.malformed(format, format!("{days} days is out of range")))
            }
            Date::PosInf => Ok(DATE_POSITIVE_INFINITY),
            Date::NegInf => Ok(DATE_NEGATIVE_INFINITY),
        }
    }

    /// `time(p)`: milliseconds (INT32) for `Time` and Kafka's `Time`, else microseconds (INT64).
    fn time(&self, micros: i64, precision: i32) -> Value {
        let millis = || Value::Int32((micros / 1000) as i32);
        match self.settings.time_precision {
            TimePrecision::Adaptive if precision <= 3 => millis(),
            TimePrecision::Adaptive | TimePrecision::AdaptiveTimeMicroseconds => Value::Int64(micros),
            TimePrecision::Connect => millis(),
        }
    }

    /// `timestamp(p)`: milliseconds for `Timestamp` and Kafka's `Timestamp`, else microseconds.
    fn timestamp(&self, stamp: Stamp, precision: i32) -> Value {
        let in_millis = self.settings.time_precision == TimePrecision::Connect || precision <= 3;
        Value::Int64(match (stamp, in_millis) {
            (Stamp::At { days, micros }, true) => Stamp::epoch_millis(days, micros),
            (Stamp::At { days, micros }, false) => Stamp::epoch_micros(days, micros),
            (Stamp::PosInf, true) => TIMESTAMP_POSITIVE_INFINITY_MICROS / 1000,
            (Stamp::PosInf, false) => TIMESTAMP_POSITIVE_INFINITY_MICROS,
            (Stamp::NegInf, true) => TIMESTAMP_NEGATIVE_INFINITY_MICROS / 1000,
            (Stamp::NegInf, false) => TIMESTAMP_NEGATIVE_INFINITY_MICROS,
        })
    }
}
