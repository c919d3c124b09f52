//! The text form of a value, as Postgres's input functions read it: the Postgres session binds every parameter as
//! text and lets the server parse it by the column's type, so one form serves every column type (`'12.50'` into
//! `numeric`, `'\x0102'` into `bytea`, `'{1,NULL}'` into `integer[]`, `'1500 microseconds'` into `interval`).

use std::fmt::{self, Write};

use crate::temporal::{Clock, DateTime};
use crate::value::SqlValue;

/// The time part of a date written by [`write_date`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum TimePart {
    /// A date alone.
    None,
    /// A local timestamp.
    Local,
    /// An instant, in UTC.
    Utc,
}

/// Writes the text of `value` (nothing for NULL).
pub fn write_text<W: Write>(out: &mut W, value: &SqlValue) -> fmt::Result {
    match value {
        SqlValue::Null => Ok(()),
        SqlValue::Bool(b) => out.write_str(if *b { "true" } else { "false" }),
        SqlValue::Int(v) => write!(out, "{v}"),
        SqlValue::Float32(v) => write_float(out, f64::from(*v), &v.to_string()),
        SqlValue::Float64(v) => write_float(out, *v, &v.to_string()),
        SqlValue::Numeric(s) | SqlValue::Text(s) => out.write_str(s),
        SqlValue::Bytes(bytes) => {
            out.write_str("\\x")?;
            out.write_str(&tidemark_debezium::hex(bytes))
        }
        SqlValue::Date(days) => write_date(out, DateTime::from_days(*days), TimePart::None),
        SqlValue::Time(micros) => write_clock(out, Clock::from_micros(*micros)),
        SqlValue::TimeTz(micros) => {
            write_clock(out, Clock::from_micros(*micros))?;
            out.write_str("+00")
        }
        SqlValue::Timestamp(micros) => write_date(out, DateTime::from_micros(*micros), TimePart::Local),
        SqlValue::TimestampTz(micros) => write_date(out, DateTime::from_micros(*micros), TimePart::Utc),
        SqlValue::Duration(micros) => write!(out, "{micros} microseconds"),
        SqlValue::Array(items) => write_array(out, items),
    }
}

/// The text of `value` as a string.
pub fn text(value: &SqlValue) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_text(&mut out, value);
    out
}

/// Rust's shortest round-trip digits; NaN and the infinities as Postgres spells them.
fn write_float<W: Write>(out: &mut W, value: f64, digits: &str) -> fmt::Result {
    out.write_str(match value {
        v if v.is_nan() => "NaN",
        f64::INFINITY => "Infinity",
        f64::NEG_INFINITY => "-Infinity",
        _ => digits,
    })
}

/// `YYYY-MM-DD`, then ` HH:MM:SS.ffffff` for a timestamp and `+00` for an instant, then ` BC` for years before 1.
fn write_date<W: Write>(out: &mut W, parts: DateTime, time: TimePart) -> fmt::Result {
    let bc = parts.year <= 0;
    let year = if bc { 1 - parts.year } else { parts.year };
    write!(out, "{year:04}-{:02}-{:02}", parts.month, parts.day)?;
    if time != TimePart::None {
        out.write_char(' ')?;
        write_clock(out, Clock::from_micros(parts.micros))?;
    }
    if time == TimePart::Utc {
        out.write_str("+00")?;
    }
    if bc {
        out.write_str(" BC")?;
    }
    Ok(())
}

/// `[-]HH:MM:SS[.ffffff]` (hours past 23 kept: Postgres refuses them for `time` and takes them for `interval`).
fn write_clock<W: Write>(out: &mut W, clock: Clock) -> fmt::Result {
    if clock.negative {
        out.write_char('-')?;
    }
    write!(out, "{:02}:{:02}:{:02}", clock.hours, clock.minutes, clock.seconds)?;
    if clock.micros != 0 {
        write!(out, ".{:06}", clock.micros)?;
    }
    Ok(())
}

/// `{"a","b",NULL}`: every element quoted, `"` and `\` escaped.
/// Writes `items` as the text of a one-dimensional array: `{"a","b",NULL}`, every element quoted.
pub fn write_array<'v, W: Write>(out: &mut W, items: impl IntoIterator<Item = &'v SqlValue>) -> fmt::Result {
    out.write_char('{')?;
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        if *item == SqlValue::Null {
            out.write_str("NULL")?;
            continue;
        }
        out.write_char('"')?;
        for c in text(item).chars() {
            if c == '"' || c == '\\' {
                out.write_char('\\')?;
            }
            out.write_char(c)?;
        }
        out.write_char('"')?;
    }
    out.write_char('}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use tidemark_debezium::calendar::days_from_civil;

    use crate::temporal::MICROS_PER_DAY;

    #[test]
    fn scalars() {
        assert_eq!(text(&SqlValue::Bool(false)), "false");
        assert_eq!(text(&SqlValue::Int(-42)), "-42");
        assert_eq!(text(&SqlValue::Float32(0.1)), "0.1");
        assert_eq!(text(&SqlValue::Float64(f64::NEG_INFINITY)), "-Infinity");
        assert_eq!(text(&SqlValue::Float64(f64::NAN)), "NaN");
        assert_eq!(text(&SqlValue::Float64(1e-7)), "0.0000001");
        assert_eq!(text(&SqlValue::Bytes(Bytes::from_static(&[0, 0xab]))), "\\x00ab");
        assert_eq!(text(&SqlValue::Duration(-1_500_000)), "-1500000 microseconds");
        assert_eq!(text(&SqlValue::Null), "");
    }

    #[test]
    fn dates_and_times() {
        let leap = days_from_civil(2024, 2, 29);
        assert_eq!(text(&SqlValue::Date(leap)), "2024-02-29");
        assert_eq!(text(&SqlValue::Date(days_from_civil(0, 1, 1))), "0001-01-01 BC");
        assert_eq!(text(&SqlValue::Timestamp(leap * MICROS_PER_DAY)), "2024-02-29 00:00:00");
        assert_eq!(text(&SqlValue::TimestampTz(leap * MICROS_PER_DAY + 1)), "2024-02-29 00:00:00.000001+00");
        assert_eq!(text(&SqlValue::TimestampTz(-1)), "1969-12-31 23:59:59.999999+00");
        assert_eq!(text(&SqlValue::Time(3_600_000_000 + 500_000)), "01:00:00.500000");
        assert_eq!(text(&SqlValue::Time(-(26 * 3_600_000_000))), "-26:00:00");
        assert_eq!(text(&SqlValue::TimeTz(0)), "00:00:00+00");
    }

    #[test]
    fn arrays() {
        let items = vec![SqlValue::Text("a \"b\"\\".into()), SqlValue::Null, SqlValue::Int(3)];
        assert_eq!(text(&SqlValue::Array(items)), "{\"a \\\"b\\\"\\\\\",NULL,\"3\"}");
        assert_eq!(text(&SqlValue::Array(vec![])), "{}");
    }
}
