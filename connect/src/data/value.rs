//! [`Value`] and [`Struct`]: Kafka Connect's data, with logical types in their physical representation.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use bytes::Bytes;

use super::error::{DataError, ValidationError};
use super::path::Path;
use super::schema::{SchemaRef, Type};
use super::validate::{check, check_fields};

/// A Kafka Connect value. Logical types keep their physical form: a DECIMAL is [`Value::Bytes`] of its unscaled
/// value, a DATE is [`Value::Int32`] days, a TIMESTAMP [`Value::Int64`] milliseconds (see [`super::logical`]).
///
/// Equality treats floats as Java's boxed `Float.equals` does: NaN equals NaN, `0.0` and `-0.0` differ.
#[derive(Debug, Clone)]
pub enum Value {
    /// No value (a tombstone, or an absent optional field).
    Null,
    /// INT8.
    Int8(i8),
    /// INT16.
    Int16(i16),
    /// INT32 (also DATE and TIME).
    Int32(i32),
    /// INT64 (also TIMESTAMP).
    Int64(i64),
    /// FLOAT32.
    Float32(f32),
    /// FLOAT64.
    Float64(f64),
    /// BOOLEAN.
    Boolean(bool),
    /// STRING.
    String(String),
    /// BYTES (also DECIMAL).
    Bytes(Bytes),
    /// ARRAY.
    Array(Vec<Value>),
    /// MAP as ordered pairs; keys may be any value.
    Map(Vec<(Value, Value)>),
    /// STRUCT.
    Struct(Struct),
}

impl Value {
    /// Whether this is [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The type this value has, `None` for null.
    pub fn schema_type(&self) -> Option<Type> {
        Some(match self {
            Value::Null => return None,
            Value::Int8(_) => Type::Int8,
            Value::Int16(_) => Type::Int16,
            Value::Int32(_) => Type::Int32,
            Value::Int64(_) => Type::Int64,
            Value::Float32(_) => Type::Float32,
            Value::Float64(_) => Type::Float64,
            Value::Boolean(_) => Type::Boolean,
            Value::String(_) => Type::String,
            Value::Bytes(_) => Type::Bytes,
            Value::Array(_) => Type::Array,
            Value::Map(_) => Type::Map,
            Value::Struct(_) => Type::Struct,
        })
    }

    /// The type's upper-case name for messages (`INT32`, `STRUCT`, `null`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Int8(_) => "INT8",
            Value::Int16(_) => "INT16",
            Value::Int32(_) => "INT32",
            Value::Int64(_) => "INT64",
            Value::Float32(_) => "FLOAT32",
            Value::Float64(_) => "FLOAT64",
            Value::Boolean(_) => "BOOLEAN",
            Value::String(_) => "STRING",
            Value::Bytes(_) => "BYTES",
            Value::Array(_) => "ARRAY",
            Value::Map(_) => "MAP",
            Value::Struct(_) => "STRUCT",
        }
    }

    /// The text of a STRING value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The struct of a STRUCT value.
    pub fn as_struct(&self) -> Option<&Struct> {
        match self {
            Value::Struct(s) => Some(s),
            _ => None,
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Int8(a), Value::Int8(b)) => a == b,
            (Value::Int16(a), Value::Int16(b)) => a == b,
            (Value::Int32(a), Value::Int32(b)) => a == b,
            (Value::Int64(a), Value::Int64(b)) => a == b,
            (Value::Float32(a), Value::Float32(b)) => (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits(),
            (Value::Float64(a), Value::Float64(b)) => (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits(),
            (Value::Boolean(a), Value::Boolean(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            (Value::Array(a), Value::Array(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => a == b,
            (Value::Struct(a), Value::Struct(b)) => a == b,
            _ => false,
        }
    }
}

/// Reflexive, since NaN equals NaN.
impl Eq for Value {}

/// Consistent with equality (every NaN hashes alike), so schemas and values can key a cache by content.
impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Value::Null => {}
            Value::Int8(v) => v.hash(state),
            Value::Int16(v) => v.hash(state),
            Value::Int32(v) => v.hash(state),
            Value::Int64(v) => v.hash(state),
            Value::Float32(v) => if v.is_nan() { f32::NAN } else { *v }.to_bits().hash(state),
            Value::Float64(v) => if v.is_nan() { f64::NAN } else { *v }.to_bits().hash(state),
            Value::Boolean(v) => v.hash(state),
            Value::String(v) => v.hash(state),
            Value::Bytes(v) => v.hash(state),
            Value::Array(v) => v.hash(state),
            Value::Map(v) => v.hash(state),
            Value::Struct(v) => v.hash(state),
        }
    }
}

macro_rules! from_primitive {
    ($($t:ty => $variant:ident),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::$variant(v.into())
            }
        }
    )*};
}

from_primitive!(i8 => Int8, i16 => Int16, i32 => Int32, i64 => Int64, f32 => Float32, f64 => Float64,
    bool => Boolean, String => String, &str => String, Bytes => Bytes, Vec<u8> => Bytes,
    Vec<Value> => Array, Struct => Struct);

/// A copy of the bytes.
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Bytes(Bytes::copy_from_slice(v))
    }
}

/// `None` is [`Value::Null`].
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// A STRUCT value: its schema and one value per field, by position.
#[derive(Debug, Clone)]
pub struct Struct {
    schema: SchemaRef,
    values: Values,
}

/// A struct's values: its own, or shared with the structs cloned from it ([`Struct::into_shared`]), so that a block
/// many records carry alike (a snapshot's `source`) is cloned by a reference count rather than value by value.
#[derive(Debug, Clone)]
enum Values {
    Owned(Vec<Value>),
    Shared(Arc<[Value]>),
}

impl Values {
    fn as_slice(&self) -> &[Value] {
        match self {
            Values::Owned(values) => values,
            Values::Shared(values) => values,
        }
    }

    /// The values to change: shared ones are copied first, so the structs sharing them keep theirs.
    fn to_mut(&mut self) -> &mut Vec<Value> {
        if let Values::Shared(shared) = self {
            *self = Values::Owned(shared.to_vec());
        }
        match self {
            Values::Owned(values) => values,
            Values::Shared(_) => unreachable!("made owned above"),
        }
    }
}

impl PartialEq for Struct {
    fn eq(&self, other: &Self) -> bool {
        self.schema == other.schema && self.values() == other.values()
    }
}

impl Eq for Struct {}

impl Hash for Struct {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.schema.hash(state);
        self.values().hash(state);
    }
}

impl Struct {
    /// A struct of `schema` with every field null.
    pub fn new(schema: SchemaRef) -> Result<Self, DataError> {
        let fields = schema.fields().len();
        Self::from_values(schema, vec![Value::Null; fields])
    }

    /// A struct from its values in field order. The values are not checked (decoders that follow the schema make
    /// them right by construction); call [`Struct::validate`] when they come from elsewhere.
    pub fn from_values(schema: SchemaRef, values: Vec<Value>) -> Result<Self, DataError> {
        if schema.schema_type() != Type::Struct {
            return Err(DataError::NotAStruct(schema.schema_type()));
        }
        if values.len() != schema.fields().len() {
            return Err(DataError::FieldCount { fields: schema.fields().len(), values: values.len() });
        }
        Ok(Struct { schema, values: Values::Owned(values) })
    }

    /// A struct from values a decoder made by following the schema (one per field, in order); not checked.
    pub(crate) fn from_parts(schema: SchemaRef, values: Vec<Value>) -> Self {
        Struct { schema, values: Values::Owned(values) }
    }

    /// This struct with its values shared: its clones share them too, and cost a reference count each. Setting a
    /// field of a clone copies the values first.
    pub fn into_shared(self) -> Self {
        let values = match self.values {
            Values::Owned(values) => Values::Shared(values.into()),
            shared => shared,
        };
        Struct { schema: self.schema, values }
    }

    /// The struct's schema.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The values in field order.
    pub fn values(&self) -> &[Value] {
        self.values.as_slice()
    }

    /// The values when they are shared ([`Struct::into_shared`]): the same `Arc` for every clone.
    pub(crate) fn shared_values(&self) -> Option<&Arc<[Value]>> {
        match &self.values {
            Values::Shared(values) => Some(values),
            Values::Owned(_) => None,
        }
    }

    /// The values in field order, owned.
    pub fn into_values(self) -> Vec<Value> {
        match self.values {
            Values::Owned(values) => values,
            Values::Shared(values) => values.to_vec(),
        }
    }

    /// A field's value, or the field's default when the value is null (Kafka's `Struct.get`).
    pub fn get(&self, name: &str) -> Result<&Value, DataError> {
        let index = self.index_of(name)?;
        let value = &self.values()[index];
        Ok(match (value, self.schema.fields()[index].schema().default_value()) {
            (Value::Null, Some(default)) => default,
            _ => value,
        })
    }

    /// A field's value as stored, null included (Kafka's `Struct.getWithoutDefault`).
    pub fn get_without_default(&self, name: &str) -> Result<&Value, DataError> {
        Ok(&self.values()[self.index_of(name)?])
    }

    /// The value at a field position, as stored.
    pub fn get_index(&self, index: usize) -> Option<&Value> {
        self.values().get(index)
    }

    /// Sets a field after checking the value against the field's schema.
    pub fn put(&mut self, name: &str, value: impl Into<Value>) -> Result<&mut Self, DataError> {
        let index = self.index_of(name)?;
        self.put_index(index, value)
    }

    /// Sets the field at a position after checking the value against the field's schema.
    pub fn put_index(&mut self, index: usize, value: impl Into<Value>) -> Result<&mut Self, DataError> {
        let fields = self.schema.fields();
        let field = fields.get(index).ok_or(DataError::NoSuchIndex { index, fields: fields.len() })?;
        let value = value.into();
        check(field.schema(), &value, &Path::Root.field(field.name()))?;
        self.values.to_mut()[index] = value;
        Ok(self)
    }

    /// Checks every field against its schema (a null is fine where the field is optional or has a default).
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_fields(self, &Path::Root)
    }

    fn index_of(&self, name: &str) -> Result<usize, DataError> {
        self.schema.field(name).map(|f| f.index()).ok_or_else(|| DataError::NoSuchField(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Reason, SchemaBuilder};

    fn customers() -> SchemaRef {
        SchemaBuilder::struct_()
            .field("id", SchemaBuilder::int32().build().expect("id"))
            .field("email", SchemaBuilder::string().optional().build().expect("email"))
            .field("tier", SchemaBuilder::string().default_value(Value::from("basic")).build().expect("tier"))
            .build()
            .expect("customers")
    }

    #[test]
    fn put_and_get_by_name_and_index() {
        let mut row = Struct::new(customers()).expect("struct");
        row.put("id", 7).expect("id").put("email", "a@example.com").expect("email");
        assert_eq!(row.get("id"), Ok(&Value::Int32(7)));
        assert_eq!(row.get_index(1), Some(&Value::from("a@example.com")));
        assert_eq!(row.get("tier"), Ok(&Value::from("basic")));
        assert_eq!(row.get_without_default("tier"), Ok(&Value::Null));
        assert_eq!(row.get("nope"), Err(DataError::NoSuchField("nope".to_owned())));
        assert_eq!(row.put_index(3, 1).err(), Some(DataError::NoSuchIndex { index: 3, fields: 3 }));
        assert_eq!(row.validate(), Ok(()));
        assert_eq!(row.clone().into_values().len(), 3);
    }

    #[test]
    fn put_checks_the_field_schema() {
        let mut row = Struct::new(customers()).expect("struct");
        let err = row.put("id", "seven").err();
        let expected = ValidationError {
            path: "$.id".to_owned(),
            reason: Reason::TypeMismatch { expected: Type::Int32, found: "STRING" },
        };
        assert_eq!(err, Some(DataError::Invalid(expected)));
        assert!(matches!(row.put("id", Value::Null), Err(DataError::Invalid(_))));
        assert_eq!(row.validate().map_err(|e| e.path), Err("$.id".to_owned()));
    }

    #[test]
    fn shared_values_behave_as_owned_ones() {
        let mut row = Struct::new(customers()).expect("struct");
        row.put("id", 7).expect("id");
        let shared = row.clone().into_shared();
        assert_eq!(shared, row);
        let mut clone = shared.clone();
        assert!(std::ptr::eq(clone.values(), shared.values()), "a clone shares the values");
        clone.put("email", "a@example.com").expect("email");
        assert_eq!(shared.get("email"), Ok(&Value::Null), "setting a clone's field leaves the others alone");
        assert_eq!(clone.get("email"), Ok(&Value::from("a@example.com")));
        assert_eq!(clone.get("id"), Ok(&Value::Int32(7)));
        assert_eq!(shared.into_values(), row.into_values());
    }

    #[test]
    fn from_values_checks_shape_only() {
        let int = SchemaBuilder::int32().build().expect("int");
        assert_eq!(Struct::new(int).err(), Some(DataError::NotAStruct(Type::Int32)));
        assert_eq!(
            Struct::from_values(customers(), vec![]).err(),
            Some(DataError::FieldCount { fields: 3, values: 0 })
        );
    }

    #[test]
    fn equality_and_conversions() {
        assert_eq!(Value::Float64(f64::NAN), Value::Float64(f64::NAN));
        assert_ne!(Value::Float32(0.0), Value::Float32(-0.0));
        assert_ne!(Value::Int32(1), Value::Int64(1));
        assert_eq!(Value::from(None::<i32>), Value::Null);
        assert_eq!(Value::from(Some(3i16)), Value::Int16(3));
        assert_eq!(Value::from(vec![1u8, 2]), Value::Bytes(Bytes::from_static(&[1, 2])));
        assert_eq!(Value::from("x").as_str(), Some("x"));
        assert_eq!(Value::Int8(1).schema_type(), Some(Type::Int8));
        assert_eq!(Value::Null.schema_type(), None);
        assert_eq!(Value::Map(vec![]).type_name(), "MAP");
        assert!(Value::Int8(1).as_struct().is_none());
    }

    #[test]
    fn hashing_agrees_with_equality() {
        use std::collections::HashSet;
        let values: HashSet<Value> =
            [Value::Float64(f64::NAN), Value::Float64(-f64::NAN), Value::Float64(0.0), Value::Float64(-0.0)].into();
        assert_eq!(values.len(), 3);
        let schemas: HashSet<SchemaRef> = [customers(), customers()].into();
        assert_eq!(schemas.len(), 1);
    }
}
