//! A strict JSON parser (RFC 8259) into a tree that borrows from the input and keeps numbers as written, so a
//! DECIMAL in `decimal.format=NUMERIC` loses no digit and `12` stays apart from `12.0` (Jackson's integral and
//! floating nodes). Strings without escapes are borrowed. Input from outside never panics it: nesting is limited to
//! [`MAX_DEPTH`] and numbers to [`MAX_NUMBER_LEN`] characters (Jackson's default limit), and anything after the
//! value is refused.

use std::borrow::Cow;

use crate::converters::ConvertError;

/// The deepest nesting of arrays and objects accepted.
pub(crate) const MAX_DEPTH: usize = 256;
/// The longest number accepted, in characters (Jackson's `StreamReadConstraints` default).
pub(crate) const MAX_NUMBER_LEN: usize = 1000;

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number as written.
    Number(&'a str),
    /// A string, unescaped.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Json<'a>>),
    /// An object's members in order, duplicates kept (lookups take the last, as Jackson's tree does).
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// An object's member by name, the last one when the name repeats.
    pub(crate) fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// What the value is, for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Json::Null => "JSON null",
            Json::Bool(_) => "JSON boolean",
            Json::Number(n) if is_integral(n) => "JSON integer",
            Json::Number(_) => "JSON fractional number",
            Json::String(_) => "JSON string",
            Json::Array(_) => "JSON array",
            Json::Object(_) => "JSON object",
        }
    }
}

/// Whether a number as written is integral (no fraction, no exponent), as Jackson tells `12` from `12.0`.
pub(crate) fn is_integral(number: &str) -> bool {
    !number.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
}

/// The value in `input`, or `None` when it holds only whitespace (Jackson's missing node).
pub(crate) fn parse(input: &[u8]) -> Result<Option<Json<'_>>, ConvertError> {
    let text = std::str::from_utf8(input)
        .map_err(|e| ConvertError::Json { offset: e.valid_up_to(), reason: "invalid UTF-8" })?;
    let mut parser = Parser { text, bytes: input, pos: 0, depth: 0 };
    parser.skip_whitespace();
    if parser.pos == input.len() {
        return Ok(None);
    }
    let value = parser.value()?;
    parser.skip_whitespace();
    if parser.pos != input.len() {
        return Err(parser.error("unexpected data after the value"));
    }
    Ok(Some(value))
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, reason: &'static str) -> ConvertError {
        ConvertError::Json { offset: self.pos, reason }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8, reason: &'static str) -> Result<(), ConvertError> {
        self.skip_whitespace();
        match self.peek() {
            Some(b) if b == byte => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.error(reason)),
        }
    }

    fn value(&mut self) -> Result<Json<'a>, ConvertError> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') => self.nested(Self::object),
            Some(b'[') => self.nested(Self::array),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(_) => Err(self.error("expected a value")),
            None => Err(self.error("unexpected end of input")),
        }
    }

    fn nested(&mut self, f: fn(&mut Self) -> Result<Json<'a>, ConvertError>) -> Result<Json<'a>, ConvertError> {
        if self.depth == MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.depth += 1;
        self.pos += 1;
        let value = f(self);
        self.depth -= 1;
        value
    }

    fn object(&mut self) -> Result<Json<'a>, ConvertError> {
        let mut members = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a member name"));
            }
            let key = self.string()?;
            self.expect(b':', "expected ':'")?;
            members.push((key, self.value()?));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self) -> Result<Json<'a>, ConvertError> {
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }

    fn literal(&mut self, word: &'static str, value: Json<'a>) -> Result<Json<'a>, ConvertError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn number(&mut self) -> Result<Json<'a>, ConvertError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("expected a digit")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.required_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.required_digits()?;
        }
        if self.pos - start > MAX_NUMBER_LEN {
            return Err(self.error("number longer than 1000 characters"));
        }
        Ok(Json::Number(&self.text[start..self.pos]))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn required_digits(&mut self) -> Result<(), ConvertError> {
        let start = self.pos;
        self.digits();
        if self.pos == start {
            return Err(self.error("expected a digit"));
        }
        Ok(())
    }

    /// A string from its opening quote: borrowed when it has no escapes.
    fn string(&mut self) -> Result<Cow<'a, str>, ConvertError> {
        self.pos += 1;
        let start = self.pos;
        self.plain_run();
        if self.peek() == Some(b'"') {
            self.pos += 1;
            return Ok(Cow::Borrowed(&self.text[start..self.pos - 1]));
        }
        let mut out = String::from(&self.text[start..self.pos]);
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => {
                    let run = self.pos;
                    self.plain_run();
                    if self.pos == run {
                        return Err(self.error("control character in a string"));
                    }
                    out.push_str(&self.text[run..self.pos]);
                }
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    /// Advances over characters that need no unescaping.
    fn plain_run(&mut self) {
        while matches!(self.peek(), Some(b) if b != b'"' && b != b'\\' && b >= 0x20) {
            self.pos += 1;
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), ConvertError> {
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                let unit = self.hex4()?;
                let c = match unit {
                    0xd800..=0xdbff if self.bytes[self.pos..].starts_with(b"\\u") => {
                        self.pos += 2;
                        let low = self.hex4()?;
                        (0xdc00..=0xdfff)
                            .contains(&low)
                            .then(|| 0x10000 + ((u32::from(unit) - 0xd800) << 10) + (u32::from(low) - 0xdc00))
                            .and_then(char::from_u32)
                    }
                    _ => char::from_u32(u32::from(unit)),
                };
                out.push(c.ok_or_else(|| self.error("unpaired surrogate in a \\u escape"))?);
                return Ok(());
            }
            _ => return Err(self.error("invalid escape")),
        };
        self.pos += 1;
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u16, ConvertError> {
        let hex = self.bytes.get(self.pos..self.pos + 4).ok_or_else(|| self.error("truncated \\u escape"))?;
        let unit = std::str::from_utf8(hex)
            .ok()
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u16::from_str_radix(h, 16).ok())
            .ok_or_else(|| self.error("invalid \\u escape"))?;
        self.pos += 4;
        Ok(unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Json<'_> {
        match parse(text.as_bytes()) {
            Ok(Some(json)) => json,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn err(text: &str) -> (usize, &'static str) {
        match parse(text.as_bytes()) {
            Err(ConvertError::Json { offset, reason }) => (offset, reason),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn values() {
        assert_eq!(ok(" null "), Json::Null);
        assert_eq!(ok("true"), Json::Bool(true));
        assert_eq!(ok("-12.5e+3"), Json::Number("-12.5e+3"));
        assert_eq!(ok(r#""a\"b\\c\/\n\u00e9\ud83d\ude00""#), Json::String("a\"b\\c/\né😀".into()));
        assert!(matches!(ok(r#""plain""#), Json::String(Cow::Borrowed("plain"))));
        let object = ok(r#"{"a": [1, {}], "b": "x", "a": 2}"#);
        assert_eq!(object.get("a"), Some(&Json::Number("2")));
        assert_eq!(object.get("c"), None);
        assert_eq!(ok("[]"), Json::Array(vec![]));
        assert_eq!(parse(b" \n ").ok(), Some(None));
    }

    #[test]
    fn kinds() {
        assert_eq!(ok("12").kind(), "JSON integer");
        assert_eq!(ok("12.0").kind(), "JSON fractional number");
        assert_eq!(ok("1e2").kind(), "JSON fractional number");
        assert_eq!(ok("{}").kind(), "JSON object");
    }

    #[test]
    fn refuses_what_is_not_json() {
        assert_eq!(err("{} x"), (3, "unexpected data after the value"));
        assert_eq!(err("01"), (1, "unexpected data after the value"));
        assert_eq!(err("1."), (2, "expected a digit"));
        assert_eq!(err("-"), (1, "expected a digit"));
        assert_eq!(err("[1,]"), (3, "expected a value"));
        assert_eq!(err("{\"a\" 1}"), (5, "expected ':'"));
        assert_eq!(err("{1:2}"), (1, "expected a member name"));
        assert_eq!(err("\"a\u{1}\""), (2, "control character in a string"));
        assert_eq!(err("\"a\\x\""), (3, "invalid escape"));
        assert_eq!(err("\"\\ud800\""), (7, "unpaired surrogate in a \\u escape"));
        assert_eq!(err("\"\\ud800\\u0041\""), (13, "unpaired surrogate in a \\u escape"));
        assert_eq!(err("\"\\u12zz\""), (3, "invalid \\u escape"));
        assert_eq!(err("\"\\u12\""), (3, "truncated \\u escape"));
        assert_eq!(err("\"abc"), (4, "unterminated string"));
        assert_eq!(err("tru"), (0, "expected a value"));
        assert_eq!(err("NaN"), (0, "expected a value"));
        assert_eq!(parse(&[b'"', 0xff, b'"']).err(), Some(ConvertError::Json { offset: 1, reason: "invalid UTF-8" }));
        assert_eq!(err(&"1".repeat(1001)), (1001, "number longer than 1000 characters"));
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse(deep(MAX_DEPTH).as_bytes()).is_ok());
        assert_eq!(err(&deep(MAX_DEPTH + 1)), (MAX_DEPTH, "nested too deeply"));
        assert_eq!(err(&"[".repeat(100_000)), (MAX_DEPTH, "nested too deeply"));
    }
}
