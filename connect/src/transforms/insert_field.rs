//! `org.apache.kafka.connect.transforms.InsertField$Value` and `$Key`: adds the record's topic, partition and
//! timestamp and a static value as fields of the value (or key).
//!
//! Settings: `topic.field`, `partition.field`, `timestamp.field`, `static.field` with `static.value`; a name ending
//! in `!` makes the field required, `?` (the default) optional. With a schema the value must be a struct: the new
//! schema is the old one's basics and fields plus the new fields (INT32 partition, Kafka `Timestamp` timestamp,
//! STRING topic and static value), derived once per input schema. Without a schema the value must be a map.
//! Tombstones pass unchanged. A field whose source is missing (no partition or timestamp yet) is left out of a
//! map and null in a struct, which a required field refuses.
//!
//! **Refused: `offset.field`.** It is the Kafka offset of a sink record, which [`ConnectRecord`] does not carry
//! (Kafka itself fails every source record with it), so the setting is refused when the config is validated
//! rather than failing each record.

use crate::config::{ConfigDef, ConfigKey, ConfigType, FieldError};
use crate::data::{logical, SchemaBuilder, SchemaRef, Struct, Value};
use crate::record::ConnectRecord;

use super::cache::SchemaCache;
use super::error::TransformError;
use super::schema_util::{field_value, map_put, require_map, require_struct, struct_like};
use super::settings::Settings;
use super::side::Side;
use super::Transform;

const PURPOSE: &str = "field insertion";
const OPTIONALITY: &str = "Suffix with ! to make this a required field, or ? to keep it optional (the default).";

/// A field to insert: its name and whether it is optional.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Spec {
    name: String,
    optional: bool,
}

impl Spec {
    fn parse(spec: Option<String>) -> Option<Spec> {
        let spec = spec?;
        Some(if let Some(name) = spec.strip_suffix('!') {
            Spec { name: name.to_owned(), optional: false }
        } else {
            Spec { name: spec.strip_suffix('?').unwrap_or(&spec).to_owned(), optional: true }
        })
    }
}

/// Kafka's `InsertField`, on the key or the value.
#[derive(Debug)]
pub struct InsertField {
    side: Side,
    topic: Option<Spec>,
    partition: Option<Spec>,
    timestamp: Option<Spec>,
    static_field: Option<(Spec, String)>,
    with_default: bool,
    schemas: SchemaCache<SchemaRef>,
}

impl InsertField {
    /// The declared settings.
    pub fn config_def() -> ConfigDef {
        let field = |name, doc| ConfigKey::optional(name, ConfigType::String, "", doc);
        ConfigDef::new([
            field("topic.field", "Field name for Kafka topic. Suffix with ! to make this a required field."),
            field("partition.field", "Field name for Kafka partition. Suffix with ! to make this a required field."),
            field("offset.field", "Field name for Kafka offset (sink records only; refused by Tidemark)."),
            field("timestamp.field", "Field name for record timestamp. Suffix with ! to make this a required field."),
            field("static.field", "Field name for static data field. Suffix with ! to make this a required field."),
            ConfigKey::optional(
                "static.value",
                ConfigType::String,
                "",
                "Static field value, if field name configured.",
            ),
            ConfigKey::optional(
                "replace.null.with.default",
                ConfigType::Boolean,
                "true",
                "Whether null fields of the input take their schema's default in the output.",
            ),
        ])
    }

    /// An `InsertField` on `side` from its settings; every bad one is named.
    pub fn configure(side: Side, settings: &Settings) -> Result<Self, Vec<FieldError>> {
        let mut errors = settings.check_declared();
        if settings.text("offset.field").is_some() {
            errors.push(settings.invalid(
                "offset.field",
                "the Kafka offset exists only on sink records and Tidemark's transforms do not see it; remove it",
            ));
        }
        let static_field = Spec::parse(settings.text("static.field"));
        let static_value = settings.given("static.value").map(str::to_owned);
        if let (Some(field), None) = (&static_field, &static_value) {
            errors.push(FieldError {
                name: settings.name("static.value"),
                message: format!("No value specified for static field: {}. {OPTIONALITY}", field.name),
            });
        }
        let insert = InsertField {
            side,
            topic: Spec::parse(settings.text("topic.field")),
            partition: Spec::parse(settings.text("partition.field")),
            timestamp: Spec::parse(settings.text("timestamp.field")),
            static_field: static_field.zip(static_value),
            with_default: settings.flag("replace.null.with.default"),
            schemas: SchemaCache::new(16),
        };
        let nothing = [&insert.topic, &insert.partition, &insert.timestamp].iter().all(|s| s.is_none())
            && insert.static_field.is_none()
            && settings.text("offset.field").is_none();
        if nothing {
            errors.push(FieldError { name: settings.name("type"), message: "No field insertion configured".into() });
        }
        if errors.is_empty() {
            Ok(insert)
        } else {
            Err(errors)
        }
    }

    /// The fields to add, in Kafka's order, with their schema and the record's value for them.
    fn additions(&self, record: &ConnectRecord, as_logical: bool) -> Vec<(&Spec, SchemaBuilder, Option<Value>)> {
        let mut out = Vec::with_capacity(4);
        if let Some(spec) = &self.topic {
            out.push((spec, SchemaBuilder::string(), Some(Value::String(record.topic.clone()))));
        }
        if let Some(spec) = &self.partition {
            out.push((spec, SchemaBuilder::int32(), record.partition.map(Value::Int32)));
        }
        if let Some(spec) = &self.timestamp {
            let schema = if as_logical { logical::timestamp() } else { SchemaBuilder::int64() };
            out.push((spec, schema, record.timestamp.map(Value::Int64)));
        }
        if let Some((spec, value)) = &self.static_field {
            out.push((spec, SchemaBuilder::string(), Some(Value::String(value.clone()))));
        }
        out
    }

    fn derive_schema(&self, record: &ConnectRecord, input: &SchemaRef) -> Result<SchemaRef, TransformError> {
        let mut builder = struct_like(input);
        for field in input.fields() {
            builder = builder.field(field.name(), field.schema().clone());
        }
        for (spec, schema, _) in self.additions(record, true) {
            let schema = if spec.optional { schema.optional() } else { schema };
            builder = builder.field(spec.name.clone(), schema.build()?);
        }
        Ok(builder.build()?)
    }
}

impl Transform for InsertField {
    fn apply(&self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>, TransformError> {
        if self.side.value(&record).is_null() {
            return Ok(Some(record));
        }
        let Some(_) = self.side.schema(&record) else {
            let mut entries = require_map(self.side.take(&mut record), PURPOSE)?;
            for (spec, _, value) in self.additions(&record, false) {
                if let Some(value) = value {
                    map_put(&mut entries, &spec.name, value);
                }
            }
            self.side.set(&mut record, None, Value::Map(entries));
            return Ok(Some(record));
        };
        let value = require_struct(self.side.value(&record), PURPOSE)?;
        let schema = self.schemas.get_or_try_insert(value.schema(), || self.derive_schema(&record, value.schema()))?;
        let mut values: Vec<Value> =
            (0..value.schema().fields().len()).map(|i| field_value(value, i, self.with_default)).collect();
        for (spec, _, added) in self.additions(&record, true) {
            match added {
                Some(v) => values.push(v),
                None if spec.optional => values.push(Value::Null),
                None => {
                    return Err(TransformError::new(format!(
                        "Invalid value: null used for required field: \"{}\" (the record has no value for it)",
                        spec.name
                    )))
                }
            }
        }
        let updated = Struct::from_values(schema.clone(), values)?;
        self.side.set(&mut record, Some(schema), Value::Struct(updated));
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::data::Type;

    fn insert(side: Side, pairs: &[(&str, &str)]) -> Result<InsertField, Vec<FieldError>> {
        let props: BTreeMap<String, String> =
            pairs.iter().map(|(k, v)| (format!("transforms.insert.{k}"), v.to_string())).collect();
        InsertField::configure(side, &Settings::new("transforms.insert.", &props, InsertField::config_def()))
    }

    fn row_schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .name("server1.public.customers.Value")
            .field("id", SchemaBuilder::int32().build().expect("id"))
            .field("tier", SchemaBuilder::string().optional().default_value("basic".into()).build().expect("tier"))
            .build()
            .expect("row")
    }

    fn record(schema: &SchemaRef) -> ConnectRecord {
        let row = Struct::from_values(schema.clone(), vec![Value::Int32(7), Value::Null]).expect("row");
        let mut record = ConnectRecord::new("customers", (None, Value::Null), (Some(schema.clone()), row.into()));
        record.partition = Some(2);
        record.timestamp = Some(1_556_890_294_484);
        record
    }

    #[test]
    fn adds_fields_to_a_struct_and_caches_the_schema() {
        let insert = insert(
            Side::Value,
            &[
                ("topic.field", "src_topic!"),
                ("partition.field", "part"),
                ("timestamp.field", "ts"),
                ("static.field", "origin"),
                ("static.value", "pg"),
            ],
        )
        .expect("insert");
        let schema = row_schema();
        let out = insert.apply(record(&schema)).expect("apply").expect("kept");
        let out_schema = out.value_schema.clone().expect("schema");
        assert_eq!(out_schema.name(), Some("server1.public.customers.Value"));
        let names: Vec<&str> = out_schema.fields().iter().map(|f| f.name()).collect();
        assert_eq!(names, ["id", "tier", "src_topic", "part", "ts", "origin"]);
        assert!(!out_schema.field("src_topic").expect("topic").schema().is_optional());
        assert!(out_schema.field("part").expect("part").schema().is_optional());
        assert_eq!(out_schema.field("ts").expect("ts").schema().name(), Some(logical::TIMESTAMP));
        let value = out.value.as_struct().expect("struct");
        assert_eq!(value.get("src_topic"), Ok(&Value::from("customers")));
        assert_eq!(value.get("part"), Ok(&Value::Int32(2)));
        assert_eq!(value.get("ts"), Ok(&Value::Int64(1_556_890_294_484)));
        assert_eq!(value.get("origin"), Ok(&Value::from("pg")));
        assert_eq!(value.get_without_default("tier"), Ok(&Value::from("basic")), "null replaced by the default");
        assert_eq!(value.validate(), Ok(()));
        let again = insert.apply(record(&schema)).expect("apply").expect("kept");
        assert!(Arc::ptr_eq(&out_schema, again.value_schema.as_ref().expect("schema")), "derived once");
    }

    #[test]
    fn schemaless_maps_and_tombstones() {
        let insert = insert(Side::Value, &[("topic.field", "t"), ("timestamp.field", "ts")]).expect("insert");
        let mut record =
            ConnectRecord::new("orders", (None, Value::Null), (None, Value::Map(vec![("a".into(), 1i32.into())])));
        record.timestamp = Some(5);
        let out = insert.apply(record).expect("apply").expect("kept");
        assert_eq!(
            out.value,
            Value::Map(vec![("a".into(), 1i32.into()), ("t".into(), "orders".into()), ("ts".into(), Value::Int64(5))])
        );
        let tombstone = ConnectRecord::new("orders", (None, Value::from("k")), (None, Value::Null));
        assert_eq!(insert.apply(tombstone.clone()), Ok(Some(tombstone)));
        let wrong = ConnectRecord::new("orders", (None, Value::Null), (None, Value::from("text")));
        assert!(insert.apply(wrong).is_err());
    }

    #[test]
    fn works_on_the_key_and_refuses_a_missing_required_field() {
        let insert = insert(Side::Key, &[("partition.field", "p!")]).expect("insert");
        let key_schema =
            SchemaBuilder::struct_().field("id", SchemaBuilder::int32().build().expect("id")).build().expect("key");
        let key = Struct::from_values(key_schema.clone(), vec![Value::Int32(1)]).expect("key");
        let mut record = ConnectRecord::new("t", (Some(key_schema), key.into()), (None, Value::from("v")));
        record.partition = Some(0);
        let out = insert.apply(record.clone()).expect("apply").expect("kept");
        assert_eq!(out.key.as_struct().map(|s| s.get("p").cloned()), Some(Ok(Value::Int32(0))));
        assert_eq!(
            out.key_schema.as_ref().and_then(|s| s.field("p")).map(|f| f.schema().schema_type()),
            Some(Type::Int32)
        );
        record.partition = None;
        assert!(insert.apply(record).is_err());
    }

    #[test]
    fn names_bad_settings() {
        let errors = insert(Side::Value, &[]).err().unwrap_or_default();
        assert_eq!(errors[0].message, "No field insertion configured");
        let errors = insert(Side::Value, &[("offset.field", "off"), ("static.field", "s")]).err().unwrap_or_default();
        let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["transforms.insert.offset.field", "transforms.insert.static.value"]);
    }
}
