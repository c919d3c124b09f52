//! The source's one door to the column types ([`crate::types`]): their settings as connector properties, column
//! types loaded from the catalog once per type, a converter per column, and the value Debezium puts in a required
//! field it has no value for.

use std::collections::HashMap;

use bytes::Bytes;
use tidemark_connect::config::{ConfigKey, ConfigType};
use tidemark_connect::data::{SchemaRef, Struct, Type, Value};
use tokio_postgres::Client;

use crate::types::{load_column_type, DEFAULT_PLACEHOLDER};
pub use crate::types::{CatalogError, ColumnConverter, ColumnType, TypeError, TypeSettings};

/// The type settings, declared under Debezium's names (read by [`TypeSettings::from_props`]).
pub fn type_config_keys() -> Vec<ConfigKey> {
    vec![
        ConfigKey::optional(
            "decimal.handling.mode",
            ConfigType::String,
            "precise",
            "numeric, decimal and money as precise (Connect Decimal), double or string.",
        )
        .one_of(&["precise", "double", "string"]),
        ConfigKey::optional(
            "time.precision.mode",
            ConfigType::String,
            "adaptive",
            "Dates, times and timestamps as adaptive, adaptive_time_microseconds or connect types.",
        )
        .one_of(&["adaptive", "adaptive_time_microseconds", "connect"]),
        ConfigKey::optional(
            "binary.handling.mode",
            ConfigType::String,
            "bytes",
            "bytea as bytes, base64, base64-url-safe or hex.",
        )
        .one_of(&["bytes", "base64", "base64-url-safe", "hex"]),
        ConfigKey::optional(
            "interval.handling.mode",
            ConfigType::String,
            "numeric",
            "interval as numeric (microseconds) or string (ISO 8601).",
        )
        .one_of(&["numeric", "string"]),
        ConfigKey::optional("hstore.handling.mode", ConfigType::String, "json", "hstore as json or map.")
            .one_of(&["json", "map"]),
        ConfigKey::optional("money.fraction.digits", ConfigType::Int, "2", "The scale of money values."),
        ConfigKey::optional(
            "unavailable.value.placeholder",
            ConfigType::String,
            DEFAULT_PLACEHOLDER,
            "Stands in for an unchanged TOASTed value that Postgres did not send (hex:... for bytes).",
        ),
        ConfigKey::optional(
            "include.unknown.datatypes",
            ConfigType::Boolean,
            "false",
            "Capture columns of types without a mapping as the bytes of their text form instead of leaving them out.",
        ),
    ]
}

/// Column types loaded from the catalog, each (type, modifier) once.
#[derive(Debug, Default)]
pub struct TypeCache {
    known: HashMap<(u32, i32), ColumnType>,
}

impl TypeCache {
    /// The type of a column with type `oid` and modifier `modifier`, its domain base, array element and enum
    /// labels included.
    pub async fn column_type(&mut self, client: &Client, oid: u32, modifier: i32) -> Result<ColumnType, CatalogError> {
        if let Some(known) = self.known.get(&(oid, modifier)) {
            return Ok(known.clone());
        }
        let loaded = load_column_type(client, oid, modifier).await?;
        self.known.insert((oid, modifier), loaded.clone());
        Ok(loaded)
    }
}

/// The converter of a column; `None` for a type without a mapping, which Debezium leaves out of events.
pub fn converter(
    ty: &ColumnType,
    optional: bool,
    settings: &TypeSettings,
) -> Result<Option<ColumnConverter>, TypeError> {
    match ColumnConverter::new(ty, optional, settings) {
        Ok(converter) => Ok(Some(converter)),
        Err(TypeError::Unknown { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

/// The value Debezium puts in a required field it has no value for (a column outside the replica identity in a
/// delete's old key): the field's default, else the zero of its type.
pub fn fallback_value(schema: &SchemaRef) -> Value {
    if let Some(default) = schema.default_value() {
        return default.clone();
    }
    if schema.is_optional() {
        return Value::Null;
    }
    match schema.schema_type() {
        Type::Int8 => Value::Int8(0),
        Type::Int16 => Value::Int16(0),
        Type::Int32 => Value::Int32(0),
        Type::Int64 => Value::Int64(0),
        Type::Float32 => Value::Float32(0.0),
        Type::Float64 => Value::Float64(0.0),
        Type::Boolean => Value::Boolean(false),
        Type::String => Value::String(String::new()),
        Type::Bytes => Value::Bytes(Bytes::new()),
        Type::Array => Value::Array(Vec::new()),
        Type::Map => Value::Map(Vec::new()),
        Type::Struct => {
            let values = schema.fields().iter().map(|f| fallback_value(f.schema())).collect();
            Struct::from_values(schema.clone(), values).map_or(Value::Null, Value::Struct)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidemark_connect::data::SchemaBuilder;

    #[test]
    fn fallbacks_are_zeros_or_defaults() {
        let required = |b: SchemaBuilder| b.build().expect("schema");
        assert_eq!(fallback_value(&required(SchemaBuilder::int32())), Value::Int32(0));
        assert_eq!(fallback_value(&required(SchemaBuilder::string())), Value::from(""));
        assert_eq!(fallback_value(&required(SchemaBuilder::string().optional())), Value::Null);
        let with_default = required(SchemaBuilder::int64().default_value(Value::Int64(7)));
        assert_eq!(fallback_value(&with_default), Value::Int64(7));
        let point = required(SchemaBuilder::struct_().field("x", required(SchemaBuilder::float64())));
        let value = fallback_value(&point);
        assert_eq!(value.as_struct().map(|s| s.values().to_vec()), Some(vec![Value::Float64(0.0)]));
    }

    #[test]
    fn unknown_types_are_left_out() {
        let settings = TypeSettings::default();
        let mystery = ColumnType::new(999_999, -1, "mystery");
        assert!(matches!(converter(&mystery, true, &settings), Ok(None)));
        let int4 = ColumnType::new(23, -1, "int4");
        assert!(converter(&int4, false, &settings).is_ok_and(|c| c.is_some()));
    }
}
