//! Avro schema JSON (as the registry serves it) into an [`AvroSchema`], keeping every property, as Avro's Java
//! parser reads it: a primitive may be a bare name or an object with properties; named types take the enclosing
//! namespace unless they give their own (or a dotted name); a reference by name resolves in the enclosing
//! namespace, then in the null namespace; the members Avro reserves (`doc`, `fields`, `items`, `name`,
//! `namespace`, `size`, `symbols`, `values`, `type`, `aliases`, and `default` for enums) are not properties.
//!
//! Refused: JSON that is not a schema, a name defined twice, and a type that contains itself (Connect schemas are
//! trees). The registry has already validated what it serves, so the checks here guard against what cannot be
//! converted rather than re-validating Avro.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::error::AvroError;
use super::json::JsonValue;
use super::schema::{AvroSchema, Enum, Field, Fixed, Kind, Name, Props, Record};
use crate::converters::json::parse::{parse as parse_json, Json};

const RESERVED: [&str; 10] =
    ["doc", "fields", "items", "name", "namespace", "size", "symbols", "values", "type", "aliases"];

/// The schema in `text`.
pub(crate) fn parse(text: &str) -> Result<AvroSchema, AvroError> {
    let json = parse_json(text.as_bytes())
        .map_err(|e| AvroError::InvalidSchema(e.to_string()))?
        .ok_or_else(|| invalid("the schema is empty"))?;
    Parser::default().schema(&json, None)
}

fn invalid(message: impl Into<String>) -> AvroError {
    AvroError::InvalidSchema(message.into())
}

#[derive(Default)]
struct Parser {
    defined: HashMap<String, AvroSchema>,
    in_progress: HashSet<String>,
}

impl Parser {
    fn schema(&mut self, json: &Json<'_>, space: Option<&str>) -> Result<AvroSchema, AvroError> {
        match json {
            Json::String(name) => match primitive(name) {
                Some(kind) => Ok(AvroSchema::of(kind)),
                None => self.reference(name, space),
            },
            Json::Array(branches) => {
                let branches = branches.iter().map(|b| self.schema(b, space)).collect::<Result<Vec<_>, _>>()?;
                if branches.iter().any(|b| matches!(b.kind, Kind::Union(_))) {
                    return Err(invalid("Nested union"));
                }
                Ok(AvroSchema::of(Kind::Union(branches)))
            }
            Json::Object(_) => match json.get("type") {
                Some(Json::String(kind)) => self.object(json, kind, space),
                Some(nested @ (Json::Object(_) | Json::Array(_))) => self.schema(nested, space),
                _ => Err(invalid(format!("No type: {}", JsonValue::from(json).to_text()))),
            },
            other => Err(invalid(format!("{} is not a schema", other.kind()))),
        }
    }

    fn object(&mut self, json: &Json<'_>, kind: &str, space: Option<&str>) -> Result<AvroSchema, AvroError> {
        if let Some(primitive) = primitive(kind) {
            return Ok(AvroSchema { kind: primitive, props: props(json, &[]) });
        }
        match kind {
            "record" | "error" => self.record(json, space),
            "enum" => {
                let name = name(json, space)?;
                let symbols = match json.get("symbols") {
                    Some(Json::Array(symbols)) => symbols
                        .iter()
                        .map(|s| match s {
                            Json::String(s) => Ok(s.to_string()),
                            _ => Err(invalid("enum symbols must be strings")),
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    _ => return Err(invalid("Enum has no symbols")),
                };
                let e = Enum {
                    doc: string(json, "doc"),
                    default: string(json, "default"),
                    symbols,
                    props: props(json, &["default"]),
                    name: name.clone(),
                };
                self.define(name, AvroSchema::of(Kind::Enum(Arc::new(e))))
            }
            "fixed" => {
                let name = name(json, space)?;
                let size = match json.get("size") {
                    Some(Json::Number(n)) => n.parse().map_err(|_| invalid(format!("Invalid fixed size {n}")))?,
                    _ => return Err(invalid("fixed has no size")),
                };
                let fixed = Fixed { name: name.clone(), size, props: props(json, &[]) };
                self.define(name, AvroSchema::of(Kind::Fixed(Arc::new(fixed))))
            }
            "array" => {
                let items = json.get("items").ok_or_else(|| invalid("Array has no items type"))?;
                let items = self.schema(items, space)?;
                Ok(AvroSchema { kind: Kind::Array(Box::new(items)), props: props(json, &[]) })
            }
            "map" => {
                let values = json.get("values").ok_or_else(|| invalid("Map has no values type"))?;
                let values = self.schema(values, space)?;
                Ok(AvroSchema { kind: Kind::Map(Box::new(values)), props: props(json, &[]) })
            }
            other => self.reference(other, space),
        }
    }

    fn record(&mut self, json: &Json<'_>, space: Option<&str>) -> Result<AvroSchema, AvroError> {
        let name = name(json, space)?;
        let full = name.full();
        if self.defined.contains_key(&full) || !self.in_progress.insert(full.clone()) {
            return Err(invalid(format!("Can't redefine: {full}")));
        }
        let Some(Json::Array(members)) = json.get("fields") else {
            return Err(invalid("Record has no fields"));
        };
        let mut fields = Vec::with_capacity(members.len());
        for member in members {
            let Some(Json::String(field_name)) = member.get("name") else {
                return Err(invalid("No field name"));
            };
            let field_type = member.get("type").ok_or_else(|| invalid(format!("No field type: {field_name}")))?;
            let schema = self.schema(field_type, name.namespace.as_deref())?;
            if fields.iter().any(|f: &Field| f.name == **field_name) {
                return Err(invalid(format!("Duplicate field {field_name} in record {full}")));
            }
            fields.push(Field {
                name: field_name.to_string(),
                schema,
                doc: string(member, "doc"),
                default: member.get("default").map(JsonValue::from),
            });
        }
        self.in_progress.remove(&full);
        let record = Record { doc: string(json, "doc"), fields, props: props(json, &[]), name: name.clone() };
        self.define(name, AvroSchema::of(Kind::Record(Arc::new(record))))
    }

    fn define(&mut self, name: Name, schema: AvroSchema) -> Result<AvroSchema, AvroError> {
        let full = name.full();
        if self.defined.insert(full.clone(), schema.clone()).is_some() {
            return Err(invalid(format!("Can't redefine: {full}")));
        }
        Ok(schema)
    }

    fn reference(&self, name: &str, space: Option<&str>) -> Result<AvroSchema, AvroError> {
        let candidates = match (name.contains('.'), space) {
            (false, Some(space)) => vec![format!("{space}.{name}"), name.to_owned()],
            _ => vec![name.to_owned()],
        };
        for candidate in candidates {
            if let Some(schema) = self.defined.get(&candidate) {
                return Ok(schema.clone());
            }
            if self.in_progress.contains(&candidate) {
                return Err(AvroError::Recursive(candidate));
            }
        }
        Err(invalid(format!("Undefined name: {name}")))
    }
}

fn primitive(name: &str) -> Option<Kind> {
    Some(match name {
        "null" => Kind::Null,
        "boolean" => Kind::Boolean,
        "int" => Kind::Int,
        "long" => Kind::Long,
        "float" => Kind::Float,
        "double" => Kind::Double,
        "bytes" => Kind::Bytes,
        "string" => Kind::String,
        _ => return None,
    })
}

/// A named type's name: a dotted `name` carries its namespace; otherwise `namespace`, else the enclosing one.
fn name(json: &Json<'_>, space: Option<&str>) -> Result<Name, AvroError> {
    let Some(Json::String(name)) = json.get("name") else {
        return Err(invalid("No name in schema"));
    };
    if let Some((namespace, simple)) = name.rsplit_once('.') {
        return Ok(Name::new(Some(namespace.to_owned()), simple.to_owned()));
    }
    let namespace = match json.get("namespace") {
        Some(Json::String(ns)) => Some(ns.to_string()),
        _ => space.map(str::to_owned),
    };
    Ok(Name::new(namespace, name.to_string()))
}

fn string(json: &Json<'_>, key: &str) -> Option<String> {
    match json.get(key) {
        Some(Json::String(s)) => Some(s.to_string()),
        _ => None,
    }
}

/// The members that are properties, in order (a repeated key keeps its last value, in its first place).
fn props(json: &Json<'_>, also_reserved: &[&str]) -> Props {
    let Json::Object(members) = json else { return Vec::new() };
    let mut props: Props = Vec::new();
    for (key, value) in members {
        if RESERVED.contains(&key.as_ref()) || also_reserved.contains(&key.as_ref()) {
            continue;
        }
        let value = JsonValue::from(value);
        match props.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => props.push((key.to_string(), value)),
        }
    }
    props
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_the_renderer_writes() {
        let texts = [
            r#""int""#,
            r#"{"type":"int","connect.type":"int16"}"#,
            r#"["null",{"type":"bytes","scale":2,"precision":64,"connect.version":1,"connect.parameters":{"scale":"2"},"connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}]"#,
            r#"{"type":"record","name":"Outer","namespace":"a.b","fields":[{"name":"first","type":{"type":"record","name":"Inner","fields":[{"name":"x","type":"long","default":5}]}},{"name":"second","type":"Inner"},{"name":"e","type":{"type":"enum","name":"E","doc":"d","symbols":["A","B"],"default":"A"}}],"connect.name":"a.b.Outer"}"#,
            r#"{"type":"array","items":{"type":"map","values":{"type":"fixed","name":"F","size":4}}}"#,
        ];
        for text in texts {
            let schema = parse(text).expect(text);
            assert_eq!(schema.to_json().as_deref(), Ok(text), "{text}");
        }
    }

    #[test]
    fn names_resolve_through_namespaces() {
        let schema = parse(
            r#"{"type":"record","name":"R","namespace":"n","fields":[
                {"name":"a","type":{"type":"fixed","name":"F","size":1}},
                {"name":"b","type":"F"},{"name":"c","type":"n.F"},
                {"name":"d","type":{"type":"record","name":"x.Y","fields":[{"name":"z","type":"n.F"}]}}]}"#,
        )
        .expect("schema");
        let Kind::Record(record) = &schema.kind else { panic!("record") };
        assert_eq!(record.fields[1].schema, record.fields[0].schema);
        assert_eq!(record.fields[2].schema, record.fields[0].schema);
        assert_eq!(record.fields[3].schema.full_name().as_deref(), Some("x.Y"));
        // Inside x.Y, a bare "F" means x.F or F, as in Java, not n.F.
        let unresolved = r#"{"type":"record","name":"n.R","fields":[{"name":"a","type":{"type":"fixed","name":"F","size":1}},
            {"name":"d","type":{"type":"record","name":"x.Y","fields":[{"name":"z","type":"F"}]}}]}"#;
        assert!(matches!(parse(unresolved), Err(AvroError::InvalidSchema(m)) if m.contains("Undefined name: F")));
    }

    #[test]
    fn refuses_what_cannot_be_converted() {
        let recursive = r#"{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}"#;
        assert_eq!(parse(recursive), Err(AvroError::Recursive("Node".to_owned())));
        assert!(matches!(parse(r#""Unknown""#), Err(AvroError::InvalidSchema(m)) if m.contains("Undefined name")));
        assert!(matches!(parse("{"), Err(AvroError::InvalidSchema(_))));
        assert!(matches!(parse("3"), Err(AvroError::InvalidSchema(_))));
        assert!(matches!(parse(r#"[["int"]]"#), Err(AvroError::InvalidSchema(_))));
        let twice = r#"{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"fixed","name":"F","size":1}},{"name":"b","type":{"type":"fixed","name":"F","size":2}}]}"#;
        assert!(matches!(parse(twice), Err(AvroError::InvalidSchema(m)) if m.contains("redefine")));
    }
}
