//! A table map event turned into an owned description of the table: names, types, signedness, nullability,
//! enum/set values and primary key, from the optional metadata `binlog_row_metadata=FULL` adds.
//! Each column also carries what its type's mapping needs ([`crate::types`]): the type metadata (DECIMAL precision
//! and scale, fractional-second precision, BIT length, maximum length) and, from the optional metadata, its
//! collation and geometry type.

use std::collections::HashMap;

use mysql_async::binlog::events::{NonDefaultCharset, OptionalMetadataField, TableMapEvent};
use mysql_async::consts::{ColumnType, GeometryType};

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
    /// The same values as the server sent them, in the column's character set ([`TableColumn::collation`]).
    pub raw_values: Vec<Vec<u8>>,
    /// DECIMAL: the precision (digits in all), from the column's type metadata.
    pub precision: Option<u8>,
    /// DECIMAL: the scale (digits after the point), from the column's type metadata.
    pub scale: Option<u8>,
    /// TIME, DATETIME, TIMESTAMP (their MySQL 5.6 forms): the fractional-second precision, 0 to 6.
    pub fsp: Option<u8>,
    /// BIT: the number of bits, 1 to 64.
    pub bit_length: Option<u16>,
    /// CHAR, BINARY, VARCHAR, VARBINARY: the maximum length in bytes; BLOB and TEXT types (and GEOMETRY, JSON):
    /// the largest length their length prefix allows (255, 65535, 16777215 or 4294967295).
    pub max_length: Option<u64>,
    /// Character columns (CHAR, VARCHAR, TEXT and the binary types, whose collation is 63 `binary`), ENUM and SET:
    /// the collation id from the optional metadata's charsets.
    pub collation: Option<u16>,
    /// GEOMETRY: the declared geometry type (POINT, LINESTRING, ...), from the optional metadata.
    pub geometry_type: Option<GeometryType>,
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
            let mut column = TableColumn {
                name: None,
                column_type,
                unsigned: false,
                nullable,
                values: Vec::new(),
                raw_values: Vec::new(),
                precision: None,
                scale: None,
                fsp: None,
                bit_length: None,
                max_length: None,
                collation: None,
                geometry_type: None,
            };
            column.apply_type_metadata(event.get_column_metadata(index).unwrap_or(&[]));
            columns.push(column);
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
                    let values = values?;
                    column.values = values.values().iter().map(|v| v.value().into_owned()).collect();
                    column.raw_values = values.values().iter().map(|v| v.value_raw().to_vec()).collect();
                }
            }
            OptionalMetadataField::SetStrValue(sets) => {
                let targets = self.columns.iter_mut().filter(|c| c.column_type == ColumnType::MYSQL_TYPE_SET);
                for (column, values) in targets.zip(sets.iter_values()) {
                    let values = values?;
                    column.values = values.values().iter().map(|v| v.value().into_owned()).collect();
                    column.raw_values = values.values().iter().map(|v| v.value_raw().to_vec()).collect();
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
            OptionalMetadataField::DefaultCharset(charsets) => {
                let mut targets = self.columns.iter_mut().filter(|c| c.column_type.is_character_type());
                apply_default_charset(&mut targets, charsets.default_charset(), charsets.iter_non_default())?;
            }
            OptionalMetadataField::ColumnCharset(charsets) => {
                let targets = self.columns.iter_mut().filter(|c| c.column_type.is_character_type());
                for (column, charset) in targets.zip(charsets.iter_charsets()) {
                    column.collation = Some(charset?);
                }
            }
            OptionalMetadataField::EnumAndSetDefaultCharset(charsets) => {
                let mut targets = self.columns.iter_mut().filter(|c| c.column_type.is_enum_or_set_type());
                apply_default_charset(&mut targets, charsets.default_charset(), charsets.iter_non_default())?;
            }
            OptionalMetadataField::EnumAndSetColumnCharset(charsets) => {
                let targets = self.columns.iter_mut().filter(|c| c.column_type.is_enum_or_set_type());
                for (column, charset) in targets.zip(charsets.iter_charsets()) {
                    column.collation = Some(charset?);
                }
            }
            OptionalMetadataField::GeometryType(types) => {
                let targets = self.columns.iter_mut().filter(|c| c.column_type == ColumnType::MYSQL_TYPE_GEOMETRY);
                for (column, geometry_type) in targets.zip(types.iter_geometry_types()) {
                    column.geometry_type = Some(geometry_type?);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl TableColumn {
    /// Records what the column's type metadata in the TABLE_MAP event says (its layout depends on the type).
    fn apply_type_metadata(&mut self, meta: &[u8]) {
        let byte = |index: usize| meta.get(index).copied();
        match self.column_type {
            ColumnType::MYSQL_TYPE_NEWDECIMAL => (self.precision, self.scale) = (byte(0), byte(1)),
            ColumnType::MYSQL_TYPE_TIME2 | ColumnType::MYSQL_TYPE_DATETIME2 | ColumnType::MYSQL_TYPE_TIMESTAMP2 => {
                self.fsp = byte(0)
            }
            ColumnType::MYSQL_TYPE_BIT => {
                // The bits beyond whole bytes, then the whole bytes.
                self.bit_length = byte(1).zip(byte(0)).map(|(bytes, bits)| u16::from(bytes) * 8 + u16::from(bits))
            }
            ColumnType::MYSQL_TYPE_VARCHAR | ColumnType::MYSQL_TYPE_VAR_STRING => {
                self.max_length = byte(0).zip(byte(1)).map(|(low, high)| u64::from(u16::from_le_bytes([low, high])))
            }
            ColumnType::MYSQL_TYPE_STRING => {
                // The real type with two bits of the length folded in (see mysql_common's `BinlogValue`), then
                // the length's low byte.
                self.max_length = byte(0).zip(byte(1)).map(|(high, low)| {
                    let folded = if high & 0x30 != 0x30 { u64::from((high & 0x30) ^ 0x30) << 4 } else { 0 };
                    u64::from(low) | folded
                })
            }
            ColumnType::MYSQL_TYPE_BLOB | ColumnType::MYSQL_TYPE_GEOMETRY | ColumnType::MYSQL_TYPE_JSON => {
                // The size of the length prefix in bytes.
                self.max_length = byte(0).filter(|size| (1..=4).contains(size)).map(|size| (1u64 << (8 * size)) - 1)
            }
            _ => {}
        }
    }
}

/// Gives the columns of `targets` (in order) the default collation, except those the non-default entries name by
/// their index among `targets`.
fn apply_default_charset(
    targets: &mut dyn Iterator<Item = &mut TableColumn>,
    default: u16,
    non_default: impl Iterator<Item = std::io::Result<NonDefaultCharset>>,
) -> Result<(), BinlogError> {
    let mut exceptions = HashMap::new();
    for entry in non_default {
        let entry = entry?;
        exceptions.insert(entry.column_index(), entry.charset());
    }
    for (index, column) in (0u64..).zip(targets) {
        column.collation = Some(exceptions.get(&index).copied().unwrap_or(default));
    }
    Ok(())
}

/// A column index from the metadata as a `usize` (saturating: no table has that many columns).
fn to_index(index: u64) -> usize {
    usize::try_from(index).unwrap_or(usize::MAX)
}
