//! A schema as resolution sees it: its underlying Avro type and, apart, the logical type that annotates it.
//!
//! apache-avro gives each logical type its own `Schema` variant (`Schema::Date`, `Schema::Decimal`, ...). The
//! specification resolves a logical type through the type it annotates ("a logical type is always serialized using
//! its underlying Avro type"), so the checker looks at the underlying type and keeps the logical type only for the
//! decimal rule (see `resolve.rs`).

use apache_avro::schema::{
    DecimalSchema, EnumSchema, FixedSchema, InnerDecimalSchema, RecordSchema, Schema, UuidSchema,
};

/// The underlying Avro type of a schema (never a reference: those are followed first).
#[derive(Clone, Copy)]
pub(super) enum Shape<'a> {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Array(&'a Schema),
    Map(&'a Schema),
    Union(&'a [Schema]),
    Record(&'a RecordSchema),
    Enum(&'a EnumSchema),
    Fixed(&'a FixedSchema),
}

/// The logical types that change how resolution is decided; every other logical type resolves as its underlying
/// type.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Logical {
    /// No logical type, or one that resolves as its underlying type.
    Plain,
    /// `decimal`: an unscaled two's-complement integer whose scale is in the schema.
    Decimal { precision: usize, scale: usize },
    /// `big-decimal`: the scale is written in the bytes, so the encoding differs from `decimal`'s.
    BigDecimal,
}

/// A schema seen through its underlying type.
pub(super) struct View<'a> {
    pub shape: Shape<'a>,
    pub logical: Logical,
}

/// Avro's type names, as Confluent's messages spell them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Array,
    Map,
    Union,
    Record,
    Enum,
    Fixed,
}

impl<'a> View<'a> {
    /// The view of `schema`; `None` for a reference, which the caller follows first.
    pub(super) fn of(schema: &'a Schema) -> Option<View<'a>> {
        let plain = |shape| Some(View { shape, logical: Logical::Plain });
        match schema {
            Schema::Ref { .. } => None,
            Schema::Null => plain(Shape::Null),
            Schema::Boolean => plain(Shape::Boolean),
            Schema::Int | Schema::Date | Schema::TimeMillis => plain(Shape::Int),
            Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => plain(Shape::Long),
            Schema::Float => plain(Shape::Float),
            Schema::Double => plain(Shape::Double),
            Schema::Bytes | Schema::Uuid(UuidSchema::Bytes) => plain(Shape::Bytes),
            Schema::String | Schema::Uuid(UuidSchema::String) => plain(Shape::String),
            Schema::BigDecimal => Some(View { shape: Shape::Bytes, logical: Logical::BigDecimal }),
            Schema::Decimal(DecimalSchema { precision, scale, inner }) => {
                let shape = match inner {
                    InnerDecimalSchema::Bytes => Shape::Bytes,
                    InnerDecimalSchema::Fixed(fixed) => Shape::Fixed(fixed),
                };
                Some(View { shape, logical: Logical::Decimal { precision: *precision, scale: *scale } })
            }
            Schema::Array(array) => plain(Shape::Array(&array.items)),
            Schema::Map(map) => plain(Shape::Map(&map.types)),
            Schema::Union(union) => plain(Shape::Union(union.variants())),
            Schema::Record(record) => plain(Shape::Record(record)),
            Schema::Enum(enumeration) => plain(Shape::Enum(enumeration)),
            Schema::Fixed(fixed) | Schema::Uuid(UuidSchema::Fixed(fixed)) | Schema::Duration(fixed) => {
                plain(Shape::Fixed(fixed))
            }
        }
    }

    /// The underlying type's kind.
    pub(super) fn kind(&self) -> Kind {
        match self.shape {
            Shape::Null => Kind::Null,
            Shape::Boolean => Kind::Boolean,
            Shape::Int => Kind::Int,
            Shape::Long => Kind::Long,
            Shape::Float => Kind::Float,
            Shape::Double => Kind::Double,
            Shape::Bytes => Kind::Bytes,
            Shape::String => Kind::String,
            Shape::Array(_) => Kind::Array,
            Shape::Map(_) => Kind::Map,
            Shape::Union(_) => Kind::Union,
            Shape::Record(_) => Kind::Record,
            Shape::Enum(_) => Kind::Enum,
            Shape::Fixed(_) => Kind::Fixed,
        }
    }

    /// How messages name the type: `INT`, `RECORD`, or `BYTES (decimal(10,2))` for a decimal.
    pub(super) fn describe(&self) -> String {
        match self.logical {
            Logical::Plain => self.kind().name().to_owned(),
            Logical::Decimal { precision, scale } => format!("{} (decimal({precision},{scale}))", self.kind().name()),
            Logical::BigDecimal => format!("{} (big-decimal)", self.kind().name()),
        }
    }
}

impl Kind {
    /// The upper-case type name Avro Java and Confluent print.
    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::Null => "NULL",
            Kind::Boolean => "BOOLEAN",
            Kind::Int => "INT",
            Kind::Long => "LONG",
            Kind::Float => "FLOAT",
            Kind::Double => "DOUBLE",
            Kind::Bytes => "BYTES",
            Kind::String => "STRING",
            Kind::Array => "ARRAY",
            Kind::Map => "MAP",
            Kind::Union => "UNION",
            Kind::Record => "RECORD",
            Kind::Enum => "ENUM",
            Kind::Fixed => "FIXED",
        }
    }

    /// Whether a value written as `self` is read as `reader` by the specification's promotions: int to long,
    /// float or double; long to float or double; float to double; string to bytes and bytes to string.
    pub(super) fn promotes_to(self, reader: Kind) -> bool {
        matches!(
            (self, reader),
            (Kind::Int, Kind::Long | Kind::Float | Kind::Double)
                | (Kind::Long, Kind::Float | Kind::Double)
                | (Kind::Float, Kind::Double)
                | (Kind::String, Kind::Bytes)
                | (Kind::Bytes, Kind::String)
        )
    }

    /// Whether the kind is a named type (record, enum, fixed).
    pub(super) fn is_named(self) -> bool {
        matches!(self, Kind::Record | Kind::Enum | Kind::Fixed)
    }
}
