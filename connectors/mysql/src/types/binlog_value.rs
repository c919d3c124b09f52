//! A value of a binlog row image, as mysql_common 0.37 decodes it, as a [`Datum`]:
//!
//! - integers: `Int`, or `UInt` for BIGINT UNSIGNED; MEDIUMINT comes without its sign extended, so every integer
//!   is read back at its type's width and signedness;
//! - DECIMAL: `Bytes` of its text; FLOAT and DOUBLE: `Float` and `Double`;
//! - text and binary types, BIT (big-endian), GEOMETRY (SRID and WKB): `Bytes` as stored, text in the column's
//!   character set, BINARY without its trailing zero bytes;
//! - DATE and DATETIME: `Date(y, m, d, h, mi, s, µs)`, all zero for the zero date; TIME: `Time(negative, days, h, m,
//!   s, µs)`; TIMESTAMP: `Bytes` of `<seconds>[.<µs>]` since the epoch (`0` for the zero timestamp);
//! - YEAR: `Bytes` of 1900 plus the stored byte (`1900` for `0000`);
//! - ENUM: `Int` of the 1-based index (0 for the empty error value); SET: `Bytes` of the little-endian bitmask;
//! - MySQL's JSON: binary JSON (handled by [`super::json`]).

use mysql_async::Value;
use tidemark_debezium::Decimal;

use super::datum::Datum;
use super::json;
use super::mysql_type::MySqlType;
use super::temporal::{fraction_micros, micros_of, CivilDate, MICROS_PER_SECOND};
use super::text_value::padded;

/// The datum of a column of type `ty` from a binlog row image's value.
pub(super) fn decode(ty: &MySqlType, value: &Value) -> Result<Datum, String> {
    if *value == Value::NULL {
        return Ok(Datum::Null);
    }
    let unexpected = || format!("unexpected {value:?}");
    Ok(match (ty, value) {
        (MySqlType::TinyInt { unsigned }, _) => Datum::Int(integer(value, 8, *unsigned).ok_or_else(unexpected)?),
        (MySqlType::SmallInt { unsigned }, _) => Datum::Int(integer(value, 16, *unsigned).ok_or_else(unexpected)?),
        (MySqlType::MediumInt { unsigned }, _) => Datum::Int(integer(value, 24, *unsigned).ok_or_else(unexpected)?),
        (MySqlType::Int { unsigned }, _) => Datum::Int(integer(value, 32, *unsigned).ok_or_else(unexpected)?),
        (MySqlType::BigInt { unsigned }, _) => Datum::Int(integer(value, 64, *unsigned).ok_or_else(unexpected)?),
        (MySqlType::Decimal { .. }, Value::Bytes(text)) => Datum::Decimal(Decimal::parse(utf8(text)?)?),
        (MySqlType::Float, Value::Float(f)) => Datum::Float(*f),
        (MySqlType::Double, Value::Double(d)) => Datum::Double(*d),
        (
            MySqlType::Char { charset } | MySqlType::VarChar { charset } | MySqlType::Text { charset, .. },
            Value::Bytes(b),
        ) => Datum::Text(charset.decode(b)),
        (MySqlType::Json, Value::Bytes(text)) => Datum::Text(json::normalize(utf8(text)?)?),
        (MySqlType::Binary { length }, Value::Bytes(b)) => Datum::Bytes(padded(b, *length)),
        (
            MySqlType::Bit { .. } | MySqlType::VarBinary | MySqlType::Blob { .. } | MySqlType::Geometry(_),
            Value::Bytes(b),
        ) => Datum::Bytes(b.clone()),
        (MySqlType::Date, Value::Date(year, month, day, ..)) => {
            CivilDate::new(i64::from(*year), u32::from(*month), u32::from(*day)).map_or(Datum::Null, Datum::Date)
        }
        (MySqlType::DateTime { .. }, Value::Date(year, month, day, hour, minute, second, micros)) => {
            let time = micros_of(i64::from(*hour), i64::from(*minute), i64::from(*second), i64::from(*micros));
            CivilDate::new(i64::from(*year), u32::from(*month), u32::from(*day))
                .map_or(Datum::Null, |date| Datum::DateTime(date, time))
        }
        (MySqlType::Time { .. }, Value::Time(negative, days, hours, minutes, seconds, micros)) => {
            let hours = i64::from(*days) * 24 + i64::from(*hours);
            let (minutes, seconds, micros) = (i64::from(*minutes), i64::from(*seconds), i64::from(*micros));
            if micros >= 1_000_000 {
                Datum::Time(unwrap_time2(*negative, hours, minutes, seconds, micros))
            } else {
                let magnitude = micros_of(hours, minutes, seconds, micros);
                Datum::Time(if *negative { -magnitude } else { magnitude })
            }
        }
        (MySqlType::Timestamp { .. }, Value::Bytes(text)) => timestamp(utf8(text)?).ok_or_else(unexpected)?,
        (MySqlType::Timestamp { .. }, Value::Int(seconds)) => timestamp(&seconds.to_string()).ok_or_else(unexpected)?,
        (MySqlType::Year, Value::Bytes(text)) => {
            let year: i32 = utf8(text)?.parse().map_err(|_| unexpected())?;
            // YEAR stores the year less 1900 in a byte, 0 standing for 0000 (1900 is no YEAR value).
            Datum::Year(if year == 1900 { 0 } else { year })
        }
        (MySqlType::Enum(labels), Value::Int(index)) => Datum::Text(label(labels, *index).ok_or_else(unexpected)?),
        (MySqlType::Set(members), Value::Bytes(mask)) => {
            Datum::Text(set_members(members, mask).ok_or_else(unexpected)?)
        }
        _ => return Err(unexpected()),
    })
}

/// An integer column's value at its type's width `bits` and signedness, whichever way mysql_common signed it.
fn integer(value: &Value, bits: u32, unsigned: bool) -> Option<i128> {
    let raw = match value {
        Value::Int(i) => i128::from(*i),
        Value::UInt(u) => i128::from(*u),
        _ => return None,
    };
    let modulus = 1i128 << bits;
    let wrapped = raw.rem_euclid(modulus);
    Some(if !unsigned && wrapped >= modulus / 2 { wrapped - modulus } else { wrapped })
}

/// A TIMESTAMP's `<seconds>[.<µs>]` as µs since the epoch; null for the zero timestamp (the epoch itself is no
/// TIMESTAMP value).
fn timestamp(text: &str) -> Option<Datum> {
    let (seconds, fraction) = text.split_once('.').unwrap_or((text, ""));
    let micros = seconds.parse::<i64>().ok()? * MICROS_PER_SECOND + fraction_micros(fraction)?;
    Some(if micros == 0 { Datum::Null } else { Datum::Timestamp(micros) })
}

/// The ENUM value of 1-based `index`; index 0 is the empty string MySQL stores for an invalid value.
fn label(labels: &[String], index: i64) -> Option<String> {
    match usize::try_from(index).ok()? {
        0 => Some(String::new()),
        index => labels.get(index - 1).cloned(),
    }
}

/// The SET members a little-endian bitmask selects, in declaration order, joined by commas (as the server writes
/// them).
fn set_members(members: &[String], mask: &[u8]) -> Option<String> {
    let mut bytes = [0u8; 8];
    bytes.get_mut(..mask.len())?.copy_from_slice(mask);
    let bits = u64::from_le_bytes(bytes);
    if members.len() < 64 && bits >> members.len() != 0 {
        return None;
    }
    let selected: Vec<&str> =
        members.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, m)| m.as_str()).collect();
    Some(selected.join(","))
}

fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|_| format!("{bytes:?} is not UTF-8"))
}

/// What mysql_common 0.37.3 adds to the packed value of a negative TIME(1) or TIME(2) with a fraction: it computes
/// the fraction in a `u32` that wraps (release builds; the workspace turns its overflow checks off for debug builds
/// too), adding 2^32 to a fraction it multiplies by 10,000.
const TIME2_WRAP: i64 = (1 << 32) * 10_000;

/// The µs of a TIME mysql_common decoded with [`TIME2_WRAP`] added: such a value shows a fraction of a second of a
/// million µs or more, which no correct value has. The packed value (`hms << 24 | fraction`, signed) is rebuilt from
/// the fields, the wrap taken off, and the result read as MySQL's packed time.
///
/// Known limit: below -625 hours the wrapped value is itself negative with a plausible fraction, so it cannot be
/// told from a correct one and stays wrong (only TIME(1) and TIME(2) values from -625:00:00 down to -838:59:59 with
/// a fraction; TIME(0) and TIME(3..6) are decoded without the wrap).
fn unwrap_time2(negative: bool, hours: i64, minutes: i64, seconds: i64, fraction: i64) -> i64 {
    let packed = ((hours << 12 | minutes << 6 | seconds) << 24) + fraction;
    let correct = if negative { -packed } else { packed } - TIME2_WRAP;
    let magnitude = correct.abs();
    let hms = magnitude >> 24;
    let value = micros_of(hms >> 12 & 0x3ff, hms >> 6 & 0x3f, hms & 0x3f, magnitude & 0xff_ffff);
    if correct < 0 {
        -value
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::charset::Charset;

    #[test]
    fn reads_integers_at_their_width() {
        let int = |ty: MySqlType, value: Value| decode(&ty, &value);
        // mysql_common 0.37 does not sign-extend MEDIUMINT.
        assert_eq!(int(MySqlType::MediumInt { unsigned: false }, Value::Int(8_388_608)), Ok(Datum::Int(-8_388_608)));
        assert_eq!(int(MySqlType::MediumInt { unsigned: true }, Value::Int(16_777_215)), Ok(Datum::Int(16_777_215)));
        assert_eq!(int(MySqlType::TinyInt { unsigned: true }, Value::Int(-1)), Ok(Datum::Int(255)));
        assert_eq!(int(MySqlType::BigInt { unsigned: true }, Value::UInt(u64::MAX)), Ok(Datum::Int(u64::MAX.into())));
        assert_eq!(int(MySqlType::BigInt { unsigned: false }, Value::Int(i64::MIN)), Ok(Datum::Int(i64::MIN.into())));
        assert_eq!(int(MySqlType::Int { unsigned: false }, Value::NULL), Ok(Datum::Null));
        assert!(int(MySqlType::Int { unsigned: false }, Value::Bytes(b"1".to_vec())).is_err());
    }

    #[test]
    fn reads_temporal_values_and_zero_dates() {
        let time = decode(&MySqlType::Time { fsp: 6 }, &Value::Time(true, 34, 22, 59, 59, 0));
        assert_eq!(time, Ok(Datum::Time(-3_020_399_000_000)));
        assert_eq!(decode(&MySqlType::Date, &Value::Date(0, 0, 0, 0, 0, 0, 0)), Ok(Datum::Null));
        assert_eq!(decode(&MySqlType::DateTime { fsp: 0 }, &Value::Date(0, 0, 0, 0, 0, 0, 0)), Ok(Datum::Null));
        let ts = |text: &[u8]| decode(&MySqlType::Timestamp { fsp: 6 }, &Value::Bytes(text.to_vec()));
        assert_eq!(ts(b"0"), Ok(Datum::Null));
        assert_eq!(ts(b"1.000001"), Ok(Datum::Timestamp(1_000_001)));
        assert_eq!(ts(b"2147483647"), Ok(Datum::Timestamp(2_147_483_647_000_000)));
        assert_eq!(decode(&MySqlType::Year, &Value::Bytes(b"1900".to_vec())), Ok(Datum::Year(0)));
        assert_eq!(decode(&MySqlType::Year, &Value::Bytes(b"2155".to_vec())), Ok(Datum::Year(2155)));
    }

    #[test]
    fn reads_labels_text_and_bytes() {
        let sizes = MySqlType::Enum(vec!["small".to_owned(), "medium".to_owned()]);
        assert_eq!(decode(&sizes, &Value::Int(2)), Ok(Datum::Text("medium".to_owned())));
        assert_eq!(decode(&sizes, &Value::Int(0)), Ok(Datum::Text(String::new())));
        assert!(decode(&sizes, &Value::Int(3)).is_err());
        let set = MySqlType::Set(["a", "b", "c", "d"].map(str::to_owned).to_vec());
        assert_eq!(decode(&set, &Value::Bytes(vec![0b1101])), Ok(Datum::Text("a,c,d".to_owned())));
        assert_eq!(decode(&set, &Value::Bytes(vec![0])), Ok(Datum::Text(String::new())));
        assert!(decode(&set, &Value::Bytes(vec![0b10000])).is_err());
        let latin1 = MySqlType::VarChar { charset: Charset::Latin1 };
        assert_eq!(decode(&latin1, &Value::Bytes(b"caf\xe9".to_vec())), Ok(Datum::Text("café".to_owned())));
        assert_eq!(decode(&MySqlType::Binary { length: 3 }, &Value::Bytes(vec![7])), Ok(Datum::Bytes(vec![7, 0, 0])));
    }

    /// mysql_common's `time_from_packed`: the value it yields for a packed TIME.
    fn from_packed(packed: i64) -> Value {
        let magnitude = packed.abs();
        let hms = magnitude >> 24;
        let hours = (hms >> 12) % 1024;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Value::Time(
            packed < 0,
            (hours / 24) as u32,
            (hours % 24) as u8,
            ((hms >> 6) % 64) as u8,
            (hms % 64) as u8,
            (magnitude % (1 << 24)) as u32,
        )
    }

    #[test]
    fn negative_time2_fractions_mysql_common_wraps_are_undone() {
        // (packed value as MySQL packs it, µs): -00:00:01.5, -00:00:00.01, -624:59:58.9.
        let hms = |h: i64, m: i64, s: i64| (h << 12 | m << 6 | s) << 24;
        let cases = [
            (-(hms(0, 0, 1) + 500_000), -1_500_000),
            (-10_000, -10_000),
            (-(hms(624, 59, 58) + 900_000), -2_249_998_900_000),
        ];
        for (packed, micros) in cases {
            let wrapped = from_packed(packed + TIME2_WRAP);
            assert_eq!(decode(&MySqlType::Time { fsp: 2 }, &wrapped), Ok(Datum::Time(micros)), "{packed}");
            assert_eq!(decode(&MySqlType::Time { fsp: 2 }, &from_packed(packed)), Ok(Datum::Time(micros)));
        }
    }
}
