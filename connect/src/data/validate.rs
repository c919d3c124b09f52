//! Checking a [`Value`] against a [`Schema`], as Kafka's `ConnectSchema.validateValue` does, with the path to the
//! first part that does not fit.
//!
//! The rules: a null fits a schema that is optional or has a default (a converter writes the default); every
//! other value must be of the schema's type; a struct must have been built against the same schema (defaults
//! aside); Kafka's logical types add their own checks (a DECIMAL schema needs its `scale` and a value with bytes, a
//! TIME lies within a day).

use super::decimal::DecimalError;
use super::error::{Reason, ValidationError};
use super::logical::{Logical, MILLIS_PER_DAY};
use super::path::Path;
use super::schema::{Schema, Type};
use super::value::{Struct, Value};

/// Checks `value` against `schema`, all the way down.
pub fn validate(schema: &Schema, value: &Value) -> Result<(), ValidationError> {
    check(schema, value, &Path::Root)
}

/// Checks `value` against `schema` at `path`.
pub(crate) fn check(schema: &Schema, value: &Value, path: &Path<'_>) -> Result<(), ValidationError> {
    if value.is_null() {
        return match schema.is_optional() || schema.default_value().is_some() {
            true => Ok(()),
            false => Err(path.error(Reason::NullForRequired(schema.schema_type()))),
        };
    }
    match (schema.schema_type(), value) {
        (Type::Int8, Value::Int8(_))
        | (Type::Int16, Value::Int16(_))
        | (Type::Int64, Value::Int64(_))
        | (Type::Float32, Value::Float32(_))
        | (Type::Float64, Value::Float64(_))
        | (Type::Boolean, Value::Boolean(_))
        | (Type::String, Value::String(_)) => check_logical(schema, path),
        (Type::Int32, Value::Int32(v)) => match Logical::of(schema) {
            Ok(Some(Logical::Time)) if !(0..MILLIS_PER_DAY).contains(v) => Err(path.error(Reason::TimeOutOfRange(*v))),
            Ok(_) => Ok(()),
            Err(reason) => Err(path.error(reason)),
        },
        (Type::Bytes, Value::Bytes(bytes)) => match Logical::of(schema) {
            Ok(Some(Logical::Decimal { .. })) if bytes.is_empty() => Err(path.error(DecimalError::Empty)),
            Ok(_) => Ok(()),
            Err(reason) => Err(path.error(reason)),
        },
        (Type::Array, Value::Array(items)) => match schema.value_schema() {
            Some(item_schema) => {
                items.iter().enumerate().try_for_each(|(i, item)| check(item_schema, item, &path.index(i)))
            }
            None => Ok(()),
        },
        (Type::Map, Value::Map(entries)) => match (schema.key_schema(), schema.value_schema()) {
            (Some(key_schema), Some(value_schema)) => entries.iter().enumerate().try_for_each(|(i, (k, v))| {
                check(key_schema, k, &path.map_key(i))?;
                check(value_schema, v, &path.map_value(i))
            }),
            _ => Ok(()),
        },
        (Type::Struct, Value::Struct(s)) => {
            if !s.schema().eq_ignoring_default(schema) {
                return Err(path.error(Reason::StructSchemaMismatch {
                    expected: schema.to_string(),
                    found: s.schema().to_string(),
                }));
            }
            check_fields(s, path)
        }
        (expected, found) => Err(path.error(Reason::TypeMismatch { expected, found: found.type_name() })),
    }
}

/// Checks every field of a struct against its own schema.
pub(crate) fn check_fields(s: &Struct, path: &Path<'_>) -> Result<(), ValidationError> {
    s.schema()
        .fields()
        .iter()
        .zip(s.values())
        .try_for_each(|(field, v)| check(field.schema(), v, &path.field(field.name())))
}

/// A schema with one of Kafka's logical names must fit it.
fn check_logical(schema: &Schema, path: &Path<'_>) -> Result<(), ValidationError> {
    Logical::of(schema).map(|_| ()).map_err(|reason| path.error(reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{logical, SchemaBuilder, SchemaRef};
    use bytes::Bytes;

    fn path_and_reason(schema: &Schema, value: &Value) -> Option<(String, Reason)> {
        validate(schema, value).err().map(|e| (e.path, e.reason))
    }

    fn int32() -> SchemaRef {
        SchemaBuilder::int32().build().expect("int32")
    }

    #[test]
    fn primitives_must_match_their_type() {
        let pairs = [
            (SchemaBuilder::int8(), Value::Int8(1)),
            (SchemaBuilder::int16(), Value::Int16(1)),
            (SchemaBuilder::int32(), Value::Int32(1)),
            (SchemaBuilder::int64(), Value::Int64(1)),
            (SchemaBuilder::float32(), Value::Float32(1.0)),
            (SchemaBuilder::float64(), Value::Float64(1.0)),
            (SchemaBuilder::boolean(), Value::Boolean(true)),
            (SchemaBuilder::string(), Value::from("s")),
            (SchemaBuilder::bytes(), Value::from(vec![1u8])),
        ];
        for (builder, value) in pairs {
            let schema = builder.build().expect("schema");
            assert_eq!(validate(&schema, &value), Ok(()));
        }
        let reason = Reason::TypeMismatch { expected: Type::Float64, found: "BOOLEAN" };
        let float64 = SchemaBuilder::float64().build().expect("float64");
        assert_eq!(path_and_reason(&float64, &Value::Boolean(true)), Some(("$".to_owned(), reason)));
    }

    #[test]
    fn null_needs_optional_or_default() {
        assert_eq!(
            path_and_reason(&int32(), &Value::Null),
            Some(("$".to_owned(), Reason::NullForRequired(Type::Int32)))
        );
        assert_eq!(validate(&SchemaBuilder::int32().optional().build().expect("opt"), &Value::Null), Ok(()));
        let defaulted = SchemaBuilder::int32().default_value(Value::Int32(0)).build().expect("default");
        assert_eq!(validate(&defaulted, &Value::Null), Ok(()));
    }

    #[test]
    fn containers_report_the_path() {
        let array = SchemaBuilder::array(int32()).build().expect("array");
        let bad = Value::Array(vec![Value::Int32(1), Value::Null]);
        assert_eq!(path_and_reason(&array, &bad), Some(("$[1]".to_owned(), Reason::NullForRequired(Type::Int32))));
        let map = SchemaBuilder::map(int32(), SchemaBuilder::string().build().expect("s")).build().expect("map");
        let bad_key = Value::Map(vec![(Value::Int32(1), Value::from("a")), (Value::from("k"), Value::from("b"))]);
        let mismatch = Reason::TypeMismatch { expected: Type::Int32, found: "STRING" };
        assert_eq!(path_and_reason(&map, &bad_key), Some(("${key #1}".to_owned(), mismatch)));
        let bad_value = Value::Map(vec![(Value::Int32(1), Value::Int32(2))]);
        assert_eq!(path_and_reason(&map, &bad_value).map(|p| p.0), Some("${value #0}".to_owned()));
        let row = SchemaBuilder::struct_().field("tags", array).build().expect("row");
        let mut value = Struct::new(row.clone()).expect("struct");
        value.put("tags", Value::Array(vec![])).expect("tags");
        assert_eq!(validate(&row, &Value::Struct(value)), Ok(()));
        let unchecked = Struct::from_values(row.clone(), vec![bad]).expect("unchecked");
        assert_eq!(path_and_reason(&row, &Value::Struct(unchecked)).map(|p| p.0), Some("$.tags[1]".to_owned()));
    }

    #[test]
    fn structs_must_share_the_schema() {
        let a = SchemaBuilder::struct_().name("a").field("x", int32()).build().expect("a");
        let b = SchemaBuilder::struct_().name("b").field("x", int32()).build().expect("b");
        let value = Value::Struct(Struct::from_values(b, vec![Value::Int32(1)]).expect("b value"));
        let expected = Reason::StructSchemaMismatch {
            expected: "Schema{a:STRUCT}".to_owned(),
            found: "Schema{b:STRUCT}".to_owned(),
        };
        assert_eq!(path_and_reason(&a, &value), Some(("$".to_owned(), expected)));
    }

    #[test]
    fn logical_types() {
        let decimal = logical::decimal(2).build().expect("decimal");
        assert_eq!(validate(&decimal, &Value::Bytes(Bytes::from_static(&[0, 0x9c]))), Ok(()));
        assert_eq!(
            path_and_reason(&decimal, &Value::from(Vec::<u8>::new())).map(|p| p.1),
            Some(Reason::Decimal(DecimalError::Empty))
        );
        let time = logical::time().build().expect("time");
        assert_eq!(validate(&time, &Value::Int32(MILLIS_PER_DAY - 1)), Ok(()));
        assert_eq!(
            path_and_reason(&time, &Value::Int32(MILLIS_PER_DAY)).map(|p| p.1),
            Some(Reason::TimeOutOfRange(MILLIS_PER_DAY))
        );
        assert_eq!(validate(&logical::date().build().expect("date"), &Value::Int32(-1)), Ok(()));
        let wrong = SchemaBuilder::string().name(logical::TIMESTAMP).build().expect("wrong");
        let reason = Reason::LogicalType { name: logical::TIMESTAMP, expected: Type::Int64, found: Type::String };
        assert_eq!(path_and_reason(&wrong, &Value::from("x")).map(|p| p.1), Some(reason));
    }
}
