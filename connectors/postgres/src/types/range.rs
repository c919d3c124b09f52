//! The built-in range types from their binary form to the text `range_out` writes (`[1,10)`, `empty`,
//! `["2024-01-01 00:00:00","2024-01-02 00:00:00")`), which is what Debezium emits for them.

use postgres_protocol::types::{range_from_sql, Range, RangeBound};

use super::datetime::{pg_date_text, pg_timestamp_text, Date, Stamp};
use super::kind::RangeOf;
use super::numeric::binary_text;

/// The text form of a range of `subtype` from its binary form.
pub(crate) fn text(bytes: &[u8], subtype: RangeOf) -> Result<String, String> {
    let (lower, upper) = match range_from_sql(bytes).map_err(|e| e.to_string())? {
        Range::Empty => return Ok("empty".to_owned()),
        Range::Nonempty(lower, upper) => (lower, upper),
    };
    let mut out = String::new();
    let (open, lower) = match lower {
        RangeBound::Inclusive(value) => ('[', Some(value)),
        RangeBound::Exclusive(value) => ('(', Some(value)),
        RangeBound::Unbounded => ('(', None),
    };
    out.push(open);
    if let Some(value) = lower {
        push_bound(&mut out, &bound_text(value, subtype)?);
    }
    out.push(',');
    let (close, upper) = match upper {
        RangeBound::Inclusive(value) => (']', Some(value)),
        RangeBound::Exclusive(value) => (')', Some(value)),
        RangeBound::Unbounded => (')', None),
    };
    if let Some(value) = upper {
        push_bound(&mut out, &bound_text(value, subtype)?);
    }
    out.push(close);
    Ok(out)
}

/// The subtype's output of a bound's binary form.
fn bound_text(value: Option<&[u8]>, subtype: RangeOf) -> Result<String, String> {
    let value = value.ok_or_else(|| "a null range bound".to_owned())?;
    Ok(match subtype {
        RangeOf::Int4 => i32::from_be_bytes(exact(value)?).to_string(),
        RangeOf::Int8 => i64::from_be_bytes(exact(value)?).to_string(),
        RangeOf::Numeric => binary_text(value)?,
        RangeOf::Date => pg_date_text(Date::from_pg_days(i32::from_be_bytes(exact(value)?))),
        RangeOf::Timestamp => pg_timestamp_text(Stamp::from_pg_micros(i64::from_be_bytes(exact(value)?)), false),
        RangeOf::TimestampTz => pg_timestamp_text(Stamp::from_pg_micros(i64::from_be_bytes(exact(value)?)), true),
    })
}

/// A fixed-size value's bytes.
pub(crate) fn exact<const N: usize>(value: &[u8]) -> Result<[u8; N], String> {
    value.try_into().map_err(|_| format!("a value of {N} bytes, not {}", value.len()))
}

/// `range_bound_escape`: quoted (with `"` and `\` doubled) when empty or holding `"\()[],` or whitespace.
fn push_bound(out: &mut String, value: &str) {
    let quote = value.is_empty()
        || value.chars().any(|c| matches!(c, '"' | '\\' | '(' | ')' | '[' | ']' | ',') || c.is_ascii_whitespace());
    if quote {
        out.push('"');
    }
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push(c);
        }
        out.push(c);
    }
    if quote {
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_range_out() {
        // [1,10): lower inclusive, upper exclusive.
        let int4 = [0x02, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 10];
        assert_eq!(text(&int4, RangeOf::Int4), Ok("[1,10)".to_owned()));
        assert_eq!(text(&[0x01], RangeOf::Int4), Ok("empty".to_owned()));
        // (,5]: lower unbounded, upper inclusive.
        let half = [0x08 | 0x04, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 5];
        assert_eq!(text(&half, RangeOf::Int8), Ok("(,5]".to_owned()));
        // [2000-01-01 00:00:00, infinity)
        let ts = [0x02, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(text(&ts, RangeOf::Timestamp), Ok(r#"["2000-01-01 00:00:00",infinity)"#.to_owned()));
    }
}
