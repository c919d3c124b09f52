//! Header values as bytes, as Kafka Connect's default `SimpleHeaderConverter` writes them: a string as its UTF-8
//! text, bytes as they are, numbers and booleans as their text, and arrays, maps and structs as JSON.
//! Read back, a header is a string when its bytes are UTF-8 and bytes otherwise.

use bytes::Bytes;
use serde_json::Value as Json;

use super::java_text;
use crate::data::Value;

/// The bytes of a header value (`None` for null).
pub fn header_bytes(value: &Value) -> Result<Option<Bytes>, String> {
    let text = match value {
        Value::Null => return Ok(None),
        Value::String(s) => s.clone(),
        Value::Bytes(b) => return Ok(Some(b.clone())),
        Value::Int8(v) => v.to_string(),
        Value::Int16(v) => v.to_string(),
        Value::Int32(v) => v.to_string(),
        Value::Int64(v) => v.to_string(),
        Value::Float32(v) => java_text::float(*v),
        Value::Float64(v) => java_text::double(*v),
        Value::Boolean(v) => v.to_string(),
        nested => to_json(nested)?.to_string(),
    };
    Ok(Some(Bytes::from(text)))
}

/// The value of header bytes: a string when they are UTF-8, else bytes.
pub fn header_value(bytes: Option<&[u8]>) -> Value {
    match bytes {
        None => Value::Null,
        Some(b) => match std::str::from_utf8(b) {
            Ok(text) => Value::String(text.to_owned()),
            Err(_) => Value::Bytes(Bytes::copy_from_slice(b)),
        },
    }
}

fn to_json(value: &Value) -> Result<Json, String> {
    Ok(match value {
        Value::Null => Json::Null,
        Value::Int8(v) => Json::from(*v),
        Value::Int16(v) => Json::from(*v),
        Value::Int32(v) => Json::from(*v),
        Value::Int64(v) => Json::from(*v),
        Value::Float32(v) => Json::from(f64::from(*v)),
        Value::Float64(v) => Json::from(*v),
        Value::Boolean(v) => Json::from(*v),
        Value::String(s) => Json::from(s.as_str()),
        Value::Bytes(b) => Json::from(base64_text(b)),
        Value::Array(items) => Json::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Value::Map(entries) => {
            let mut object = serde_json::Map::new();
            for (k, v) in entries {
                let key = match k {
                    Value::String(s) => s.clone(),
                    other => to_json(other)?.to_string(),
                };
                object.insert(key, to_json(v)?);
            }
            Json::Object(object)
        }
        Value::Struct(s) => {
            let mut object = serde_json::Map::new();
            for (field, v) in s.schema().fields().iter().zip(s.values()) {
                object.insert(field.name().to_owned(), to_json(v)?);
            }
            Json::Object(object)
        }
    })
}

fn base64_text(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_numbers_are_text() {
        assert_eq!(header_bytes(&Value::from("c")).ok().flatten(), Some(Bytes::from("c")));
        assert_eq!(header_bytes(&Value::Int32(7)).ok().flatten(), Some(Bytes::from("7")));
        assert_eq!(header_bytes(&Value::Null).ok().flatten(), None);
        assert_eq!(header_value(Some(b"c")), Value::from("c"));
        assert_eq!(header_value(Some(&[0xff])), Value::Bytes(Bytes::from_static(&[0xff])));
    }
}
