//! [`StringConverter`]: Kafka's `org.apache.kafka.connect.storage.StringConverter`. Writes a value's text in
//! `converter.encoding` (what Java's `toString()` gives: `12`, `1.5`, `[1, 2]`, `{a=1}`, `Struct{id=1,name=x}`, a
//! DECIMAL as `BigDecimal.toString()`), reads any bytes as an optional STRING, replacing what does not decode as
//! Java does (`U+FFFD` when reading, `?` when writing).

use bytes::Bytes;

use super::{java_text, ConvertError, Converter, Encoding, StringConverterConfig};
use crate::data::decimal;
use crate::data::logical::Logical;
use crate::data::{Schema, SchemaRef, Value};

/// Kafka's string converter.
#[derive(Debug)]
pub struct StringConverter {
    config: StringConverterConfig,
    schema: SchemaRef,
}

impl StringConverter {
    /// A converter with these settings.
    pub fn new(config: StringConverterConfig) -> Self {
        StringConverter { config, schema: Schema::optional_string() }
    }

    /// The settings.
    pub fn config(&self) -> &StringConverterConfig {
        &self.config
    }
}

impl Converter for StringConverter {
    fn to_bytes(&self, _topic: &str, schema: Option<&SchemaRef>, value: &Value) -> Result<Option<Bytes>, ConvertError> {
        let text = match value {
            Value::Null => return Ok(None),
            Value::String(s) => s.clone(),
            other => {
                let mut text = String::new();
                java_to_string(&mut text, schema.map(|s| &**s), other)?;
                text
            }
        };
        Ok(Some(encode(self.config.encoding, text)))
    }

    fn to_connect(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<(Option<SchemaRef>, Value), ConvertError> {
        let value = bytes.map_or(Value::Null, |bytes| Value::String(decode(self.config.encoding, bytes)));
        Ok((Some(self.schema.clone()), value))
    }
}

/// Java's `toString()` of the value Kafka would hold.
fn java_to_string(out: &mut String, schema: Option<&Schema>, value: &Value) -> Result<(), ConvertError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Int8(v) => out.push_str(&v.to_string()),
        Value::Int16(v) => out.push_str(&v.to_string()),
        Value::Int32(v) => out.push_str(&v.to_string()),
        Value::Int64(v) => out.push_str(&v.to_string()),
        Value::Float32(v) => out.push_str(&java_text::float(*v)),
        Value::Float64(v) => out.push_str(&java_text::double(*v)),
        Value::Boolean(v) => out.push_str(if *v { "true" } else { "false" }),
        Value::String(s) => out.push_str(s),
        Value::Bytes(bytes) => match schema.map(Logical::of) {
            Some(Ok(Some(Logical::Decimal { scale }))) => {
                let text = decimal::to_text(bytes, scale).map_err(|e| ConvertError::Unsupported {
                    converter: "StringConverter",
                    what: format!("a Decimal value: {e}"),
                })?;
                out.push_str(&text);
            }
            _ => {
                return Err(ConvertError::Unsupported {
                    converter: "StringConverter",
                    what: "BYTES (Java would write an array's identity; use the ByteArrayConverter)".to_owned(),
                })
            }
        },
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                java_to_string(out, schema.and_then(|s| s.value_schema()).map(|s| &**s), item)?;
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                java_to_string(out, schema.and_then(|s| s.key_schema()).map(|s| &**s), k)?;
                out.push('=');
                java_to_string(out, schema.and_then(|s| s.value_schema()).map(|s| &**s), v)?;
            }
            out.push('}');
        }
        Value::Struct(s) => {
            out.push_str("Struct{");
            let set = s.schema().fields().iter().zip(s.values()).filter(|(_, v)| !v.is_null());
            for (i, (field, v)) in set.enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(field.name());
                out.push('=');
                java_to_string(out, Some(field.schema()), v)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn encode(encoding: Encoding, text: String) -> Bytes {
    match encoding {
        Encoding::Utf8 => Bytes::from(text.into_bytes()),
        Encoding::Ascii => text.chars().map(|c| if c.is_ascii() { c as u8 } else { b'?' }).collect(),
        Encoding::Latin1 => text.chars().map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')).collect(),
    }
}

fn decode(encoding: Encoding, bytes: &[u8]) -> String {
    match encoding {
        Encoding::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
        Encoding::Ascii => {
            bytes.iter().map(|&b| if b.is_ascii() { char::from(b) } else { char::REPLACEMENT_CHARACTER }).collect()
        }
        Encoding::Latin1 => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::converters::ConverterType;
    use crate::data::{logical, SchemaBuilder, Struct};

    fn converter(encoding: Encoding) -> StringConverter {
        StringConverter::new(StringConverterConfig { converter_type: ConverterType::Key, encoding })
    }

    fn text(schema: Option<&SchemaRef>, value: &Value) -> Result<Option<Bytes>, ConvertError> {
        converter(Encoding::Utf8).to_bytes("t", schema, value)
    }

    #[test]
    fn writes_java_text() {
        assert_eq!(text(None, &Value::from("héllo")), Ok(Some(Bytes::from("héllo"))));
        assert_eq!(text(None, &Value::Null), Ok(None));
        assert_eq!(text(None, &Value::Int64(-5)), Ok(Some(Bytes::from("-5"))));
        assert_eq!(text(None, &Value::Float64(1e7)), Ok(Some(Bytes::from("1.0E7"))));
        assert_eq!(text(None, &Value::Float32(0.5)), Ok(Some(Bytes::from("0.5"))));
        assert_eq!(text(None, &Value::Boolean(true)), Ok(Some(Bytes::from("true"))));
        let list = Value::Array(vec![Value::Int32(1), Value::Null, Value::from("x")]);
        assert_eq!(text(None, &list), Ok(Some(Bytes::from("[1, null, x]"))));
        let map = Value::Map(vec![(Value::from("a"), Value::Int8(1)), (Value::from("b"), Value::Int8(2))]);
        assert_eq!(text(None, &map), Ok(Some(Bytes::from("{a=1, b=2}"))));
        let schema = SchemaBuilder::struct_()
            .field("id", SchemaBuilder::int32().build().expect("id"))
            .field("note", SchemaBuilder::string().optional().build().expect("note"))
            .field("price", logical::decimal(2).build().expect("price"))
            .build()
            .expect("row");
        let mut row = Struct::new(schema.clone()).expect("row");
        row.put("id", 1).expect("id").put("price", vec![0u8, 0x9c]).expect("price");
        assert_eq!(text(Some(&schema), &Value::Struct(row)), Ok(Some(Bytes::from("Struct{id=1,price=1.56}"))));
        let decimal = logical::decimal(2).build().expect("decimal");
        assert_eq!(text(Some(&decimal), &Value::from(vec![0xffu8, 0x64])), Ok(Some(Bytes::from("-1.56"))));
        assert!(matches!(text(None, &Value::from(vec![1u8])), Err(ConvertError::Unsupported { .. })));
    }

    #[test]
    fn reads_an_optional_string() {
        let utf8 = converter(Encoding::Utf8);
        let (schema, value) = utf8.to_connect("t", Some("a\u{e9}".as_bytes())).expect("read");
        assert_eq!(schema, Some(Schema::optional_string()));
        assert_eq!(value, Value::from("a\u{e9}"));
        assert_eq!(utf8.to_connect("t", None), Ok((Some(Schema::optional_string()), Value::Null)));
        assert_eq!(utf8.to_connect("t", Some(&[b'a', 0xff])).map(|r| r.1), Ok(Value::from("a\u{fffd}")));
    }

    #[test]
    fn other_encodings_replace_as_java_does() {
        let latin1 = converter(Encoding::Latin1);
        assert_eq!(latin1.to_bytes("t", None, &Value::from("é€")), Ok(Some(Bytes::from_static(&[0xe9, b'?']))));
        assert_eq!(latin1.to_connect("t", Some(&[0xe9])).map(|r| r.1), Ok(Value::from("é")));
        let ascii = converter(Encoding::Ascii);
        assert_eq!(ascii.to_bytes("t", None, &Value::from("aé")), Ok(Some(Bytes::from_static(b"a?"))));
        assert_eq!(ascii.to_connect("t", Some(&[b'a', 0xe9])).map(|r| r.1), Ok(Value::from("a\u{fffd}")));
        assert_eq!(ascii.config().encoding, Encoding::Ascii);
    }
}
