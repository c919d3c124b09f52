//! The source's one door to the column types ([`crate::types`]): their settings as connector properties, column
//! types loaded from the catalog once per type, a converter per column, and a converter per column.

use std::collections::HashMap;

use tidemark_connect::config::{ConfigKey, ConfigType};
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_types_are_left_out() {
        let settings = TypeSettings::default();
        let mystery = ColumnType::new(999_999, -1, "mystery");
        assert!(matches!(converter(&mystery, true, &settings), Ok(None)));
        let int4 = ColumnType::new(23, -1, "int4");
        assert!(converter(&int4, false, &settings).is_ok_and(|c| c.is_some()));
    }
}
