//! [`SchemaBuilder`]: Kafka Connect's `SchemaBuilder`, chained setters and one fallible [`SchemaBuilder::build`].

use std::sync::Arc;

use super::error::SchemaError;
use super::schema::{Field, Schema, SchemaRef, Type};
use super::validate::validate;
use super::value::Value;

/// Builds a [`Schema`]. Setters chain without failing; [`SchemaBuilder::build`] reports the first mistake
/// (a duplicate field, a field on a non-STRUCT schema, a default that does not fit the schema).
///
/// ```
/// use tidemark_connect::data::{SchemaBuilder, Value};
/// let id = SchemaBuilder::int32().build()?;
/// let email = SchemaBuilder::string().optional().default_value(Value::from("none")).build()?;
/// let row = SchemaBuilder::struct_().name("server1.public.customers.Value").field("id", id).field("email", email).build()?;
/// assert_eq!(row.fields().len(), 2);
/// # Ok::<(), tidemark_connect::data::SchemaError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SchemaBuilder {
    schema: Schema,
    error: Option<SchemaError>,
}

impl SchemaBuilder {
    fn of(kind: Type) -> Self {
        SchemaBuilder {
            schema: Schema {
                kind,
                optional: false,
                default: None,
                name: None,
                version: None,
                doc: None,
                parameters: Vec::new(),
                fields: Vec::new(),
                key_schema: None,
                value_schema: None,
            },
            error: None,
        }
    }

    /// An INT8 schema.
    pub fn int8() -> Self {
        Self::of(Type::Int8)
    }

    /// An INT16 schema.
    pub fn int16() -> Self {
        Self::of(Type::Int16)
    }

    /// An INT32 schema.
    pub fn int32() -> Self {
        Self::of(Type::Int32)
    }

    /// An INT64 schema.
    pub fn int64() -> Self {
        Self::of(Type::Int64)
    }

    /// A FLOAT32 schema.
    pub fn float32() -> Self {
        Self::of(Type::Float32)
    }

    /// A FLOAT64 schema.
    pub fn float64() -> Self {
        Self::of(Type::Float64)
    }

    /// A BOOLEAN schema.
    pub fn boolean() -> Self {
        Self::of(Type::Boolean)
    }

    /// A STRING schema.
    pub fn string() -> Self {
        Self::of(Type::String)
    }

    /// A BYTES schema.
    pub fn bytes() -> Self {
        Self::of(Type::Bytes)
    }

    /// A schema of a primitive type (INT8 ... BYTES); `None` for ARRAY, MAP and STRUCT, which need more.
    pub fn primitive(kind: Type) -> Option<Self> {
        kind.is_primitive().then(|| Self::of(kind))
    }

    /// A STRUCT schema without fields yet (named `struct_` because `struct` is a keyword).
    pub fn struct_() -> Self {
        Self::of(Type::Struct)
    }

    /// An ARRAY schema of elements of `value_schema`.
    pub fn array(value_schema: SchemaRef) -> Self {
        let mut builder = Self::of(Type::Array);
        builder.schema.value_schema = Some(value_schema);
        builder
    }

    /// A MAP schema from `key_schema` to `value_schema`.
    pub fn map(key_schema: SchemaRef, value_schema: SchemaRef) -> Self {
        let mut builder = Self::of(Type::Map);
        builder.schema.key_schema = Some(key_schema);
        builder.schema.value_schema = Some(value_schema);
        builder
    }

    /// Null becomes a valid value.
    pub fn optional(mut self) -> Self {
        self.schema.optional = true;
        self
    }

    /// Null is not a valid value (the default).
    pub fn required(mut self) -> Self {
        self.schema.optional = false;
        self
    }

    /// Sets the name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.schema.name = Some(name.into());
        self
    }

    /// Sets the version.
    pub fn version(mut self, version: i32) -> Self {
        self.schema.version = Some(version);
        self
    }

    /// Sets the documentation string.
    pub fn doc(mut self, doc: impl Into<String>) -> Self {
        self.schema.doc = Some(doc.into());
        self
    }

    /// Sets a parameter; setting a key again replaces its value in place, as a `LinkedHashMap` does.
    pub fn parameter(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let (key, value) = (key.into(), value.into());
        match self.schema.parameters.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.schema.parameters.push((key, value)),
        }
        self
    }

    /// Sets the default value (checked against the schema by [`SchemaBuilder::build`]); [`Value::Null`] clears it.
    pub fn default_value(mut self, value: Value) -> Self {
        self.schema.default = (!value.is_null()).then_some(value);
        self
    }

    /// Appends a field to a STRUCT schema.
    pub fn field(mut self, name: impl Into<String>, schema: SchemaRef) -> Self {
        let name = name.into();
        if self.error.is_none() {
            if self.schema.kind != Type::Struct {
                self.error = Some(SchemaError::FieldOnNonStruct { field: name, schema_type: self.schema.kind });
            } else if self.schema.field(&name).is_some() {
                self.error = Some(SchemaError::DuplicateField(name));
            } else {
                let index = self.schema.fields.len();
                self.schema.fields.push(Field { name, index, schema });
            }
        }
        self
    }

    /// The schema, or the first mistake made while building it.
    pub fn build(self) -> Result<SchemaRef, SchemaError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if let Some(default) = &self.schema.default {
            validate(&self.schema, default).map_err(SchemaError::InvalidDefault)?;
        }
        Ok(Arc::new(self.schema))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Reason, Struct};

    #[test]
    fn builds_every_shape() {
        let int = SchemaBuilder::int64().build().expect("int64");
        let array = SchemaBuilder::array(int.clone()).optional().build().expect("array");
        assert_eq!(array.schema_type(), Type::Array);
        assert_eq!(array.value_schema(), Some(&int));
        assert!(array.is_optional());
        let map = SchemaBuilder::map(SchemaBuilder::string().build().expect("key"), int.clone()).build().expect("map");
        assert_eq!(map.key_schema().map(|s| s.schema_type()), Some(Type::String));
        assert_eq!(SchemaBuilder::primitive(Type::Float32).map(|b| b.schema.kind), Some(Type::Float32));
        assert!(SchemaBuilder::primitive(Type::Struct).is_none());
        assert!(!SchemaBuilder::boolean().optional().required().build().expect("bool").is_optional());
    }

    #[test]
    fn refuses_duplicate_fields_and_fields_on_primitives() {
        let int = SchemaBuilder::int32().build().expect("int32");
        let duplicate = SchemaBuilder::struct_().field("a", int.clone()).field("a", int.clone()).build();
        assert_eq!(duplicate, Err(SchemaError::DuplicateField("a".to_owned())));
        let on_int = SchemaBuilder::int32().field("a", int).build();
        assert_eq!(on_int, Err(SchemaError::FieldOnNonStruct { field: "a".to_owned(), schema_type: Type::Int32 }));
    }

    #[test]
    fn checks_the_default() {
        let wrong = SchemaBuilder::int32().default_value(Value::from("x")).build();
        let Err(SchemaError::InvalidDefault(error)) = wrong else { panic!("expected an invalid default: {wrong:?}") };
        assert_eq!(error.reason, Reason::TypeMismatch { expected: Type::Int32, found: "STRING" });
        let cleared = SchemaBuilder::int32().default_value(Value::Int32(1)).default_value(Value::Null);
        assert_eq!(cleared.build().expect("no default").default_value(), None);
    }

    #[test]
    fn a_struct_schema_can_default_to_a_struct() {
        let fields = SchemaBuilder::struct_().field("a", SchemaBuilder::int32().build().expect("a"));
        let bare = fields.clone().build().expect("bare");
        let mut default = Struct::new(bare).expect("struct");
        default.put("a", 5).expect("put");
        let schema = fields.default_value(Value::Struct(default.clone())).build().expect("with default");
        assert_eq!(schema.default_value(), Some(&Value::Struct(default)));
    }
}
