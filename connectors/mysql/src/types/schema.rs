//! The Connect schema of each [`MySqlType`], as Debezium's `MySqlValueConverters` (over `JdbcValueConverters`)
//! builds it: Kafka's logical types and Debezium's semantic types (names, versions, parameters, struct fields).

use tidemark_connect::data::{logical, SchemaBuilder, SchemaRef};
use tidemark_debezium::names;

use super::error::TypeError;
use super::mysql_type::{GeometryKind, MySqlType};
use super::settings::{BigIntUnsignedHandling, BinaryHandling, DecimalHandling, TimePrecision, TypeSettings};

/// The schema of a column of type `ty` under `settings`, optional or not; `column` names it in errors.
pub(super) fn build(
    ty: &MySqlType,
    optional: bool,
    settings: &TypeSettings,
    column: &str,
) -> Result<SchemaRef, TypeError> {
    let builder = builder(ty, settings, column)?;
    let builder = if optional { builder.optional() } else { builder };
    builder.build().map_err(|e| TypeError::schema(column, e))
}

/// A schema builder named `name`, version 1, as each of Debezium's semantic types is.
fn semantic(builder: SchemaBuilder, name: &str) -> SchemaBuilder {
    builder.name(name).version(1)
}

fn builder(ty: &MySqlType, settings: &TypeSettings, column: &str) -> Result<SchemaBuilder, TypeError> {
    let adaptive = settings.time_precision != TimePrecision::Connect;
    Ok(match ty {
        MySqlType::TinyInt { .. } | MySqlType::SmallInt { unsigned: false } => SchemaBuilder::int16(),
        MySqlType::SmallInt { unsigned: true } | MySqlType::MediumInt { .. } | MySqlType::Int { unsigned: false } => {
            SchemaBuilder::int32()
        }
        MySqlType::Int { unsigned: true } | MySqlType::BigInt { unsigned: false } => SchemaBuilder::int64(),
        MySqlType::BigInt { unsigned: true } => match settings.bigint_unsigned {
            BigIntUnsignedHandling::Long => SchemaBuilder::int64(),
            BigIntUnsignedHandling::Precise => logical::decimal(0).parameter(logical::PRECISION, "20"),
        },
        MySqlType::Decimal { precision, scale } => match settings.decimal {
            DecimalHandling::Precise => {
                logical::decimal(i32::from(*scale)).parameter(logical::PRECISION, precision.to_string())
            }
            DecimalHandling::Double => SchemaBuilder::float64(),
            DecimalHandling::String => SchemaBuilder::string(),
        },
        MySqlType::Float => SchemaBuilder::float32(),
        MySqlType::Double => SchemaBuilder::float64(),
        MySqlType::Bit { length: 1 } => SchemaBuilder::boolean(),
        MySqlType::Bit { length } => {
            semantic(SchemaBuilder::bytes(), names::BITS).parameter("length", length.to_string())
        }
        MySqlType::Char { .. } | MySqlType::VarChar { .. } | MySqlType::Text { .. } => SchemaBuilder::string(),
        MySqlType::Binary { .. } | MySqlType::VarBinary | MySqlType::Blob { .. } => match settings.binary {
            BinaryHandling::Bytes => SchemaBuilder::bytes(),
            BinaryHandling::Base64 | BinaryHandling::Base64UrlSafe | BinaryHandling::Hex => SchemaBuilder::string(),
        },
        MySqlType::Date if adaptive => semantic(SchemaBuilder::int32(), names::DATE),
        MySqlType::Date => logical::date(),
        MySqlType::Time { fsp } => match settings.time_precision {
            TimePrecision::Adaptive if *fsp <= 3 => semantic(SchemaBuilder::int32(), names::TIME),
            TimePrecision::Adaptive | TimePrecision::AdaptiveTimeMicroseconds => {
                semantic(SchemaBuilder::int64(), names::MICRO_TIME)
            }
            TimePrecision::Connect => logical::time(),
        },
        MySqlType::DateTime { fsp } if adaptive && *fsp <= 3 => semantic(SchemaBuilder::int64(), names::TIMESTAMP),
        MySqlType::DateTime { .. } if adaptive => semantic(SchemaBuilder::int64(), names::MICRO_TIMESTAMP),
        MySqlType::DateTime { .. } => logical::timestamp(),
        MySqlType::Timestamp { .. } => semantic(SchemaBuilder::string(), names::ZONED_TIMESTAMP),
        MySqlType::Year => semantic(SchemaBuilder::int32(), names::YEAR),
        MySqlType::Json => semantic(SchemaBuilder::string(), names::JSON),
        MySqlType::Enum(labels) => {
            semantic(SchemaBuilder::string(), names::ENUM).parameter("allowed", labels.join(","))
        }
        MySqlType::Set(members) => {
            semantic(SchemaBuilder::string(), names::ENUM_SET).parameter("allowed", members.join(","))
        }
        MySqlType::Geometry(GeometryKind::Point) => SchemaBuilder::struct_()
            .name(names::POINT)
            .version(1)
            .doc("Geometry (POINT)")
            .field("x", field(SchemaBuilder::float64(), column)?)
            .field("y", field(SchemaBuilder::float64(), column)?)
            .field("wkb", field(SchemaBuilder::bytes().optional(), column)?)
            .field("srid", field(SchemaBuilder::int32().optional(), column)?),
        MySqlType::Geometry(_) => SchemaBuilder::struct_()
            .name(names::GEOMETRY)
            .version(1)
            .doc("Geometry")
            .field("wkb", field(SchemaBuilder::bytes(), column)?)
            .field("srid", field(SchemaBuilder::int32().optional(), column)?),
        MySqlType::Unsupported(description) => {
            return Err(TypeError::Unsupported { column: column.to_owned(), type_name: description.clone() })
        }
    })
}

/// A struct field's schema.
fn field(builder: SchemaBuilder, column: &str) -> Result<SchemaRef, TypeError> {
    builder.build().map_err(|e| TypeError::schema(column, e))
}

#[cfg(test)]
mod tests {
    use tidemark_connect::data::Type;

    use super::*;
    use crate::types::charset::Charset;

    fn schema(ty: MySqlType, settings: &TypeSettings) -> SchemaRef {
        build(&ty, true, settings, "c").expect("schema")
    }

    #[test]
    fn integers_widen_when_unsigned() {
        let d = TypeSettings::default();
        assert_eq!(schema(MySqlType::TinyInt { unsigned: true }, &d).schema_type(), Type::Int16);
        assert_eq!(schema(MySqlType::SmallInt { unsigned: false }, &d).schema_type(), Type::Int16);
        assert_eq!(schema(MySqlType::SmallInt { unsigned: true }, &d).schema_type(), Type::Int32);
        assert_eq!(schema(MySqlType::MediumInt { unsigned: true }, &d).schema_type(), Type::Int32);
        assert_eq!(schema(MySqlType::Int { unsigned: true }, &d).schema_type(), Type::Int64);
        assert_eq!(schema(MySqlType::BigInt { unsigned: true }, &d).schema_type(), Type::Int64);
        let precise = TypeSettings { bigint_unsigned: BigIntUnsignedHandling::Precise, ..d };
        let big = schema(MySqlType::BigInt { unsigned: true }, &precise);
        assert_eq!(
            (big.name(), big.parameter("scale"), big.parameter(logical::PRECISION)),
            (Some(logical::DECIMAL), Some("0"), Some("20"))
        );
    }

    #[test]
    fn semantic_types_and_parameters() {
        let d = TypeSettings::default();
        let decimal = schema(MySqlType::Decimal { precision: 10, scale: 2 }, &d);
        assert_eq!(
            decimal.parameters(),
            [("scale".to_owned(), "2".to_owned()), (logical::PRECISION.to_owned(), "10".to_owned())]
        );
        let bits = schema(MySqlType::Bit { length: 10 }, &d);
        assert_eq!((bits.name(), bits.parameter("length")), (Some(names::BITS), Some("10")));
        assert_eq!(schema(MySqlType::Bit { length: 1 }, &d).schema_type(), Type::Boolean);
        let set = schema(MySqlType::Set(vec!["a".to_owned(), "b".to_owned()]), &d);
        assert_eq!(
            (set.name(), set.parameter("allowed"), set.version()),
            (Some(names::ENUM_SET), Some("a,b"), Some(1))
        );
        assert_eq!(schema(MySqlType::Year, &d).name(), Some(names::YEAR));
        assert_eq!(schema(MySqlType::Timestamp { fsp: 6 }, &d).name(), Some(names::ZONED_TIMESTAMP));
        let geometry = schema(MySqlType::Geometry(GeometryKind::LineString), &d);
        let fields: Vec<&str> = geometry.fields().iter().map(|f| f.name()).collect();
        assert_eq!((geometry.name(), fields), (Some(names::GEOMETRY), vec!["wkb", "srid"]));
        assert_eq!(schema(MySqlType::Geometry(GeometryKind::Point), &d).name(), Some(names::POINT));
        assert_eq!(schema(MySqlType::VarChar { charset: Charset::Latin1 }, &d).schema_type(), Type::String);
        assert!(build(&MySqlType::Unsupported("UUID".to_owned()), true, &d, "c").is_err());
    }

    #[test]
    fn temporal_types_follow_the_precision_mode() {
        let micro = TypeSettings::default();
        let adaptive = TypeSettings { time_precision: TimePrecision::Adaptive, ..micro };
        let connect = TypeSettings { time_precision: TimePrecision::Connect, ..micro };
        assert_eq!(schema(MySqlType::Time { fsp: 0 }, &micro).name(), Some(names::MICRO_TIME));
        assert_eq!(schema(MySqlType::Time { fsp: 3 }, &adaptive).name(), Some(names::TIME));
        assert_eq!(schema(MySqlType::Time { fsp: 4 }, &adaptive).name(), Some(names::MICRO_TIME));
        assert_eq!(schema(MySqlType::Time { fsp: 6 }, &connect).name(), Some(logical::TIME));
        assert_eq!(schema(MySqlType::DateTime { fsp: 3 }, &micro).name(), Some(names::TIMESTAMP));
        assert_eq!(schema(MySqlType::DateTime { fsp: 4 }, &micro).name(), Some(names::MICRO_TIMESTAMP));
        assert_eq!(schema(MySqlType::DateTime { fsp: 6 }, &connect).name(), Some(logical::TIMESTAMP));
        assert_eq!(schema(MySqlType::Date, &micro).name(), Some(names::DATE));
        assert_eq!(schema(MySqlType::Date, &connect).name(), Some(logical::DATE));
        assert_eq!(schema(MySqlType::Timestamp { fsp: 0 }, &connect).name(), Some(names::ZONED_TIMESTAMP));
    }
}
