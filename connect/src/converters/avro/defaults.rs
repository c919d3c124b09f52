//! Default values between Connect and Avro's JSON form, as `AvroData` converts them: a Connect default becomes the
//! JSON of `connect.default` and of a field's `default` (`defaultValueFromConnect`: bytes as ISO-8859-1 text, a map
//! with string keys an object, any other map an array of `[key, value]` pairs, a struct an object of its fields);
//! an Avro default becomes a Connect value following the Avro type (`defaultValueFromAvro`). Avro's own rule for a
//! valid field default (`Schema.isValidDefault`: a union's default fits its first branch) decides whether a field
//! keeps its default; `AvroData` drops one that does not fit, and so does this module.

use super::json::JsonValue;
use super::names;
use super::schema::{AvroSchema, Kind};
use super::to_connect::union_member_name;
use crate::converters::java_text;
use crate::data::{Schema, SchemaRef, Struct, Type, Value};

/// The `io.confluent.connect.avro.Union` struct name: a Connect struct standing for an Avro union.
pub(crate) const UNION: &str = "io.confluent.connect.avro.Union";

/// Why a default could not be converted (the default is then dropped, as `AvroData` does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unfit;

/// The JSON of a Connect default value (`defaultValueFromConnect`).
pub(crate) fn from_connect(
    schema: &Schema,
    value: &Value,
    scrub: bool,
    optional_map_keys: bool,
) -> Result<JsonValue, Unfit> {
    Ok(match (schema.schema_type(), value) {
        (_, Value::Null) => JsonValue::Null,
        (Type::Int8, Value::Int8(v)) => JsonValue::integer(v),
        (Type::Int16, Value::Int16(v)) => JsonValue::integer(v),
        (Type::Int32, Value::Int32(v)) => JsonValue::integer(v),
        (Type::Int64, Value::Int64(v)) => JsonValue::integer(v),
        (Type::Float32, Value::Float32(v)) => number(v.is_finite(), java_text::float(*v)),
        (Type::Float64, Value::Float64(v)) => number(v.is_finite(), java_text::double(*v)),
        (Type::Boolean, Value::Boolean(v)) => JsonValue::Bool(*v),
        (Type::String, Value::String(v)) => JsonValue::string(v.as_str()),
        (Type::Bytes, Value::Bytes(v)) => JsonValue::String(v.iter().map(|&b| char::from(b)).collect()),
        (Type::Array, Value::Array(items)) => {
            let item_schema = schema.value_schema().ok_or(Unfit)?;
            let items = items.iter().map(|item| from_connect(item_schema, item, scrub, optional_map_keys));
            JsonValue::Array(items.collect::<Result<_, _>>()?)
        }
        (Type::Map, Value::Map(entries)) => {
            let (keys, values) = (schema.key_schema().ok_or(Unfit)?, schema.value_schema().ok_or(Unfit)?);
            if string_keys(keys, optional_map_keys) {
                let members = entries.iter().map(|(k, v)| match k {
                    Value::String(k) => Ok((k.clone(), from_connect(values, v, scrub, optional_map_keys)?)),
                    _ => Err(Unfit),
                });
                JsonValue::Object(members.collect::<Result<_, _>>()?)
            } else {
                let pairs = entries.iter().map(|(k, v)| {
                    let key = from_connect(keys, k, scrub, optional_map_keys)?;
                    Ok(JsonValue::Array(vec![key, from_connect(values, v, scrub, optional_map_keys)?]))
                });
                JsonValue::Array(pairs.collect::<Result<_, _>>()?)
            }
        }
        (Type::Struct, Value::Struct(s)) => {
            let union = schema.name() == Some(UNION);
            let mut members = Vec::with_capacity(s.values().len());
            for (field, value) in schema.fields().iter().zip(s.values()) {
                let value = with_default(field.schema(), value);
                let json = from_connect(field.schema(), value, scrub, optional_map_keys)?;
                if union {
                    return Ok(json);
                }
                members.push((names::scrub(field.name(), scrub), json));
            }
            JsonValue::Object(members)
        }
        _ => return Err(Unfit),
    })
}

/// Kafka's `Struct.get`: a null field reads as its schema's default.
pub(crate) fn with_default<'a>(schema: &'a Schema, value: &'a Value) -> &'a Value {
    match (value, schema.default_value()) {
        (Value::Null, Some(default)) => default,
        _ => value,
    }
}

/// Whether a Connect map with these keys is an Avro map (string keys, required unless `allow.optional.map.keys`).
pub(crate) fn string_keys(keys: &Schema, optional_map_keys: bool) -> bool {
    keys.schema_type() == Type::String && (!keys.is_optional() || optional_map_keys)
}

/// A float as Jackson writes it: a number, or a string for NaN and the infinities.
fn number(finite: bool, text: String) -> JsonValue {
    match finite {
        true => JsonValue::Number(text),
        false => JsonValue::String(text),
    }
}

/// Avro's `Schema.isValidDefault`: whether `json` is a valid default for a field of schema `avro`.
pub(crate) fn is_valid(avro: &AvroSchema, json: &JsonValue) -> bool {
    match (&avro.kind, json) {
        (Kind::String | Kind::Bytes | Kind::Enum(_) | Kind::Fixed(_), JsonValue::String(_)) => true,
        (Kind::Int, _) => json.as_i64().is_some_and(|v| i32::try_from(v).is_ok()),
        (Kind::Long, _) => json.as_i64().is_some(),
        (Kind::Float | Kind::Double, _) => json.as_f64().is_some(),
        (Kind::Boolean, JsonValue::Bool(_)) | (Kind::Null, JsonValue::Null) => true,
        (Kind::Array(items), JsonValue::Array(values)) => values.iter().all(|v| is_valid(items, v)),
        (Kind::Map(values), JsonValue::Object(members)) => members.iter().all(|(_, v)| is_valid(values, v)),
        (Kind::Union(branches), _) => branches.first().is_some_and(|first| is_valid(first, json)),
        (Kind::Record(record), JsonValue::Object(_)) => {
            record.fields.iter().all(|field| match json.get(&field.name).or(field.default.as_ref()) {
                Some(value) => is_valid(&field.schema, value),
                None => false,
            })
        }
        _ => false,
    }
}

/// The Connect value of an Avro default (`defaultValueFromAvro`), for `schema` (the Connect schema being built,
/// without its default) over the Avro schema `avro`. A JSON null is no default.
pub(crate) fn to_connect(schema: &SchemaRef, avro: &AvroSchema, json: &JsonValue) -> Result<Value, Unfit> {
    if matches!(json, JsonValue::Null) {
        return Ok(Value::Null);
    }
    Ok(match &avro.kind {
        Kind::Int => {
            let v = json.as_i64().ok_or(Unfit)?;
            match schema.schema_type() {
                Type::Int8 => Value::Int8(v as i8),
                Type::Int16 => Value::Int16(v as i16),
                Type::Int32 => Value::Int32(v as i32),
                _ => return Err(Unfit),
            }
        }
        Kind::Long => Value::Int64(json.as_i64().ok_or(Unfit)?),
        Kind::Float => Value::Float32(json.as_f64().ok_or(Unfit)? as f32),
        Kind::Double => Value::Float64(json.as_f64().ok_or(Unfit)?),
        Kind::Boolean => match json {
            JsonValue::Bool(b) => Value::Boolean(*b),
            _ => return Err(Unfit),
        },
        Kind::Null => Value::Null,
        Kind::String | Kind::Enum(_) => Value::String(json.as_str().ok_or(Unfit)?.to_owned()),
        Kind::Bytes | Kind::Fixed(_) => {
            let text = json.as_str().ok_or(Unfit)?;
            let bytes = text.chars().map(|c| u8::try_from(u32::from(c)).map_err(|_| Unfit));
            Value::Bytes(bytes.collect::<Result<Vec<u8>, _>>()?.into())
        }
        Kind::Array(items) => {
            let JsonValue::Array(values) = json else { return Err(Unfit) };
            let item_schema = schema.value_schema().ok_or(Unfit)?;
            Value::Array(values.iter().map(|v| to_connect(item_schema, items, v)).collect::<Result<_, _>>()?)
        }
        Kind::Map(values) => {
            let JsonValue::Object(members) = json else { return Err(Unfit) };
            let value_schema = schema.value_schema().ok_or(Unfit)?;
            let entries =
                members.iter().map(|(k, v)| Ok((Value::String(k.clone()), to_connect(value_schema, values, v)?)));
            Value::Map(entries.collect::<Result<_, _>>()?)
        }
        Kind::Record(record) => {
            if !matches!(json, JsonValue::Object(_)) || schema.schema_type() != Type::Struct {
                return Err(Unfit);
            }
            let mut values = vec![Value::Null; schema.fields().len()];
            for avro_field in &record.fields {
                let field = schema.field(&avro_field.name).ok_or(Unfit)?;
                if let Some(v) = json.get(&avro_field.name) {
                    values[field.index()] = to_connect(field.schema(), &avro_field.schema, v)?;
                }
            }
            Value::Struct(Struct::from_values(schema.clone(), values).map_err(|_| Unfit)?)
        }
        Kind::Union(branches) => {
            let first = branches.first().ok_or(Unfit)?;
            if matches!(first.kind, Kind::Null) {
                return Ok(Value::Null);
            }
            if schema.name() != Some(UNION) {
                return to_connect(schema, first, json);
            }
            let (full, simple) = (union_member_name(first, true), union_member_name(first, false));
            let field = schema.field(&full).or_else(|| schema.field(&simple)).ok_or(Unfit)?;
            let mut values = vec![Value::Null; schema.fields().len()];
            values[field.index()] = to_connect(field.schema(), first, json)?;
            Value::Struct(Struct::from_values(schema.clone(), values).map_err(|_| Unfit)?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{logical, SchemaBuilder};

    fn json(schema: &SchemaRef) -> Option<String> {
        schema.default_value().and_then(|d| from_connect(schema, d, false, false).ok()).map(|j| j.to_text())
    }

    #[test]
    fn connect_defaults_as_avrodata_writes_them() {
        let float = SchemaBuilder::float32().default_value(Value::Float32(12.2)).build().expect("float");
        assert_eq!(json(&float).as_deref(), Some("12.2"));
        let double = SchemaBuilder::float64().default_value(Value::Float64(12.2)).build().expect("double");
        assert_eq!(json(&double).as_deref(), Some("12.2"));
        let bytes = SchemaBuilder::bytes().default_value(Value::from(b"foo\xff".to_vec())).build().expect("bytes");
        assert_eq!(json(&bytes).as_deref(), Some("\"fooÿ\""));
        let decimal = logical::decimal(5).default_value(Value::from(vec![0x04u8, 0xcb, 0x2f])).build().expect("dec");
        assert_eq!(json(&decimal).as_deref(), Some("\"\\u0004Ë/\""));
        let int = SchemaBuilder::int32().build().expect("int");
        let map = SchemaBuilder::map(int.clone(), int.clone())
            .default_value(Value::Map(vec![(Value::Int32(1), Value::Int32(1))]))
            .build()
            .expect("map");
        assert_eq!(json(&map).as_deref(), Some("[[1,1]]"));
        let row = SchemaBuilder::struct_()
            .field("a", int.clone())
            .field("b", SchemaBuilder::string().optional().build().expect("b"));
        let bare = row.clone().build().expect("bare");
        let default = Struct::from_values(bare, vec![Value::Int32(5), Value::Null]).expect("struct");
        let row = row.default_value(Value::Struct(default)).build().expect("row");
        assert_eq!(json(&row).as_deref(), Some(r#"{"a":5,"b":null}"#));
    }

    #[test]
    fn valid_defaults_follow_avro() {
        let int = AvroSchema::of(Kind::Int);
        assert!(is_valid(&int, &JsonValue::integer(3)));
        assert!(!is_valid(&int, &JsonValue::integer(1u64 << 40)));
        assert!(!is_valid(&int, &JsonValue::string("3")));
        let nullable = AvroSchema::of(Kind::Union(vec![AvroSchema::of(Kind::Null), AvroSchema::of(Kind::Int)]));
        assert!(is_valid(&nullable, &JsonValue::Null));
        assert!(!is_valid(&nullable, &JsonValue::integer(3)));
        let array = AvroSchema::of(Kind::Array(Box::new(AvroSchema::of(Kind::Long))));
        assert!(is_valid(&array, &JsonValue::Array(vec![JsonValue::integer(1)])));
        assert!(!is_valid(&array, &JsonValue::Array(vec![JsonValue::Array(vec![])])));
    }

    #[test]
    fn avro_defaults_to_connect() {
        let int8 = SchemaBuilder::int8().build().expect("int8");
        assert_eq!(to_connect(&int8, &AvroSchema::of(Kind::Int), &JsonValue::integer(2)), Ok(Value::Int8(2)));
        let bytes = SchemaBuilder::bytes().build().expect("bytes");
        assert_eq!(
            to_connect(&bytes, &AvroSchema::of(Kind::Bytes), &JsonValue::string("a\u{ff}")),
            Ok(Value::from(vec![b'a', 0xff]))
        );
        assert_eq!(to_connect(&bytes, &AvroSchema::of(Kind::Bytes), &JsonValue::string("\u{100}")), Err(Unfit));
        assert_eq!(to_connect(&int8, &AvroSchema::of(Kind::Int), &JsonValue::Null), Ok(Value::Null));
    }
}
