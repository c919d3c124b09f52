//! [`ColumnDef::from_table_map`]: a column from a TABLE_MAP event with the optional metadata
//! `binlog_row_metadata=FULL` adds (names, signedness, charsets, ENUM and SET values, geometry types).

use mysql_async::consts::{ColumnType, GeometryType};

use super::charset::{encoding_of_collation, Charset, Encoding};
use super::error::TypeError;
use super::mysql_type::{ColumnDef, GeometryKind, LobSize, MySqlType};
use crate::binlog::TableColumn;

impl ColumnDef {
    /// From a table map column. Needs the optional metadata of `binlog_row_metadata=FULL` (without it the
    /// column has no name: [`TypeError::MissingMetadata`]; describe the table from information_schema instead). A
    /// type without a mapping becomes [`MySqlType::Unsupported`].
    pub fn from_table_map(column: &TableColumn) -> Result<Self, TypeError> {
        let name = column.name.clone().ok_or_else(|| TypeError::MissingMetadata {
            column: format!("{:?}", column.column_type),
            what: "the column name (binlog_row_metadata=FULL)",
        })?;
        let missing = |what| TypeError::MissingMetadata { column: name.clone(), what };
        let unsigned = column.unsigned;
        let encoding = || {
            let collation = column.collation.ok_or_else(|| missing("the character set"))?;
            Ok::<_, TypeError>(encoding_of_collation(collation).ok_or(collation))
        };
        // A text type in a character set decoded here, or Unsupported.
        let text = |make: &dyn Fn(Charset) -> MySqlType, binary: MySqlType| {
            Ok::<_, TypeError>(match encoding()? {
                Ok(Encoding::Binary) => binary,
                Ok(Encoding::Text(charset)) => make(charset),
                Err(collation) => MySqlType::Unsupported(format!("{:?} in collation {collation}", column.column_type)),
            })
        };
        let fsp = || column.fsp.ok_or_else(|| missing("the fractional-second precision"));
        let ty = match column.column_type {
            ColumnType::MYSQL_TYPE_TINY => MySqlType::TinyInt { unsigned },
            ColumnType::MYSQL_TYPE_SHORT => MySqlType::SmallInt { unsigned },
            ColumnType::MYSQL_TYPE_INT24 => MySqlType::MediumInt { unsigned },
            ColumnType::MYSQL_TYPE_LONG => MySqlType::Int { unsigned },
            ColumnType::MYSQL_TYPE_LONGLONG => MySqlType::BigInt { unsigned },
            ColumnType::MYSQL_TYPE_NEWDECIMAL => MySqlType::Decimal {
                precision: column.precision.ok_or_else(|| missing("the DECIMAL precision"))?,
                scale: column.scale.ok_or_else(|| missing("the DECIMAL scale"))?,
            },
            ColumnType::MYSQL_TYPE_FLOAT => MySqlType::Float,
            ColumnType::MYSQL_TYPE_DOUBLE => MySqlType::Double,
            ColumnType::MYSQL_TYPE_BIT => {
                MySqlType::Bit { length: column.bit_length.ok_or_else(|| missing("the BIT length"))? }
            }
            ColumnType::MYSQL_TYPE_STRING => {
                let length = column.max_length.and_then(|l| u32::try_from(l).ok());
                let length = length.ok_or_else(|| missing("the BINARY length"))?;
                text(&|charset| MySqlType::Char { charset }, MySqlType::Binary { length })?
            }
            ColumnType::MYSQL_TYPE_VARCHAR | ColumnType::MYSQL_TYPE_VAR_STRING => {
                text(&|charset| MySqlType::VarChar { charset }, MySqlType::VarBinary)?
            }
            ColumnType::MYSQL_TYPE_BLOB => {
                let size = column.max_length.and_then(LobSize::from_max_length);
                let size = size.ok_or_else(|| missing("the BLOB length size"))?;
                text(&|charset| MySqlType::Text { size, charset }, MySqlType::Blob { size })?
            }
            ColumnType::MYSQL_TYPE_NEWDATE | ColumnType::MYSQL_TYPE_DATE => MySqlType::Date,
            ColumnType::MYSQL_TYPE_TIME2 => MySqlType::Time { fsp: fsp()? },
            ColumnType::MYSQL_TYPE_TIME => MySqlType::Time { fsp: 0 },
            ColumnType::MYSQL_TYPE_DATETIME2 => MySqlType::DateTime { fsp: fsp()? },
            ColumnType::MYSQL_TYPE_DATETIME => MySqlType::DateTime { fsp: 0 },
            ColumnType::MYSQL_TYPE_TIMESTAMP2 => MySqlType::Timestamp { fsp: fsp()? },
            ColumnType::MYSQL_TYPE_TIMESTAMP => MySqlType::Timestamp { fsp: 0 },
            ColumnType::MYSQL_TYPE_YEAR => MySqlType::Year,
            ColumnType::MYSQL_TYPE_JSON => MySqlType::Json,
            ColumnType::MYSQL_TYPE_ENUM | ColumnType::MYSQL_TYPE_SET => {
                if column.raw_values.is_empty() {
                    return Err(missing("the ENUM or SET values"));
                }
                match labels(column) {
                    Some(labels) if column.column_type == ColumnType::MYSQL_TYPE_ENUM => MySqlType::Enum(labels),
                    Some(labels) => MySqlType::Set(labels),
                    None => MySqlType::Unsupported(format!(
                        "{:?} with labels in an unknown character set",
                        column.column_type
                    )),
                }
            }
            ColumnType::MYSQL_TYPE_GEOMETRY => {
                MySqlType::Geometry(geometry(column.geometry_type.ok_or_else(|| missing("the geometry type"))?))
            }
            other => MySqlType::Unsupported(format!("{other:?}")),
        };
        Ok(ColumnDef { name, ty, optional: column.nullable })
    }
}

/// The ENUM or SET labels decoded in their character set; ASCII labels in any character set; `None` for others
/// in a character set not decoded here.
fn labels(column: &TableColumn) -> Option<Vec<String>> {
    let charset = match column.collation.and_then(encoding_of_collation) {
        Some(Encoding::Text(charset)) => Some(charset),
        _ => None,
    };
    column
        .raw_values
        .iter()
        .map(|raw| match charset {
            Some(charset) => Some(charset.decode(raw)),
            None => raw.is_ascii().then(|| String::from_utf8_lossy(raw).into_owned()),
        })
        .collect()
}

/// The declared geometry type.
fn geometry(geometry_type: GeometryType) -> GeometryKind {
    match geometry_type {
        GeometryType::GEOM_GEOMETRY => GeometryKind::Geometry,
        GeometryType::GEOM_POINT => GeometryKind::Point,
        GeometryType::GEOM_LINESTRING => GeometryKind::LineString,
        GeometryType::GEOM_POLYGON => GeometryKind::Polygon,
        GeometryType::GEOM_MULTIPOINT => GeometryKind::MultiPoint,
        GeometryType::GEOM_MULTILINESTRING => GeometryKind::MultiLineString,
        GeometryType::GEOM_MULTIPOLYGON => GeometryKind::MultiPolygon,
        GeometryType::GEOM_GEOMETRYCOLLECTION => GeometryKind::GeometryCollection,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(column_type: ColumnType) -> TableColumn {
        TableColumn {
            name: Some("c".to_owned()),
            column_type,
            unsigned: false,
            nullable: true,
            values: Vec::new(),
            raw_values: Vec::new(),
            precision: None,
            scale: None,
            fsp: None,
            bit_length: None,
            max_length: None,
            collation: None,
            geometry_type: None,
        }
    }

    fn ty(column: TableColumn) -> Result<MySqlType, TypeError> {
        ColumnDef::from_table_map(&column).map(|def| def.ty)
    }

    #[test]
    fn reads_each_type_from_the_metadata() {
        let unsigned = TableColumn { unsigned: true, ..column(ColumnType::MYSQL_TYPE_LONGLONG) };
        assert_eq!(ty(unsigned), Ok(MySqlType::BigInt { unsigned: true }));
        let decimal = TableColumn { precision: Some(10), scale: Some(2), ..column(ColumnType::MYSQL_TYPE_NEWDECIMAL) };
        assert_eq!(ty(decimal), Ok(MySqlType::Decimal { precision: 10, scale: 2 }));
        let binary = TableColumn { max_length: Some(4), collation: Some(63), ..column(ColumnType::MYSQL_TYPE_STRING) };
        assert_eq!(ty(binary), Ok(MySqlType::Binary { length: 4 }));
        let char = TableColumn { max_length: Some(20), collation: Some(45), ..column(ColumnType::MYSQL_TYPE_STRING) };
        assert_eq!(ty(char), Ok(MySqlType::Char { charset: Charset::Utf8mb4 }));
        let latin1 = TableColumn { collation: Some(8), ..column(ColumnType::MYSQL_TYPE_VARCHAR) };
        assert_eq!(ty(latin1), Ok(MySqlType::VarChar { charset: Charset::Latin1 }));
        let blob =
            TableColumn { max_length: Some(0xff_ffff), collation: Some(63), ..column(ColumnType::MYSQL_TYPE_BLOB) };
        assert_eq!(ty(blob), Ok(MySqlType::Blob { size: LobSize::Medium }));
        let latin2 = TableColumn { collation: Some(9), ..column(ColumnType::MYSQL_TYPE_VARCHAR) };
        assert!(matches!(ty(latin2), Ok(MySqlType::Unsupported(_))));
        let point =
            TableColumn { geometry_type: Some(GeometryType::GEOM_POINT), ..column(ColumnType::MYSQL_TYPE_GEOMETRY) };
        assert_eq!(ty(point), Ok(MySqlType::Geometry(GeometryKind::Point)));
        let set = TableColumn {
            raw_values: vec![b"a".to_vec(), b"\xe9".to_vec()],
            collation: Some(8),
            ..column(ColumnType::MYSQL_TYPE_SET)
        };
        assert_eq!(ty(set), Ok(MySqlType::Set(vec!["a".to_owned(), "é".to_owned()])));
        assert_eq!(
            ty(TableColumn { fsp: Some(3), ..column(ColumnType::MYSQL_TYPE_DATETIME2) }),
            Ok(MySqlType::DateTime { fsp: 3 })
        );
    }

    #[test]
    fn refuses_descriptions_without_the_metadata() {
        assert!(matches!(
            ty(TableColumn { name: None, ..column(ColumnType::MYSQL_TYPE_LONG) }),
            Err(TypeError::MissingMetadata { .. })
        ));
        assert!(matches!(ty(column(ColumnType::MYSQL_TYPE_VARCHAR)), Err(TypeError::MissingMetadata { .. })));
        assert!(matches!(ty(column(ColumnType::MYSQL_TYPE_ENUM)), Err(TypeError::MissingMetadata { .. })));
        assert!(matches!(ty(column(ColumnType::MYSQL_TYPE_TIME2)), Err(TypeError::MissingMetadata { .. })));
        assert!(matches!(ty(column(ColumnType::MYSQL_TYPE_GEOMETRY)), Err(TypeError::MissingMetadata { .. })));
    }
}
