//! JSON to a [`Value`], Kafka's `JsonConverter.convertToConnect`, but strict where Kafka is lax (Kafka reads
//! `"x"` for an INT32 as 0 and wraps 300 into an INT8; here both are errors naming the path).
//!
//! With a schema: a null or missing member takes the default (with `replace.null.with.default`) or stays null where
//! the schema is optional; a DECIMAL is read from base64 or from a number at the schema's scale; a map with STRING
//! keys is an object, any other map an array of `[key, value]` pairs; a struct's members are found by name (in
//! one pass when they come in field order, as Kafka writes them), others ignored. FLOAT32 and FLOAT64 also take
//! the strings `"NaN"`, `"Infinity"` and `"-Infinity"`, which is how Kafka writes them.
//!
//! Without a schema, as Kafka infers: integers are INT64, other numbers FLOAT64, objects maps with string keys.

use std::borrow::Cow;
use std::collections::HashMap;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;

use super::parse::{is_integral, Json};
use crate::converters::JsonConverterConfig;
use crate::data::decimal::{self, DecimalError};
use crate::data::logical::Logical;
use crate::data::{Path, Reason, SchemaRef, Struct, Type, ValidationError, Value};

/// The value of `json` (`None`: a missing struct member) under `schema` (`None`: inferred from the JSON).
pub(crate) fn value(
    schema: Option<&SchemaRef>,
    json: Option<&Json<'_>>,
    config: &JsonConverterConfig,
    path: &Path<'_>,
) -> Result<Value, ValidationError> {
    let Some(schema) = schema else {
        return json.map_or(Ok(Value::Null), |json| schemaless(json, path));
    };
    let Some(json) = json.filter(|j| !matches!(j, Json::Null)) else {
        return match schema.default_value() {
            Some(default) if config.replace_null_with_default => Ok(default.clone()),
            _ if schema.is_optional() => Ok(Value::Null),
            _ => Err(path.error(Reason::NullForRequired(schema.schema_type()))),
        };
    };
    let kind = schema.schema_type();
    Ok(match (kind, json) {
        (Type::Boolean, Json::Bool(b)) => Value::Boolean(*b),
        (Type::Int8, Json::Number(n)) => Value::Int8(integer(n, kind, path)?),
        (Type::Int16, Json::Number(n)) => Value::Int16(integer(n, kind, path)?),
        (Type::Int32, Json::Number(n)) => Value::Int32(integer(n, kind, path)?),
        (Type::Int64, Json::Number(n)) => Value::Int64(integer(n, kind, path)?),
        (Type::Float32, Json::Number(n)) => Value::Float32(float(n, kind, path)?),
        (Type::Float64, Json::Number(n)) => Value::Float64(float(n, kind, path)?),
        (Type::Float32, Json::String(s)) if non_finite::<f32>(s).is_some() => Value::Float32(float(s, kind, path)?),
        (Type::Float64, Json::String(s)) if non_finite::<f64>(s).is_some() => Value::Float64(float(s, kind, path)?),
        (Type::String, Json::String(s)) => Value::String(s.as_ref().to_owned()),
        (Type::Bytes, Json::String(s)) => {
            let bytes = STANDARD.decode(s.as_bytes()).map_err(|_| path.error(Reason::Base64))?;
            if bytes.is_empty() && matches!(logical(schema, path)?, Some(Logical::Decimal { .. })) {
                return Err(path.error(DecimalError::Empty));
            }
            Value::Bytes(Bytes::from(bytes))
        }
        (Type::Bytes, Json::Number(n)) => match logical(schema, path)? {
            Some(Logical::Decimal { scale }) => Value::Bytes(decimal::from_text(n, scale).map_err(|e| path.error(e))?),
            _ => return Err(path.error(Reason::TypeMismatch { expected: kind, found: json.kind() })),
        },
        (Type::Array, Json::Array(items)) => {
            let items_schema = schema.value_schema();
            let items =
                items.iter().enumerate().map(|(i, item)| value(items_schema, Some(item), config, &path.index(i)));
            Value::Array(items.collect::<Result<_, _>>()?)
        }
        (Type::Map, json) => map(schema.key_schema(), schema.value_schema(), json, config, path)?,
        (Type::Struct, Json::Object(members)) => fields(schema, members, config, path)?,
        _ => return Err(path.error(Reason::TypeMismatch { expected: kind, found: json.kind() })),
    })
}

/// The value of `json` without a schema.
pub(crate) fn schemaless(json: &Json<'_>, path: &Path<'_>) -> Result<Value, ValidationError> {
    Ok(match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) if is_integral(n) => Value::Int64(integer(n, Type::Int64, path)?),
        Json::Number(n) => Value::Float64(float(n, Type::Float64, path)?),
        Json::String(s) => Value::String(s.as_ref().to_owned()),
        Json::Array(items) => {
            let items = items.iter().enumerate().map(|(i, item)| schemaless(item, &path.index(i)));
            Value::Array(items.collect::<Result<_, _>>()?)
        }
        Json::Object(members) => {
            let entries = last_members(members)
                .enumerate()
                .map(|(i, (k, v))| Ok((Value::String(k.as_ref().to_owned()), schemaless(v, &path.map_value(i))?)));
            Value::Map(entries.collect::<Result<_, _>>()?)
        }
    })
}

fn logical(schema: &SchemaRef, path: &Path<'_>) -> Result<Option<Logical>, ValidationError> {
    Logical::of(schema).map_err(|reason| path.error(reason))
}

fn integer<T: FromStr>(text: &str, expected: Type, path: &Path<'_>) -> Result<T, ValidationError> {
    if !is_integral(text) {
        return Err(path.error(Reason::TypeMismatch { expected, found: "JSON fractional number" }));
    }
    text.parse().map_err(|_| path.error(Reason::OutOfRange { expected, text: text.to_owned() }))
}

/// A float from a JSON number, or from Jackson's strings for the non-finite ones.
fn float<T: FromStr + Copy>(text: &str, expected: Type, path: &Path<'_>) -> Result<T, ValidationError> {
    non_finite(text)
        .map_or_else(|| text.parse(), Ok)
        .map_err(|_| path.error(Reason::OutOfRange { expected, text: text.to_owned() }))
}

/// `NaN`, `Infinity` and `-Infinity`, as Java writes them.
fn non_finite<T: FromStr>(text: &str) -> Option<T> {
    match text {
        "NaN" => "NaN".parse().ok(),
        "Infinity" => "inf".parse().ok(),
        "-Infinity" => "-inf".parse().ok(),
        _ => None,
    }
}

fn map(
    keys: Option<&SchemaRef>,
    values: Option<&SchemaRef>,
    json: &Json<'_>,
    config: &JsonConverterConfig,
    path: &Path<'_>,
) -> Result<Value, ValidationError> {
    let mismatch = || path.error(Reason::TypeMismatch { expected: Type::Map, found: json.kind() });
    let entries = match (keys.is_none_or(|k| k.schema_type() == Type::String), json) {
        (true, Json::Object(members)) => last_members(members)
            .enumerate()
            .map(|(i, (k, v))| {
                Ok((Value::String(k.as_ref().to_owned()), value(values, Some(v), config, &path.map_value(i))?))
            })
            .collect::<Result<_, _>>()?,
        (false, Json::Array(pairs)) => pairs
            .iter()
            .enumerate()
            .map(|(i, pair)| match pair {
                Json::Array(kv) if kv.len() == 2 => Ok((
                    value(keys, Some(&kv[0]), config, &path.map_key(i))?,
                    value(values, Some(&kv[1]), config, &path.map_value(i))?,
                )),
                _ => Err(path.index(i).error(Reason::MapEntry)),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(mismatch()),
    };
    Ok(Value::Map(entries))
}

fn fields(
    schema: &SchemaRef,
    members: &[(Cow<'_, str>, Json<'_>)],
    config: &JsonConverterConfig,
    path: &Path<'_>,
) -> Result<Value, ValidationError> {
    let fields = schema.fields();
    let in_order = members.len() == fields.len() && members.iter().zip(fields).all(|((k, _), f)| k == f.name());
    let values = fields.iter().enumerate().map(|(i, field)| {
        let member = match in_order {
            true => Some(&members[i].1),
            false => members.iter().rev().find(|(k, _)| k == field.name()).map(|(_, v)| v),
        };
        value(Some(field.schema()), member, config, &path.field(field.name()))
    });
    Ok(Value::Struct(Struct::from_parts(schema.clone(), values.collect::<Result<_, _>>()?)))
}

/// An object's members without the ones a later member of the same name replaces (Jackson keeps the last).
fn last_members<'m, 'a>(
    members: &'m [(Cow<'a, str>, Json<'a>)],
) -> impl Iterator<Item = (&'m Cow<'a, str>, &'m Json<'a>)> {
    let last: Option<HashMap<&str, usize>> =
        (members.len() > 1).then(|| members.iter().enumerate().map(|(i, (k, _))| (k.as_ref(), i)).collect());
    members
        .iter()
        .enumerate()
        .filter(move |(i, (k, _))| last.as_ref().is_none_or(|last| last.get(k.as_ref()) == Some(i)))
        .map(|(_, (k, v))| (k, v))
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse;
    use super::*;
    use crate::converters::ConverterType;
    use crate::data::{logical, SchemaBuilder};

    const CONFIG: JsonConverterConfig = JsonConverterConfig::new(ConverterType::Value);

    fn read(schema: &SchemaRef, text: &str) -> Result<Value, ValidationError> {
        let json = parse(text.as_bytes()).ok().flatten().unwrap_or(Json::Null);
        value(Some(schema), Some(&json), &CONFIG, &Path::Root)
    }

    fn inferred(text: &str) -> Result<Value, ValidationError> {
        let json = parse(text.as_bytes()).ok().flatten().unwrap_or(Json::Null);
        value(None, Some(&json), &CONFIG, &Path::Root)
    }

    fn schema(builder: SchemaBuilder) -> SchemaRef {
        builder.build().expect("schema")
    }

    #[test]
    fn integers_are_strict() {
        assert_eq!(read(&schema(SchemaBuilder::int8()), "-128"), Ok(Value::Int8(-128)));
        let out_of_range = Reason::OutOfRange { expected: Type::Int8, text: "300".to_owned() };
        assert_eq!(read(&schema(SchemaBuilder::int8()), "300").map_err(|e| e.reason), Err(out_of_range));
        let fraction = Reason::TypeMismatch { expected: Type::Int32, found: "JSON fractional number" };
        assert_eq!(read(&schema(SchemaBuilder::int32()), "1.5").map_err(|e| e.reason), Err(fraction));
        let text = Reason::TypeMismatch { expected: Type::Int64, found: "JSON string" };
        assert_eq!(read(&schema(SchemaBuilder::int64()), "\"12\"").map_err(|e| e.reason), Err(text));
        assert_eq!(read(&schema(SchemaBuilder::int16()), "-0"), Ok(Value::Int16(0)));
    }

    #[test]
    fn floats_read_numbers_and_javas_words() {
        assert_eq!(read(&schema(SchemaBuilder::float32()), "12.34"), Ok(Value::Float32(12.34)));
        assert_eq!(read(&schema(SchemaBuilder::float64()), "12"), Ok(Value::Float64(12.0)));
        assert_eq!(read(&schema(SchemaBuilder::float64()), "\"NaN\""), Ok(Value::Float64(f64::NAN)));
        assert_eq!(read(&schema(SchemaBuilder::float32()), "\"-Infinity\""), Ok(Value::Float32(f32::NEG_INFINITY)));
        assert!(read(&schema(SchemaBuilder::float64()), "\"1.5\"").is_err());
    }

    #[test]
    fn nulls_defaults_and_missing_members() {
        let row = schema(
            SchemaBuilder::struct_()
                .field("required", schema(SchemaBuilder::string()))
                .field("optional", schema(SchemaBuilder::string().optional()))
                .field("defaulted", schema(SchemaBuilder::int32().default_value(Value::Int32(9)))),
        );
        let values = |text| read(&row, text).map(|v| v.as_struct().map(|s| s.values().to_vec()));
        let expected = vec![Value::from("x"), Value::Null, Value::Int32(9)];
        assert_eq!(values(r#"{"required":"x"}"#), Ok(Some(expected.clone())));
        assert_eq!(values(r#"{"defaulted":null,"optional":null,"required":"x","extra":1}"#), Ok(Some(expected)));
        assert_eq!(
            values(r#"{"required":"x","optional":"a","defaulted":1}"#).map(|v| v.map(|v| v[2].clone())),
            Ok(Some(Value::Int32(1)))
        );
        assert_eq!(
            values(r#"{"required":"y","required":"x"}"#).map(|v| v.map(|v| v[0].clone())),
            Ok(Some(Value::from("x")))
        );
        let missing = values(r#"{"optional":"a"}"#).map_err(|e| (e.path, e.reason));
        assert_eq!(missing, Err(("$.required".to_owned(), Reason::NullForRequired(Type::String))));
        let keep_null = JsonConverterConfig { replace_null_with_default: false, ..CONFIG };
        let optional = schema(SchemaBuilder::int32().optional().default_value(Value::Int32(9)));
        assert_eq!(value(Some(&optional), None, &keep_null, &Path::Root), Ok(Value::Null));
    }

    #[test]
    fn decimals_from_base64_or_numbers() {
        let decimal = schema(logical::decimal(2));
        let unscaled = Value::from(vec![0u8, 0x9c]);
        assert_eq!(read(&decimal, "\"AJw=\""), Ok(unscaled.clone()));
        assert_eq!(read(&decimal, "1.56"), Ok(unscaled.clone()));
        assert_eq!(read(&decimal, "1.5600"), Ok(unscaled));
        assert!(matches!(
            read(&decimal, "1.567").map_err(|e| e.reason),
            Err(Reason::Decimal(DecimalError::Scale { .. }))
        ));
        assert_eq!(read(&decimal, "\"\"").map_err(|e| e.reason), Err(Reason::Decimal(DecimalError::Empty)));
        assert_eq!(read(&decimal, "\"not base64\"").map_err(|e| e.reason), Err(Reason::Base64));
        let fraction = Reason::TypeMismatch { expected: Type::Bytes, found: "JSON integer" };
        assert_eq!(read(&schema(SchemaBuilder::bytes()), "12").map_err(|e| e.reason), Err(fraction));
    }

    #[test]
    fn maps_as_objects_or_pairs() {
        let int32 = schema(SchemaBuilder::int32());
        let by_name = schema(SchemaBuilder::map(schema(SchemaBuilder::string()), int32.clone()));
        let entries = vec![(Value::from("b"), Value::Int32(3)), (Value::from("a"), Value::Int32(2))];
        assert_eq!(read(&by_name, r#"{"a":1,"b":3,"a":2}"#), Ok(Value::Map(entries)));
        let by_number = schema(SchemaBuilder::map(int32.clone(), int32.clone()));
        let pairs = vec![(Value::Int32(1), Value::Int32(12)), (Value::Int32(2), Value::Int32(15))];
        assert_eq!(read(&by_number, "[ [1, 12], [2, 15] ]"), Ok(Value::Map(pairs)));
        assert_eq!(
            read(&by_number, "[[1, 12], [2]]").map_err(|e| (e.path, e.reason)),
            Err(("$[1]".to_owned(), Reason::MapEntry))
        );
        assert_eq!(
            read(&by_number, r#"{"1":12}"#).map_err(|e| e.reason),
            Err(Reason::TypeMismatch { expected: Type::Map, found: "JSON object" })
        );
        assert_eq!(read(&by_number, r#"[[1, "x"]]"#).map_err(|e| e.path), Err("${value #0}".to_owned()));
    }

    #[test]
    fn inference_without_a_schema() {
        assert_eq!(inferred("12"), Ok(Value::Int64(12)));
        assert_eq!(inferred("12.24"), Ok(Value::Float64(12.24)));
        assert_eq!(inferred("1e2"), Ok(Value::Float64(100.0)));
        assert_eq!(
            inferred("[1, \"2\", 3, null, true]"),
            Ok(Value::Array(vec![
                Value::Int64(1),
                Value::from("2"),
                Value::Int64(3),
                Value::Null,
                Value::Boolean(true)
            ]))
        );
        let object = Value::Map(vec![(Value::from("a"), Value::from("")), (Value::from("b"), Value::Null)]);
        assert_eq!(inferred(r#"{ "a": "", "b": null}"#), Ok(object));
        let too_big = Reason::OutOfRange { expected: Type::Int64, text: "9223372036854775808".to_owned() };
        assert_eq!(inferred("9223372036854775808").map_err(|e| e.reason), Err(too_big));
        assert_eq!(value(None, None, &CONFIG, &Path::Root), Ok(Value::Null));
    }
}
