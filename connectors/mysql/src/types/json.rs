//! MySQL's JSON type as one text in both paths: the binlog's binary JSON written out, and the server's JSON text
//! (`{"a": 1, "b": [2.5]}`) rewritten, both in the compact form of Debezium's binlog reader (its
//! `JsonStringFormatter`: no spaces, keys in stored order, `"` `\` and control characters escaped, other characters
//! as they are).
//!
//! Numbers: integers as they are; every number with a fraction or an exponent as the double it denotes, written as
//! Java's `Double.toString` does between 10^-3 and 10^7 and as the exact decimal expansion of the double
//! (`BigDecimal.toPlainString`) outside, as Debezium writes doubles. A DECIMAL inside a JSON value is written as a
//! double too (Debezium writes it exactly), so that the text, where decimals and doubles look alike, agrees.
//! Dates and times inside a JSON value are strings as MySQL prints them (`2015-01-15 23:24:25.000000`); other
//! opaque values `base64:type<n>:<base64>`, as MySQL prints them.

use std::fmt::Write;

use mysql_async::binlog::jsonb::{self, JsonDom, JsonNumber, JsonScalar};

/// The text of a binary JSON value.
pub(super) fn from_jsonb(value: &jsonb::Value<'_>) -> Result<String, String> {
    let mut out = String::new();
    write_jsonb(&mut out, value)?;
    Ok(out)
}

fn write_jsonb<'a>(out: &mut String, value: &'a jsonb::Value<'a>) -> Result<(), String> {
    match value {
        jsonb::Value::Null => out.push_str("null"),
        jsonb::Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        jsonb::Value::I16(n) => push_display(out, n),
        jsonb::Value::U16(n) => push_display(out, n),
        jsonb::Value::I32(n) => push_display(out, n),
        jsonb::Value::U32(n) => push_display(out, n),
        jsonb::Value::I64(n) => push_display(out, n),
        jsonb::Value::U64(n) => push_display(out, n),
        jsonb::Value::F64(d) => push_double(out, *d),
        jsonb::Value::String(s) => push_string(out, &String::from_utf8_lossy(s.str_raw())),
        jsonb::Value::SmallArray(array) => write_array(out, (0..).map_while(|i| array.elem_at(i).transpose()))?,
        jsonb::Value::LargeArray(array) => write_array(out, (0..).map_while(|i| array.elem_at(i).transpose()))?,
        jsonb::Value::SmallObject(object) => write_object(out, object.iter())?,
        jsonb::Value::LargeObject(object) => write_object(out, object.iter())?,
        jsonb::Value::Opaque(_) => write_opaque(out, value.clone())?,
    }
    Ok(())
}

fn write_array<'a>(
    out: &mut String,
    items: impl Iterator<Item = std::io::Result<jsonb::Value<'a>>>,
) -> Result<(), String> {
    out.push('[');
    for (index, item) in items.enumerate() {
        if index > 0 {
            out.push(',');
        }
        write_jsonb(out, &item.map_err(|e| e.to_string())?)?;
    }
    out.push(']');
    Ok(())
}

fn write_object<'a>(
    out: &mut String,
    entries: impl Iterator<Item = std::io::Result<(jsonb::ObjectKey<'a>, jsonb::Value<'a>)>>,
) -> Result<(), String> {
    out.push('{');
    for (index, entry) in entries.enumerate() {
        let (key, value) = entry.map_err(|e| e.to_string())?;
        if index > 0 {
            out.push(',');
        }
        push_string(out, &String::from_utf8_lossy(key.value_raw()));
        out.push(':');
        write_jsonb(out, &value)?;
    }
    out.push('}');
    Ok(())
}

/// A DECIMAL, date, time or other opaque value inside a JSON value.
fn write_opaque(out: &mut String, value: jsonb::Value<'_>) -> Result<(), String> {
    match value.parse().map_err(|e| e.to_string())? {
        JsonDom::Scalar(JsonScalar::Number(JsonNumber::Decimal(decimal))) => {
            write_number(out, &decimal.to_string())?;
        }
        JsonDom::Scalar(JsonScalar::DateTime(time)) => push_string(out, &format!("{time:.6}")),
        JsonDom::Scalar(JsonScalar::Opaque(opaque)) => push_string(out, &opaque.to_string()),
        other => return Err(format!("unexpected opaque JSON value {other:?}")),
    }
    Ok(())
}

/// The server's JSON text in the same form as [`from_jsonb`] writes.
pub(super) fn normalize(text: &str) -> Result<String, String> {
    let mut parser = Parser { text: text.as_bytes(), pos: 0, out: String::with_capacity(text.len()) };
    parser.value(0)?;
    parser.skip_space();
    if parser.pos != parser.text.len() {
        return Err(format!("trailing characters in JSON text at {}", parser.pos));
    }
    Ok(parser.out)
}

/// How deeply JSON values may nest (MySQL allows 100).
const MAX_DEPTH: usize = 512;

/// A JSON text reader that writes the compact form as it goes.
struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
    out: String,
}

impl Parser<'_> {
    fn value(&mut self, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err("JSON text nests too deeply".to_owned());
        }
        self.skip_space();
        match self.peek() {
            Some(b'{') => self.container(depth, b'}', true),
            Some(b'[') => self.container(depth, b']', false),
            Some(b'"') => {
                let string = self.string()?;
                push_string(&mut self.out, &string);
                Ok(())
            }
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(_) => {
                let start = self.pos;
                while matches!(self.peek(), Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')) {
                    self.pos += 1;
                }
                let token = std::str::from_utf8(&self.text[start..self.pos]).map_err(|e| e.to_string())?;
                write_number(&mut self.out, token)
            }
            None => Err("JSON text ends early".to_owned()),
        }
    }

    fn container(&mut self, depth: usize, close: u8, object: bool) -> Result<(), String> {
        self.out.push(char::from(self.text[self.pos]));
        self.pos += 1;
        self.skip_space();
        if self.peek() == Some(close) {
            self.pos += 1;
            self.out.push(char::from(close));
            return Ok(());
        }
        loop {
            if object {
                self.skip_space();
                let key = self.string()?;
                push_string(&mut self.out, &key);
                self.skip_space();
                self.expect(b':')?;
                self.out.push(':');
            }
            self.value(depth + 1)?;
            self.skip_space();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.out.push(',');
                }
                Some(c) if c == close => {
                    self.pos += 1;
                    self.out.push(char::from(close));
                    return Ok(());
                }
                _ => return Err(format!("expected , or {} in JSON text at {}", char::from(close), self.pos)),
            }
        }
    }

    /// A string literal, unescaped.
    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut units: Vec<u16> = Vec::new();
        let mut out = String::new();
        loop {
            let start = self.pos;
            while !matches!(self.peek(), Some(b'"' | b'\\') | None) {
                self.pos += 1;
            }
            let run = std::str::from_utf8(&self.text[start..self.pos]).map_err(|e| e.to_string())?;
            if !run.is_empty() {
                flush_units(&mut out, &mut units);
                out.push_str(run);
            }
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    flush_units(&mut out, &mut units);
                    return Ok(out);
                }
                Some(b'\\') => {
                    let escape = self.text.get(self.pos + 1).copied();
                    self.pos += 2;
                    let simple = match escape {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let hex = self.text.get(self.pos..self.pos + 4).ok_or("short \\u escape")?;
                            let hex = std::str::from_utf8(hex).map_err(|e| e.to_string())?;
                            units.push(u16::from_str_radix(hex, 16).map_err(|e| e.to_string())?);
                            self.pos += 4;
                            continue;
                        }
                        _ => return Err(format!("bad escape in JSON text at {}", self.pos - 2)),
                    };
                    flush_units(&mut out, &mut units);
                    out.push(simple);
                }
                _ => return Err("unterminated string in JSON text".to_owned()),
            }
        }
    }

    fn literal(&mut self, word: &str) -> Result<(), String> {
        if self.text[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            self.out.push_str(word);
            Ok(())
        } else {
            Err(format!("unexpected characters in JSON text at {}", self.pos))
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected {} in JSON text at {}", char::from(byte), self.pos))
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }
}

/// Appends `\u` escaped UTF-16 units (surrogate pairs joined).
fn flush_units(out: &mut String, units: &mut Vec<u16>) {
    out.extend(char::decode_utf16(units.drain(..)).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)));
}

/// A number token: an integer as it is, anything else as a double.
fn write_number(out: &mut String, token: &str) -> Result<(), String> {
    let integer = token.strip_prefix('-').unwrap_or(token);
    if !integer.is_empty() && integer.bytes().all(|b| b.is_ascii_digit()) {
        out.push_str(token);
        return Ok(());
    }
    let double: f64 = token.parse().map_err(|_| format!("{token:?} is not a JSON number"))?;
    push_double(out, double);
    Ok(())
}

fn push_display(out: &mut String, value: impl std::fmt::Display) {
    let _ = write!(out, "{value}");
}

/// A JSON string as Debezium's `JsonStringFormatter` escapes it.
fn push_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A double as Debezium writes it: Java's `Double.toString` unless that uses an exponent, else the exact decimal
/// expansion.
fn push_double(out: &mut String, value: f64) {
    let magnitude = value.abs();
    if value == 0.0 || (1e-3..1e7).contains(&magnitude) {
        let start = out.len();
        let _ = write!(out, "{value}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
    } else {
        out.push_str(&exact_decimal(value));
    }
}

/// Java's `new BigDecimal(value).toPlainString()`: the double's exact value in plain decimal notation.
fn exact_decimal(value: f64) -> String {
    const LIMB: u64 = 1_000_000_000;
    let bits = value.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (mantissa, exponent) = if biased == 0 { (fraction, -1074) } else { (fraction | (1 << 52), biased - 1075) };
    // The value is mantissa × 2^exponent: for a negative exponent, mantissa × 5^-exponent scaled by 10^exponent.
    let mut limbs = vec![mantissa % LIMB, mantissa / LIMB % LIMB, mantissa / LIMB / LIMB];
    let (factor, times) = if exponent >= 0 { (2, exponent) } else { (5, -exponent) };
    for _ in 0..times {
        let mut carry = 0;
        for limb in limbs.iter_mut() {
            let product = *limb * factor + carry;
            *limb = product % LIMB;
            carry = product / LIMB;
        }
        if carry > 0 {
            limbs.push(carry);
        }
    }
    while limbs.len() > 1 && limbs.last() == Some(&0) {
        limbs.pop();
    }
    let mut digits = String::new();
    for (index, limb) in limbs.iter().rev().enumerate() {
        let _ = if index == 0 { write!(digits, "{limb}") } else { write!(digits, "{limb:09}") };
    }
    let scale = if exponent >= 0 { 0 } else { exponent.unsigned_abs() as usize };
    let mut plain = if value.is_sign_negative() { String::from("-") } else { String::new() };
    if scale == 0 {
        plain.push_str(&digits);
        return plain;
    }
    if digits.len() <= scale {
        digits = format!("{}{digits}", "0".repeat(scale - digits.len() + 1));
    }
    let (whole, fraction) = digits.split_at(digits.len() - scale);
    let fraction = fraction.trim_end_matches('0');
    plain.push_str(whole);
    if !fraction.is_empty() {
        plain.push('.');
        plain.push_str(fraction);
    }
    plain
}

#[cfg(test)]
mod tests {
    use mysql_async::binlog::jsonb::{JsonbString, OpaqueValue};
    use mysql_async::consts::ColumnType;

    use super::*;

    #[test]
    fn rewrites_the_servers_text_compactly() {
        assert_eq!(
            normalize(r#"{"b": [1, 2.5, "x"], "a": null, "c": {"t": true, "f": false}}"#),
            Ok(r#"{"b":[1,2.5,"x"],"a":null,"c":{"t":true,"f":false}}"#.to_owned())
        );
        assert_eq!(normalize(" [ ] "), Ok("[]".to_owned()));
        assert_eq!(normalize("{}"), Ok("{}".to_owned()));
        assert_eq!(
            normalize(r#""tab\there \u00e9\ud83d\ude00 \/ \u0001""#),
            Ok("\"tab\\there é😀 / \\u0001\"".to_owned())
        );
        assert_eq!(normalize("[1.0, 1e7, -0.0, 1.5e-5, 18446744073709551615]"), Ok(
            "[1.0,10000000,-0.0,0.000015000000000000000380012861456169304119612206704914569854736328125,18446744073709551615]"
                .to_owned()
        ));
        assert!(normalize("[1,]").is_err() && normalize("{\"a\" 1}").is_err() && normalize("[1] x").is_err());
        assert!(normalize("\"open").is_err() && normalize("").is_err());
    }

    #[test]
    fn writes_doubles_as_java_and_debezium_do() {
        let double = |d: f64| {
            let mut out = String::new();
            push_double(&mut out, d);
            out
        };
        assert_eq!(double(0.1), "0.1");
        assert_eq!(double(1.0), "1.0");
        assert_eq!(double(9_999_999.5), "9999999.5");
        assert_eq!(double(0.001), "0.001");
        assert_eq!(double(1e300).len(), 301);
        assert!(double(1e300).starts_with("10000000000000000525047602552044202487044685811081591549158541155118024"));
        assert_eq!(double(-2.5e-4), "-0.00025000000000000000520417042793042128323577344417572021484375");
        assert_eq!(exact_decimal(f64::MIN_POSITIVE * f64::EPSILON).len(), 1076);
    }

    #[test]
    fn writes_binary_json_scalars() {
        let text = |value: jsonb::Value<'_>| from_jsonb(&value);
        assert_eq!(text(jsonb::Value::I64(-5)), Ok("-5".to_owned()));
        assert_eq!(text(jsonb::Value::U64(u64::MAX)), Ok("18446744073709551615".to_owned()));
        assert_eq!(text(jsonb::Value::F64(2.5)), Ok("2.5".to_owned()));
        assert_eq!(text(jsonb::Value::Bool(false)), Ok("false".to_owned()));
        assert_eq!(text(jsonb::Value::Null), Ok("null".to_owned()));
        let string = JsonbString::new("quote \" and \u{1f}".as_bytes().to_vec());
        assert_eq!(text(jsonb::Value::String(string)), Ok("\"quote \\\" and \\u001F\"".to_owned()));
        let blob = OpaqueValue::new(ColumnType::MYSQL_TYPE_BLOB, vec![1, 2, 3]);
        assert_eq!(text(jsonb::Value::Opaque(blob)), Ok("\"base64:type252:AQID\"".to_owned()));
    }
}
