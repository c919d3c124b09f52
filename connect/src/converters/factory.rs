//! [`create_converter`]: a converter from the class name a user wrote (`value.converter=...`) and its properties.

use std::collections::BTreeMap;

use super::avro::AvroConverterConfig;
use super::{
    AvroConverter, ByteArrayConverter, ConfigError, Converter, ConverterType, JsonConverter, JsonConverterConfig,
    StringConverter, StringConverterConfig,
};

/// Kafka's JSON converter class.
pub const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";
/// Kafka's string converter class.
pub const STRING_CONVERTER: &str = "org.apache.kafka.connect.storage.StringConverter";
/// Kafka's byte array converter class.
pub const BYTE_ARRAY_CONVERTER: &str = "org.apache.kafka.connect.converters.ByteArrayConverter";
/// Confluent's Avro converter class.
pub const AVRO_CONVERTER: &str = "io.confluent.connect.avro.AvroConverter";

/// The names accepted, for messages.
pub(super) const KNOWN: [&str; 8] =
    [JSON_CONVERTER, AVRO_CONVERTER, STRING_CONVERTER, BYTE_ARRAY_CONVERTER, "json", "avro", "string", "bytes"];

/// The converter a class name stands for (the Java name, the simple class name, or `json`, `avro`, `string`,
/// `bytes` in any case), configured from `props`: the properties after the converter's prefix, `converter.type`
/// included (`key`, `value` or `header`, as the runtime sets it). An unknown class is an error naming the key it
/// came from.
pub fn create_converter(class: &str, props: &BTreeMap<String, String>) -> Result<Box<dyn Converter>, ConfigError> {
    let converter_type = ConverterType::from_props(props)?;
    let class = class.trim();
    let alias = class.to_ascii_lowercase();
    Ok(match (class, alias.as_str()) {
        (JSON_CONVERTER | "JsonConverter", _) | (_, "json") => {
            Box::new(JsonConverter::new(JsonConverterConfig::from_props(props)?))
        }
        (AVRO_CONVERTER | "AvroConverter", _) | (_, "avro") => {
            Box::new(AvroConverter::new(AvroConverterConfig::from_props(props)?)?)
        }
        (STRING_CONVERTER | "StringConverter", _) | (_, "string") => {
            Box::new(StringConverter::new(StringConverterConfig::from_props(props)?))
        }
        (BYTE_ARRAY_CONVERTER | "ByteArrayConverter", _) | (_, "bytes") => {
            Box::new(ByteArrayConverter::new(converter_type))
        }
        _ => return Err(ConfigError::UnknownClass { key: converter_type.config_key(), class: class.to_owned() }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Value;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn written(class: &str, pairs: &[(&str, &str)], value: &Value) -> Option<Vec<u8>> {
        let converter = create_converter(class, &props(pairs)).ok()?;
        converter.to_bytes("t", None, value).ok().flatten().map(|b| b.to_vec())
    }

    #[test]
    fn java_names_and_aliases() {
        let value = [("converter.type", "value")];
        for class in [JSON_CONVERTER, "JsonConverter", "json", " JSON "] {
            assert_eq!(
                written(class, &value, &Value::from("x")),
                Some(br#"{"schema":null,"payload":"x"}"#.to_vec()),
                "{class}"
            );
        }
        let plain = [("converter.type", "key"), ("schemas.enable", "false")];
        assert_eq!(written("json", &plain, &Value::from("x")), Some(br#""x""#.to_vec()));
        for class in [STRING_CONVERTER, "StringConverter", "string"] {
            assert_eq!(written(class, &value, &Value::from("x")), Some(b"x".to_vec()), "{class}");
        }
        for class in [BYTE_ARRAY_CONVERTER, "ByteArrayConverter", "bytes"] {
            assert_eq!(written(class, &value, &Value::from(vec![7u8])), Some(vec![7]), "{class}");
        }
    }

    #[test]
    fn avro_names_and_alias() {
        let value = [("converter.type", "value"), ("schema.registry.url", "http://127.0.0.1:8081")];
        for class in [AVRO_CONVERTER, "AvroConverter", "avro", " Avro "] {
            let converter = create_converter(class, &props(&value)).expect(class);
            assert!(format!("{converter:?}").starts_with("AvroConverter"), "{class}");
        }
        let error = create_converter("avro", &props(&[("converter.type", "key")])).err();
        assert_eq!(error, Some(ConfigError::Missing { key: "key.converter.schema.registry.url".to_owned() }));
    }

    #[test]
    fn unknown_classes_name_the_key() {
        let error =
            create_converter("io.confluent.connect.protobuf.ProtobufConverter", &props(&[("converter.type", "value")]));
        let Err(error) = error else { panic!("expected an error") };
        assert_eq!(
            error,
            ConfigError::UnknownClass {
                key: "value.converter",
                class: "io.confluent.connect.protobuf.ProtobufConverter".to_owned()
            }
        );
        assert!(error.to_string().starts_with("value.converter: unknown converter class \"io.confluent.connect.protobuf.ProtobufConverter\", expected one of org.apache.kafka.connect.json.JsonConverter, io.confluent.connect.avro.AvroConverter, "));
        let error = create_converter("json", &props(&[])).err();
        assert_eq!(error, Some(ConfigError::Missing { key: "converter.type".to_owned() }));
        let error = create_converter("json", &props(&[("converter.type", "key"), ("decimal.format", "x")])).err();
        assert!(matches!(error, Some(ConfigError::Invalid { key, .. }) if key == "key.converter.decimal.format"));
    }
}
