//! The Connect schema of each [`Kind`], as Debezium's `PostgresValueConverter` builds it: Kafka's logical types
//! and Debezium's semantic types (names, versions, parameters, struct fields) exactly.

use tidemark_connect::data::{logical, SchemaBuilder, SchemaRef};
use tidemark_debezium::names;

use super::error::TypeError;
use super::kind::Kind;
use super::settings::{BinaryHandling, DecimalHandling, HstoreHandling, IntervalHandling, TimePrecision, TypeSettings};

/// A schema builder named `name`, version 1, as each of Debezium's semantic types is.
fn semantic(builder: SchemaBuilder, name: &str) -> SchemaBuilder {
    builder.name(name).version(1)
}

/// The schema of `kind` under `settings`, optional or not; `element` is the element schema of an array.
pub(crate) fn build(
    kind: &Kind,
    element: Option<&SchemaRef>,
    optional: bool,
    settings: &TypeSettings,
    type_name: &str,
) -> Result<SchemaRef, TypeError> {
    let builder = builder(kind, element, settings, type_name)?;
    let builder = if optional { builder.optional() } else { builder };
    builder.build().map_err(|e| TypeError::schema(type_name, e))
}

fn builder(
    kind: &Kind,
    element: Option<&SchemaRef>,
    settings: &TypeSettings,
    type_name: &str,
) -> Result<SchemaBuilder, TypeError> {
    let adaptive = settings.time_precision != TimePrecision::Connect;
    Ok(match kind {
        Kind::Bool => SchemaBuilder::boolean(),
        Kind::Int2 => SchemaBuilder::int16(),
        Kind::Int4 => SchemaBuilder::int32(),
        Kind::Int8 | Kind::Oid => SchemaBuilder::int64(),
        Kind::Float4 => SchemaBuilder::float32(),
        Kind::Float8 => SchemaBuilder::float64(),
        Kind::Numeric { precision, scale } => match settings.decimal {
            DecimalHandling::Precise if *precision == 0 => variable_scale_decimal(type_name)?,
            DecimalHandling::Precise => logical::decimal(*scale).parameter(logical::PRECISION, precision.to_string()),
            DecimalHandling::Double => SchemaBuilder::float64(),
            DecimalHandling::String => SchemaBuilder::string(),
        },
        Kind::Money => match settings.decimal {
            DecimalHandling::Precise => logical::decimal(i32::from(settings.money_fraction_digits)),
            DecimalHandling::Double => SchemaBuilder::float64(),
            DecimalHandling::String => SchemaBuilder::string(),
        },
        Kind::Text | Kind::Char | Kind::Inet | Kind::Cidr | Kind::MacAddr | Kind::MacAddr8 | Kind::Range(_) => {
            SchemaBuilder::string()
        }
        Kind::Bytea | Kind::Unknown => binary(settings.binary),
        Kind::Date if adaptive => semantic(SchemaBuilder::int32(), names::DATE),
        Kind::Date => logical::date(),
        Kind::Time { precision } => match settings.time_precision {
            TimePrecision::Adaptive if *precision <= 3 => semantic(SchemaBuilder::int32(), names::TIME),
            TimePrecision::Adaptive | TimePrecision::AdaptiveTimeMicroseconds => {
                semantic(SchemaBuilder::int64(), names::MICRO_TIME)
            }
            TimePrecision::Connect => logical::time(),
        },
        Kind::Timestamp { precision } if adaptive && *precision <= 3 => {
            semantic(SchemaBuilder::int64(), names::TIMESTAMP)
        }
        Kind::Timestamp { .. } if adaptive => semantic(SchemaBuilder::int64(), names::MICRO_TIMESTAMP),
        Kind::Timestamp { .. } => logical::timestamp(),
        Kind::TimeTz => semantic(SchemaBuilder::string(), names::ZONED_TIME),
        Kind::TimestampTz { .. } => semantic(SchemaBuilder::string(), names::ZONED_TIMESTAMP),
        Kind::Interval => match settings.interval {
            IntervalHandling::Numeric => semantic(SchemaBuilder::int64(), names::MICRO_DURATION),
            IntervalHandling::String => semantic(SchemaBuilder::string(), names::INTERVAL),
        },
        Kind::Uuid => semantic(SchemaBuilder::string(), names::UUID),
        Kind::Json | Kind::Jsonb => semantic(SchemaBuilder::string(), names::JSON),
        Kind::Xml => semantic(SchemaBuilder::string(), names::XML),
        Kind::Bits { length } if *length > 1 => {
            semantic(SchemaBuilder::bytes(), names::BITS).parameter("length", length.to_string())
        }
        Kind::Bits { .. } => SchemaBuilder::boolean(),
        Kind::TsVector => semantic(SchemaBuilder::string(), names::TSVECTOR),
        Kind::Point => point(type_name)?,
        Kind::Enum(labels) => semantic(SchemaBuilder::string(), names::ENUM).parameter("allowed", labels.join(",")),
        Kind::Hstore => match settings.hstore {
            HstoreHandling::Json => semantic(SchemaBuilder::string(), names::JSON),
            HstoreHandling::Map => SchemaBuilder::map(
                field(SchemaBuilder::string(), type_name)?,
                field(SchemaBuilder::string().optional(), type_name)?,
            ),
        },
        Kind::Ltree => semantic(SchemaBuilder::string(), names::LTREE),
        Kind::Array(_) => match element {
            Some(element) => SchemaBuilder::array(element.clone()),
            None => {
                return Err(TypeError::Internal {
                    type_name: type_name.to_owned(),
                    reason: "an array schema needs its element schema".to_owned(),
                })
            }
        },
    })
}

/// `bytea` under `binary.handling.mode`: BYTES, or STRING for the text encodings.
fn binary(mode: BinaryHandling) -> SchemaBuilder {
    match mode {
        BinaryHandling::Bytes => SchemaBuilder::bytes(),
        BinaryHandling::Base64 | BinaryHandling::Base64UrlSafe | BinaryHandling::Hex => SchemaBuilder::string(),
    }
}

/// Debezium's `VariableScaleDecimal.builder()`.
fn variable_scale_decimal(type_name: &str) -> Result<SchemaBuilder, TypeError> {
    Ok(SchemaBuilder::struct_()
        .name(names::VARIABLE_SCALE_DECIMAL)
        .version(1)
        .doc("Variable scaled decimal")
        .field("scale", field(SchemaBuilder::int32(), type_name)?)
        .field("value", field(SchemaBuilder::bytes(), type_name)?))
}

/// Debezium's `Point.builder()`.
fn point(type_name: &str) -> Result<SchemaBuilder, TypeError> {
    Ok(SchemaBuilder::struct_()
        .name(names::POINT)
        .version(1)
        .doc("Geometry (POINT)")
        .field("x", field(SchemaBuilder::float64(), type_name)?)
        .field("y", field(SchemaBuilder::float64(), type_name)?)
        .field("wkb", field(SchemaBuilder::bytes().optional(), type_name)?)
        .field("srid", field(SchemaBuilder::int32().optional(), type_name)?))
}

/// A field's schema.
fn field(builder: SchemaBuilder, type_name: &str) -> Result<SchemaRef, TypeError> {
    builder.build().map_err(|e| TypeError::schema(type_name, e))
}
