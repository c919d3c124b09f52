//! [`JsonConverter`]: Kafka's `org.apache.kafka.connect.json.JsonConverter`, writing the same bytes Kafka writes.
//!
//! With `schemas.enable=true` (the default) a record is the envelope `{"schema":{...},"payload":...}`, the schema in
//! Kafka's JSON form ([`schema`]) and the payload as [`encode`] writes it; without, only the payload. Reading takes
//! both forms back ([`decode`]); without a schema, values are inferred as Kafka infers them. The JSON text follows
//! Jackson's output exactly ([`write`]), and parsing keeps numbers as written ([`parse`]).

mod cache;
mod decode;
mod encode;
pub(crate) mod parse;
mod schema;
pub(crate) mod write;

use bytes::Bytes;

use self::cache::SchemaJsonCache;
use self::parse::Json;
use super::{ConvertError, Converter, JsonConverterConfig};
use crate::data::{Path, Schema, SchemaRef, Value};

/// Kafka's JSON converter.
#[derive(Debug)]
pub struct JsonConverter {
    config: JsonConverterConfig,
    schemas: SchemaJsonCache,
}

impl JsonConverter {
    /// A converter with these settings.
    pub fn new(config: JsonConverterConfig) -> Self {
        JsonConverter { config, schemas: SchemaJsonCache::new(config.schemas_cache_size) }
    }

    /// The settings.
    pub fn config(&self) -> &JsonConverterConfig {
        &self.config
    }

    /// A schema as the envelope carries it (Kafka's `asJsonSchema`); fails only on a default that does not fit.
    pub fn schema_to_json(&self, schema: &Schema) -> Result<String, ConvertError> {
        let mut out = String::with_capacity(64);
        schema::write(&mut out, schema, &self.config)?;
        Ok(out)
    }

    /// A schema from the JSON of an envelope's `schema` (Kafka's `asConnectSchema`); `None` for `null`.
    pub fn schema_from_json(&self, json: &[u8]) -> Result<Option<SchemaRef>, ConvertError> {
        match parse::parse(json)? {
            Some(json) => schema::read(&json, &self.config),
            None => Err(ConvertError::Json { offset: json.len(), reason: "unexpected end of input" }),
        }
    }
}

impl Converter for JsonConverter {
    fn to_bytes(&self, _topic: &str, schema: Option<&SchemaRef>, value: &Value) -> Result<Option<Bytes>, ConvertError> {
        if schema.is_none() && value.is_null() {
            return Ok(None);
        }
        let mut out = String::with_capacity(256);
        if self.config.schemas_enable {
            let schema_json = schema.map(|s| self.schemas.get_or_render(s, || self.schema_to_json(s))).transpose()?;
            out.push_str("{\"schema\":");
            out.push_str(schema_json.as_deref().unwrap_or("null"));
            out.push_str(",\"payload\":");
            encode::value(&mut out, schema.map(|s| &**s), value, &self.config, &Path::Root)?;
            out.push('}');
        } else {
            encode::value(&mut out, schema.map(|s| &**s), value, &self.config, &Path::Root)?;
        }
        Ok(Some(Bytes::from(out.into_bytes())))
    }

    fn to_connect(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<(Option<SchemaRef>, Value), ConvertError> {
        let Some(bytes) = bytes else {
            return Ok((None, Value::Null));
        };
        let json = parse::parse(bytes)?;
        if !self.config.schemas_enable {
            let value = json.as_ref().map_or(Ok(Value::Null), |json| decode::schemaless(json, &Path::Root))?;
            return Ok((None, value));
        }
        let Some(envelope @ Json::Object(members)) = &json else {
            return Err(ConvertError::Envelope);
        };
        let (Some(schema), Some(payload)) = (envelope.get("schema"), envelope.get("payload")) else {
            return Err(ConvertError::Envelope);
        };
        if members.iter().any(|(k, _)| k != "schema" && k != "payload") {
            return Err(ConvertError::Envelope);
        }
        let schema = schema::read(schema, &self.config)?;
        let value = decode::value(schema.as_ref(), Some(payload), &self.config, &Path::Root)?;
        Ok((schema, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::converters::ConverterType;
    use crate::data::SchemaBuilder;

    fn converter(schemas_enable: bool) -> JsonConverter {
        JsonConverter::new(JsonConverterConfig { schemas_enable, ..JsonConverterConfig::new(ConverterType::Value) })
    }

    #[test]
    fn tombstones_both_ways() {
        for schemas_enable in [true, false] {
            let converter = converter(schemas_enable);
            assert_eq!(converter.to_bytes("t", None, &Value::Null), Ok(None));
            assert_eq!(converter.to_connect("t", None), Ok((None, Value::Null)));
        }
        let optional = SchemaBuilder::boolean().optional().build().expect("optional");
        let written = converter(false).to_bytes("t", Some(&optional), &Value::Null);
        assert_eq!(written, Ok(Some(Bytes::from_static(b"null"))));
    }

    #[test]
    fn the_envelope_is_required_with_schemas() {
        let strict = converter(true);
        for text in ["true", "{}", r#"{"schema":null}"#, r#"{"schema":null,"payload":1,"extra":2}"#, ""] {
            assert_eq!(strict.to_connect("t", Some(text.as_bytes())), Err(ConvertError::Envelope), "{text}");
        }
        let repeated = strict.to_connect("t", Some(br#"{"schema":null,"payload":1,"payload":2}"#));
        assert_eq!(repeated, Ok((None, Value::Int64(2))));
        let plain = converter(false);
        assert_eq!(plain.to_connect("t", Some(b"")), Ok((None, Value::Null)));
        assert_eq!(plain.to_connect("t", Some(b" true ")), Ok((None, Value::Boolean(true))));
        assert!(matches!(plain.to_connect("t", Some(b"{")), Err(ConvertError::Json { offset: 1, .. })));
    }

    #[test]
    fn the_deepest_nesting_reads_and_writes() {
        let half = parse::MAX_DEPTH / 2;
        let text = format!("{}null{}", "[{\"a\":".repeat(half), "}]".repeat(half));
        let plain = converter(false);
        let (_, value) = plain.to_connect("t", Some(text.as_bytes())).expect("deep");
        let written = plain.to_bytes("t", None, &value).expect("write").unwrap_or_default();
        assert_eq!(&written[..], text.as_bytes());
    }

    #[test]
    fn schema_json_both_ways() {
        let converter = converter(true);
        let schema = SchemaBuilder::int64().name("io.debezium.time.MicroTimestamp").version(1).build().expect("ts");
        let json = converter.schema_to_json(&schema).expect("json");
        assert_eq!(json, r#"{"type":"int64","optional":false,"name":"io.debezium.time.MicroTimestamp","version":1}"#);
        assert_eq!(converter.schema_from_json(json.as_bytes()), Ok(Some(schema.clone())));
        assert_eq!(converter.schema_from_json(b"null"), Ok(None));
        assert!(matches!(converter.schema_from_json(b" "), Err(ConvertError::Json { .. })));
        let written = converter.to_bytes("t", Some(&schema), &Value::Int64(5)).expect("bytes").unwrap_or_default();
        assert_eq!(&written[..], format!(r#"{{"schema":{json},"payload":5}}"#).as_bytes());
        assert_eq!(converter.to_connect("t", Some(&written)), Ok((Some(schema), Value::Int64(5))));
        assert!(converter.config().schemas_enable);
    }
}
