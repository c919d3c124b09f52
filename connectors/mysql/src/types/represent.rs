//! A [`Datum`] as Debezium represents it, for the converter's column type and settings; and what a NOT NULL column
//! gets for a zero date (Debezium's fallback values).

use bytes::Bytes;
use tidemark_connect::data::{decimal, Struct, Value};
use tidemark_debezium::calendar::java_zoned_timestamp;
use tidemark_debezium::{fallback_value, represent_binary, Decimal};

use super::converter::ColumnConverter;
use super::datum::Datum;
use super::error::TypeError;
use super::mysql_type::{GeometryKind, MySqlType};
use super::settings::{BigIntUnsignedHandling, DecimalHandling, TimePrecision};
use super::temporal::{MICROS_PER_DAY, MICROS_PER_SECOND};

/// Microseconds in a millisecond.
const MICROS_PER_MILLI: i64 = 1_000;
/// The WKB of `GEOMETRYCOLLECTION EMPTY`, Debezium's fallback geometry.
const EMPTY_GEOMETRY_WKB: [u8; 9] = [0x01, 0x07, 0, 0, 0, 0, 0, 0, 0];

impl ColumnConverter {
    /// The Connect value of `datum`; `path` (`binlog`, `text`) names where it came from in errors.
    pub(super) fn represent(&self, datum: Datum, path: &'static str) -> Result<Value, TypeError> {
        let settings = &self.settings;
        let bad = |reason: String| self.malformed(path, reason);
        Ok(match (&self.def.ty, datum) {
            (_, Datum::Null) => self.missing()?,
            (MySqlType::TinyInt { .. } | MySqlType::SmallInt { unsigned: false }, Datum::Int(v)) => {
                Value::Int16(i16::try_from(v).map_err(|_| bad(format!("{v} is out of range")))?)
            }
            (
                MySqlType::SmallInt { unsigned: true }
                | MySqlType::MediumInt { .. }
                | MySqlType::Int { unsigned: false },
                Datum::Int(v),
            ) => Value::Int32(i32::try_from(v).map_err(|_| bad(format!("{v} is out of range")))?),
            (MySqlType::Int { unsigned: true } | MySqlType::BigInt { unsigned: false }, Datum::Int(v)) => {
                Value::Int64(i64::try_from(v).map_err(|_| bad(format!("{v} is out of range")))?)
            }
            (MySqlType::BigInt { unsigned: true }, Datum::Int(v)) => {
                let v = u64::try_from(v).map_err(|_| bad(format!("{v} is out of range")))?;
                match settings.bigint_unsigned {
                    // Java's long: values above 2^63-1 wrap.
                    BigIntUnsignedHandling::Long => Value::Int64(v as i64),
                    BigIntUnsignedHandling::Precise => Value::Bytes(decimal::unscaled_bytes(i128::from(v))),
                }
            }
            (MySqlType::Decimal { scale, .. }, Datum::Decimal(d)) => {
                self.decimal(&d.with_scale(i32::from(*scale)).map_err(bad)?).map_err(bad)?
            }
            (MySqlType::Float, Datum::Float(f)) => Value::Float32(f),
            (MySqlType::Double, Datum::Double(d)) => Value::Float64(d),
            (MySqlType::Bit { length }, Datum::Bytes(bytes)) => bits(bytes, *length),
            (
                MySqlType::Char { .. }
                | MySqlType::VarChar { .. }
                | MySqlType::Text { .. }
                | MySqlType::Json
                | MySqlType::Enum(_)
                | MySqlType::Set(_),
                Datum::Text(text),
            ) => Value::String(text),
            (MySqlType::Binary { .. } | MySqlType::VarBinary | MySqlType::Blob { .. }, Datum::Bytes(bytes)) => {
                represent_binary(bytes, settings.binary)
            }
            (MySqlType::Date, Datum::Date(date)) => {
                let days = date.days(settings.time_adjuster);
                Value::Int32(i32::try_from(days).map_err(|_| bad(format!("day {days} is out of range")))?)
            }
            (MySqlType::Time { fsp }, Datum::Time(micros)) => self.time(micros, *fsp)?,
            (MySqlType::DateTime { fsp }, Datum::DateTime(date, time)) => {
                let micros = date.days(settings.time_adjuster) * MICROS_PER_DAY + time;
                match settings.time_precision {
                    TimePrecision::Connect => Value::Int64(micros.div_euclid(MICROS_PER_MILLI)),
                    _ if *fsp <= 3 => Value::Int64(micros.div_euclid(MICROS_PER_MILLI)),
                    _ => Value::Int64(micros),
                }
            }
            (MySqlType::Timestamp { fsp }, Datum::Timestamp(micros)) => Value::String(java_zoned_timestamp(
                micros.div_euclid(MICROS_PER_DAY),
                micros.rem_euclid(MICROS_PER_DAY),
                i32::from(*fsp),
            )),
            (MySqlType::Year, Datum::Year(year)) => Value::Int32(year),
            (MySqlType::Geometry(kind), Datum::Bytes(bytes)) => self.geometry(&bytes, *kind).map_err(bad)?,
            (ty, datum) => {
                return Err(TypeError::Internal {
                    column: self.def.name.clone(),
                    reason: format!("a {ty} column decoded {datum:?}"),
                })
            }
        })
    }

    /// A DECIMAL at its column's scale under `decimal.handling.mode`.
    fn decimal(&self, value: &Decimal) -> Result<Value, String> {
        Ok(match self.settings.decimal {
            DecimalHandling::Precise => Value::Bytes(value.unscaled_bytes()?),
            DecimalHandling::Double => Value::Float64(value.to_f64()),
            DecimalHandling::String => Value::String(value.java_string()),
        })
    }

    /// A TIME (a signed duration in µs) under `time.precision.mode`.
    fn time(&self, micros: i64, fsp: u8) -> Result<Value, TypeError> {
        Ok(match self.settings.time_precision {
            TimePrecision::AdaptiveTimeMicroseconds => Value::Int64(micros),
            TimePrecision::Adaptive if fsp > 3 => Value::Int64(micros),
            // Java's `(int) duration.toMillis()`: beyond ±596 hours the milliseconds wrap, as in Debezium.
            TimePrecision::Adaptive => Value::Int32(micros.div_euclid(MICROS_PER_MILLI) as i32),
            TimePrecision::Connect if (0..MICROS_PER_DAY).contains(&micros) => {
                Value::Int32((micros / MICROS_PER_MILLI) as i32)
            }
            TimePrecision::Connect => {
                return Err(TypeError::OutOfRange {
                    column: self.def.name.clone(),
                    reason: format!(
                        "TIME of {} s is outside the day, which time.precision.mode=connect can hold",
                        micros as f64 / MICROS_PER_SECOND as f64
                    ),
                })
            }
        })
    }

    /// A spatial value: the stored SRID (4 bytes, little-endian; 0 is none) and WKB; a POINT with its
    /// coordinates.
    fn geometry(&self, stored: &[u8], kind: GeometryKind) -> Result<Value, String> {
        let (srid, wkb) = stored.split_first_chunk::<4>().ok_or("fewer than 4 bytes")?;
        let srid = match i32::from_le_bytes(*srid) {
            0 => Value::Null,
            srid => Value::Int32(srid),
        };
        let wkb_value = Value::Bytes(Bytes::copy_from_slice(wkb));
        let values = match kind {
            GeometryKind::Point => {
                let (x, y) = point(wkb)?;
                vec![Value::Float64(x), Value::Float64(y), wkb_value, srid]
            }
            _ => vec![wkb_value, srid],
        };
        Struct::from_values(self.schema.clone(), values).map(Value::Struct).map_err(|e| e.to_string())
    }

    /// What a NOT NULL column gets for a value Debezium has none for (a zero date): its fallback value (the epoch
    /// for dates and times, `{}` for JSON, an empty geometry collection, zeros); null for an optional column.
    fn missing(&self) -> Result<Value, TypeError> {
        if self.def.optional {
            return Ok(Value::Null);
        }
        Ok(match &self.def.ty {
            MySqlType::Timestamp { .. } => Value::String(java_zoned_timestamp(0, 0, 0)),
            MySqlType::Json => Value::String("{}".to_owned()),
            MySqlType::Decimal { scale, .. } => self
                .decimal(&Decimal::from_unscaled(0, i32::from(*scale)))
                .map_err(|reason| TypeError::Internal { column: self.def.name.clone(), reason })?,
            MySqlType::BigInt { unsigned: true }
                if self.settings.bigint_unsigned == BigIntUnsignedHandling::Precise =>
            {
                Value::Bytes(decimal::unscaled_bytes(0))
            }
            MySqlType::Geometry(kind) if *kind != GeometryKind::Point => {
                let wkb = Value::Bytes(Bytes::from_static(&EMPTY_GEOMETRY_WKB));
                let empty = Struct::from_values(self.schema.clone(), vec![wkb, Value::Null]);
                empty.map(Value::Struct).map_err(|e| TypeError::data(&self.def.name, e))?
            }
            _ => fallback_value(&self.schema),
        })
    }
}

/// BIT(1) as a boolean; BIT(n) as Debezium's `Bits`: the big-endian stored bytes reversed to little-endian, padded
/// to (n + 7) / 8 bytes.
fn bits(mut bytes: Vec<u8>, length: u16) -> Value {
    if length == 1 {
        return Value::Boolean(bytes.iter().any(|&b| b != 0));
    }
    bytes.reverse();
    let size = usize::from(length).div_ceil(8);
    if bytes.len() < size {
        bytes.resize(size, 0);
    }
    Value::Bytes(Bytes::from(bytes))
}

/// The coordinates of a 2D WKB point (byte order, type 1, x, y).
fn point(wkb: &[u8]) -> Result<(f64, f64), String> {
    let bytes: &[u8; 21] = wkb.try_into().map_err(|_| format!("a POINT's WKB has {} bytes, not 21", wkb.len()))?;
    let little = bytes[0] != 0;
    let read = |at: usize| -> [u8; 8] {
        let mut word = [0; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        word
    };
    let kind = [bytes[1], bytes[2], bytes[3], bytes[4]];
    let kind = if little { u32::from_le_bytes(kind) } else { u32::from_be_bytes(kind) };
    if kind != 1 {
        return Err(format!("WKB geometry type {kind} is not a 2D point"));
    }
    let float = |word| if little { f64::from_le_bytes(word) } else { f64::from_be_bytes(word) };
    Ok((float(read(5)), float(read(13))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_little_endian_and_padded() {
        assert_eq!(bits(vec![0x02, 0x03], 10), Value::Bytes(Bytes::from_static(&[0x03, 0x02])));
        assert_eq!(bits(vec![0x01], 12), Value::Bytes(Bytes::from_static(&[0x01, 0x00])));
        assert_eq!(bits(vec![0x01], 1), Value::Boolean(true));
        assert_eq!(bits(vec![0x00], 1), Value::Boolean(false));
    }

    #[test]
    fn points_in_either_byte_order() {
        let mut little = vec![1, 1, 0, 0, 0];
        little.extend(1.5f64.to_le_bytes());
        little.extend((-2.0f64).to_le_bytes());
        assert_eq!(point(&little), Ok((1.5, -2.0)));
        let mut big = vec![0, 0, 0, 0, 1];
        big.extend(3.0f64.to_be_bytes());
        big.extend(4.0f64.to_be_bytes());
        assert_eq!(point(&big), Ok((3.0, 4.0)));
        assert!(point(&little[..20]).is_err());
        little[1] = 2;
        assert!(point(&little).is_err());
    }
}
