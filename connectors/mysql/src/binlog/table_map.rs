//! A table map event turned into an owned description of the table: names, types, signedness, nullability,
//! enum/set values and primary key, from the optional metadata `binlog_row_metadata=FULL` adds.

use mysql_async::binlog::events::{OptionalMetadataField, TableMapEvent};
use mysql_async::consts::ColumnType;

use super::error::BinlogError;

/// A table as a TABLE_MAP event describes it; the rows events that follow refer to it by `table_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableMap {
    /// The id the server gave the table for the rows events (not stable across DDL or restarts).
    pub table_id: u64,
    /// The database (schema) name.
    pub database: String,
    /// The table name.
    pub table: String,
    /// The columns, in table order.
    pub columns: Vec<TableColumn>,
    /// Indexes into `columns` of the primary key's columns, in key order; empty without a primary key or without
    /// the optional metadata.
    pub primary_key: Vec<usize>,
}

/// One column of a [`TableMap`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableColumn {
    /// The column name, when the server sends names (`binlog_row_metadata=FULL`).
    pub name: Option<String>,
    /// The column's type, with ENUM, SET and STRING told apart.
    pub column_type: ColumnType,
    /// Whether a numeric column is UNSIGNED (from the optional metadata; `false` without it).
    pub unsigned: bool,
    /// Whether the column accepts NULL.
    pub nullable: bool,
    /// The values of an ENUM or SET column, in declaration order (from the optional metadata).
    pub values: Vec<String>,
}

impl TableMap {
    /// Describes the table of `event`.
    pub fn from_event(event: &TableMapEvent<'_>) -> Result<Self, BinlogError> {
        let count = usize::try_from(event.columns_count())
            .map_err(|_| BinlogError::Malformed { event: "TABLE_MAP", reason: "column count" })?;
        let nulls = event.null_bitmask();
        let mut columns = Vec::with_capacity(count);
        for index in 0..count {
            let column_type = event
                .get_column_type(index)
                .map_err(|_| BinlogError::Malformed { event: "TABLE_MAP", reason: "unknown column type" })?
                .ok_or(BinlogError::Malformed { event: "TABLE_MAP", reason: "missing column type" })?;
            let nullable = nulls.get(index).is_some_and(|bit| *bit);
            columns.push(TableColumn { name: None, column_type, unsigned: false, nullable, values: Vec::new() });
        }
        let mut table = TableMap {
            table_id: event.table_id(),
            database: event.database_name().into_owned(),
            table: event.table_name().into_owned(),
            columns,
            primary_key: Vec::new(),
        };
        for field in event.iter_optional_meta() {
            table.apply(field?)?;
        }
        Ok(table)
    }

    /// The index of the column named `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|column| column.name.as_deref() == Some(name))
    }

    /// Records one optional metadata field.
    fn apply(&mut self, field: OptionalMetadataField<'_>) -> Result<(), BinlogError> {
        match field {
            OptionalMetadataField::Signedness(bits) => {
                // One bit per numeric column, in column order.
                let numeric = self.columns.iter_mut().filter(|column| column.column_type.is_numeric_type());
                for (column, bit) in numeric.zip(bits.iter()) {
                    column.unsigned = *bit;
                }
            }
            OptionalMetadataField::ColumnName(names) => {
                for (column, name) in self.columns.iter_mut().zip(names.iter_names()) {
                    column.name = Some(name?.name().into_owned());
                }
            }
            OptionalMetadataField::EnumStrValue(enums) => {
                let targets = self.columns.iter_mut().filter(|c| c.column_type == ColumnType::MYSQL_TYPE_ENUM);
                for (column, values) in targets.zip(enums.iter_values()) {
                    column.values = values?.values().iter().map(|v| v.value().into_owned()).collect();
                }
            }
            OptionalMetadataField::SetStrValue(sets) => {
                let targets = self.columns.iter_mut().filter(|c| c.column_type == ColumnType::MYSQL_TYPE_SET);
                for (column, values) in targets.zip(sets.iter_values()) {
                    column.values = values?.values().iter().map(|v| v.value().into_owned()).collect();
                }
            }
            OptionalMetadataField::SimplePrimaryKey(key) => {
                self.primary_key = key.iter_indexes().map(|index| index.map(to_index)).collect::<Result<_, _>>()?;
            }
            OptionalMetadataField::PrimaryKeyWithPrefix(keys) => {
                self.primary_key = keys
                    .iter_keys()
                    .map(|key| key.map(|key| to_index(key.column_index())))
                    .collect::<Result<_, _>>()?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// A column index from the metadata as a `usize` (saturating: no table has that many columns).
fn to_index(index: u64) -> usize {
    usize::try_from(index).unwrap_or(usize::MAX)
}
