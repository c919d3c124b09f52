//! The canonical JSON text registered schemas are compared by.
//!
//! Two schema strings are the same registered schema when their normalised texts are equal. Normalising:
//! - parses the JSON and writes it back compactly, so whitespace and escapes (`"\u0041"` for `"A"`) do not count;
//! - writes every object's keys in sorted order, so key order does not count;
//! - folds a primitive written as an object with nothing but its type, `{"type": "string"}`, into `"string"`, where
//!   a schema is expected (the root, a field's `type`, `items`, `values`, a union's branches). The specification
//!   says the two are equivalent, and Confluent's registry compares schemas by Avro Java's rendering, which folds
//!   them, so either spelling finds the same id in both registries. Default values and custom properties are left
//!   exactly as written: `{"type": "int"}` there is data, not a schema.
//!
//! It is not Avro's Parsing Canonical Form: that drops `default`, `aliases`, `doc` and logical types, which matter to
//! compatibility and to the schema a client gets back.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::error::SchemaError;

/// Primitive type names, which `{"type": NAME}` folds into.
const PRIMITIVES: &[&str] = &["null", "boolean", "int", "long", "float", "double", "bytes", "string"];

/// The canonical text of `schema_json` (see the module documentation); an error if it is not JSON.
pub fn normalize(schema_json: &str) -> Result<String, SchemaError> {
    let value: Value = serde_json::from_str(schema_json).map_err(SchemaError::InvalidJson)?;
    serde_json::to_string(&Sorted(&fold_schema(value))).map_err(SchemaError::InvalidJson)
}

/// Folds primitive wrappers in a value that stands for a schema.
fn fold_schema(value: Value) -> Value {
    match value {
        Value::Array(branches) => Value::Array(branches.into_iter().map(fold_schema).collect()),
        Value::Object(object) => fold_object(object),
        other => other,
    }
}

fn fold_object(object: Map<String, Value>) -> Value {
    let folded: Map<String, Value> = object
        .into_iter()
        .map(|(key, value)| {
            let value = match key.as_str() {
                "type" | "items" | "values" => fold_schema(value),
                "fields" => fold_fields(value),
                _ => value,
            };
            (key, value)
        })
        .collect();
    match folded.get("type") {
        Some(Value::String(name)) if folded.len() == 1 && PRIMITIVES.contains(&name.as_str()) => {
            Value::String(name.clone())
        }
        _ => Value::Object(folded),
    }
}

/// A record's `fields`: only each field's `type` is a schema.
fn fold_fields(fields: Value) -> Value {
    match fields {
        Value::Array(fields) => Value::Array(
            fields
                .into_iter()
                .map(|field| match field {
                    Value::Object(field) => Value::Object(
                        field
                            .into_iter()
                            .map(|(key, value)| {
                                let value = if key == "type" { fold_schema(value) } else { value };
                                (key, value)
                            })
                            .collect(),
                    ),
                    other => other,
                })
                .collect(),
        ),
        other => other,
    }
}

/// Serialises a JSON value with every object's keys in sorted order, whatever order `serde_json::Map` keeps.
struct Sorted<'a>(&'a Value);

impl Serialize for Sorted<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(object) => {
                let mut entries: Vec<(&String, &Value)> = object.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, &Sorted(value))?;
                }
                map.end()
            }
            Value::Array(items) => serializer.collect_seq(items.iter().map(Sorted)),
            other => other.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) -> Result<bool, SchemaError> {
        Ok(normalize(a)? == normalize(b)?)
    }

    #[test]
    fn ignores_whitespace_key_order_and_escapes() -> Result<(), SchemaError> {
        let compact = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":1}]}"#;
        let spaced = "{ \"name\" : \"\\u0052\",\n  \"fields\": [ {\"default\": 1, \"type\": \"int\", \"name\": \"a\"} ],\n  \"type\": \"record\" }";
        assert!(same(compact, spaced)?);
        assert_eq!(
            normalize(spaced)?,
            r#"{"fields":[{"default":1,"name":"a","type":"int"}],"name":"R","type":"record"}"#
        );
        Ok(())
    }

    #[test]
    fn keeps_what_matters_to_compatibility() -> Result<(), SchemaError> {
        let base = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":1}]}"#;
        let other_default = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":2}]}"#;
        let no_default = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#;
        let aliased =
            r#"{"type":"record","name":"R","aliases":["Old"],"fields":[{"name":"a","type":"int","default":1}]}"#;
        let reordered =
            r#"{"type":"record","name":"R","fields":[{"name":"b","type":"int"},{"name":"a","type":"int"}]}"#;
        let original = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int"}]}"#;
        assert!(!same(base, other_default)?);
        assert!(!same(base, no_default)?);
        assert!(!same(base, aliased)?);
        assert!(!same(reordered, original)?, "field order is part of the schema");
        assert!(!same(r#"["null","int"]"#, r#"["int","null"]"#)?, "union order is part of the schema");
        Ok(())
    }

    #[test]
    fn folds_primitive_wrappers_where_a_schema_is_expected() -> Result<(), SchemaError> {
        assert_eq!(normalize(r#"{"type":"string"}"#)?, r#""string""#);
        assert_eq!(normalize(r#"{"type":{"type":"long"}}"#)?, r#""long""#);
        assert!(same(
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"string"}}]}"#,
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}"#
        )?);
        assert!(same(r#"{"type":"array","items":{"type":"int"}}"#, r#"{"type":"array","items":"int"}"#)?);
        assert!(same(r#"{"type":"map","values":{"type":"int"}}"#, r#"{"type":"map","values":"int"}"#)?);
        assert!(same(r#"[{"type":"null"},"int"]"#, r#"["null","int"]"#)?);
        Ok(())
    }

    #[test]
    fn leaves_logical_types_defaults_and_properties_alone() -> Result<(), SchemaError> {
        assert!(!same(r#"{"type":"int","logicalType":"date"}"#, r#""int""#)?);
        let default_object = r#"{"type":"record","name":"R","fields":[{"name":"a","type":
            {"type":"record","name":"T","fields":[{"name":"type","type":"string"}]},"default":{"type":"int"}}]}"#;
        assert!(normalize(default_object)?.contains(r#""default":{"type":"int"}"#));
        let property = r#"{"type":"string","meta":{"type":"int"}}"#;
        assert_eq!(normalize(property)?, r#"{"meta":{"type":"int"},"type":"string"}"#);
        Ok(())
    }

    #[test]
    fn distinguishes_different_types_and_names() -> Result<(), SchemaError> {
        assert!(!same(r#""int""#, r#""long""#)?);
        assert!(!same(r#"{"type":"fixed","name":"F","size":4}"#, r#"{"type":"fixed","name":"F","size":8}"#)?);
        assert!(!same(
            r#"{"type":"enum","name":"E","symbols":["A","B"]}"#,
            r#"{"type":"enum","name":"E","symbols":["B","A"]}"#
        )?);
        Ok(())
    }

    #[test]
    fn rejects_text_that_is_not_json() {
        assert!(matches!(normalize("{\"type\":"), Err(SchemaError::InvalidJson(_))));
        assert!(matches!(normalize(""), Err(SchemaError::InvalidJson(_))));
    }
}
