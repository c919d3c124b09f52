//! `table.expand.json.payload`: a JSON object held in a string becomes a struct, with a Connect schema inferred
//! from the document as Debezium's `JsonSchemaData` infers it: every schema optional; strings, booleans; integers
//! INT32 when they fit, else INT64; other numbers FLOAT64; objects STRUCTs named after their path (`payload`,
//! `payload.customer`); arrays of the first non-null element's schema (arrays of objects merge their elements'
//! fields); empty arrays and nulls left out (nulls become optional BYTES with `optional_bytes`). Fields keep the
//! document's order. A document this cannot type (a heterogeneous array, an integer beyond 64 bits, a top level
//! that is not an object) is not expanded: the payload stays the string, as in Debezium.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::data::{Schema, SchemaBuilder, SchemaRef, Struct, Type, Value};

use super::super::schema_util::struct_like;

/// A JSON document with object members in document order.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer beyond `i64` (Jackson's `BigIntegerNode`, which Debezium cannot type either).
    BigInt,
    Float(f64),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn kind(&self) -> u8 {
        match self {
            Json::Null => 0,
            Json::Bool(_) => 1,
            Json::Int(_) | Json::BigInt | Json::Float(_) => 2,
            Json::String(_) => 3,
            Json::Array(_) => 4,
            Json::Object(_) => 5,
        }
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(i64::try_from(v).map_or(Json::BigInt, Json::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(Json::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members: Vec<(String, Json)> = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Json>()? {
            match members.iter_mut().find(|(k, _)| *k == key) {
                Some(member) => member.1 = value, // Jackson: the last value, in the first position
                None => members.push((key, value)),
            }
        }
        Ok(Json::Object(members))
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

/// Expands JSON payloads into structs (`table.json.payload.null.behavior` decides what nulls become).
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonExpander {
    /// `optional_bytes`: a JSON null becomes an optional BYTES field; `ignore` (false): it is left out.
    pub(crate) nulls_as_bytes: bool,
}

impl JsonExpander {
    /// The schema and struct of the JSON object in `text`, the top-level struct named `name`; the error says why
    /// the payload stays a string.
    pub(crate) fn expand(&self, name: &str, text: &str) -> Result<(SchemaRef, Value), String> {
        if !text.starts_with('{') && !text.starts_with('[') {
            return Err(format!("a payload starting with {:?} is not JSON", text.chars().next().unwrap_or(' ')));
        }
        let document: Json = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
        let schema = self.schema_of(name, &document)?.ok_or("a payload with nothing to type")?;
        if schema.schema_type() != Type::Struct {
            return Err("the payload is not a JSON object".into());
        }
        let value = value_of(&document, &schema)?;
        Ok((schema, value))
    }

    fn schema_of(&self, key: &str, node: &Json) -> Result<Option<SchemaRef>, String> {
        let built = match node {
            Json::String(_) => SchemaBuilder::string().optional().build(),
            Json::Bool(_) => SchemaBuilder::boolean().optional().build(),
            Json::Int(i) if i32::try_from(*i).is_ok() => SchemaBuilder::int32().optional().build(),
            Json::Int(_) => SchemaBuilder::int64().optional().build(),
            Json::Float(_) => SchemaBuilder::float64().optional().build(),
            Json::BigInt => return Err("an integer beyond 64 bits".into()),
            Json::Null if self.nulls_as_bytes => SchemaBuilder::bytes().optional().build(),
            Json::Null => return Ok(None),
            Json::Array(items) if items.is_empty() => return Ok(None),
            Json::Array(items) => SchemaBuilder::array(self.element_schema(key, items)?).optional().build(),
            Json::Object(members) => {
                let mut builder = SchemaBuilder::struct_().name(key).optional();
                let mut names = std::collections::BTreeSet::new();
                for (name, member) in members {
                    if let Some(schema) = self.schema_of(&format!("{key}.{name}"), member)? {
                        if names.insert(name.as_str()) {
                            builder = builder.field(name.clone(), schema);
                        }
                    }
                }
                builder.build()
            }
        };
        built.map(Some).map_err(|e| e.to_string())
    }

    /// The element schema of a non-empty array: its first non-null element's, all elements of one kind (and
    /// numbers of one type).
    fn element_schema(&self, key: &str, items: &[Json]) -> Result<SchemaRef, String> {
        let present: Vec<&Json> = items.iter().filter(|i| **i != Json::Null).collect();
        let sample = present.first().copied().unwrap_or(&Json::Null);
        if present.iter().any(|i| i.kind() != sample.kind()) {
            return Err("Field is not a homogenous array".into());
        }
        if matches!(sample, Json::Int(_) | Json::Float(_) | Json::BigInt) {
            let first = number_type(sample)?;
            for item in &present {
                if number_type(item)? != first {
                    return Err("Field is not a homogenous array (different number types)".into());
                }
            }
        }
        if let Json::Object(_) = sample {
            let mut merged: Option<SchemaRef> = None;
            for element in &present {
                let schema = self.schema_of(key, element)?.ok_or("an object without a schema")?;
                merged = Some(match merged {
                    None => schema,
                    Some(left) if *left == *schema => left,
                    Some(left) => merge(&left, &schema)?,
                });
            }
            return merged.ok_or_else(|| "an array without objects".to_owned());
        }
        self.schema_of("", sample)?.ok_or_else(|| "Array has unrecognized member schema".to_owned())
    }
}

/// The Connect type a JSON number gets.
fn number_type(node: &Json) -> Result<Type, String> {
    match node {
        Json::Int(i) if i32::try_from(*i).is_ok() => Ok(Type::Int32),
        Json::Int(_) => Ok(Type::Int64),
        Json::Float(_) => Ok(Type::Float64),
        _ => Err("an integer beyond 64 bits".into()),
    }
}

/// The fields of `left` and the new ones of `right` (a BYTES field, from a null, yields to a typed one), as
/// Debezium's `mergeSchema` builds them (`copySchemaBasics`: the merged struct is not optional).
fn merge(left: &Schema, right: &Schema) -> Result<SchemaRef, String> {
    let mut fields: Vec<(String, SchemaRef)> =
        left.fields().iter().map(|f| (f.name().to_owned(), f.schema().clone())).collect();
    for field in right.fields() {
        match fields.iter_mut().find(|(name, _)| name == field.name()) {
            None => fields.push((field.name().to_owned(), field.schema().clone())),
            Some(existing)
                if existing.1.schema_type() == Type::Bytes && field.schema().schema_type() != Type::Bytes =>
            {
                existing.1 = field.schema().clone();
            }
            Some(_) => {}
        }
    }
    fields
        .into_iter()
        .fold(struct_like(left), |b, (name, schema)| b.field(name, schema))
        .build()
        .map_err(|e| e.to_string())
}

/// The Connect value of `node` under `schema` (checked as `Struct.put` checks it).
fn value_of(node: &Json, schema: &SchemaRef) -> Result<Value, String> {
    Ok(match node {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Int(i) => i32::try_from(*i).map_or(Value::Int64(*i), Value::Int32),
        Json::BigInt => return Err("an integer beyond 64 bits".into()),
        Json::Float(f) => Value::Float64(*f),
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => {
            let element = schema.value_schema().ok_or("an array where the schema has no elements")?;
            Value::Array(items.iter().map(|i| value_of(i, element)).collect::<Result<_, _>>()?)
        }
        Json::Object(members) => {
            if schema.schema_type() != Type::Struct {
                return Err(format!("an object where the schema is {}", schema.schema_type()));
            }
            let mut out = Struct::new(schema.clone()).map_err(|e| e.to_string())?;
            for field in schema.fields() {
                if let Some((_, member)) = members.iter().find(|(name, _)| name == field.name()) {
                    out.put_index(field.index(), value_of(member, field.schema())?).map_err(|e| e.to_string())?;
                }
            }
            Value::Struct(out)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDER: &str = r#"{"id": 1, "lineItems": [{"id": 1, "item": "Debezium in Action", "status": "ENTERED", "quantity": 2, "totalPrice": 39.98}, {"id": 2, "item": "Debezium for Dummies", "status": "ENTERED", "quantity": 1, "totalPrice": 29.99}], "orderDate": "2019-01-31T12:13:01", "customerId": 123}"#;

    #[test]
    fn infers_debeziums_schema_in_document_order() {
        let (schema, value) = JsonExpander { nulls_as_bytes: false }.expand("payload", ORDER).expect("expand");
        assert_eq!(schema.name(), Some("payload"));
        assert!(schema.is_optional());
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name()).collect();
        assert_eq!(names, ["id", "lineItems", "orderDate", "customerId"]);
        let items = schema.field("lineItems").expect("items").schema();
        assert_eq!(items.schema_type(), Type::Array);
        let item = items.value_schema().expect("element");
        assert_eq!(item.name(), Some("payload.lineItems"));
        assert_eq!(item.field("totalPrice").map(|f| f.schema().schema_type()), Some(Type::Float64));
        assert_eq!(item.field("quantity").map(|f| f.schema().schema_type()), Some(Type::Int32));
        let order = value.as_struct().expect("struct");
        assert_eq!(order.get("customerId"), Ok(&Value::Int32(123)));
        let Ok(Value::Array(lines)) = order.get("lineItems") else { panic!("lineItems") };
        assert_eq!(lines[1].as_struct().map(|s| s.get("item").cloned()), Some(Ok(Value::from("Debezium for Dummies"))));
        assert_eq!(order.validate(), Ok(()));
    }

    #[test]
    fn merges_object_arrays_and_handles_nulls() {
        let text = r#"{"a": [{"x": 1}, {"y": "s"}], "n": null, "big": 5000000000, "e": []}"#;
        let (schema, value) = JsonExpander { nulls_as_bytes: false }.expand("p", text).expect("expand");
        assert_eq!(schema.fields().iter().map(|f| f.name()).collect::<Vec<_>>(), ["a", "big"]);
        let element = schema.field("a").and_then(|f| f.schema().value_schema().cloned()).expect("element");
        assert_eq!(element.fields().iter().map(|f| f.name()).collect::<Vec<_>>(), ["x", "y"]);
        assert_eq!(value.as_struct().map(|s| s.get("big").cloned()), Some(Ok(Value::Int64(5_000_000_000))));
        let (schema, _) = JsonExpander { nulls_as_bytes: true }.expand("p", text).expect("expand");
        assert_eq!(schema.field("n").map(|f| f.schema().schema_type()), Some(Type::Bytes));
    }

    #[test]
    fn leaves_what_it_cannot_type() {
        let expander = JsonExpander { nulls_as_bytes: false };
        assert!(expander.expand("p", "plain text").is_err());
        assert!(expander.expand("p", r#" {"a": 1}"#).is_err(), "Debezium does not trim");
        assert!(expander.expand("p", r#"{"a": [1, "x"]}"#).is_err());
        assert!(expander.expand("p", r#"{"a": [1, 5000000000]}"#).is_err());
        assert!(expander.expand("p", r#"{"a": 18446744073709551615}"#).is_err());
        assert!(expander.expand("p", "[1, 2]").is_err(), "a top-level array cannot become a struct");
        assert!(expander.expand("p", "{").is_err());
    }
}
