//! [`JsonValue`]: an owned JSON value that keeps object members in order and numbers as written, for the parts of
//! an Avro schema that are JSON (properties such as `connect.parameters`, `connect.default`, field defaults).
//!
//! Order matters: Connect keeps a schema's parameters in order, and they travel in `connect.parameters`, so a
//! round trip through the registry must give them back in the order they were written. Rendering follows Jackson
//! (strings escaped as [`crate::converters::json::write::string`] does, floats as Java prints them).

use std::borrow::Cow;

use crate::converters::json::parse::{is_integral, Json};
use crate::converters::json::write;

/// A JSON value, owned.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JsonValue {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number as written.
    Number(String),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<JsonValue>),
    /// An object's members in order.
    Object(Vec<(String, JsonValue)>),
}

impl JsonValue {
    /// A string value.
    pub(crate) fn string(text: impl Into<String>) -> Self {
        JsonValue::String(text.into())
    }

    /// An integer value.
    pub(crate) fn integer(v: impl std::fmt::Display) -> Self {
        JsonValue::Number(v.to_string())
    }

    /// An object member by name (the last one when the name repeats, as Jackson's tree keeps it).
    pub(crate) fn get(&self, key: &str) -> Option<&JsonValue> {
        match self {
            JsonValue::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text of a string value.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            JsonValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// An integral number that fits an `i64` (Jackson's `canConvertToLong` on an integral node).
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match self {
            JsonValue::Number(n) if is_integral(n) => n.parse().ok(),
            _ => None,
        }
    }

    /// Any number as an `f64` (Jackson's `doubleValue`); also the strings Jackson writes for non-finite numbers.
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            JsonValue::Number(n) => n.parse().ok(),
            JsonValue::String(s) => match s.as_str() {
                "NaN" => Some(f64::NAN),
                "Infinity" => Some(f64::INFINITY),
                "-Infinity" => Some(f64::NEG_INFINITY),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether this is a number.
    pub(crate) fn is_number(&self) -> bool {
        matches!(self, JsonValue::Number(_))
    }

    /// Writes the value as compact JSON.
    pub(crate) fn write(&self, out: &mut String) {
        match self {
            JsonValue::Null => out.push_str("null"),
            JsonValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            JsonValue::Number(n) => out.push_str(n),
            JsonValue::String(s) => write::string(out, s),
            JsonValue::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            JsonValue::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write::string(out, key);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }

    /// The value as compact JSON text.
    pub(crate) fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
}

impl From<&Json<'_>> for JsonValue {
    fn from(json: &Json<'_>) -> Self {
        match json {
            Json::Null => JsonValue::Null,
            Json::Bool(b) => JsonValue::Bool(*b),
            Json::Number(n) => JsonValue::Number((*n).to_owned()),
            Json::String(s) => JsonValue::String(Cow::clone(s).into_owned()),
            Json::Array(items) => JsonValue::Array(items.iter().map(JsonValue::from).collect()),
            Json::Object(members) => JsonValue::Object(
                members.iter().map(|(k, v)| (Cow::clone(k).into_owned(), JsonValue::from(v))).collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::converters::json::parse::parse;

    fn parsed(text: &str) -> JsonValue {
        parse(text.as_bytes()).ok().flatten().map(|j| JsonValue::from(&j)).unwrap_or(JsonValue::Null)
    }

    #[test]
    fn keeps_order_and_numbers_as_written() {
        let text = r#"{"z":1,"a":[1.50,true,null],"m":{"y":"é\n","b":-0}}"#;
        assert_eq!(parsed(text).to_text(), text);
        assert_eq!(parsed(r#"{"a":1,"a":2}"#).get("a"), Some(&JsonValue::integer(2)));
    }

    #[test]
    fn numbers() {
        assert_eq!(parsed("12").as_i64(), Some(12));
        assert_eq!(parsed("12.0").as_i64(), None);
        assert_eq!(parsed("1e2").as_f64(), Some(100.0));
        assert_eq!(JsonValue::string("NaN").as_f64().map(f64::is_nan), Some(true));
        assert!(parsed("3").is_number() && !parsed("\"3\"").is_number());
        assert_eq!(parsed("\"x\"").as_str(), Some("x"));
    }
}
