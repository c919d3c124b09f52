//! An Avro schema as a Connect schema, as Confluent's `AvroData.toConnectSchema` makes it, for schemas the
//! converter wrote (the `connect.*` properties give every Connect detail back) and for schemas other producers
//! wrote (plain Avro, as confluent-kafka's `AvroSerializer` registers it):
//!
//! - `int` is INT32, or INT8/INT16 by `connect.type`, Date by `logicalType: date`, Time by `time-millis`; `long` is
//!   INT64 or Timestamp (`timestamp-millis`); `bytes` and `fixed` are BYTES or Decimal (`logicalType: decimal`,
//!   its `precision` kept as `connect.decimal.precision` unless 64), a `fixed` with its size in `connect.fixed.size`;
//! - a union of `null` and one type is that type, optional; any other union a struct named
//!   `io.confluent.connect.avro.Union` with one optional field per branch, named after the branch (its type name,
//!   or a named type's name: simple, or full with `enhanced.avro.schema.support`), optional if `null` is a branch;
//! - an enum is a STRING with parameters `io.confluent.connect.avro.Enum` (its full name) and
//!   `io.confluent.connect.avro.Enum.<symbol>` for each symbol;
//! - a record is a STRUCT named by `connect.name` or the record's full name (never `ConnectDefault*`), its doc and
//!   field docs kept as parameters; an array of `MapEntry` records is a MAP;
//! - a field default becomes the schema's default, marked `io.confluent.connect.avro.field.default` when no
//!   `connect.default` says otherwise; a default Connect cannot take is dropped, as `AvroData` drops it;
//! - the version is `connect.version`, else the version the registry gave the schema (top level only).

use std::collections::HashSet;

use super::config::AvroDataConfig;
use super::defaults::{self, UNION};
use super::error::AvroError;
use super::from_connect::{
    DEFAULT_PRECISION, ENUM, ENUM_DEFAULT_PREFIX, ENUM_DOC_PREFIX, FIELD_DEFAULT_FLAG, FIELD_DOC_PREFIX, FIXED_SIZE,
    MAP_ENTRY, RECORD_DOC,
};
use super::json::JsonValue;
use super::names::{self, DEFAULT_SCHEMA_FULL_NAME, NAMESPACE};
use super::schema::{AvroSchema, Kind};
use crate::data::{logical, Schema, SchemaBuilder, SchemaError, SchemaRef};

/// The Connect schema of `avro`; `version` is the registry's version of it, used when it has no `connect.version`.
pub(crate) fn to_connect(
    avro: &AvroSchema,
    version: Option<i32>,
    config: &AvroDataConfig,
) -> Result<SchemaRef, AvroError> {
    convert(avro, false, None, version, config)
}

fn error(message: impl Into<String>) -> AvroError {
    AvroError::ToConnect(message.into())
}

fn convert(
    avro: &AvroSchema,
    force_optional: bool,
    field_default: Option<&JsonValue>,
    version: Option<i32>,
    config: &AvroDataConfig,
) -> Result<SchemaRef, AvroError> {
    let meta = config.connect_meta_data;
    let connect_type = avro.prop_str("connect.type");
    let logical_type = avro.prop_str("logicalType");
    let mut builder = match &avro.kind {
        Kind::Boolean => SchemaBuilder::boolean(),
        Kind::Bytes | Kind::Fixed(_) => {
            let mut builder = match logical_type {
                Some(l) if l.eq_ignore_ascii_case("decimal") => {
                    let scale = avro.prop("scale").and_then(JsonValue::as_f64).map_or(0, |s| s as i32);
                    let mut builder = logical::decimal(scale);
                    if let Some(precision) = avro.prop("precision") {
                        let precision = precision
                            .is_number()
                            .then(|| precision.as_f64())
                            .flatten()
                            .ok_or_else(|| error("precision property must be a JSON Integer"))?
                            as i64;
                        if precision != DEFAULT_PRECISION {
                            builder = builder.parameter(logical::PRECISION, precision.to_string());
                        }
                    }
                    builder
                }
                _ => SchemaBuilder::bytes(),
            };
            if let Kind::Fixed(fixed) = &avro.kind {
                builder = builder.parameter(FIXED_SIZE, fixed.size.to_string());
            }
            builder
        }
        Kind::Double => SchemaBuilder::float64(),
        Kind::Float => SchemaBuilder::float32(),
        Kind::Int => match (connect_type, logical_type) {
            (None, None) => SchemaBuilder::int32(),
            (_, Some(l)) if l.eq_ignore_ascii_case("date") => logical::date(),
            (_, Some(l)) if l.eq_ignore_ascii_case("time-millis") => logical::time(),
            (_, Some(_)) => SchemaBuilder::int32(),
            (Some("int8"), None) => SchemaBuilder::int8(),
            (Some("int16"), None) => SchemaBuilder::int16(),
            (Some(_), None) => return Err(error("Connect type annotation for Avro int field is null")),
        },
        Kind::Long => match logical_type {
            Some(l) if l.eq_ignore_ascii_case("timestamp-millis") => logical::timestamp(),
            _ => SchemaBuilder::int64(),
        },
        Kind::String => SchemaBuilder::string(),
        Kind::Array(items) => match &items.kind {
            Kind::Record(entry) if is_map_entry(items) => {
                let (Some(key), Some(value), 2) = (
                    entry.fields.iter().find(|f| f.name == "key"),
                    entry.fields.iter().find(|f| f.name == "value"),
                    entry.fields.len(),
                ) else {
                    return Err(error(
                        "Found map encoded as array of key-value pairs, but array elements do not match the expected \
                         format.",
                    ));
                };
                SchemaBuilder::map(
                    convert(&key.schema, false, None, None, config)?,
                    convert(&value.schema, false, None, None, config)?,
                )
            }
            _ => SchemaBuilder::array(convert(items, false, None, None, config)?),
        },
        Kind::Map(values) => SchemaBuilder::map(Schema::string(), convert(values, false, None, None, config)?),
        Kind::Record(record) => {
            let mut builder = SchemaBuilder::struct_();
            if let Some(doc) = record.doc.as_deref().filter(|_| meta) {
                builder = builder.parameter(RECORD_DOC, doc);
            }
            for field in &record.fields {
                if let Some(doc) = field.doc.as_deref().filter(|_| meta) {
                    builder = builder.parameter(format!("{FIELD_DOC_PREFIX}{}", field.name), doc);
                }
                let schema = convert(&field.schema, false, field.default.as_ref(), None, config)?;
                builder = builder.field(field.name.as_str(), schema);
            }
            builder
        }
        Kind::Enum(e) => {
            let mut builder = SchemaBuilder::string();
            if meta {
                if let Some(doc) = &e.doc {
                    builder = builder.parameter(format!("{ENUM_DOC_PREFIX}{}", e.name.name), doc.as_str());
                }
                if let Some(default) = &e.default {
                    builder = builder.parameter(format!("{ENUM_DEFAULT_PREFIX}{}", e.name.name), default.as_str());
                }
            }
            builder = builder.parameter(ENUM, e.name.full());
            for symbol in &e.symbols {
                builder = builder.parameter(format!("{ENUM}.{symbol}"), symbol.as_str());
            }
            builder
        }
        Kind::Union(branches) => {
            let is_null = |b: &AvroSchema| matches!(b.kind, Kind::Null) && b.props.is_empty();
            if branches.len() == 2 && branches.iter().any(is_null) {
                if let Some(other) = branches.iter().find(|b| !is_null(b)) {
                    return convert(other, true, None, None, config);
                }
            }
            let mut builder = SchemaBuilder::struct_().name(UNION);
            let mut seen = HashSet::new();
            for branch in branches {
                if matches!(branch.kind, Kind::Null) {
                    builder = builder.optional();
                    continue;
                }
                let name = union_member_name(branch, config.enhanced_avro_schema_support);
                if !seen.insert(name.clone()) {
                    return Err(error("Multiple union schemas map to the Connect union field name"));
                }
                builder = builder.field(name, convert(branch, true, None, None, config)?);
            }
            builder
        }
        Kind::Null => return Err(error("Standalone null schemas are not supported by this converter")),
    };

    if let Some(doc) = avro.prop_str("connect.doc").filter(|_| meta) {
        builder = builder.doc(doc);
    }
    let version = match avro.prop("connect.version") {
        Some(v) => Some(
            v.as_f64()
                .filter(|_| v.is_number())
                .map(|v| v as i32)
                .ok_or_else(|| error(format!("Invalid Connect version found: {}", v.to_text())))?,
        ),
        None => version,
    };
    if let Some(version) = version.filter(|v| *v >= 0) {
        let built = builder.clone().build().map_err(build_error)?;
        match built.version() {
            Some(existing) if existing != version => {
                return Err(error(format!(
                    "Mismatched versions: version already added to SchemaBuilder ({existing}) differs from version \
                     in source schema ({version})"
                )))
            }
            _ => builder = builder.version(version),
        }
    }
    if let Some(parameters) = avro.prop("connect.parameters").filter(|_| meta) {
        let JsonValue::Object(members) = parameters else {
            return Err(error(format!(
                "Expected JSON object for schema parameters but found: {}",
                parameters.to_text()
            )));
        };
        for (key, value) in members {
            let value = value.as_str().ok_or_else(|| {
                error(format!("Expected schema parameter values to be strings but found: {}", value.to_text()))
            })?;
            builder = builder.parameter(key.as_str(), value);
        }
    }
    for (key, value) in avro.props() {
        if key.starts_with("avro") {
            builder = builder.parameter(key.as_str(), value.as_str().map_or_else(|| value.to_text(), str::to_owned));
        }
    }
    let connect_default = avro.prop("connect.default");
    let default = match field_default {
        None => connect_default,
        Some(default) => {
            if meta && connect_default.is_none() {
                builder = builder.parameter(FIELD_DEFAULT_FLAG, "true");
            }
            Some(default)
        }
    };
    let name = match avro.prop("connect.name") {
        Some(JsonValue::String(name)) => Some(name.clone()),
        Some(other) => return Err(error(format!("Invalid schema name: {}", other.to_text()))),
        None => avro.full_name(),
    };
    if let Some(name) = name.filter(|n| !n.starts_with(DEFAULT_SCHEMA_FULL_NAME)) {
        let built = builder.clone().build().map_err(build_error)?;
        match built.name() {
            Some(existing) if existing != name => {
                return Err(error(format!(
                    "Mismatched names: name already added to SchemaBuilder ({existing}) differs from name in source \
                     schema ({name})"
                )))
            }
            _ => builder = builder.name(name),
        }
    }
    if force_optional {
        builder = builder.optional();
    }
    let bare = builder.clone().build().map_err(build_error)?;
    let Some(default) = default else {
        return Ok(bare);
    };
    match defaults::to_connect(&bare, avro, default).ok().filter(|v| !v.is_null()) {
        Some(value) => match builder.default_value(value).build() {
            Ok(schema) => Ok(schema),
            Err(_) => {
                tracing::warn!(schema = %bare, "ignoring an invalid default");
                Ok(bare)
            }
        },
        None => Ok(bare),
    }
}

fn build_error(e: SchemaError) -> AvroError {
    error(e.to_string())
}

/// Whether an array's items are `AvroData`'s map entries (`io.confluent.connect.avro.MapEntry`, or a record marked
/// `"connect.internal.type": "MapEntry"`).
fn is_map_entry(items: &AvroSchema) -> bool {
    let Kind::Record(record) = &items.kind else { return false };
    (record.name.namespace.as_deref() == Some(NAMESPACE) && record.name.name == MAP_ENTRY)
        || items.prop_str("connect.internal.type") == Some(MAP_ENTRY)
}

/// The Connect field name of a union branch: its type name, or a named type's name (full with
/// `enhanced.avro.schema.support`, simple otherwise).
pub(crate) fn union_member_name(branch: &AvroSchema, enhanced: bool) -> String {
    match (&branch.kind, branch.full_name()) {
        (Kind::Record(_) | Kind::Enum(_) | Kind::Fixed(_), Some(full)) => match enhanced {
            true => full,
            false => names::split(&full, false).1,
        },
        _ => branch.type_name().to_owned(),
    }
}
