//! [`ByteArrayConverter`]: Kafka's `org.apache.kafka.connect.converters.ByteArrayConverter`, bytes passed through
//! untouched (a DECIMAL, being BYTES, passes as its unscaled bytes, as in Kafka).

use bytes::Bytes;

use super::{ConvertError, Converter, ConverterType};
use crate::data::{Schema, SchemaRef, Type, Value};

/// Kafka's byte array converter.
#[derive(Debug)]
pub struct ByteArrayConverter {
    converter_type: ConverterType,
    schema: SchemaRef,
}

impl ByteArrayConverter {
    /// A converter for a role (it has no other setting).
    pub fn new(converter_type: ConverterType) -> Self {
        ByteArrayConverter { converter_type, schema: Schema::optional_bytes() }
    }

    /// The converter's role.
    pub fn converter_type(&self) -> ConverterType {
        self.converter_type
    }
}

impl Converter for ByteArrayConverter {
    fn to_bytes(&self, _topic: &str, schema: Option<&SchemaRef>, value: &Value) -> Result<Option<Bytes>, ConvertError> {
        if let Some(schema) = schema.filter(|s| s.schema_type() != Type::Bytes) {
            return Err(ConvertError::Unsupported {
                converter: "ByteArrayConverter",
                what: format!("a value of schema type {}", schema.schema_type()),
            });
        }
        match value {
            Value::Null => Ok(None),
            Value::Bytes(bytes) => Ok(Some(bytes.clone())),
            other => {
                Err(ConvertError::Unsupported { converter: "ByteArrayConverter", what: other.type_name().to_owned() })
            }
        }
    }

    fn to_connect(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<(Option<SchemaRef>, Value), ConvertError> {
        let value = bytes.map_or(Value::Null, Value::from);
        Ok((Some(self.schema.clone()), value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SchemaBuilder;

    #[test]
    fn passes_bytes_through() {
        let converter = ByteArrayConverter::new(ConverterType::Value);
        assert_eq!(converter.converter_type(), ConverterType::Value);
        let bytes = Value::from(vec![0u8, 0xff]);
        assert_eq!(converter.to_bytes("t", None, &bytes), Ok(Some(Bytes::from_static(&[0, 0xff]))));
        let schema = SchemaBuilder::bytes().build().expect("bytes");
        assert_eq!(converter.to_bytes("t", Some(&schema), &bytes), Ok(Some(Bytes::from_static(&[0, 0xff]))));
        assert_eq!(converter.to_bytes("t", None, &Value::Null), Ok(None));
        assert_eq!(
            converter.to_connect("t", Some(&[1, 2])),
            Ok((Some(Schema::optional_bytes()), Value::from(vec![1u8, 2])))
        );
        assert_eq!(converter.to_connect("t", None), Ok((Some(Schema::optional_bytes()), Value::Null)));
    }

    #[test]
    fn refuses_other_types() {
        let converter = ByteArrayConverter::new(ConverterType::Key);
        let int = SchemaBuilder::int32().build().expect("int32");
        let error = converter.to_bytes("t", Some(&int), &Value::Int32(1)).map_err(|e| e.to_string());
        assert_eq!(error, Err("ByteArrayConverter cannot convert a value of schema type INT32".to_owned()));
        let error = converter.to_bytes("t", None, &Value::from("x")).map_err(|e| e.to_string());
        assert_eq!(error, Err("ByteArrayConverter cannot convert STRING".to_owned()));
    }
}
