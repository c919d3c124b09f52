//! `org.apache.kafka.connect.transforms.ValueToKey`: replaces the key with a struct (or, without a schema, a map)
//! of some fields of the value. The key schema is derived once per value schema. As in Kafka, a value that is
//! not a struct (with a schema) or a map (without) is an error, tombstones included: put a `RecordIsTombstone`
//! predicate with `negate=true` in front of it to let them through.

use crate::config::{ConfigDef, ConfigKey, ConfigType, FieldError};
use crate::data::{SchemaBuilder, SchemaRef, Struct, Value};
use crate::record::ConnectRecord;

use super::cache::SchemaCache;
use super::error::TransformError;
use super::schema_util::{field_value, map_get, require_struct};
use super::settings::Settings;
use super::Transform;

const PURPOSE: &str = "copying fields from value to key";

/// Kafka's `ValueToKey`.
#[derive(Debug)]
pub struct ValueToKey {
    fields: Vec<String>,
    with_default: bool,
    schemas: SchemaCache<SchemaRef>,
}

impl ValueToKey {
    /// The declared settings: `fields` (required, not empty) and `replace.null.with.default`.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new([
            ConfigKey::required(
                "fields",
                ConfigType::List,
                "Field names on the record value to extract as the record key.",
            ),
            ConfigKey::optional(
                "replace.null.with.default",
                ConfigType::Boolean,
                "true",
                "Whether null fields of the value take their schema's default in the key.",
            ),
        ])
    }

    /// A `ValueToKey` from its settings; every bad one is named.
    pub fn configure(settings: &Settings) -> Result<Self, Vec<FieldError>> {
        let mut errors = settings.check_declared();
        let fields = settings.list("fields");
        if errors.is_empty() && fields.is_empty() {
            errors.push(settings.invalid("fields", "empty list"));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValueToKey {
            fields,
            with_default: settings.flag("replace.null.with.default"),
            schemas: SchemaCache::new(16),
        })
    }

    fn derive_schema(&self, value_schema: &SchemaRef) -> Result<SchemaRef, TransformError> {
        let mut builder = SchemaBuilder::struct_();
        for name in &self.fields {
            let field = value_schema
                .field(name)
                .ok_or_else(|| TransformError::new(format!("Field does not exist: {name} (for {PURPOSE})")))?;
            builder = builder.field(name.clone(), field.schema().clone());
        }
        Ok(builder.build()?)
    }
}

impl Transform for ValueToKey {
    fn apply(&self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>, TransformError> {
        if record.value_schema.is_none() {
            let Value::Map(entries) = &record.value else {
                return Err(TransformError::new(format!(
                    "Only Map objects supported in absence of schema for [{PURPOSE}], found: {}",
                    record.value.type_name()
                )));
            };
            let key = self
                .fields
                .iter()
                .map(|name| (Value::String(name.clone()), map_get(entries, name).cloned().unwrap_or(Value::Null)))
                .collect();
            record.key_schema = None;
            record.key = Value::Map(key);
            return Ok(Some(record));
        }
        let value = require_struct(&record.value, PURPOSE)?;
        let schema = self.schemas.get_or_try_insert(value.schema(), || self.derive_schema(value.schema()))?;
        let values = (self.fields.iter())
            .map(|name| {
                value.schema().field(name).map_or(Value::Null, |f| field_value(value, f.index(), self.with_default))
            })
            .collect();
        record.key = Value::Struct(Struct::from_values(schema.clone(), values)?);
        record.key_schema = Some(schema);
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn value_to_key(fields: &str) -> Result<ValueToKey, Vec<FieldError>> {
        let props = BTreeMap::from([("transforms.v.fields".to_owned(), fields.to_owned())]);
        ValueToKey::configure(&Settings::new("transforms.v.", &props, ValueToKey::config_def()))
    }

    #[test]
    fn builds_a_struct_key_from_value_fields() {
        let schema = SchemaBuilder::struct_()
            .field("id", SchemaBuilder::int32().build().expect("id"))
            .field("email", SchemaBuilder::string().build().expect("email"))
            .field("tenant", SchemaBuilder::string().build().expect("tenant"))
            .build()
            .expect("schema");
        let row = Struct::from_values(schema.clone(), vec![7i32.into(), "a@b".into(), "t1".into()]).expect("row");
        let record = ConnectRecord::new("t", (None, Value::Null), (Some(schema), row.into()));
        let out = value_to_key("tenant,id").expect("configure").apply(record.clone()).expect("apply").expect("kept");
        let key_schema = out.key_schema.expect("key schema");
        assert_eq!(key_schema.fields().iter().map(|f| f.name()).collect::<Vec<_>>(), ["tenant", "id"]);
        assert_eq!(out.key.as_struct().map(|s| s.values().to_vec()), Some(vec!["t1".into(), 7i32.into()]));
        assert_eq!(out.value, record.value);
        assert!(value_to_key("nope").expect("configure").apply(record).is_err());
    }

    #[test]
    fn schemaless_and_tombstones() {
        let value = Value::Map(vec![("id".into(), 1i32.into()), ("x".into(), 2i32.into())]);
        let record = ConnectRecord::new("t", (None, Value::Null), (None, value));
        let out = value_to_key("id,missing").expect("configure").apply(record).expect("apply").expect("kept");
        assert_eq!(out.key, Value::Map(vec![("id".into(), 1i32.into()), ("missing".into(), Value::Null)]));
        let tombstone = ConnectRecord::new("t", (None, Value::Null), (None, Value::Null));
        assert!(value_to_key("id").expect("configure").apply(tombstone).is_err(), "Kafka refuses tombstones too");
        assert_eq!(value_to_key(" , ").err().map(|e| e[0].name.clone()).as_deref(), Some("transforms.v.fields"));
    }
}
