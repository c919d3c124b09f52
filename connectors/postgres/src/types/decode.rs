//! Reading a scalar value in either wire form into a [`Datum`], the form-independent value [`super::represent`]
//! turns into Debezium's representation. Arrays and unknown types are the converter's own business.

use postgres_protocol::types as pg;

use super::bits::Bits;
use super::bytea;
use super::datetime::{self, Date, Stamp};
use super::hstore::{self, Pairs};
use super::interval::Interval;
use super::kind::Kind;
use super::network;
use super::numeric::Numeric;
use super::range::{self, exact};
use super::settings::TypeSettings;
use super::tsvector;
use tidemark_debezium::Decimal;

/// A value read from either form.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Datum {
    Bool(bool),
    I16(i16),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Numeric(Numeric),
    /// An exact `money` amount.
    Money(Decimal),
    /// Every type Debezium represents by its text output.
    Text(String),
    Bytes(Vec<u8>),
    Date(Date),
    /// Microseconds past midnight.
    Time(i64),
    /// Local microseconds past midnight and the offset in seconds east of UTC.
    TimeTz(i64, i32),
    /// A `timestamp` (its wall clock read as UTC) or a `timestamptz`.
    Stamp(Stamp),
    Interval(Interval),
    Bits(Bits),
    Point(f64, f64),
    Hstore(Pairs),
}

/// `text`, a value of `kind` in its output form.
pub(crate) fn from_text(kind: &Kind, text: &str) -> Result<Datum, String> {
    Ok(match kind {
        Kind::Bool => Datum::Bool(match text {
            "t" | "true" => true,
            "f" | "false" => false,
            _ => return Err(format!("{text:?} is not a boolean")),
        }),
        Kind::Int2 => Datum::I16(integer(text)?),
        Kind::Int4 => Datum::I32(integer(text)?),
        Kind::Int8 => Datum::I64(integer(text)?),
        Kind::Oid => Datum::I64(i64::from(integer::<u32>(text)?)),
        Kind::Float4 => Datum::F32(float(text)?),
        Kind::Float8 => Datum::F64(float(text)?),
        Kind::Numeric { .. } => Datum::Numeric(Numeric::parse(text)?),
        Kind::Money => Datum::Money(money(text)?),
        Kind::Bytea => Datum::Bytes(bytea::parse_text(text.as_bytes())?),
        Kind::Date => Datum::Date(datetime::parse_date(text)?),
        Kind::Time { .. } => Datum::Time(datetime::parse_time(text)?),
        Kind::TimeTz => {
            let (micros, offset) = datetime::parse_timetz(text)?;
            Datum::TimeTz(micros, offset)
        }
        Kind::Timestamp { .. } => Datum::Stamp(datetime::parse_timestamp(text, false)?),
        Kind::TimestampTz { .. } => Datum::Stamp(datetime::parse_timestamp(text, true)?),
        Kind::Interval => Datum::Interval(Interval::parse(text)?),
        Kind::Bits { .. } => Datum::Bits(Bits::parse(text)?),
        Kind::Point => {
            let (x, y) = point(text).ok_or_else(|| format!("{text:?} is not a point"))?;
            Datum::Point(x, y)
        }
        Kind::Hstore => Datum::Hstore(hstore::parse_text(text)?),
        Kind::Text
        | Kind::Char
        | Kind::Uuid
        | Kind::Json
        | Kind::Jsonb
        | Kind::Xml
        | Kind::Inet
        | Kind::Cidr
        | Kind::MacAddr
        | Kind::MacAddr8
        | Kind::Range(_)
        | Kind::TsVector
        | Kind::Enum(_)
        | Kind::Ltree => Datum::Text(text.to_owned()),
        Kind::Array(_) | Kind::Unknown => return Err("not a scalar type".to_owned()),
    })
}

/// `bytes`, a value of `kind` in its send form.
pub(crate) fn from_binary(kind: &Kind, bytes: &[u8], settings: &TypeSettings) -> Result<Datum, String> {
    let err = |e: Box<dyn std::error::Error + Sync + Send>| e.to_string();
    Ok(match kind {
        Kind::Bool => Datum::Bool(pg::bool_from_sql(bytes).map_err(err)?),
        Kind::Int2 => Datum::I16(i16::from_be_bytes(exact(bytes)?)),
        Kind::Int4 => Datum::I32(i32::from_be_bytes(exact(bytes)?)),
        Kind::Int8 => Datum::I64(i64::from_be_bytes(exact(bytes)?)),
        Kind::Oid => Datum::I64(i64::from(u32::from_be_bytes(exact(bytes)?))),
        Kind::Float4 => Datum::F32(f32::from_be_bytes(exact(bytes)?)),
        Kind::Float8 => Datum::F64(f64::from_be_bytes(exact(bytes)?)),
        Kind::Numeric { .. } => Datum::Numeric(Numeric::from_binary(bytes)?),
        Kind::Money => Datum::Money(Decimal::from_unscaled(
            i64::from_be_bytes(exact(bytes)?),
            settings.money_fraction_digits.into(),
        )),
        Kind::Bytea => Datum::Bytes(bytes.to_vec()),
        Kind::Date => Datum::Date(Date::from_pg_days(i32::from_be_bytes(exact(bytes)?))),
        Kind::Time { .. } => Datum::Time(i64::from_be_bytes(exact(bytes)?)),
        Kind::TimeTz => {
            let bytes: [u8; 12] = exact(bytes)?;
            let micros =
                i64::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]]);
            let west = i32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
            Datum::TimeTz(micros, -west)
        }
        Kind::Timestamp { .. } | Kind::TimestampTz { .. } => {
            Datum::Stamp(Stamp::from_pg_micros(i64::from_be_bytes(exact(bytes)?)))
        }
        Kind::Interval => Datum::Interval(Interval::from_binary(bytes)?),
        Kind::Bits { .. } => Datum::Bits(Bits::from_binary(bytes)?),
        Kind::Point => {
            let point = pg::point_from_sql(bytes).map_err(err)?;
            Datum::Point(point.x(), point.y())
        }
        Kind::Hstore => Datum::Hstore(hstore::parse_binary(bytes)?),
        Kind::Char => Datum::Text(char_text(exact::<1>(bytes)?[0])),
        Kind::Jsonb => match bytes.split_first() {
            Some((1, json)) => Datum::Text(utf8(json)?),
            _ => return Err("jsonb of an unknown version".to_owned()),
        },
        Kind::Ltree => Datum::Text(pg::ltree_from_sql(bytes).map_err(err)?.to_owned()),
        Kind::Uuid => Datum::Text(uuid_text(&exact(bytes)?)),
        Kind::Inet => Datum::Text(network::inet_text(bytes, false)?),
        Kind::Cidr => Datum::Text(network::inet_text(bytes, true)?),
        Kind::MacAddr => Datum::Text(network::mac_text(bytes, 6)?),
        Kind::MacAddr8 => Datum::Text(network::mac_text(bytes, 8)?),
        Kind::Range(subtype) => Datum::Text(range::text(bytes, *subtype)?),
        Kind::TsVector => Datum::Text(tsvector::text(bytes)?),
        Kind::Text | Kind::Json | Kind::Xml | Kind::Enum(_) => Datum::Text(utf8(bytes)?),
        Kind::Array(_) | Kind::Unknown => return Err("not a scalar type".to_owned()),
    })
}

fn utf8(bytes: &[u8]) -> Result<String, String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| "not UTF-8".to_owned())
}

fn integer<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.parse().map_err(|_| format!("{text:?} is not an integer of this size"))
}

/// `float8out` / `float4out`: shortest round-trip digits, `NaN`, `Infinity`, `-Infinity`, parsed straight to the
/// type's precision (as Java's `Float.valueOf` and `Double.valueOf` do).
fn float<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.parse().map_err(|_| format!("{text:?} is not a floating-point number"))
}

/// `cash_out` under a `C`-like `lc_monetary`: `$1,234.56`, `-$1,234.56` (or in parentheses).
fn money(text: &str) -> Result<Decimal, String> {
    let negative = text.starts_with('-') || text.starts_with('(');
    let number: String = text.chars().filter(|c| c.is_ascii_digit() || *c == '.').collect();
    let decimal = Decimal::parse(&number).map_err(|_| format!("{text:?} is not a money amount"))?;
    Ok(if negative { Decimal { negative: decimal.digits != "0", ..decimal } } else { decimal })
}

/// `point_out`: `(x,y)`.
fn point(text: &str) -> Option<(f64, f64)> {
    let (x, y) = text.strip_prefix('(')?.strip_suffix(')')?.split_once(',')?;
    Some((float(x.trim()).ok()?, float(y.trim()).ok()?))
}

/// `charout` of PostgreSQL 15: the byte itself, nothing for NUL, `\ooo` for bytes with the high bit set.
fn char_text(byte: u8) -> String {
    match byte {
        0 => String::new(),
        b if b >= 0x80 => format!("\\{:03o}", b),
        b => char::from(b).to_string(),
    }
}

/// `uuid_out`: lower-case hex in groups of 8-4-4-4-12.
fn uuid_text(bytes: &[u8; 16]) -> String {
    let hex = tidemark_debezium::hex(bytes);
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_from_text() {
        assert_eq!(from_text(&Kind::Bool, "t"), Ok(Datum::Bool(true)));
        assert_eq!(from_text(&Kind::Oid, "4294967295"), Ok(Datum::I64(4_294_967_295)));
        assert_eq!(from_text(&Kind::Float4, "0.1"), Ok(Datum::F32(0.1)));
        assert!(matches!(from_text(&Kind::Float8, "NaN"), Ok(Datum::F64(v)) if v.is_nan()));
        assert_eq!(from_text(&Kind::Money, "-$1,234.56"), Ok(Datum::Money(Decimal::parse("-1234.56").expect("d"))));
        assert_eq!(from_text(&Kind::Point, "(1.5,-2)"), Ok(Datum::Point(1.5, -2.0)));
        assert!(from_text(&Kind::Int2, "40000").is_err());
    }

    #[test]
    fn scalars_from_binary() {
        let settings = TypeSettings::default();
        let uuid = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0, 1, 2, 3, 4, 5, 6, 7];
        assert_eq!(
            from_binary(&Kind::Uuid, &uuid, &settings),
            Ok(Datum::Text("12345678-9abc-def0-0001-020304050607".to_owned()))
        );
        assert_eq!(from_binary(&Kind::Char, &[0xe9], &settings), Ok(Datum::Text("\\351".to_owned())));
        assert_eq!(from_binary(&Kind::Jsonb, b"\x01{}", &settings), Ok(Datum::Text("{}".to_owned())));
        let timetz = [0, 0, 0, 0x08, 0x61, 0xc4, 0x68, 0x00, 0xff, 0xff, 0xe3, 0xe0];
        assert_eq!(from_binary(&Kind::TimeTz, &timetz, &settings), Ok(Datum::TimeTz(36_000_000_000, 7200)));
        assert_eq!(
            from_binary(&Kind::Money, &(-123_456i64).to_be_bytes(), &settings),
            Ok(Datum::Money(Decimal::parse("-1234.56").expect("d")))
        );
        assert!(from_binary(&Kind::Int4, &[0, 0, 1], &settings).is_err());
    }
}
