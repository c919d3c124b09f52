//! [`MySqlType`] and [`ColumnDef`]: a column's type with exactly what its Debezium schema and the decoding of its
//! values depend on, and nothing either source of column descriptions (information_schema, a table map) lacks.

use std::fmt;

use super::charset::Charset;

/// A MySQL or MariaDB column type with everything its Debezium schema and values depend on.
///
/// Lengths of character types are left out on purpose: information_schema counts them in characters, a table map
/// in bytes, and neither the schema nor the values depend on them. `BINARY(n)` keeps its length: the binlog drops
/// the trailing zero bytes the stored value has, which the value gets back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MySqlType {
    /// TINYINT (and BOOLEAN, which is TINYINT(1)).
    TinyInt {
        /// UNSIGNED.
        unsigned: bool,
    },
    /// SMALLINT.
    SmallInt {
        /// UNSIGNED.
        unsigned: bool,
    },
    /// MEDIUMINT.
    MediumInt {
        /// UNSIGNED.
        unsigned: bool,
    },
    /// INT.
    Int {
        /// UNSIGNED.
        unsigned: bool,
    },
    /// BIGINT.
    BigInt {
        /// UNSIGNED.
        unsigned: bool,
    },
    /// DECIMAL(precision, scale) (and NUMERIC).
    Decimal {
        /// Digits in all, 1 to 65.
        precision: u8,
        /// Digits after the point, 0 to 30.
        scale: u8,
    },
    /// FLOAT: a 4-byte float (FLOAT(p) with p above 24 is a DOUBLE column).
    Float,
    /// DOUBLE (and REAL).
    Double,
    /// BIT(length).
    Bit {
        /// The number of bits, 1 to 64.
        length: u16,
    },
    /// CHAR(n).
    Char {
        /// The column's character set.
        charset: Charset,
    },
    /// VARCHAR(n).
    VarChar {
        /// The column's character set.
        charset: Charset,
    },
    /// TINYTEXT, TEXT, MEDIUMTEXT, LONGTEXT (and MariaDB's JSON, an alias of LONGTEXT).
    Text {
        /// Which of the four.
        size: LobSize,
        /// The column's character set.
        charset: Charset,
    },
    /// BINARY(length).
    Binary {
        /// The length in bytes every value has.
        length: u32,
    },
    /// VARBINARY(n).
    VarBinary,
    /// TINYBLOB, BLOB, MEDIUMBLOB, LONGBLOB.
    Blob {
        /// Which of the four.
        size: LobSize,
    },
    /// DATE.
    Date,
    /// TIME(fsp).
    Time {
        /// Fractional-second digits, 0 to 6.
        fsp: u8,
    },
    /// DATETIME(fsp).
    DateTime {
        /// Fractional-second digits, 0 to 6.
        fsp: u8,
    },
    /// TIMESTAMP(fsp).
    Timestamp {
        /// Fractional-second digits, 0 to 6.
        fsp: u8,
    },
    /// YEAR.
    Year,
    /// MySQL's JSON (binary JSON in the binlog).
    Json,
    /// ENUM with its values in declaration order.
    Enum(Vec<String>),
    /// SET with its members in declaration order.
    Set(Vec<String>),
    /// GEOMETRY and its subtypes.
    Geometry(GeometryKind),
    /// A type without a mapping here, as described (MariaDB's UUID, INET4, INET6 and VECTOR; text in a character
    /// set not decoded here, see [`Charset`]): [`super::ColumnConverter::new`] refuses it with
    /// [`super::TypeError::Unsupported`], and the column is left out of events.
    Unsupported(String),
}

impl fmt::Display for MySqlType {
    /// The type as SQL writes it, with the character set of text types (`VARCHAR CHARACTER SET latin1`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = |unsigned: bool| if unsigned { " UNSIGNED" } else { "" };
        let lob = |size: &LobSize| match size {
            LobSize::Tiny => "TINY",
            LobSize::Regular => "",
            LobSize::Medium => "MEDIUM",
            LobSize::Long => "LONG",
        };
        match self {
            MySqlType::TinyInt { unsigned } => write!(f, "TINYINT{}", sign(*unsigned)),
            MySqlType::SmallInt { unsigned } => write!(f, "SMALLINT{}", sign(*unsigned)),
            MySqlType::MediumInt { unsigned } => write!(f, "MEDIUMINT{}", sign(*unsigned)),
            MySqlType::Int { unsigned } => write!(f, "INT{}", sign(*unsigned)),
            MySqlType::BigInt { unsigned } => write!(f, "BIGINT{}", sign(*unsigned)),
            MySqlType::Decimal { precision, scale } => write!(f, "DECIMAL({precision},{scale})"),
            MySqlType::Float => f.write_str("FLOAT"),
            MySqlType::Double => f.write_str("DOUBLE"),
            MySqlType::Bit { length } => write!(f, "BIT({length})"),
            MySqlType::Char { charset } => write!(f, "CHAR CHARACTER SET {}", charset.name()),
            MySqlType::VarChar { charset } => write!(f, "VARCHAR CHARACTER SET {}", charset.name()),
            MySqlType::Text { size, charset } => write!(f, "{}TEXT CHARACTER SET {}", lob(size), charset.name()),
            MySqlType::Binary { length } => write!(f, "BINARY({length})"),
            MySqlType::VarBinary => f.write_str("VARBINARY"),
            MySqlType::Blob { size } => write!(f, "{}BLOB", lob(size)),
            MySqlType::Date => f.write_str("DATE"),
            MySqlType::Time { fsp } => write!(f, "TIME({fsp})"),
            MySqlType::DateTime { fsp } => write!(f, "DATETIME({fsp})"),
            MySqlType::Timestamp { fsp } => write!(f, "TIMESTAMP({fsp})"),
            MySqlType::Year => f.write_str("YEAR"),
            MySqlType::Json => f.write_str("JSON"),
            MySqlType::Enum(_) => f.write_str("ENUM"),
            MySqlType::Set(_) => f.write_str("SET"),
            MySqlType::Geometry(kind) => f.write_str(match kind {
                GeometryKind::Geometry => "GEOMETRY",
                GeometryKind::Point => "POINT",
                GeometryKind::LineString => "LINESTRING",
                GeometryKind::Polygon => "POLYGON",
                GeometryKind::MultiPoint => "MULTIPOINT",
                GeometryKind::MultiLineString => "MULTILINESTRING",
                GeometryKind::MultiPolygon => "MULTIPOLYGON",
                GeometryKind::GeometryCollection => "GEOMETRYCOLLECTION",
            }),
            MySqlType::Unsupported(description) => f.write_str(description),
        }
    }
}

/// Which of the four sizes a BLOB or TEXT type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LobSize {
    /// TINYBLOB, TINYTEXT: up to 255 bytes.
    Tiny,
    /// BLOB, TEXT: up to 65535 bytes.
    Regular,
    /// MEDIUMBLOB, MEDIUMTEXT: up to 16 MiB.
    Medium,
    /// LONGBLOB, LONGTEXT: up to 4 GiB.
    Long,
}

impl LobSize {
    /// The size whose values are at most `max_length` bytes long (the longest its length prefix allows).
    pub(super) fn from_max_length(max_length: u64) -> Option<LobSize> {
        Some(match max_length {
            0xff => LobSize::Tiny,
            0xffff => LobSize::Regular,
            0xff_ffff => LobSize::Medium,
            0xffff_ffff => LobSize::Long,
            _ => return None,
        })
    }
}

/// The declared type of a spatial column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeometryKind {
    /// GEOMETRY: any geometry.
    Geometry,
    /// POINT.
    Point,
    /// LINESTRING.
    LineString,
    /// POLYGON.
    Polygon,
    /// MULTIPOINT.
    MultiPoint,
    /// MULTILINESTRING.
    MultiLineString,
    /// MULTIPOLYGON.
    MultiPolygon,
    /// GEOMETRYCOLLECTION (MySQL 8 also calls it GEOMCOLLECTION).
    GeometryCollection,
}

/// A column: its name, type and whether it accepts NULL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    /// The column's name.
    pub name: String,
    /// Its type.
    pub ty: MySqlType,
    /// Whether it accepts NULL (its schema is optional).
    pub optional: bool,
}

impl ColumnDef {
    /// The expression that reads this column exactly in a snapshot's `SELECT` (text protocol), `name` quoted:
    /// `CAST(`f` AS DOUBLE)` for a FLOAT column, whose plain text the server rounds to 6 significant digits (the
    /// double it gives is the float's exact value), the quoted name otherwise. [`super::ColumnConverter::text`]
    /// reads either form.
    pub fn select_expression(&self) -> String {
        let quoted = format!("`{}`", self.name.replace('`', "``"));
        match self.ty {
            MySqlType::Float => format!("CAST({quoted} AS DOUBLE)"),
            _ => quoted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_expressions_quote_and_widen_floats() {
        let column = |name: &str, ty| ColumnDef { name: name.to_owned(), ty, optional: true };
        assert_eq!(column("a`b", MySqlType::Double).select_expression(), "`a``b`");
        assert_eq!(column("f", MySqlType::Float).select_expression(), "CAST(`f` AS DOUBLE)");
        assert_eq!(LobSize::from_max_length(0xffff), Some(LobSize::Regular));
        assert_eq!(LobSize::from_max_length(300), None);
        let latin1 = MySqlType::Text { size: LobSize::Medium, charset: Charset::Latin1 };
        assert_eq!(latin1.to_string(), "MEDIUMTEXT CHARACTER SET latin1");
        assert_eq!(MySqlType::BigInt { unsigned: true }.to_string(), "BIGINT UNSIGNED");
    }
}
