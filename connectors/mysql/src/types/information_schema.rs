//! [`ColumnDef::from_information_schema`]: a column from its row of `information_schema.COLUMNS`.

use super::charset::Charset;
use super::error::TypeError;
use super::mysql_type::{ColumnDef, GeometryKind, LobSize, MySqlType};

/// The columns of one row of `information_schema.COLUMNS` the mapping needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InformationSchemaColumn {
    /// `COLUMN_NAME`.
    pub column_name: String,
    /// `IS_NULLABLE = 'YES'`.
    pub is_nullable: bool,
    /// `DATA_TYPE`: the type's name (`int`, `varchar`, `enum`, ...).
    pub data_type: String,
    /// `COLUMN_TYPE`: the full type (`int(10) unsigned`, `enum('a','b')`, ...).
    pub column_type: String,
    /// `NUMERIC_PRECISION`: DECIMAL's precision, BIT's length.
    pub numeric_precision: Option<u64>,
    /// `NUMERIC_SCALE`: DECIMAL's scale.
    pub numeric_scale: Option<u64>,
    /// `DATETIME_PRECISION`: TIME, DATETIME and TIMESTAMP's fractional-second digits.
    pub datetime_precision: Option<u64>,
    /// `CHARACTER_SET_NAME` of text, ENUM and SET columns.
    pub character_set_name: Option<String>,
    /// `CHARACTER_OCTET_LENGTH`: BINARY's length.
    pub character_octet_length: Option<u64>,
}

impl ColumnDef {
    /// From one row of information_schema.COLUMNS (the snapshot, and the fallback when the binlog lacks the
    /// optional metadata). A type without a mapping becomes [`MySqlType::Unsupported`]; an error only for a row
    /// that lacks what its type needs.
    pub fn from_information_schema(row: &InformationSchemaColumn) -> Result<Self, TypeError> {
        let name = row.column_name.clone();
        let missing = |what| TypeError::MissingMetadata { column: row.column_name.clone(), what };
        let column_type = row.column_type.to_ascii_lowercase();
        let unsigned = column_type.contains("unsigned") || column_type.contains("zerofill");
        let small = |value: Option<u64>, what| value.and_then(|v| u8::try_from(v).ok()).ok_or_else(|| missing(what));
        let fsp = row.datetime_precision.and_then(|v| u8::try_from(v).ok()).unwrap_or(0);
        let text = |make: fn(Charset) -> MySqlType| match &row.character_set_name {
            Some(name) => Ok(Charset::from_name(name)
                .map_or_else(|| MySqlType::Unsupported(format!("{} CHARACTER SET {name}", row.column_type)), make)),
            None => Err(missing("CHARACTER_SET_NAME")),
        };
        let ty = match row.data_type.to_ascii_lowercase().as_str() {
            "tinyint" => MySqlType::TinyInt { unsigned },
            "smallint" => MySqlType::SmallInt { unsigned },
            "mediumint" => MySqlType::MediumInt { unsigned },
            "int" | "integer" => MySqlType::Int { unsigned },
            "bigint" => MySqlType::BigInt { unsigned },
            "decimal" | "numeric" => MySqlType::Decimal {
                precision: small(row.numeric_precision, "NUMERIC_PRECISION")?,
                scale: small(row.numeric_scale, "NUMERIC_SCALE")?,
            },
            "float" => MySqlType::Float,
            "double" | "real" | "double precision" => MySqlType::Double,
            "bit" => MySqlType::Bit {
                length: row
                    .numeric_precision
                    .and_then(|v| u16::try_from(v).ok())
                    .ok_or_else(|| missing("NUMERIC_PRECISION"))?,
            },
            "char" => text(|charset| MySqlType::Char { charset })?,
            "varchar" => text(|charset| MySqlType::VarChar { charset })?,
            "tinytext" => text(|charset| MySqlType::Text { size: LobSize::Tiny, charset })?,
            "text" => text(|charset| MySqlType::Text { size: LobSize::Regular, charset })?,
            "mediumtext" => text(|charset| MySqlType::Text { size: LobSize::Medium, charset })?,
            "longtext" => text(|charset| MySqlType::Text { size: LobSize::Long, charset })?,
            "binary" => MySqlType::Binary {
                length: row
                    .character_octet_length
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| missing("CHARACTER_OCTET_LENGTH"))?,
            },
            "varbinary" => MySqlType::VarBinary,
            "tinyblob" => MySqlType::Blob { size: LobSize::Tiny },
            "blob" => MySqlType::Blob { size: LobSize::Regular },
            "mediumblob" => MySqlType::Blob { size: LobSize::Medium },
            "longblob" => MySqlType::Blob { size: LobSize::Long },
            "date" => MySqlType::Date,
            "time" => MySqlType::Time { fsp },
            "datetime" => MySqlType::DateTime { fsp },
            "timestamp" => MySqlType::Timestamp { fsp },
            "year" => MySqlType::Year,
            "json" => MySqlType::Json,
            "enum" => MySqlType::Enum(labels(&row.column_type, "enum").ok_or_else(|| missing("ENUM values"))?),
            "set" => MySqlType::Set(labels(&row.column_type, "set").ok_or_else(|| missing("SET members"))?),
            "geometry" => MySqlType::Geometry(GeometryKind::Geometry),
            "point" => MySqlType::Geometry(GeometryKind::Point),
            "linestring" => MySqlType::Geometry(GeometryKind::LineString),
            "polygon" => MySqlType::Geometry(GeometryKind::Polygon),
            "multipoint" => MySqlType::Geometry(GeometryKind::MultiPoint),
            "multilinestring" => MySqlType::Geometry(GeometryKind::MultiLineString),
            "multipolygon" => MySqlType::Geometry(GeometryKind::MultiPolygon),
            "geometrycollection" | "geomcollection" => MySqlType::Geometry(GeometryKind::GeometryCollection),
            _ => MySqlType::Unsupported(row.column_type.clone()),
        };
        Ok(ColumnDef { name, ty, optional: row.is_nullable })
    }
}

/// The quoted values of `COLUMN_TYPE` `enum('a','it''s')` (`''` is a quote; MariaDB and MySQL write no other
/// escapes there).
fn labels(column_type: &str, keyword: &str) -> Option<Vec<String>> {
    let head = column_type.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let list = column_type[keyword.len()..].trim().strip_prefix('(')?.strip_suffix(')')?;
    let mut labels = Vec::new();
    let mut chars = list.chars().peekable();
    loop {
        if chars.next()? != '\'' {
            return None;
        }
        let mut label = String::new();
        loop {
            match chars.next()? {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    label.push('\'');
                }
                '\'' => break,
                c => label.push(c),
            }
        }
        labels.push(label);
        match chars.next() {
            None => return Some(labels),
            Some(',') => {}
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(data_type: &str, column_type: &str) -> InformationSchemaColumn {
        InformationSchemaColumn {
            column_name: "c".to_owned(),
            is_nullable: true,
            data_type: data_type.to_owned(),
            column_type: column_type.to_owned(),
            ..InformationSchemaColumn::default()
        }
    }

    fn ty(row: InformationSchemaColumn) -> MySqlType {
        ColumnDef::from_information_schema(&row).expect("column").ty
    }

    #[test]
    fn reads_each_type() {
        assert_eq!(ty(row("bigint", "bigint(20) unsigned")), MySqlType::BigInt { unsigned: true });
        assert_eq!(ty(row("tinyint", "tinyint(1)")), MySqlType::TinyInt { unsigned: false });
        let decimal = InformationSchemaColumn {
            numeric_precision: Some(10),
            numeric_scale: Some(2),
            ..row("decimal", "decimal(10,2)")
        };
        assert_eq!(ty(decimal), MySqlType::Decimal { precision: 10, scale: 2 });
        assert_eq!(
            ty(InformationSchemaColumn { numeric_precision: Some(10), ..row("bit", "bit(10)") }),
            MySqlType::Bit { length: 10 }
        );
        let latin1 =
            InformationSchemaColumn { character_set_name: Some("latin1".to_owned()), ..row("varchar", "varchar(20)") };
        assert_eq!(ty(latin1), MySqlType::VarChar { charset: Charset::Latin1 });
        let json =
            InformationSchemaColumn { character_set_name: Some("utf8mb4".to_owned()), ..row("longtext", "longtext") };
        assert_eq!(ty(json), MySqlType::Text { size: LobSize::Long, charset: Charset::Utf8mb4 });
        assert_eq!(
            ty(InformationSchemaColumn { character_octet_length: Some(4), ..row("binary", "binary(4)") }),
            MySqlType::Binary { length: 4 }
        );
        assert_eq!(
            ty(InformationSchemaColumn { datetime_precision: Some(6), ..row("time", "time(6)") }),
            MySqlType::Time { fsp: 6 }
        );
        assert_eq!(ty(row("geomcollection", "geomcollection")), MySqlType::Geometry(GeometryKind::GeometryCollection));
        assert_eq!(ty(row("uuid", "uuid")), MySqlType::Unsupported("uuid".to_owned()));
        let latin2 =
            InformationSchemaColumn { character_set_name: Some("latin2".to_owned()), ..row("char", "char(3)") };
        assert_eq!(ty(latin2), MySqlType::Unsupported("char(3) CHARACTER SET latin2".to_owned()));
        assert!(ColumnDef::from_information_schema(&row("decimal", "decimal(10,2)")).is_err());
        assert!(ColumnDef::from_information_schema(&row("varchar", "varchar(3)")).is_err());
    }

    #[test]
    fn reads_enum_and_set_values() {
        assert_eq!(
            labels("enum('small','medium','large')", "enum"),
            Some(vec!["small".into(), "medium".into(), "large".into()])
        );
        assert_eq!(labels("set('a,b','it''s','')", "set"), Some(vec!["a,b".into(), "it's".into(), String::new()]));
        assert_eq!(labels("enum('a'", "enum"), None);
        assert_eq!(labels("set('a')", "enum"), None);
        let set =
            InformationSchemaColumn { character_set_name: Some("utf8mb4".to_owned()), ..row("set", "set('a','b')") };
        assert_eq!(ty(set), MySqlType::Set(vec!["a".into(), "b".into()]));
    }
}
