//! What a [`ColumnType`] is, for the mapping: [`resolve`] looks through domains, recognises arrays and enums, and
//! reads the type modifier (numeric precision and scale, time precision, bit length).
//!
//! Built-in types are recognised by oid (fixed since PostgreSQL 8); the extension types Debezium maps (`hstore`,
//! `citext`, `ltree`) by name, since their oids differ per database.

use super::ColumnType;

/// The oids of the built-in types mapped here.
pub(crate) mod oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const CHAR: u32 = 18;
    pub const NAME: u32 = 19;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const TEXT: u32 = 25;
    pub const OID: u32 = 26;
    pub const JSON: u32 = 114;
    pub const XML: u32 = 142;
    pub const POINT: u32 = 600;
    pub const CIDR: u32 = 650;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const MACADDR8: u32 = 774;
    pub const MONEY: u32 = 790;
    pub const MACADDR: u32 = 829;
    pub const INET: u32 = 869;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const DATE: u32 = 1082;
    pub const TIME: u32 = 1083;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const INTERVAL: u32 = 1186;
    pub const TIMETZ: u32 = 1266;
    pub const BIT: u32 = 1560;
    pub const VARBIT: u32 = 1562;
    pub const NUMERIC: u32 = 1700;
    pub const UUID: u32 = 2950;
    pub const TSVECTOR: u32 = 3614;
    pub const JSONB: u32 = 3802;
    pub const INT4RANGE: u32 = 3904;
    pub const NUMRANGE: u32 = 3906;
    pub const TSRANGE: u32 = 3908;
    pub const TSTZRANGE: u32 = 3910;
    pub const DATERANGE: u32 = 3912;
    pub const INT8RANGE: u32 = 3926;
}

/// The built-in array types of the mapped element types: (array oid, element oid, element name).
const ARRAYS: &[(u32, u32, &str)] = &[
    (1000, oid::BOOL, "bool"),
    (1001, oid::BYTEA, "bytea"),
    (1002, oid::CHAR, "char"),
    (1003, oid::NAME, "name"),
    (1005, oid::INT2, "int2"),
    (1007, oid::INT4, "int4"),
    (1009, oid::TEXT, "text"),
    (1014, oid::BPCHAR, "bpchar"),
    (1015, oid::VARCHAR, "varchar"),
    (1016, oid::INT8, "int8"),
    (1021, oid::FLOAT4, "float4"),
    (1022, oid::FLOAT8, "float8"),
    (1028, oid::OID, "oid"),
    (1115, oid::TIMESTAMP, "timestamp"),
    (1182, oid::DATE, "date"),
    (1183, oid::TIME, "time"),
    (1185, oid::TIMESTAMPTZ, "timestamptz"),
    (1187, oid::INTERVAL, "interval"),
    (1231, oid::NUMERIC, "numeric"),
    (1270, oid::TIMETZ, "timetz"),
    (1561, oid::BIT, "bit"),
    (1563, oid::VARBIT, "varbit"),
    (2951, oid::UUID, "uuid"),
    (199, oid::JSON, "json"),
    (143, oid::XML, "xml"),
    (3807, oid::JSONB, "jsonb"),
    (1041, oid::INET, "inet"),
    (651, oid::CIDR, "cidr"),
    (1040, oid::MACADDR, "macaddr"),
    (775, oid::MACADDR8, "macaddr8"),
    (791, oid::MONEY, "money"),
    (1017, oid::POINT, "point"),
    (3643, oid::TSVECTOR, "tsvector"),
    (3905, oid::INT4RANGE, "int4range"),
    (3907, oid::NUMRANGE, "numrange"),
    (3909, oid::TSRANGE, "tsrange"),
    (3911, oid::TSTZRANGE, "tstzrange"),
    (3913, oid::DATERANGE, "daterange"),
    (3927, oid::INT8RANGE, "int8range"),
];

/// The subtype of a built-in range type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeOf {
    /// `int4range`.
    Int4,
    /// `int8range`.
    Int8,
    /// `numrange`.
    Numeric,
    /// `daterange`.
    Date,
    /// `tsrange`.
    Timestamp,
    /// `tstzrange`.
    TimestampTz,
}

/// A column type as the mapping sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    Int2,
    Int4,
    Int8,
    /// `oid`: INT64, as Debezium maps it.
    Oid,
    Float4,
    Float8,
    /// `numeric`: `precision` 0 when the column declares none (then the scale varies per value).
    Numeric {
        precision: i32,
        scale: i32,
    },
    Money,
    /// `text`, `varchar`, `bpchar`, `name`, `citext`.
    Text,
    /// `"char"`, one byte.
    Char,
    Bytea,
    Date,
    /// `time(p)`; `p` 6 when undeclared.
    Time {
        precision: i32,
    },
    TimeTz,
    /// `timestamp(p)`; `p` 6 when undeclared.
    Timestamp {
        precision: i32,
    },
    /// `timestamptz(p)`; `p` 6 when undeclared.
    TimestampTz {
        precision: i32,
    },
    Interval,
    Uuid,
    Json,
    Jsonb,
    Xml,
    Inet,
    Cidr,
    MacAddr,
    MacAddr8,
    /// `bit(n)` and `varbit(n)`: `length` is `n`, -1 for `bit` without one and `i32::MAX` for `varbit` without one.
    Bits {
        length: i32,
    },
    TsVector,
    Point,
    Range(RangeOf),
    Enum(Vec<String>),
    Hstore,
    Ltree,
    /// An array of the element type, with the array column's modifier when the element has none of its own.
    Array(Box<ColumnType>),
    /// A type without a mapping.
    Unknown,
}

/// What `ty` is: a domain is its base type (with the domain's `typtypmod` when the column has no modifier of its
/// own), an array is its element type, an enum its labels; everything else by oid or extension name.
pub(crate) fn resolve(ty: &ColumnType) -> Kind {
    if let Some(base) = &ty.base {
        let mut base = (**base).clone();
        if ty.modifier != -1 {
            base.modifier = ty.modifier;
        }
        return resolve(&base);
    }
    if let Some(labels) = &ty.enum_values {
        return Kind::Enum(labels.clone());
    }
    if let Some(element) = &ty.element {
        let mut element = (**element).clone();
        if element.modifier == -1 {
            element.modifier = ty.modifier;
        }
        return Kind::Array(Box::new(element));
    }
    if let Some(&(_, element, name)) = ARRAYS.iter().find(|(array, _, _)| *array == ty.oid) {
        return Kind::Array(Box::new(ColumnType::new(element, ty.modifier, name)));
    }
    if let Some(kind) = builtin(ty.oid, ty.modifier) {
        return kind;
    }
    match ty.name.as_str() {
        "hstore" => Kind::Hstore,
        "citext" => Kind::Text,
        "ltree" => Kind::Ltree,
        _ => Kind::Unknown,
    }
}

/// A built-in scalar type by oid, with its modifier read.
fn builtin(type_oid: u32, modifier: i32) -> Option<Kind> {
    let precision = if modifier < 0 { 6 } else { modifier };
    Some(match type_oid {
        oid::BOOL => Kind::Bool,
        oid::BYTEA => Kind::Bytea,
        oid::CHAR => Kind::Char,
        oid::NAME | oid::TEXT | oid::BPCHAR | oid::VARCHAR => Kind::Text,
        oid::INT8 => Kind::Int8,
        oid::INT2 => Kind::Int2,
        oid::INT4 => Kind::Int4,
        oid::OID => Kind::Oid,
        oid::JSON => Kind::Json,
        oid::XML => Kind::Xml,
        oid::POINT => Kind::Point,
        oid::CIDR => Kind::Cidr,
        oid::FLOAT4 => Kind::Float4,
        oid::FLOAT8 => Kind::Float8,
        oid::MACADDR8 => Kind::MacAddr8,
        oid::MONEY => Kind::Money,
        oid::MACADDR => Kind::MacAddr,
        oid::INET => Kind::Inet,
        oid::DATE => Kind::Date,
        oid::TIME => Kind::Time { precision },
        oid::TIMESTAMP => Kind::Timestamp { precision },
        oid::TIMESTAMPTZ => Kind::TimestampTz { precision },
        oid::INTERVAL => Kind::Interval,
        oid::TIMETZ => Kind::TimeTz,
        oid::BIT => Kind::Bits { length: modifier },
        oid::VARBIT => Kind::Bits { length: if modifier < 0 { i32::MAX } else { modifier } },
        oid::NUMERIC => numeric(modifier),
        oid::UUID => Kind::Uuid,
        oid::TSVECTOR => Kind::TsVector,
        oid::JSONB => Kind::Jsonb,
        oid::INT4RANGE => Kind::Range(RangeOf::Int4),
        oid::NUMRANGE => Kind::Range(RangeOf::Numeric),
        oid::TSRANGE => Kind::Range(RangeOf::Timestamp),
        oid::TSTZRANGE => Kind::Range(RangeOf::TimestampTz),
        oid::DATERANGE => Kind::Range(RangeOf::Date),
        oid::INT8RANGE => Kind::Range(RangeOf::Int8),
        _ => return None,
    })
}

/// `numeric(p, s)` from its modifier: `((p << 16) | (s & 0x7ff)) + 4`, the scale an 11-bit signed number since
/// PostgreSQL 15 (which allows negative scales and scales above the precision).
fn numeric(modifier: i32) -> Kind {
    if modifier < 4 {
        return Kind::Numeric { precision: 0, scale: 0 };
    }
    let bits = modifier - 4;
    Kind::Numeric { precision: (bits >> 16) & 0xffff, scale: ((bits & 0x7ff) ^ 1024) - 1024 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typmod(precision: i32, scale: i32) -> i32 {
        ((precision << 16) | (scale & 0x7ff)) + 4
    }

    #[test]
    fn numeric_modifiers() {
        assert_eq!(numeric(-1), Kind::Numeric { precision: 0, scale: 0 });
        assert_eq!(numeric(typmod(10, 2)), Kind::Numeric { precision: 10, scale: 2 });
        assert_eq!(numeric(typmod(5, -2)), Kind::Numeric { precision: 5, scale: -2 });
        assert_eq!(numeric(typmod(3, 5)), Kind::Numeric { precision: 3, scale: 5 });
    }

    #[test]
    fn domains_arrays_and_enums() {
        let base = ColumnType::new(oid::NUMERIC, typmod(5, 1), "numeric");
        let domain = ColumnType { base: Some(Box::new(base)), ..ColumnType::new(90_000, -1, "price") };
        assert_eq!(resolve(&domain), Kind::Numeric { precision: 5, scale: 1 });
        let array = ColumnType::new(1231, typmod(10, 2), "_numeric");
        assert_eq!(resolve(&array), Kind::Array(Box::new(ColumnType::new(oid::NUMERIC, typmod(10, 2), "numeric"))));
        let labels = vec!["a".to_owned(), "b".to_owned()];
        let mood = ColumnType { enum_values: Some(labels.clone()), ..ColumnType::new(90_001, -1, "mood") };
        assert_eq!(resolve(&mood), Kind::Enum(labels));
        assert_eq!(resolve(&ColumnType::new(90_002, -1, "hstore")), Kind::Hstore);
        assert_eq!(resolve(&ColumnType::new(603, -1, "box")), Kind::Unknown);
        assert_eq!(resolve(&ColumnType::new(oid::VARBIT, -1, "varbit")), Kind::Bits { length: i32::MAX });
        assert_eq!(resolve(&ColumnType::new(oid::TIME, 3, "time")), Kind::Time { precision: 3 });
        assert_eq!(resolve(&ColumnType::new(oid::TIMESTAMPTZ, -1, "timestamptz")), Kind::TimestampTz { precision: 6 });
    }
}
