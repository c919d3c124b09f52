//! [`AvroSchema`]: an Avro schema with every property kept, and its JSON text as Avro's Java library writes it.
//!
//! The `apache-avro` crate's schema model drops the properties of primitive types (`{"type": "int", "connect.type":
//! "int16"}` becomes a bare `int`), and `AvroData`'s mapping lives in those properties, so the converter keeps its
//! own model: named types (records, enums, fixed) are shared by [`Arc`] and hold their own properties, as in Java
//! where a reference by name is the same schema object. Recursive schemas are refused when parsing ([`super::parse`]):
//! a Connect schema cannot be recursive, so neither direction needs them.
//!
//! Rendering follows `Schema.toString()`: members in Java's order (`type`, `name`, `namespace`, `doc`, `fields` or
//! `symbols` or `size` or `items` or `values`, then the properties in the order they were added), a named type
//! defined once and referred to by name afterwards, its name written in full unless it shares the enclosing
//! namespace, and a second, different definition of one name refused ("Can't redefine").

use std::collections::HashMap;
use std::sync::Arc;

use super::error::AvroError;
use super::json::JsonValue;
use super::names;
use crate::converters::json::write;

/// Properties in the order they were added.
pub(crate) type Props = Vec<(String, JsonValue)>;

/// An Avro schema.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AvroSchema {
    /// What it is.
    pub(crate) kind: Kind,
    /// Its properties, for unnamed types (named types keep theirs in their definition).
    pub(crate) props: Props,
}

/// The kinds of Avro schema.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// `null`.
    Null,
    /// `boolean`.
    Boolean,
    /// `int`.
    Int,
    /// `long`.
    Long,
    /// `float`.
    Float,
    /// `double`.
    Double,
    /// `bytes`.
    Bytes,
    /// `string`.
    String,
    /// `array` of items.
    Array(Box<AvroSchema>),
    /// `map` of values (keys are strings).
    Map(Box<AvroSchema>),
    /// A union of branches.
    Union(Vec<AvroSchema>),
    /// A named `record`.
    Record(Arc<Record>),
    /// A named `enum`.
    Enum(Arc<Enum>),
    /// A named `fixed`.
    Fixed(Arc<Fixed>),
}

/// The name of a named type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Name {
    /// The namespace, `None` for the null namespace.
    pub(crate) namespace: Option<String>,
    /// The simple name.
    pub(crate) name: String,
}

impl Name {
    /// A name in a namespace (an empty namespace is the null namespace).
    pub(crate) fn new(namespace: Option<String>, name: String) -> Self {
        Name { namespace: namespace.filter(|s| !s.is_empty()), name }
    }

    /// `namespace.name`, or `name` in the null namespace.
    pub(crate) fn full(&self) -> String {
        names::full(self.namespace.as_deref(), &self.name)
    }
}

/// A record type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    /// Its name.
    pub(crate) name: Name,
    /// Its documentation.
    pub(crate) doc: Option<String>,
    /// Its fields in order.
    pub(crate) fields: Vec<Field>,
    /// Its properties.
    pub(crate) props: Props,
}

/// A record field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    /// Its name.
    pub(crate) name: String,
    /// Its schema.
    pub(crate) schema: AvroSchema,
    /// Its documentation.
    pub(crate) doc: Option<String>,
    /// Its default value, as JSON.
    pub(crate) default: Option<JsonValue>,
}

/// An enum type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Enum {
    /// Its name.
    pub(crate) name: Name,
    /// Its documentation.
    pub(crate) doc: Option<String>,
    /// Its symbols in order.
    pub(crate) symbols: Vec<String>,
    /// The symbol readers use for unknown ones.
    pub(crate) default: Option<String>,
    /// Its properties.
    pub(crate) props: Props,
}

/// A fixed-size bytes type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fixed {
    /// Its name.
    pub(crate) name: Name,
    /// Its size in bytes.
    pub(crate) size: usize,
    /// Its properties.
    pub(crate) props: Props,
}

impl AvroSchema {
    /// A schema without properties.
    pub(crate) fn of(kind: Kind) -> Self {
        AvroSchema { kind, props: Vec::new() }
    }

    /// The schema's properties (a named type's own).
    pub(crate) fn props(&self) -> &[(String, JsonValue)] {
        match &self.kind {
            Kind::Record(r) => &r.props,
            Kind::Enum(e) => &e.props,
            Kind::Fixed(f) => &f.props,
            _ => &self.props,
        }
    }

    /// One property.
    pub(crate) fn prop(&self, key: &str) -> Option<&JsonValue> {
        self.props().iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// One property that is a string.
    pub(crate) fn prop_str(&self, key: &str) -> Option<&str> {
        self.prop(key).and_then(JsonValue::as_str)
    }

    /// The full name of a named type.
    pub(crate) fn full_name(&self) -> Option<String> {
        match &self.kind {
            Kind::Record(r) => Some(r.name.full()),
            Kind::Enum(e) => Some(e.name.full()),
            Kind::Fixed(f) => Some(f.name.full()),
            _ => None,
        }
    }

    /// Avro's name of the type (`Schema.Type.getName()`): `int`, `record`, `union`, ...
    pub(crate) fn type_name(&self) -> &'static str {
        match &self.kind {
            Kind::Null => "null",
            Kind::Boolean => "boolean",
            Kind::Int => "int",
            Kind::Long => "long",
            Kind::Float => "float",
            Kind::Double => "double",
            Kind::Bytes => "bytes",
            Kind::String => "string",
            Kind::Array(_) => "array",
            Kind::Map(_) => "map",
            Kind::Union(_) => "union",
            Kind::Record(_) => "record",
            Kind::Enum(_) => "enum",
            Kind::Fixed(_) => "fixed",
        }
    }

    /// What `RecordNameStrategy` names a schema by: a named type's full name, otherwise the type's name.
    pub(crate) fn strategy_name(&self) -> String {
        self.full_name().unwrap_or_else(|| self.type_name().to_owned())
    }

    /// The schema as JSON text, as Avro's `Schema.toString()` writes it.
    pub(crate) fn to_json(&self) -> Result<String, AvroError> {
        let mut out = String::with_capacity(256);
        let mut names = Names::default();
        self.write(&mut out, &mut names)?;
        Ok(out)
    }

    fn write<'a>(&'a self, out: &mut String, names: &mut Names<'a>) -> Result<(), AvroError> {
        let primitive = match &self.kind {
            Kind::Array(items) => {
                out.push_str("{\"type\":\"array\",\"items\":");
                items.write(out, names)?;
                write_props(out, &self.props);
                out.push('}');
                return Ok(());
            }
            Kind::Map(values) => {
                out.push_str("{\"type\":\"map\",\"values\":");
                values.write(out, names)?;
                write_props(out, &self.props);
                out.push('}');
                return Ok(());
            }
            Kind::Union(branches) => {
                out.push('[');
                for (i, branch) in branches.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    branch.write(out, names)?;
                }
                out.push(']');
                return Ok(());
            }
            Kind::Record(record) => return write_record(record, out, names),
            Kind::Enum(e) => return write_enum(e, out, names),
            Kind::Fixed(fixed) => return write_fixed(fixed, out, names),
            _ => self.type_name(),
        };
        if self.props.is_empty() {
            write::string(out, primitive);
        } else {
            out.push_str("{\"type\":");
            write::string(out, primitive);
            write_props(out, &self.props);
            out.push('}');
        }
        Ok(())
    }
}

/// The named types written so far and the enclosing namespace, as Java's `Schema.Names`.
#[derive(Default)]
struct Names<'a> {
    defined: HashMap<String, Named<'a>>,
    space: Option<String>,
}

/// A named type already written.
#[derive(Clone, Copy, PartialEq)]
enum Named<'a> {
    Record(&'a Record),
    Enum(&'a Enum),
    Fixed(&'a Fixed),
}

impl<'a> Names<'a> {
    /// Writes a reference when `named` was written before; refuses a different type of the same name.
    fn reference_or_define(&mut self, name: &Name, named: Named<'a>, out: &mut String) -> Result<bool, AvroError> {
        let full = name.full();
        match self.defined.get(&full) {
            Some(existing) if *existing == named => {
                let short = name.namespace.is_some() && name.namespace == self.space && !is_primitive_name(&name.name);
                write::string(out, if short { &name.name } else { &full });
                Ok(true)
            }
            Some(_) => Err(AvroError::Redefined(full)),
            None => {
                self.defined.insert(full, named);
                Ok(false)
            }
        }
    }

    /// Writes `name` and, when it differs from the enclosing one, `namespace`.
    fn write_name(&self, name: &Name, out: &mut String) {
        out.push_str(",\"name\":");
        write::string(out, &name.name);
        match (&name.namespace, &self.space) {
            (Some(space), enclosing) if Some(space) != enclosing.as_ref() => {
                out.push_str(",\"namespace\":");
                write::string(out, space);
            }
            (None, Some(_)) => out.push_str(",\"namespace\":\"\""),
            _ => {}
        }
    }
}

fn is_primitive_name(name: &str) -> bool {
    matches!(name, "null" | "boolean" | "int" | "long" | "float" | "double" | "bytes" | "string")
}

fn write_record<'a>(record: &'a Record, out: &mut String, names: &mut Names<'a>) -> Result<(), AvroError> {
    if names.reference_or_define(&record.name, Named::Record(record), out)? {
        return Ok(());
    }
    out.push_str("{\"type\":\"record\"");
    names.write_name(&record.name, out);
    let saved = std::mem::replace(&mut names.space, record.name.namespace.clone());
    if let Some(doc) = &record.doc {
        out.push_str(",\"doc\":");
        write::string(out, doc);
    }
    out.push_str(",\"fields\":[");
    for (i, field) in record.fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"name\":");
        write::string(out, &field.name);
        out.push_str(",\"type\":");
        field.schema.write(out, names)?;
        if let Some(doc) = &field.doc {
            out.push_str(",\"doc\":");
            write::string(out, doc);
        }
        if let Some(default) = &field.default {
            out.push_str(",\"default\":");
            default.write(out);
        }
        out.push('}');
    }
    out.push(']');
    write_props(out, &record.props);
    out.push('}');
    names.space = saved;
    Ok(())
}

fn write_enum<'a>(e: &'a Enum, out: &mut String, names: &mut Names<'a>) -> Result<(), AvroError> {
    if names.reference_or_define(&e.name, Named::Enum(e), out)? {
        return Ok(());
    }
    out.push_str("{\"type\":\"enum\"");
    names.write_name(&e.name, out);
    if let Some(doc) = &e.doc {
        out.push_str(",\"doc\":");
        write::string(out, doc);
    }
    out.push_str(",\"symbols\":[");
    for (i, symbol) in e.symbols.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write::string(out, symbol);
    }
    out.push(']');
    write_props(out, &e.props);
    if let Some(default) = &e.default {
        out.push_str(",\"default\":");
        write::string(out, default);
    }
    out.push('}');
    Ok(())
}

fn write_fixed<'a>(fixed: &'a Fixed, out: &mut String, names: &mut Names<'a>) -> Result<(), AvroError> {
    if names.reference_or_define(&fixed.name, Named::Fixed(fixed), out)? {
        return Ok(());
    }
    out.push_str("{\"type\":\"fixed\"");
    names.write_name(&fixed.name, out);
    out.push_str(&format!(",\"size\":{}", fixed.size));
    write_props(out, &fixed.props);
    out.push('}');
    Ok(())
}

fn write_props(out: &mut String, props: &[(String, JsonValue)]) {
    for (key, value) in props {
        out.push(',');
        write::string(out, key);
        out.push(':');
        value.write(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(namespace: Option<&str>, name: &str, fields: Vec<Field>) -> AvroSchema {
        AvroSchema::of(Kind::Record(Arc::new(Record {
            name: Name::new(namespace.map(str::to_owned), name.to_owned()),
            doc: None,
            fields,
            props: Vec::new(),
        })))
    }

    fn field(name: &str, schema: AvroSchema) -> Field {
        Field { name: name.to_owned(), schema, doc: None, default: None }
    }

    #[test]
    fn primitives_with_and_without_properties() {
        assert_eq!(AvroSchema::of(Kind::Int).to_json().ok(), Some("\"int\"".to_owned()));
        let mut int16 = AvroSchema::of(Kind::Int);
        int16.props.push(("connect.type".into(), JsonValue::string("int16")));
        assert_eq!(int16.to_json().ok(), Some(r#"{"type":"int","connect.type":"int16"}"#.to_owned()));
        let union = AvroSchema::of(Kind::Union(vec![AvroSchema::of(Kind::Null), int16]));
        assert_eq!(union.to_json().ok(), Some(r#"["null",{"type":"int","connect.type":"int16"}]"#.to_owned()));
    }

    #[test]
    fn named_types_are_defined_once_and_namespaces_inherited() {
        let inner = record(Some("a.b"), "Inner", vec![field("x", AvroSchema::of(Kind::Long))]);
        let other = record(None, "Other", vec![]);
        let outer = record(
            Some("a.b"),
            "Outer",
            vec![field("first", inner.clone()), field("second", inner), field("third", other)],
        );
        assert_eq!(
            outer.to_json().ok(),
            Some(
                r#"{"type":"record","name":"Outer","namespace":"a.b","fields":[{"name":"first","type":{"type":"record","name":"Inner","fields":[{"name":"x","type":"long"}]}},{"name":"second","type":"Inner"},{"name":"third","type":{"type":"record","name":"Other","namespace":"","fields":[]}}]}"#
                    .to_owned()
            )
        );
    }

    #[test]
    fn a_name_cannot_be_redefined() {
        let a = record(None, "R", vec![field("x", AvroSchema::of(Kind::Long))]);
        let b = record(None, "R", vec![field("y", AvroSchema::of(Kind::Long))]);
        let outer = record(None, "Outer", vec![field("a", a), field("b", b)]);
        assert_eq!(outer.to_json(), Err(AvroError::Redefined("R".to_owned())));
    }

    #[test]
    fn enums_and_fixed() {
        let e = AvroSchema::of(Kind::Enum(Arc::new(Enum {
            name: Name::new(None, "Color".into()),
            doc: Some("colours".into()),
            symbols: vec!["RED".into(), "GREEN".into()],
            default: Some("RED".into()),
            props: vec![("connect.name".into(), JsonValue::string("Color"))],
        })));
        assert_eq!(
            e.to_json().ok(),
            Some(r#"{"type":"enum","name":"Color","doc":"colours","symbols":["RED","GREEN"],"connect.name":"Color","default":"RED"}"#.to_owned())
        );
        let f = AvroSchema::of(Kind::Fixed(Arc::new(Fixed {
            name: Name::new(Some("x".into()), "Md5".into()),
            size: 16,
            props: vec![],
        })));
        assert_eq!(f.to_json().ok(), Some(r#"{"type":"fixed","name":"Md5","namespace":"x","size":16}"#.to_owned()));
        assert_eq!(f.strategy_name(), "x.Md5");
        assert_eq!(AvroSchema::of(Kind::Int).strategy_name(), "int");
    }
}
