//! Errors of the data model: a value that does not fit its schema ([`ValidationError`], with the path to the
//! offending part and the [`Reason`]), a schema built wrongly ([`SchemaError`]), a struct used wrongly
//! ([`DataError`]). All are definite: retrying cannot fix them.

use thiserror::Error;

use super::decimal::DecimalError;
use super::schema::Type;

/// Why a value does not fit a schema.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Reason {
    /// Null where the schema is required and has no default.
    #[error("null for a required {0} value")]
    NullForRequired(Type),
    /// A value of another type.
    #[error("expected {expected}, found {found}")]
    TypeMismatch {
        /// The schema's type.
        expected: Type,
        /// What was there instead (`STRING`, `JSON object`, ...).
        found: &'static str,
    },
    /// A number that does not fit the schema's type.
    #[error("{text} is out of range for {expected}")]
    OutOfRange {
        /// The schema's type.
        expected: Type,
        /// The number as it was written.
        text: String,
    },
    /// A struct built against another schema.
    #[error("a struct of {found} where {expected} is expected")]
    StructSchemaMismatch {
        /// The expected schema (`Schema{name:STRUCT}`).
        expected: String,
        /// The struct's own schema.
        found: String,
    },
    /// A schema with a Kafka logical name over the wrong physical type.
    #[error("{name} must be {expected}, not {found}")]
    LogicalType {
        /// The logical type's name.
        name: &'static str,
        /// The physical type it needs.
        expected: Type,
        /// The schema's type.
        found: Type,
    },
    /// A DECIMAL schema without an integer `scale` parameter.
    #[error("a Decimal schema needs an integer \"scale\" parameter")]
    DecimalScale,
    /// A DECIMAL value that cannot be read or written.
    #[error("invalid Decimal: {0}")]
    Decimal(#[from] DecimalError),
    /// A TIME value outside a day.
    #[error("Time {0} ms is outside 0..86400000")]
    TimeOutOfRange(i32),
    /// Text that should be base64 and is not.
    #[error("invalid base64")]
    Base64,
    /// A map entry in a JSON array of pairs that is not a `[key, value]` array.
    #[error("a map entry must be a [key, value] array")]
    MapEntry,
}

/// A value that does not fit its schema: where (`$` is the value itself, `.name` a struct field, `[3]` an array
/// element, `{key #3}` and `{value #3}` the key and value of a map's fourth entry) and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{path}: {reason}")]
pub struct ValidationError {
    /// The path to the offending part, from `$`.
    pub path: String,
    /// What is wrong with it.
    pub reason: Reason,
}

/// A schema that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SchemaError {
    /// Two fields of one struct with the same name.
    #[error("duplicate field name {0:?}")]
    DuplicateField(String),
    /// A field added to a schema that is not a STRUCT.
    #[error("cannot add field {field:?} to a {schema_type} schema")]
    FieldOnNonStruct {
        /// The field's name.
        field: String,
        /// The schema's type.
        schema_type: Type,
    },
    /// A default value that does not fit the schema.
    #[error("invalid default value: {0}")]
    InvalidDefault(ValidationError),
}

/// A struct used wrongly.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DataError {
    /// A struct made with a schema that is not a STRUCT.
    #[error("a struct needs a STRUCT schema, not {0}")]
    NotAStruct(Type),
    /// A field name the struct's schema does not have.
    #[error("no field {0:?} in the struct's schema")]
    NoSuchField(String),
    /// A field position past the last field.
    #[error("no field at index {index}: the struct has {fields} fields")]
    NoSuchIndex {
        /// The position asked for.
        index: usize,
        /// How many fields there are.
        fields: usize,
    },
    /// A number of values that is not the number of fields.
    #[error("{values} values for a struct of {fields} fields")]
    FieldCount {
        /// How many fields the schema has.
        fields: usize,
        /// How many values were given.
        values: usize,
    },
    /// A value put into a field it does not fit.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}
