//! A [`Schema`] as the JSON envelope's `schema`, in Kafka's words and order (`JsonConverter.asJsonSchema`):
//! `type`; then `items`, or `keys` and `values`, or `fields` (each field's schema followed by its `field` name);
//! then `optional`, `name`, `version`, `doc`, `parameters`, `default`. Reading (`asConnectSchema`) takes the same
//! keys in any order.

use super::parse::{is_integral, Json};
use super::{decode, encode, write};
use crate::converters::{ConvertError, JsonConverterConfig, JsonSchemaError};
use crate::data::{Path, Schema, SchemaBuilder, SchemaError, SchemaRef, Type, ValidationError};

/// Kafka's JSON name of a type (`float` and `double` for FLOAT32 and FLOAT64).
fn type_name(kind: Type) -> &'static str {
    match kind {
        Type::Float32 => "float",
        Type::Float64 => "double",
        other => other.name(),
    }
}

/// Writes `schema` as a JSON object.
pub(crate) fn write(out: &mut String, schema: &Schema, config: &JsonConverterConfig) -> Result<(), ValidationError> {
    out.push('{');
    members(out, schema, config)?;
    out.push('}');
    Ok(())
}

fn members(out: &mut String, schema: &Schema, config: &JsonConverterConfig) -> Result<(), ValidationError> {
    out.push_str("\"type\":\"");
    out.push_str(type_name(schema.schema_type()));
    out.push('"');
    if let Some(keys) = schema.key_schema() {
        out.push_str(",\"keys\":");
        write(out, keys, config)?;
    }
    if let Some(values) = schema.value_schema() {
        out.push_str(if schema.schema_type() == Type::Map { ",\"values\":" } else { ",\"items\":" });
        write(out, values, config)?;
    }
    if schema.schema_type() == Type::Struct {
        out.push_str(",\"fields\":[");
        for (i, field) in schema.fields().iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('{');
            members(out, field.schema(), config)?;
            out.push_str(",\"field\":");
            write::string(out, field.name());
            out.push('}');
        }
        out.push(']');
    }
    out.push_str(if schema.is_optional() { ",\"optional\":true" } else { ",\"optional\":false" });
    if let Some(name) = schema.name() {
        out.push_str(",\"name\":");
        write::string(out, name);
    }
    if let Some(version) = schema.version() {
        out.push_str(",\"version\":");
        write::integer(out, version);
    }
    if let Some(doc) = schema.doc() {
        out.push_str(",\"doc\":");
        write::string(out, doc);
    }
    if !schema.parameters().is_empty() {
        out.push_str(",\"parameters\":{");
        for (i, (key, value)) in schema.parameters().iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write::string(out, key);
            out.push(':');
            write::string(out, value);
        }
        out.push('}');
    }
    if let Some(default) = schema.default_value() {
        out.push_str(",\"default\":");
        encode::value(out, Some(schema), default, config, &Path::Root)?;
    }
    Ok(())
}

/// The schema of an envelope's `schema` member; `None` for JSON null.
pub(crate) fn read(json: &Json<'_>, config: &JsonConverterConfig) -> Result<Option<SchemaRef>, ConvertError> {
    match json {
        Json::Null => Ok(None),
        _ => Ok(Some(read_schema(json, config)?)),
    }
}

fn read_schema(json: &Json<'_>, config: &JsonConverterConfig) -> Result<SchemaRef, JsonSchemaError> {
    let present = |key| json.get(key).filter(|v| **v != Json::Null);
    let Some(Json::String(kind)) = json.get("type") else {
        return Err(JsonSchemaError::MissingType);
    };
    let mut builder = match kind.as_ref() {
        "boolean" => SchemaBuilder::boolean(),
        "int8" => SchemaBuilder::int8(),
        "int16" => SchemaBuilder::int16(),
        "int32" => SchemaBuilder::int32(),
        "int64" => SchemaBuilder::int64(),
        "float" => SchemaBuilder::float32(),
        "double" => SchemaBuilder::float64(),
        "bytes" => SchemaBuilder::bytes(),
        "string" => SchemaBuilder::string(),
        "array" => {
            let items = present("items").ok_or(JsonSchemaError::MissingItems)?;
            SchemaBuilder::array(read_schema(items, config)?)
        }
        "map" => match (present("keys"), present("values")) {
            (Some(keys), Some(values)) => SchemaBuilder::map(read_schema(keys, config)?, read_schema(values, config)?),
            _ => return Err(JsonSchemaError::MissingKeysOrValues),
        },
        "struct" => {
            let Some(Json::Array(fields)) = json.get("fields") else {
                return Err(JsonSchemaError::FieldsNotArray);
            };
            let mut builder = SchemaBuilder::struct_();
            for field in fields {
                let Some(Json::String(name)) = field.get("field") else {
                    return Err(JsonSchemaError::FieldName);
                };
                builder = builder.field(name.as_ref(), read_schema(field, config)?);
            }
            builder
        }
        other => return Err(JsonSchemaError::UnknownType(other.to_owned())),
    };
    if json.get("optional") == Some(&Json::Bool(true)) {
        builder = builder.optional();
    }
    if let Some(Json::String(name)) = json.get("name") {
        builder = builder.name(name.as_ref());
    }
    if let Some(Json::Number(version)) = json.get("version").filter(|v| matches!(v, Json::Number(n) if is_integral(n)))
    {
        builder = builder.version(version.parse().map_err(|_| JsonSchemaError::Version)?);
    }
    if let Some(Json::String(doc)) = json.get("doc") {
        builder = builder.doc(doc.as_ref());
    }
    if let Some(Json::Object(parameters)) = json.get("parameters") {
        for (key, value) in parameters {
            let Json::String(value) = value else {
                return Err(JsonSchemaError::ParameterNotString);
            };
            builder = builder.parameter(key.as_ref(), value.as_ref());
        }
    }
    if let Some(default) = present("default") {
        let bare = builder.clone().build()?;
        let value = decode::value(Some(&bare), Some(default), config, &Path::Root).map_err(JsonSchemaError::Default)?;
        builder = builder.default_value(value);
    }
    builder.build().map_err(|e| match e {
        SchemaError::InvalidDefault(invalid) => JsonSchemaError::Default(invalid),
        other => JsonSchemaError::Build(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::converters::ConverterType;
    use crate::data::{logical, Value};

    const CONFIG: JsonConverterConfig = JsonConverterConfig::new(ConverterType::Value);

    fn json_of(schema: &Schema) -> String {
        let mut out = String::new();
        write(&mut out, schema, &CONFIG).expect("write");
        out
    }

    fn schema_of(text: &str) -> Result<Option<SchemaRef>, ConvertError> {
        let json = super::super::parse::parse(text.as_bytes())?.unwrap_or(Json::Null);
        read(&json, &CONFIG)
    }

    #[test]
    fn writes_in_kafkas_order() {
        let schema = SchemaBuilder::boolean()
            .name("bool")
            .version(3)
            .doc("the documentation")
            .parameter("foo", "bar")
            .default_value(Value::Boolean(true))
            .build()
            .expect("bool");
        let expected = r#"{"type":"boolean","optional":false,"name":"bool","version":3,"doc":"the documentation","parameters":{"foo":"bar"},"default":true}"#;
        assert_eq!(json_of(&schema), expected);
        let map = SchemaBuilder::map(
            SchemaBuilder::int32().build().expect("k"),
            SchemaBuilder::array(SchemaBuilder::float32().optional().build().expect("f")).build().expect("a"),
        )
        .build()
        .expect("map");
        let expected = r#"{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"array","items":{"type":"float","optional":true},"optional":false},"optional":false}"#;
        assert_eq!(json_of(&map), expected);
    }

    #[test]
    fn reads_what_it_writes() {
        let row = SchemaBuilder::struct_()
            .name("server1.inventory.customers.Value")
            .field("id", SchemaBuilder::int32().build().expect("id"))
            .field("price", logical::decimal(2).parameter(logical::PRECISION, "10").optional().build().expect("price"))
            .field("at", SchemaBuilder::int64().name("io.debezium.time.MicroTimestamp").version(1).build().expect("at"))
            .field(
                "tags",
                SchemaBuilder::map(
                    SchemaBuilder::string().build().expect("k"),
                    SchemaBuilder::float64().build().expect("v"),
                )
                .build()
                .expect("tags"),
            )
            .build()
            .expect("row");
        let text = json_of(&row);
        assert_eq!(schema_of(&text), Ok(Some(row)));
        assert_eq!(schema_of("null"), Ok(None));
    }

    #[test]
    fn reads_defaults_with_the_schema() {
        let read = schema_of(
            r#"{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","version":1,"default":"AJw=","parameters":{"scale":"2"}}"#,
        );
        let expected = logical::decimal(2).default_value(Value::from(vec![0u8, 0x9c])).build().expect("decimal");
        assert_eq!(read, Ok(Some(expected)));
        let read = schema_of(r#"{"type":"struct","fields":[{"field":"a","type":"int32"}],"default":{"a":5}}"#);
        let default = read.ok().flatten().and_then(|s| s.default_value().cloned());
        assert!(matches!(default, Some(Value::Struct(s)) if s.values() == [Value::Int32(5)]));
    }

    #[test]
    fn refuses_malformed_schemas() {
        let error = |text: &str| match schema_of(text) {
            Err(ConvertError::Schema(e)) => e,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(error(r#"{"optional":true}"#), JsonSchemaError::MissingType);
        assert_eq!(error("[]"), JsonSchemaError::MissingType);
        assert_eq!(error(r#"{"type":"uuid"}"#), JsonSchemaError::UnknownType("uuid".to_owned()));
        assert_eq!(error(r#"{"type":"array","items":null}"#), JsonSchemaError::MissingItems);
        assert_eq!(error(r#"{"type":"map","keys":{"type":"string"}}"#), JsonSchemaError::MissingKeysOrValues);
        assert_eq!(error(r#"{"type":"struct","fields":{}}"#), JsonSchemaError::FieldsNotArray);
        assert_eq!(error(r#"{"type":"struct","fields":[{"type":"string"}]}"#), JsonSchemaError::FieldName);
        assert_eq!(error(r#"{"type":"string","parameters":{"a":1}}"#), JsonSchemaError::ParameterNotString);
        assert_eq!(error(r#"{"type":"string","version":3000000000}"#), JsonSchemaError::Version);
        let duplicate = r#"{"type":"struct","fields":[{"field":"a","type":"string"},{"field":"a","type":"string"}]}"#;
        assert_eq!(error(duplicate), JsonSchemaError::Build(SchemaError::DuplicateField("a".to_owned())));
        assert!(matches!(error(r#"{"type":"int8","default":"x"}"#), JsonSchemaError::Default(_)));
    }
}
