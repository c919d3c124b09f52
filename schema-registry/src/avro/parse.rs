//! Parsing a schema string with the schemas it references (Confluent's `references`).
//!
//! apache-avro 0.22 does the parsing: `Schema::parse_str` for a schema alone, `Schema::parse_str_with_list` for a
//! schema with references (named types defined in other registered schemas). Around it this module checks what
//! apache-avro lets through or would panic on:
//! - a reference must be a JSON object whose `type` is a string. `parse_str_with_list` keys each reference by its
//!   `name` but files a reference written `{"name": "A", "type": {"type": "record", "name": "B", ...}}` under `B`,
//!   and then panics looking for `A`;
//! - a full name may not be defined twice with different definitions, in the schema or between the schema and a
//!   reference (apache-avro keeps the last; Avro's Java parser, which Confluent's registry uses, refuses with
//!   "Can't redefine");
//! - every name used must be defined somewhere.

use apache_avro::Schema;
use serde_json::Value;

use super::error::SchemaError;
use super::names::NameIndex;

/// A valid Avro schema with the schemas it references, ready for [`check`](super::check).
#[derive(Debug, Clone)]
pub struct ParsedSchema {
    root: Schema,
    references: Vec<Schema>,
}

impl ParsedSchema {
    /// The schema itself. Named types it takes from its references appear in it as `Schema::Ref`.
    pub fn root(&self) -> &Schema {
        &self.root
    }

    /// The referenced schemas, in the order given to [`parse`].
    pub fn references(&self) -> &[Schema] {
        &self.references
    }

    /// Every named type the schema can use, defined in it or in its references.
    pub(crate) fn names(&self) -> NameIndex<'_> {
        NameIndex::new(std::iter::once(&self.root).chain(&self.references))
    }
}

/// Parses `schema` (Avro schema JSON) whose named types may come from `references`: the schema strings of the
/// referenced subjects' versions, every one the schema needs directly or through other references (the order does
/// not matter; Confluent's is dependencies first). With no references this is plain Avro parsing.
pub fn parse<S: AsRef<str>>(schema: &str, references: &[S]) -> Result<ParsedSchema, SchemaError> {
    serde_json::from_str::<Value>(schema).map_err(SchemaError::InvalidJson)?;
    for (index, reference) in references.iter().enumerate() {
        check_reference(index, reference.as_ref())?;
    }
    let parsed = if references.is_empty() {
        ParsedSchema { root: Schema::parse_str(schema).map_err(SchemaError::Avro)?, references: Vec::new() }
    } else {
        let texts = || references.iter().map(AsRef::as_ref);
        // The references are parsed on their own as well: `parse_str_with_list` hands back a reference the schema
        // redefines in its redefined form, which would hide the redefinition.
        let references = Schema::parse_list(texts()).map_err(SchemaError::Avro)?;
        let (root, _) = Schema::parse_str_with_list(schema, texts()).map_err(SchemaError::Avro)?;
        ParsedSchema { root, references }
    };
    let names = parsed.names();
    if let Some(name) = names.redefined() {
        return Err(SchemaError::Redefined(name.to_string()));
    }
    if let Some(name) = names.unresolved() {
        return Err(SchemaError::UnknownType(name.to_string()));
    }
    Ok(parsed)
}

/// A reference must be the JSON definition of a named type, written `{"type": "record" | "enum" | "fixed", ...}`.
fn check_reference(index: usize, text: &str) -> Result<(), SchemaError> {
    let value: Value =
        serde_json::from_str(text).map_err(|source| SchemaError::InvalidReferenceJson { index, source })?;
    let found = match &value {
        Value::Object(object) => match object.get("type") {
            Some(Value::String(_)) => return Ok(()),
            Some(Value::Object(_)) => "a type nested in \"type\"",
            Some(Value::Array(_)) => "a union",
            Some(_) => "an invalid \"type\"",
            None => "an object without \"type\"",
        },
        Value::String(_) => "a type name",
        Value::Array(_) => "a union",
        _ => "a JSON value that is not a schema",
    };
    Err(SchemaError::ReferenceNotNamed { index, found: found.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: &[&str] = &[];

    fn message(result: Result<ParsedSchema, SchemaError>) -> String {
        match result {
            Ok(parsed) => format!("unexpectedly valid: {:?}", parsed.root()),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn parses_a_plain_schema() {
        let parsed = parse(r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#, NONE);
        assert!(matches!(parsed.map(|p| p.root().clone()), Ok(Schema::Record(_))));
    }

    #[test]
    fn parses_named_types_from_references() -> Result<(), SchemaError> {
        let address = r#"{"type":"record","name":"Address","namespace":"acme","fields":[
            {"name":"street","type":"string"},{"name":"kind","type":"acme.Kind"}]}"#;
        let kind = r#"{"type":"enum","name":"Kind","namespace":"acme","symbols":["HOME","WORK"]}"#;
        let parsed = parse(
            r#"{"type":"record","name":"Person","fields":[{"name":"home","type":"acme.Address"}]}"#,
            &[kind, address],
        )?;
        assert_eq!(parsed.references().len(), 2);
        assert!(parsed.names().get(&apache_avro::schema::Name::new("acme.Kind").map_err(SchemaError::Avro)?).is_some());
        Ok(())
    }

    #[test]
    fn rejects_text_that_is_not_json() {
        assert!(message(parse("{not json", NONE)).starts_with("not valid JSON: "));
    }

    #[test]
    fn rejects_invalid_avro() {
        let cases = [
            (r#"{"type":"record","name":"R"}"#, "record without fields"),
            (r#"{"type":"record","name":"R","fields":[{"name":"a","type":"integer"}]}"#, "unknown type"),
            (r#"{"type":"enum","name":"E","symbols":["A","A"]}"#, "duplicate symbol"),
            (
                r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"a","type":"int"}]}"#,
                "dup field",
            ),
            (r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]}"#, "bad default"),
            (r#"{"type":"fixed","name":"F"}"#, "fixed without size"),
            (r#"{"type":"array"}"#, "array without items"),
            (r#"["int","int"]"#, "duplicate union branch"),
            (r#"{"type":"record","name":"1R","fields":[]}"#, "invalid name"),
            ("42", "a number"),
        ];
        for (schema, what) in cases {
            let text = message(parse(schema, NONE));
            assert!(!text.starts_with("unexpectedly valid"), "{what}: {text}");
        }
    }

    #[test]
    fn rejects_a_redefinition() {
        let schema = r#"{"type":"record","name":"R","fields":[
            {"name":"a","type":{"type":"record","name":"Inner","fields":[{"name":"x","type":"int"}]}},
            {"name":"b","type":{"type":"record","name":"Inner","fields":[{"name":"y","type":"string"}]}}]}"#;
        assert_eq!(message(parse(schema, NONE)), "Can't redefine: Inner");
    }

    #[test]
    fn rejects_a_missing_reference() {
        let text = message(parse(r#"{"type":"record","name":"P","fields":[{"name":"a","type":"acme.Gone"}]}"#, NONE));
        assert!(text.contains("acme.Gone"), "{text}");
    }

    #[test]
    fn rejects_references_that_are_not_named_definitions() {
        let schema = r#"{"type":"record","name":"P","fields":[{"name":"a","type":"B"}]}"#;
        let nested = r#"{"name":"A","type":{"type":"record","name":"B","fields":[]}}"#;
        assert_eq!(
            message(parse(schema, &[nested])),
            "reference 0 must define a named type (a record, enum or fixed), not a type nested in \"type\""
        );
        assert!(message(parse(schema, &["\"string\""])).contains("not a type name"));
        assert!(message(parse(schema, &["[\"null\"]"])).contains("not a union"));
        assert!(message(parse(schema, &["{oops"])).starts_with("reference 0 is not valid JSON"));
        assert!(!message(parse(schema, &[r#"{"type":"record","fields":[]}"#])).starts_with("unexpectedly"));
    }

    #[test]
    fn rejects_a_schema_redefining_a_referenced_name() {
        let reference = r#"{"type":"fixed","name":"F","size":4}"#;
        let schema = r#"{"type":"record","name":"R","fields":[
            {"name":"a","type":"F"},{"name":"b","type":{"type":"fixed","name":"F","size":8}}]}"#;
        assert_eq!(message(parse(schema, &[reference])), "Can't redefine: F");
    }
}
