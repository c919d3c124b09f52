//! [`Schema`]: Kafka Connect's `ConnectSchema`, immutable and shared as a [`SchemaRef`].

use std::fmt;
use std::sync::Arc;

use super::value::Value;

/// A schema shared by reference: cloning it is a reference-count increment, and two records of one table share one.
pub type SchemaRef = Arc<Schema>;

/// The physical type of a schema, Kafka Connect's `Schema.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Type {
    /// 8-bit signed integer.
    Int8,
    /// 16-bit signed integer.
    Int16,
    /// 32-bit signed integer; also the representation of `Date` and `Time`.
    Int32,
    /// 64-bit signed integer; also the representation of `Timestamp`.
    Int64,
    /// IEEE 754 single precision.
    Float32,
    /// IEEE 754 double precision.
    Float64,
    /// `true` or `false`.
    Boolean,
    /// UTF-8 text.
    String,
    /// Raw bytes; also the representation of `Decimal`.
    Bytes,
    /// A sequence of values of one schema ([`Schema::value_schema`]).
    Array,
    /// Key/value pairs of one key schema and one value schema.
    Map,
    /// Named fields in a fixed order ([`Schema::fields`]).
    Struct,
}

impl Type {
    /// Kafka's lower-case name of the type (`Schema.Type.getName()`): `int32`, `float64`, `struct`, ...
    pub const fn name(self) -> &'static str {
        match self {
            Type::Int8 => "int8",
            Type::Int16 => "int16",
            Type::Int32 => "int32",
            Type::Int64 => "int64",
            Type::Float32 => "float32",
            Type::Float64 => "float64",
            Type::Boolean => "boolean",
            Type::String => "string",
            Type::Bytes => "bytes",
            Type::Array => "array",
            Type::Map => "map",
            Type::Struct => "struct",
        }
    }

    /// Whether the type holds a single value (everything but ARRAY, MAP and STRUCT).
    pub const fn is_primitive(self) -> bool {
        !matches!(self, Type::Array | Type::Map | Type::Struct)
    }
}

/// Upper case, as Kafka's messages print a type (`INT32`).
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name().to_ascii_uppercase())
    }
}

/// One field of a STRUCT schema: its name, its position and its schema.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Field {
    pub(super) name: String,
    pub(super) index: usize,
    pub(super) schema: SchemaRef,
}

impl Field {
    /// The field's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The field's position in the struct, from 0.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The field's schema.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }
}

/// A Kafka Connect schema. Built with [`super::SchemaBuilder`]; every part Kafka's `ConnectSchema` has is kept
/// (name, version, doc, ordered parameters, default, optionality), so that mapping it to an Avro schema, as
/// Confluent's `AvroData` does, loses nothing.
///
/// Logical types are ordinary schemas with Kafka's names (see [`super::logical`]); Debezium's semantic types
/// (`io.debezium.time.MicroTimestamp`, `io.debezium.data.Json`, ...) are names too and are only carried.
///
/// Equal schemas hash alike, so a cache (schema to registry id, say) may key on content; the identity of the
/// [`SchemaRef`] is the cheaper key when records share one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Schema {
    pub(super) kind: Type,
    pub(super) optional: bool,
    pub(super) default: Option<Value>,
    pub(super) name: Option<String>,
    pub(super) version: Option<i32>,
    pub(super) doc: Option<String>,
    pub(super) parameters: Vec<(String, String)>,
    pub(super) fields: Vec<Field>,
    pub(super) key_schema: Option<SchemaRef>,
    pub(super) value_schema: Option<SchemaRef>,
}

impl Schema {
    fn plain(kind: Type, optional: bool) -> SchemaRef {
        Arc::new(Schema {
            kind,
            optional,
            default: None,
            name: None,
            version: None,
            doc: None,
            parameters: Vec::new(),
            fields: Vec::new(),
            key_schema: None,
            value_schema: None,
        })
    }

    /// Kafka's `Schema.STRING_SCHEMA`.
    pub fn string() -> SchemaRef {
        Self::plain(Type::String, false)
    }

    /// Kafka's `Schema.OPTIONAL_STRING_SCHEMA`, the schema the string converter reads.
    pub fn optional_string() -> SchemaRef {
        Self::plain(Type::String, true)
    }

    /// Kafka's `Schema.OPTIONAL_BYTES_SCHEMA`, the schema the byte array converter reads.
    pub fn optional_bytes() -> SchemaRef {
        Self::plain(Type::Bytes, true)
    }

    /// The physical type.
    pub fn schema_type(&self) -> Type {
        self.kind
    }

    /// Whether null is a valid value.
    pub fn is_optional(&self) -> bool {
        self.optional
    }

    /// The default value, used in place of a null.
    pub fn default_value(&self) -> Option<&Value> {
        self.default.as_ref()
    }

    /// The schema's name: a record name, a logical type or a Debezium semantic type.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The schema's version.
    pub fn version(&self) -> Option<i32> {
        self.version
    }

    /// The documentation string.
    pub fn doc(&self) -> Option<&str> {
        self.doc.as_deref()
    }

    /// The parameters in the order they were set (Kafka keeps them in a `LinkedHashMap`).
    pub fn parameters(&self) -> &[(String, String)] {
        &self.parameters
    }

    /// One parameter's value.
    pub fn parameter(&self, key: &str) -> Option<&str> {
        self.parameters.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The fields of a STRUCT schema in order; empty for any other type.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// A field of a STRUCT schema by name (a linear scan: structs are narrow, and positions are the fast path).
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The key schema of a MAP schema.
    pub fn key_schema(&self) -> Option<&SchemaRef> {
        self.key_schema.as_ref()
    }

    /// The element schema of an ARRAY schema, or the value schema of a MAP schema.
    pub fn value_schema(&self) -> Option<&SchemaRef> {
        self.value_schema.as_ref()
    }

    /// Whether two schemas are equal except for their default values: a struct value built against a schema still
    /// fits once that schema gets a default (which is how a STRUCT schema's own default can be a struct).
    pub fn eq_ignoring_default(&self, other: &Schema) -> bool {
        std::ptr::eq(self, other)
            || (self.kind == other.kind
                && self.optional == other.optional
                && self.name == other.name
                && self.version == other.version
                && self.doc == other.doc
                && self.parameters == other.parameters
                && self.fields == other.fields
                && self.key_schema == other.key_schema
                && self.value_schema == other.value_schema)
    }
}

/// Kafka's `Schema{name:TYPE}` (or `Schema{TYPE}` without a name).
impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "Schema{{{name}:{}}}", self.kind),
            None => write!(f, "Schema{{{}}}", self.kind),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::SchemaBuilder;
    use super::*;

    #[test]
    fn type_names_are_kafkas() {
        assert_eq!(Type::Float64.name(), "float64");
        assert_eq!(Type::Int32.to_string(), "INT32");
        assert!(Type::Bytes.is_primitive());
        assert!(!Type::Map.is_primitive());
    }

    #[test]
    fn accessors_and_display() {
        let inner = SchemaBuilder::string().optional().build().expect("string");
        let schema = SchemaBuilder::struct_()
            .name("server1.inventory.customers.Value")
            .version(2)
            .doc("a row")
            .parameter("a", "1")
            .parameter("b", "2")
            .parameter("a", "3")
            .field("email", inner.clone())
            .build()
            .expect("struct");
        assert_eq!(schema.schema_type(), Type::Struct);
        assert_eq!(schema.parameters(), &[("a".to_owned(), "3".to_owned()), ("b".to_owned(), "2".to_owned())]);
        assert_eq!(schema.parameter("b"), Some("2"));
        assert_eq!(schema.field("email").map(Field::index), Some(0));
        assert_eq!(schema.field("email").map(|f| f.schema().clone()), Some(inner));
        assert!(schema.field("name").is_none());
        assert_eq!(schema.version(), Some(2));
        assert_eq!(schema.doc(), Some("a row"));
        assert_eq!(schema.to_string(), "Schema{server1.inventory.customers.Value:STRUCT}");
        assert_eq!(SchemaBuilder::int8().build().expect("int8").to_string(), "Schema{INT8}");
    }

    #[test]
    fn equality_ignoring_default() {
        let plain = SchemaBuilder::int32().build().expect("plain");
        let with_default = SchemaBuilder::int32().default_value(Value::Int32(7)).build().expect("default");
        assert_ne!(plain, with_default);
        assert!(plain.eq_ignoring_default(&with_default));
        let optional = SchemaBuilder::int32().optional().build().expect("optional");
        assert!(!plain.eq_ignoring_default(&optional));
        assert_eq!(Schema::optional_string(), SchemaBuilder::string().optional().build().expect("string"));
        assert_eq!(Schema::optional_bytes(), SchemaBuilder::bytes().optional().build().expect("bytes"));
    }
}
