//! A value in the text protocol (`SELECT *` of a snapshot) as a [`Datum`]: every non-NULL column arrives as the
//! bytes the server writes, text converted to the connection's `character_set_results` (utf8mb4), TIMESTAMP in the
//! session's time zone (`+00:00`), binary types, BIT and GEOMETRY as their stored bytes.

use tidemark_debezium::Decimal;

use super::datum::Datum;
use super::json;
use super::mysql_type::MySqlType;
use super::temporal::{parse_date, parse_datetime, parse_time, MICROS_PER_DAY};

/// The datum of a column of type `ty` from its text-protocol bytes.
pub(super) fn decode(ty: &MySqlType, bytes: &[u8]) -> Result<Datum, String> {
    let text = || std::str::from_utf8(bytes).map_err(|_| format!("{bytes:?} is not UTF-8"));
    Ok(match ty {
        MySqlType::TinyInt { .. }
        | MySqlType::SmallInt { .. }
        | MySqlType::MediumInt { .. }
        | MySqlType::Int { .. }
        | MySqlType::BigInt { .. } => {
            let text = text()?;
            Datum::Int(text.parse().map_err(|_| format!("{text:?} is not an integer"))?)
        }
        MySqlType::Decimal { .. } => Datum::Decimal(Decimal::parse(text()?)?),
        // Rounded to 6 significant digits by the server unless read as `CAST(f AS DOUBLE)`, whose 17 digits give
        // the float back exactly.
        MySqlType::Float => {
            let text = text()?;
            Datum::Float(text.parse().map_err(|_| format!("{text:?} is not a number"))?)
        }
        MySqlType::Double => {
            let text = text()?;
            Datum::Double(text.parse().map_err(|_| format!("{text:?} is not a number"))?)
        }
        MySqlType::Char { .. } | MySqlType::VarChar { .. } | MySqlType::Text { .. } => {
            Datum::Text(String::from_utf8_lossy(bytes).into_owned())
        }
        MySqlType::Enum(_) | MySqlType::Set(_) => Datum::Text(text()?.to_owned()),
        MySqlType::Json => Datum::Text(json::normalize(text()?)?),
        MySqlType::Binary { length } => Datum::Bytes(padded(bytes, *length)),
        MySqlType::Bit { .. } | MySqlType::VarBinary | MySqlType::Blob { .. } | MySqlType::Geometry(_) => {
            Datum::Bytes(bytes.to_vec())
        }
        MySqlType::Date => parse_date(text()?)?.map_or(Datum::Null, Datum::Date),
        MySqlType::Time { .. } => Datum::Time(parse_time(text()?)?),
        MySqlType::DateTime { .. } => {
            parse_datetime(text()?)?.map_or(Datum::Null, |(date, time)| Datum::DateTime(date, time))
        }
        // In UTC (the session's time zone); the zero timestamp is all zeros.
        MySqlType::Timestamp { .. } => parse_datetime(text()?)?
            .map_or(Datum::Null, |(date, time)| Datum::Timestamp(date.days(false) * MICROS_PER_DAY + time)),
        MySqlType::Year => Datum::Year(year(text()?)?),
        MySqlType::Unsupported(description) => return Err(format!("{description} has no mapping")),
    })
}

/// A YEAR: four digits (`0000` stays 0), or two of the old YEAR(2) (00-69 are 2000-2069, 70-99 1970-1999).
fn year(text: &str) -> Result<i32, String> {
    let year: i32 = text.parse().map_err(|_| format!("{text:?} is not a year"))?;
    Ok(match (text.len(), year) {
        (1..=2, 0..=69) => year + 2000,
        (1..=2, _) => year + 1900,
        _ => year,
    })
}

/// A BINARY(n) value at its full length: the binlog drops trailing zero bytes that the stored value has (Debezium
/// pads them back).
pub(super) fn padded(bytes: &[u8], length: u32) -> Vec<u8> {
    let mut value = bytes.to_vec();
    let length = usize::try_from(length).unwrap_or(usize::MAX);
    if value.len() < length {
        value.resize(length, 0);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::charset::Charset;
    use crate::types::temporal::CivilDate;

    #[test]
    fn decodes_each_kind() {
        let decode = |ty: MySqlType, text: &[u8]| decode(&ty, text);
        assert_eq!(
            decode(MySqlType::BigInt { unsigned: true }, b"18446744073709551615"),
            Ok(Datum::Int(u64::MAX.into()))
        );
        assert_eq!(decode(MySqlType::Float, b"1.23457"), Ok(Datum::Float(1.23457)));
        assert_eq!(decode(MySqlType::Float, b"1.2345677614212036"), Ok(Datum::Float(1.234_567_8)));
        assert_eq!(decode(MySqlType::Double, b"1.7976931348623157e308"), Ok(Datum::Double(f64::MAX)));
        let latin1 = MySqlType::VarChar { charset: Charset::Latin1 };
        assert_eq!(decode(latin1, "café".as_bytes()), Ok(Datum::Text("café".to_owned())));
        assert_eq!(decode(MySqlType::Binary { length: 4 }, b"\x01"), Ok(Datum::Bytes(vec![1, 0, 0, 0])));
        assert_eq!(decode(MySqlType::Date, b"0000-00-00"), Ok(Datum::Null));
        assert_eq!(decode(MySqlType::Timestamp { fsp: 0 }, b"0000-00-00 00:00:00"), Ok(Datum::Null));
        assert_eq!(
            decode(MySqlType::Timestamp { fsp: 6 }, b"1970-01-01 00:00:01.000001"),
            Ok(Datum::Timestamp(1_000_001))
        );
        let date = CivilDate::new(2024, 1, 2).expect("date");
        assert_eq!(
            decode(MySqlType::DateTime { fsp: 3 }, b"2024-01-02 03:04:05.120"),
            Ok(Datum::DateTime(date, 11_045_120_000))
        );
        assert_eq!(decode(MySqlType::Year, b"0000"), Ok(Datum::Year(0)));
        assert_eq!(decode(MySqlType::Year, b"69"), Ok(Datum::Year(2069)));
        assert_eq!(decode(MySqlType::Year, b"70"), Ok(Datum::Year(1970)));
        assert_eq!(decode(MySqlType::Json, br#"{"a": [1, 2]}"#), Ok(Datum::Text(r#"{"a":[1,2]}"#.to_owned())));
        assert!(decode(MySqlType::Int { unsigned: false }, b"x").is_err());
        assert!(decode(MySqlType::Unsupported("UUID".to_owned()), b"x").is_err());
    }
}
