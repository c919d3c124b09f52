//! A [`Value`] as JSON, Kafka's `JsonConverter.convertToJson`: a null takes the schema's default (with
//! `replace.null.with.default`) or stays null where the schema is optional; a DECIMAL is base64 of its unscaled
//! bytes or, with `decimal.format=NUMERIC`, a number; DATE, TIME and TIMESTAMP are their integers; a map whose keys
//! are strings is an object, any other map an array of `[key, value]` pairs. Without a schema the value's own type
//! decides (a struct then uses its own schema, where Kafka refuses it).

use super::write;
use crate::converters::{DecimalFormat, JsonConverterConfig};
use crate::data::decimal::{self, DecimalError};
use crate::data::logical::Logical;
use crate::data::{Path, Reason, Schema, Struct, Type, ValidationError, Value};

/// Writes `value`, checking it against `schema` as it goes.
pub(crate) fn value(
    out: &mut String,
    schema: Option<&Schema>,
    value: &Value,
    config: &JsonConverterConfig,
    path: &Path<'_>,
) -> Result<(), ValidationError> {
    let Some(schema) = schema else {
        return schemaless(out, value, config, path);
    };
    if value.is_null() {
        return match schema.default_value() {
            Some(default) if config.replace_null_with_default => self::value(out, Some(schema), default, config, path),
            _ if schema.is_optional() => {
                out.push_str("null");
                Ok(())
            }
            _ => Err(path.error(Reason::NullForRequired(schema.schema_type()))),
        };
    }
    match (schema.schema_type(), value) {
        (Type::Int8, Value::Int8(v)) => write::integer(out, v),
        (Type::Int16, Value::Int16(v)) => write::integer(out, v),
        (Type::Int32, Value::Int32(v)) => write::integer(out, v),
        (Type::Int64, Value::Int64(v)) => write::integer(out, v),
        (Type::Float32, Value::Float32(v)) => write::float(out, *v),
        (Type::Float64, Value::Float64(v)) => write::double(out, *v),
        (Type::Boolean, Value::Boolean(v)) => out.push_str(if *v { "true" } else { "false" }),
        (Type::String, Value::String(v)) => write::string(out, v),
        (Type::Bytes, Value::Bytes(bytes)) => match Logical::of(schema).map_err(|reason| path.error(reason))? {
            Some(Logical::Decimal { scale }) if config.decimal_format == DecimalFormat::Numeric => {
                out.push_str(&decimal::to_text(bytes, scale).map_err(|e| path.error(e))?);
            }
            Some(Logical::Decimal { .. }) if bytes.is_empty() => return Err(path.error(DecimalError::Empty)),
            _ => write::base64(out, bytes),
        },
        (Type::Array, Value::Array(items)) => array(out, schema.value_schema().map(|s| &**s), items, config, path)?,
        (Type::Map, Value::Map(entries)) => {
            let (keys, values) = (schema.key_schema().map(|s| &**s), schema.value_schema().map(|s| &**s));
            map(out, keys, values, entries, config, path)?;
        }
        (Type::Struct, Value::Struct(s)) => {
            if !s.schema().eq_ignoring_default(schema) {
                return Err(path.error(Reason::StructSchemaMismatch {
                    expected: schema.to_string(),
                    found: s.schema().to_string(),
                }));
            }
            fields(out, s, config, path)?;
        }
        (expected, _) => return Err(path.error(Reason::TypeMismatch { expected, found: value.type_name() })),
    }
    Ok(())
}

/// A value without a schema: its own type decides.
fn schemaless(
    out: &mut String,
    v: &Value,
    config: &JsonConverterConfig,
    path: &Path<'_>,
) -> Result<(), ValidationError> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Int8(v) => write::integer(out, v),
        Value::Int16(v) => write::integer(out, v),
        Value::Int32(v) => write::integer(out, v),
        Value::Int64(v) => write::integer(out, v),
        Value::Float32(v) => write::float(out, *v),
        Value::Float64(v) => write::double(out, *v),
        Value::Boolean(v) => out.push_str(if *v { "true" } else { "false" }),
        Value::String(v) => write::string(out, v),
        Value::Bytes(bytes) => write::base64(out, bytes),
        Value::Array(items) => array(out, None, items, config, path)?,
        Value::Map(entries) => map(out, None, None, entries, config, path)?,
        Value::Struct(s) => fields(out, s, config, path)?,
    }
    Ok(())
}

fn array(
    out: &mut String,
    items_schema: Option<&Schema>,
    items: &[Value],
    config: &JsonConverterConfig,
    path: &Path<'_>,
) -> Result<(), ValidationError> {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        value(out, items_schema, item, config, &path.index(i))?;
    }
    out.push(']');
    Ok(())
}

fn map(
    out: &mut String,
    keys: Option<&Schema>,
    values: Option<&Schema>,
    entries: &[(Value, Value)],
    config: &JsonConverterConfig,
    path: &Path<'_>,
) -> Result<(), ValidationError> {
    let object = match keys {
        Some(keys) => keys.schema_type() == Type::String,
        None => entries.iter().all(|(k, _)| matches!(k, Value::String(_))),
    };
    out.push(if object { '{' } else { '[' });
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if object {
            object_key(out, keys, k, config, &path.map_key(i))?;
            out.push(':');
        } else {
            out.push('[');
            value(out, keys, k, config, &path.map_key(i))?;
            out.push(',');
        }
        value(out, values, v, config, &path.map_value(i))?;
        if !object {
            out.push(']');
        }
    }
    out.push(if object { '}' } else { ']' });
    Ok(())
}

/// A map key written as an object member name: its text, as Kafka's `convertToJson(keySchema, key).asText()`.
fn object_key(
    out: &mut String,
    keys: Option<&Schema>,
    key: &Value,
    config: &JsonConverterConfig,
    path: &Path<'_>,
) -> Result<(), ValidationError> {
    if let Value::String(text) = key {
        write::string(out, text);
        return Ok(());
    }
    let mut text = String::new();
    value(&mut text, keys, key, config, path)?;
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(_) => out.push_str(&text),
        None => write::string(out, &text),
    }
    Ok(())
}

fn fields(out: &mut String, s: &Struct, config: &JsonConverterConfig, path: &Path<'_>) -> Result<(), ValidationError> {
    out.push('{');
    for (i, (field, v)) in s.schema().fields().iter().zip(s.values()).enumerate() {
        if i > 0 {
            out.push(',');
        }
        write::string(out, field.name());
        out.push(':');
        value(out, Some(field.schema()), v, config, &path.field(field.name()))?;
    }
    out.push('}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::converters::ConverterType;
    use crate::data::{logical, SchemaBuilder, SchemaRef};

    const CONFIG: JsonConverterConfig = JsonConverterConfig::new(ConverterType::Value);

    fn json(schema: Option<&SchemaRef>, v: &Value, config: &JsonConverterConfig) -> Result<String, ValidationError> {
        let mut out = String::new();
        value(&mut out, schema.map(|s| &**s), v, config, &Path::Root)?;
        Ok(out)
    }

    fn int32() -> SchemaRef {
        SchemaBuilder::int32().build().expect("int32")
    }

    #[test]
    fn nulls_take_defaults_or_stay_null() {
        let defaulted = SchemaBuilder::int32().default_value(Value::Int32(7)).build().expect("default");
        assert_eq!(json(Some(&defaulted), &Value::Null, &CONFIG).as_deref(), Ok("7"));
        let keep_null = JsonConverterConfig { replace_null_with_default: false, ..CONFIG };
        let reason = Reason::NullForRequired(Type::Int32);
        assert_eq!(json(Some(&defaulted), &Value::Null, &keep_null).map_err(|e| e.reason), Err(reason.clone()));
        let optional = SchemaBuilder::int32().optional().default_value(Value::Int32(7)).build().expect("optional");
        assert_eq!(json(Some(&optional), &Value::Null, &keep_null).as_deref(), Ok("null"));
        assert_eq!(json(Some(&int32()), &Value::Null, &CONFIG).map_err(|e| e.reason), Err(reason));
        assert_eq!(json(None, &Value::Null, &CONFIG).as_deref(), Ok("null"));
    }

    #[test]
    fn decimals_in_both_formats() {
        let schema = logical::decimal(2).build().expect("decimal");
        let v = Value::from(vec![0u8, 0x9c]);
        assert_eq!(json(Some(&schema), &v, &CONFIG).as_deref(), Ok("\"AJw=\""));
        let numeric = JsonConverterConfig { decimal_format: DecimalFormat::Numeric, ..CONFIG };
        assert_eq!(json(Some(&schema), &v, &numeric).as_deref(), Ok("1.56"));
        let empty = json(Some(&schema), &Value::from(Vec::<u8>::new()), &CONFIG).map_err(|e| e.reason);
        assert_eq!(empty, Err(Reason::Decimal(DecimalError::Empty)));
        let no_scale = SchemaBuilder::bytes().name(logical::DECIMAL).build().expect("no scale");
        assert_eq!(json(Some(&no_scale), &v, &CONFIG).map_err(|e| e.reason), Err(Reason::DecimalScale));
    }

    #[test]
    fn maps_are_objects_only_with_string_keys() {
        let string = SchemaBuilder::string().optional().build().expect("string");
        let by_name = SchemaBuilder::map(string, int32()).build().expect("map");
        let entries = Value::Map(vec![(Value::from("a"), Value::Int32(1)), (Value::Null, Value::Int32(2))]);
        assert_eq!(json(Some(&by_name), &entries, &CONFIG).as_deref(), Ok(r#"{"a":1,"null":2}"#));
        let by_number = SchemaBuilder::map(int32(), int32()).build().expect("map");
        let entries = Value::Map(vec![(Value::Int32(1), Value::Int32(12)), (Value::Int32(2), Value::Int32(15))]);
        assert_eq!(json(Some(&by_number), &entries, &CONFIG).as_deref(), Ok("[[1,12],[2,15]]"));
        let mixed = Value::Map(vec![(Value::from("string"), Value::Int32(12)), (Value::Int64(52), Value::from("s"))]);
        assert_eq!(json(None, &mixed, &CONFIG).as_deref(), Ok(r#"[["string",12],[52,"s"]]"#));
        let bad = Value::Map(vec![(Value::from("k"), Value::Int32(1))]);
        assert_eq!(json(Some(&by_number), &bad, &CONFIG).map_err(|e| e.path), Err("${key #0}".to_owned()));
    }

    #[test]
    fn structs_follow_their_schema() {
        let schema = SchemaBuilder::struct_().name("row").field("id", int32()).build().expect("row");
        let row = Value::Struct(Struct::from_values(schema.clone(), vec![Value::Int32(3)]).expect("row"));
        assert_eq!(json(Some(&schema), &row, &CONFIG).as_deref(), Ok(r#"{"id":3}"#));
        assert_eq!(json(None, &row, &CONFIG).as_deref(), Ok(r#"{"id":3}"#));
        let other = SchemaBuilder::struct_().name("other").field("id", int32()).build().expect("other");
        let reason = json(Some(&other), &row, &CONFIG).map_err(|e| e.reason.to_string());
        assert_eq!(reason, Err("a struct of Schema{row:STRUCT} where Schema{other:STRUCT} is expected".to_owned()));
        let broken = Value::Struct(Struct::from_values(schema.clone(), vec![Value::from("x")]).expect("broken"));
        assert_eq!(json(Some(&schema), &broken, &CONFIG).map_err(|e| e.path), Err("$.id".to_owned()));
    }

    #[test]
    fn every_primitive_and_mismatches() {
        let cases: [(SchemaBuilder, Value, &str); 9] = [
            (SchemaBuilder::int8(), Value::Int8(-1), "-1"),
            (SchemaBuilder::int16(), Value::Int16(300), "300"),
            (SchemaBuilder::int32(), Value::Int32(12), "12"),
            (SchemaBuilder::int64(), Value::Int64(4398046511104), "4398046511104"),
            (SchemaBuilder::float32(), Value::Float32(12.34), "12.34"),
            (SchemaBuilder::float64(), Value::Float64(f64::NAN), "\"NaN\""),
            (SchemaBuilder::boolean(), Value::Boolean(false), "false"),
            (SchemaBuilder::string(), Value::from("a\"b"), r#""a\"b""#),
            (SchemaBuilder::bytes(), Value::from(&b"test-string"[..]), "\"dGVzdC1zdHJpbmc=\""),
        ];
        for (builder, v, expected) in cases {
            let schema = builder.build().expect("schema");
            assert_eq!(json(Some(&schema), &v, &CONFIG).as_deref(), Ok(expected));
            assert_eq!(json(None, &v, &CONFIG).as_deref(), Ok(expected));
        }
        let float64 = SchemaBuilder::float64().build().expect("float64");
        let reason = Reason::TypeMismatch { expected: Type::Float64, found: "BOOLEAN" };
        assert_eq!(json(Some(&float64), &Value::Boolean(true), &CONFIG).map_err(|e| e.reason), Err(reason));
        let list = SchemaBuilder::array(int32()).build().expect("array");
        let bad = Value::Array(vec![Value::Int32(1), Value::Int64(2)]);
        assert_eq!(json(Some(&list), &bad, &CONFIG).map_err(|e| e.path), Err("$[1]".to_owned()));
    }
}
