//! Helpers the transforms share, after Kafka's `SchemaUtil` and `Requirements`: copying a schema's basics,
//! requiring a struct or a map, reading struct fields with their defaults, editing schemaless maps.

use crate::data::{Schema, SchemaBuilder, SchemaError, SchemaRef, Struct, Type, Value};

use super::error::TransformError;

/// A STRUCT builder with `schema`'s name, version, doc and parameters and no fields (Kafka's
/// `SchemaUtil.copySchemaBasics(schema, SchemaBuilder.struct())`: optionality and default are not copied).
pub(crate) fn struct_like(schema: &Schema) -> SchemaBuilder {
    basics(schema, SchemaBuilder::struct_())
}

/// `schema` made optional, without a default: the schema Debezium gives a metadata field or header it copies
/// (`SchemaUtil.copySchemaBasics(schema).optional()`, with the fields, elements and entries kept).
pub(crate) fn optional_copy(schema: &Schema) -> Result<SchemaRef, SchemaError> {
    let builder = match schema.schema_type() {
        Type::Struct => {
            schema.fields().iter().fold(SchemaBuilder::struct_(), |b, f| b.field(f.name(), f.schema().clone()))
        }
        Type::Array => match schema.value_schema() {
            Some(element) => SchemaBuilder::array(element.clone()),
            None => return SchemaBuilder::bytes().optional().build(),
        },
        Type::Map => match (schema.key_schema(), schema.value_schema()) {
            (Some(k), Some(v)) => SchemaBuilder::map(k.clone(), v.clone()),
            _ => return SchemaBuilder::bytes().optional().build(),
        },
        kind => SchemaBuilder::primitive(kind).unwrap_or_else(SchemaBuilder::bytes),
    };
    basics(schema, builder).optional().build()
}

fn basics(schema: &Schema, mut builder: SchemaBuilder) -> SchemaBuilder {
    if let Some(name) = schema.name() {
        builder = builder.name(name);
    }
    if let Some(version) = schema.version() {
        builder = builder.version(version);
    }
    if let Some(doc) = schema.doc() {
        builder = builder.doc(doc);
    }
    schema.parameters().iter().fold(builder, |b, (k, v)| b.parameter(k.clone(), v.clone()))
}

/// The struct in `value`, or Kafka's `Only Struct objects supported for [purpose], found: TYPE`.
pub(crate) fn require_struct<'a>(value: &'a Value, purpose: &str) -> Result<&'a Struct, TransformError> {
    value.as_struct().ok_or_else(|| {
        TransformError::new(format!("Only Struct objects supported for [{purpose}], found: {}", value.type_name()))
    })
}

/// The entries of the map in `value`, or Kafka's `Only Map objects supported in absence of schema for [purpose]`.
pub(crate) fn require_map(value: Value, purpose: &str) -> Result<Vec<(Value, Value)>, TransformError> {
    match value {
        Value::Map(entries) => Ok(entries),
        other => Err(TransformError::new(format!(
            "Only Map objects supported in absence of schema for [{purpose}], found: {}",
            other.type_name()
        ))),
    }
}

/// The value of field `index` of `value`, its default in place of a null when `with_default` (Kafka's
/// `Struct.get` versus `getWithoutDefault`, the `replace.null.with.default` setting).
pub(crate) fn field_value(value: &Struct, index: usize, with_default: bool) -> Value {
    let stored = value.get_index(index).cloned().unwrap_or(Value::Null);
    if with_default && stored.is_null() {
        if let Some(default) = value.schema().fields().get(index).and_then(|f| f.schema().default_value()) {
            return default.clone();
        }
    }
    stored
}

/// The value under the string key `name` in a schemaless map.
pub(crate) fn map_get<'a>(entries: &'a [(Value, Value)], name: &str) -> Option<&'a Value> {
    entries.iter().find(|(k, _)| k.as_str() == Some(name)).map(|(_, v)| v)
}

/// Sets the string key `name` of a schemaless map (in place when present, appended otherwise: `Map.put`).
pub(crate) fn map_put(entries: &mut Vec<(Value, Value)>, name: &str, value: Value) {
    match entries.iter_mut().find(|(k, _)| k.as_str() == Some(name)) {
        Some(entry) => entry.1 = value,
        None => entries.push((Value::String(name.to_owned()), value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_basics_and_makes_optional() {
        let schema = SchemaBuilder::int64()
            .name("io.debezium.time.Timestamp")
            .version(1)
            .doc("d")
            .parameter("p", "1")
            .default_value(Value::Int64(0))
            .build()
            .expect("schema");
        let copy = optional_copy(&schema).expect("copy");
        assert!(copy.is_optional());
        assert_eq!(copy.name(), Some("io.debezium.time.Timestamp"));
        assert_eq!(copy.parameter("p"), Some("1"));
        assert_eq!(copy.default_value(), None);
        let row = SchemaBuilder::struct_().name("r").optional().field("a", schema).build().expect("row");
        let shell = struct_like(&row).build().expect("shell");
        assert_eq!((shell.name(), shell.fields().len(), shell.is_optional()), (Some("r"), 0, false));
        assert_eq!(optional_copy(&row).expect("row copy").fields().len(), 1);
    }

    #[test]
    fn requirements_and_maps() {
        assert_eq!(
            require_struct(&Value::Int8(1), "x").err().map(|e| e.message),
            Some("Only Struct objects supported for [x], found: INT8".to_owned())
        );
        assert!(require_map(Value::Null, "x").is_err());
        let mut map = require_map(Value::Map(vec![(Value::from("a"), Value::Int8(1))]), "x").expect("map");
        map_put(&mut map, "a", Value::Int8(2));
        map_put(&mut map, "b", Value::Int8(3));
        assert_eq!(map_get(&map, "a"), Some(&Value::Int8(2)));
        assert_eq!(map.len(), 2);
    }
}
