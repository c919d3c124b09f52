//! A Connect schema as an Avro schema, as Confluent's `AvroData.fromConnectSchema` makes it:
//!
//! - INT8 and INT16 are `int` with `"connect.type": "int8"` / `"int16"`; INT32 `int`, INT64 `long`, FLOAT32
//!   `float`, FLOAT64 `double`, BOOLEAN, STRING and BYTES their Avro namesakes;
//! - an optional schema is the union `["null", T]`, or `[T, "null"]` when it has a default (Avro wants a field's
//!   default to fit the first branch); an optional struct is always `["null", record]`;
//! - a struct is a record named by the Connect name split at its last dot (`ConnectDefault`, `ConnectDefault2`, ...
//!   in `io.confluent.connect.avro` when unnamed), its fields in order with their defaults (`null` for optional
//!   fields without one);
//! - a map with (required) string keys is an Avro map; any other map an array of `MapEntry` records of `key` and
//!   `value` (named after the map when it has a name, marked `"connect.internal.type": "MapEntry"`);
//! - the `io.confluent.connect.avro.Union` struct is a union of its fields' schemas; with
//!   `enhanced.avro.schema.support`, a string with `io.confluent.connect.avro.Enum` parameters is an enum again;
//!   a named BYTES with `connect.fixed.size` is a `fixed`;
//! - with `connect.meta.data` (the default) every non-union schema carries `connect.doc`, `connect.version`,
//!   `connect.parameters`, `connect.default`, `connect.name` and `connect.type` as it has them;
//! - Decimal is `bytes` with `scale`, `precision` (the `connect.decimal.precision` parameter, 64 without it) and
//!   `"logicalType": "decimal"`; Date `int` `date`, Time `int` `time-millis`, Timestamp `long` `timestamp-millis`.
//!
//! Within one schema, an equal non-optional Connect schema met again maps to the same Avro type, which the JSON
//! then names instead of defining twice.

use std::collections::HashMap;
use std::sync::Arc;

use super::config::AvroDataConfig;
use super::defaults::{self, UNION};
use super::error::AvroError;
use super::json::JsonValue;
use super::names::{self, DEFAULT_SCHEMA_NAME, NAMESPACE};
use super::schema::{AvroSchema, Enum, Field, Fixed, Kind, Name, Props, Record};
use crate::data::{logical, Schema, SchemaBuilder, SchemaRef, Struct, Type, Value};

/// The Connect parameter holding an enum's full name (and, with a `.symbol` suffix, each symbol).
pub(crate) const ENUM: &str = "io.confluent.connect.avro.Enum";
/// The parameter marking a default that came from an Avro field default (not written back as `connect.default`).
pub(crate) const FIELD_DEFAULT_FLAG: &str = "io.confluent.connect.avro.field.default";
/// The parameter holding a record's documentation.
pub(crate) const RECORD_DOC: &str = "io.confluent.connect.avro.record.doc";
/// The prefix of the parameters holding field documentation.
pub(crate) const FIELD_DOC_PREFIX: &str = "io.confluent.connect.avro.field.doc.";
/// The prefix of the parameter holding an enum's documentation.
pub(crate) const ENUM_DOC_PREFIX: &str = "io.confluent.connect.avro.enum.doc.";
/// The prefix of the parameter holding an enum's default symbol.
pub(crate) const ENUM_DEFAULT_PREFIX: &str = "io.confluent.connect.avro.enum.default.";
/// The parameter holding a fixed type's size.
pub(crate) const FIXED_SIZE: &str = "connect.fixed.size";
/// The record name of map entries.
pub(crate) const MAP_ENTRY: &str = "MapEntry";
/// Avro's decimal precision when the Connect schema gives none.
pub(crate) const DEFAULT_PRECISION: i64 = 64;

/// The Avro schema of `schema`.
pub(crate) fn from_connect(schema: &SchemaRef, config: &AvroDataConfig) -> Result<AvroSchema, AvroError> {
    Context { config, converted: HashMap::new(), name_index: 0 }.convert(schema, false)
}

/// What one conversion remembers: the Avro types of the non-optional schemas met so far and how many default
/// record names it has handed out.
struct Context<'c> {
    config: &'c AvroDataConfig,
    converted: HashMap<SchemaRef, AvroSchema>,
    name_index: usize,
}

impl Context<'_> {
    fn convert(&mut self, schema: &SchemaRef, ignore_optional: bool) -> Result<AvroSchema, AvroError> {
        let is_union = schema.name() == Some(UNION);
        if !is_union && !schema.is_optional() {
            if let Some(done) = self.converted.get(schema) {
                return Ok(done.clone());
            }
        }
        let config = self.config;
        let mut connect_type = None;
        let base = match schema.schema_type() {
            Type::Int8 => {
                connect_type = Some("int8");
                Kind::Int
            }
            Type::Int16 => {
                connect_type = Some("int16");
                Kind::Int
            }
            Type::Int32 => Kind::Int,
            Type::Int64 => Kind::Long,
            Type::Float32 => Kind::Float,
            Type::Float64 => Kind::Double,
            Type::Boolean => Kind::Boolean,
            Type::String if config.enhanced_avro_schema_support && schema.parameter(ENUM).is_some() => {
                self.enumeration(schema)?
            }
            Type::String => Kind::String,
            Type::Bytes if is_fixed(schema) => {
                let size = schema.parameter(FIXED_SIZE).and_then(|s| s.trim().parse().ok()).ok_or_else(|| {
                    AvroError::FromConnect(format!(
                        "{FIXED_SIZE} must be a size, not {:?}",
                        schema.parameter(FIXED_SIZE)
                    ))
                })?;
                Kind::Fixed(Arc::new(Fixed { name: self.name_or_default(schema.name()), size, props: Vec::new() }))
            }
            Type::Bytes => Kind::Bytes,
            Type::Array => Kind::Array(Box::new(self.convert(child(schema.value_schema(), "array items")?, false)?)),
            Type::Map => self.map(schema)?,
            Type::Struct if is_union => {
                let mut branches = Vec::with_capacity(schema.fields().len() + 1);
                if schema.is_optional() {
                    branches.push(AvroSchema::of(Kind::Null));
                }
                for field in schema.fields() {
                    branches.push(self.convert(&non_optional(field.schema()), true)?);
                }
                Kind::Union(branches)
            }
            Type::Struct if schema.is_optional() => {
                let record = self.convert(&non_optional(schema), false)?;
                Kind::Union(vec![AvroSchema::of(Kind::Null), record])
            }
            Type::Struct => self.record(schema)?,
        };
        if let Kind::Union(_) = base {
            let union = AvroSchema::of(base);
            if !schema.is_optional() {
                self.converted.insert(schema.clone(), union.clone());
            }
            return Ok(union);
        }
        let props = self.props(schema, connect_type)?;
        let base = with_props(base, props);
        let result = match ignore_optional || !schema.is_optional() {
            true => base,
            false if schema.default_value().is_some() => {
                AvroSchema::of(Kind::Union(vec![base, AvroSchema::of(Kind::Null)]))
            }
            false => AvroSchema::of(Kind::Union(vec![AvroSchema::of(Kind::Null), base])),
        };
        if !schema.is_optional() {
            self.converted.insert(schema.clone(), result.clone());
        }
        Ok(result)
    }

    /// `getNameOrDefault`: the Connect name split (and scrubbed), or the next `ConnectDefault` name.
    fn name_or_default(&mut self, name: Option<&str>) -> Name {
        match name {
            Some(name) => {
                let (namespace, name) = names::split(name, self.config.scrub_invalid_names);
                Name::new(namespace, name)
            }
            None => {
                self.name_index += 1;
                let suffix = if self.name_index > 1 { self.name_index.to_string() } else { String::new() };
                Name::new(Some(NAMESPACE.to_owned()), format!("{DEFAULT_SCHEMA_NAME}{suffix}"))
            }
        }
    }

    fn enumeration(&mut self, schema: &Schema) -> Result<Kind, AvroError> {
        let prefix = format!("{ENUM}.");
        let symbols = schema.parameters().iter().filter_map(|(k, _)| k.strip_prefix(&prefix)).map(str::to_owned);
        let symbols: Vec<String> = symbols.collect();
        let simple = self.name_or_default(schema.name()).name;
        let full = schema.parameter(ENUM).unwrap_or_default();
        let (namespace, name) = names::split(full, false);
        Ok(Kind::Enum(Arc::new(Enum {
            name: Name::new(namespace, name),
            doc: schema.parameter(&format!("{ENUM_DOC_PREFIX}{simple}")).map(str::to_owned),
            symbols,
            default: schema.parameter(&format!("{ENUM_DEFAULT_PREFIX}{simple}")).map(str::to_owned),
            props: Vec::new(),
        })))
    }

    fn map(&mut self, schema: &SchemaRef) -> Result<Kind, AvroError> {
        let keys = child(schema.key_schema(), "map keys")?;
        let values = child(schema.value_schema(), "map values")?;
        if defaults::string_keys(keys, self.config.allow_optional_map_keys) {
            return Ok(Kind::Map(Box::new(self.convert(values, false)?)));
        }
        let (name, props) = match schema.name() {
            None => (Name::new(Some(NAMESPACE.to_owned()), MAP_ENTRY.to_owned()), Vec::new()),
            Some(name) => {
                let name = self.name_or_default(Some(name));
                (name, vec![("connect.internal.type".to_owned(), JsonValue::string(MAP_ENTRY))])
            }
        };
        let fields = vec![self.field("key", keys, None)?, self.field("value", values, None)?];
        let entry = Record { name, doc: None, fields, props };
        Ok(Kind::Array(Box::new(AvroSchema::of(Kind::Record(Arc::new(entry))))))
    }

    fn record(&mut self, schema: &SchemaRef) -> Result<Kind, AvroError> {
        let name = self.name_or_default(schema.name());
        let doc = schema.parameter(RECORD_DOC).map(str::to_owned);
        let mut fields = Vec::with_capacity(schema.fields().len());
        for field in schema.fields() {
            let doc = schema.parameter(&format!("{FIELD_DOC_PREFIX}{}", field.name())).map(str::to_owned);
            let name = names::scrub(field.name(), self.config.scrub_invalid_names);
            fields.push(self.field(&name, field.schema(), doc)?);
        }
        Ok(Kind::Record(Arc::new(Record { name, doc, fields, props: Vec::new() })))
    }

    /// `addAvroRecordField`: the field's default is its schema's default, `null` for an optional schema without
    /// one, and is dropped when Avro would not take it.
    fn field(&mut self, name: &str, schema: &SchemaRef, doc: Option<String>) -> Result<Field, AvroError> {
        let default = match schema.default_value() {
            Some(value) => self.default_json(schema, value).ok(),
            None if schema.is_optional() => Some(JsonValue::Null),
            None => None,
        };
        let avro = self.convert(schema, false)?;
        let default = default.filter(|d| {
            let valid = defaults::is_valid(&avro, d);
            if !valid {
                tracing::warn!(field = name, "ignoring a default that does not fit the Avro field");
            }
            valid
        });
        Ok(Field { name: name.to_owned(), schema: avro, doc, default })
    }

    fn default_json(&self, schema: &Schema, value: &Value) -> Result<JsonValue, AvroError> {
        let config = self.config;
        defaults::from_connect(schema, value, config.scrub_invalid_names, config.allow_optional_map_keys)
            .map_err(|_| AvroError::FromConnect(format!("invalid type used for the default value of {schema}")))
    }

    /// The properties of a non-union schema, in `AvroData`'s order.
    fn props(&self, schema: &Schema, connect_type: Option<&str>) -> Result<Props, AvroError> {
        let mut props: Props = Vec::new();
        let decimal = schema.name().is_some_and(|n| n.eq_ignore_ascii_case(logical::DECIMAL));
        if decimal {
            let scale = int_parameter(schema, logical::SCALE)?.unwrap_or(0);
            let precision = int_parameter(schema, logical::PRECISION)?.unwrap_or(DEFAULT_PRECISION);
            if schema.schema_type() == Type::Bytes {
                props.push(("scale".to_owned(), JsonValue::integer(scale)));
                props.push(("precision".to_owned(), JsonValue::integer(precision)));
            }
        }
        if self.config.connect_meta_data {
            if let Some(doc) = schema.doc() {
                props.push(("connect.doc".to_owned(), JsonValue::string(doc)));
            }
            if let Some(version) = schema.version() {
                props.push(("connect.version".to_owned(), JsonValue::integer(version)));
            }
            let parameters: Vec<(String, JsonValue)> = schema
                .parameters()
                .iter()
                .filter(|(k, _)| k != FIELD_DEFAULT_FLAG)
                .map(|(k, v)| (k.clone(), JsonValue::string(v.as_str())))
                .collect();
            if !parameters.is_empty() {
                props.push(("connect.parameters".to_owned(), JsonValue::Object(parameters)));
            }
            if let Some(default) = schema.default_value() {
                if schema.parameter(FIELD_DEFAULT_FLAG).is_none() {
                    props.push(("connect.default".to_owned(), self.default_json(schema, default)?));
                }
            }
            if let Some(name) = schema.name() {
                props.push(("connect.name".to_owned(), JsonValue::string(name)));
            }
            if let Some(connect_type) = connect_type {
                props.push(("connect.type".to_owned(), JsonValue::string(connect_type)));
            }
        }
        let logical_type = match schema.name() {
            _ if decimal => Some("decimal"),
            Some(n) if n.eq_ignore_ascii_case(logical::TIME) => Some("time-millis"),
            Some(n) if n.eq_ignore_ascii_case(logical::TIMESTAMP) => Some("timestamp-millis"),
            Some(n) if n.eq_ignore_ascii_case(logical::DATE) => Some("date"),
            _ => None,
        };
        // Java adds `logicalType` through Avro's logical type, or, for a decimal whose scale Avro refuses (negative
        // or above the precision), through the legacy property: the same member either way.
        if let Some(logical_type) = logical_type {
            set_prop(&mut props, "logicalType", JsonValue::string(logical_type));
        }
        for (key, value) in schema.parameters() {
            if key.starts_with("avro") {
                set_prop(&mut props, key, JsonValue::string(value.as_str()));
            }
        }
        Ok(props)
    }
}

/// Adds a property unless it is there already (Avro refuses to overwrite one with another value).
fn set_prop(props: &mut Props, key: &str, value: JsonValue) {
    if !props.iter().any(|(k, _)| k == key) {
        props.push((key.to_owned(), value));
    }
}

fn int_parameter(schema: &Schema, key: &str) -> Result<Option<i64>, AvroError> {
    schema
        .parameter(key)
        .map(|v| {
            v.trim().parse::<i64>().map_err(|_| AvroError::FromConnect(format!("{key} must be an integer, not {v:?}")))
        })
        .transpose()
}

fn with_props(kind: Kind, props: Props) -> AvroSchema {
    match kind {
        Kind::Record(mut record) => {
            Arc::make_mut(&mut record).props = props;
            AvroSchema::of(Kind::Record(record))
        }
        Kind::Enum(mut e) => {
            Arc::make_mut(&mut e).props = props;
            AvroSchema::of(Kind::Enum(e))
        }
        Kind::Fixed(mut fixed) => {
            Arc::make_mut(&mut fixed).props = props;
            AvroSchema::of(Kind::Fixed(fixed))
        }
        kind => AvroSchema { kind, props },
    }
}

/// A named BYTES schema with a `connect.fixed.size` parameter (an Avro `fixed` read back).
pub(crate) fn is_fixed(schema: &Schema) -> bool {
    schema.schema_type() == Type::Bytes && schema.name().is_some() && schema.parameter(FIXED_SIZE).is_some()
}

fn child<'a>(schema: Option<&'a SchemaRef>, what: &str) -> Result<&'a SchemaRef, AvroError> {
    schema.ok_or_else(|| AvroError::FromConnect(format!("the schema has no {what}")))
}

/// `AvroData.nonOptional`: the same schema, required (a struct default is carried over to the copy).
pub(crate) fn non_optional(schema: &SchemaRef) -> SchemaRef {
    if !schema.is_optional() {
        return schema.clone();
    }
    let mut builder = match (schema.schema_type(), schema.key_schema(), schema.value_schema()) {
        (Type::Array, _, Some(items)) => SchemaBuilder::array(items.clone()),
        (Type::Map, Some(keys), Some(values)) => SchemaBuilder::map(keys.clone(), values.clone()),
        (Type::Struct, _, _) => {
            schema.fields().iter().fold(SchemaBuilder::struct_(), |b, f| b.field(f.name(), f.schema().clone()))
        }
        (kind, _, _) => SchemaBuilder::primitive(kind).unwrap_or_else(SchemaBuilder::bytes),
    };
    if let Some(name) = schema.name() {
        builder = builder.name(name);
    }
    if let Some(version) = schema.version() {
        builder = builder.version(version);
    }
    if let Some(doc) = schema.doc() {
        builder = builder.doc(doc);
    }
    for (key, value) in schema.parameters() {
        builder = builder.parameter(key.as_str(), value.as_str());
    }
    let Ok(bare) = builder.clone().build() else {
        return schema.clone();
    };
    let default = match schema.default_value() {
        Some(Value::Struct(s)) => Struct::from_values(bare.clone(), s.values().to_vec()).map(Value::Struct).ok(),
        other => other.cloned(),
    };
    match default {
        Some(default) => builder.default_value(default).build().unwrap_or(bare),
        None => bare,
    }
}
