//! `org.apache.kafka.connect.transforms.ReplaceField$Value` and `$Key`: keeps or drops fields and renames them.
//!
//! Settings: `exclude` (fields to drop), `include` (fields to keep; empty keeps all), `renames` (`old:new` pairs),
//! `replace.null.with.default`; the deprecated `blacklist` and `whitelist` are read when `exclude` and `include`
//! are not given. With a schema the value must be a struct and the new schema (basics kept, fields filtered and
//! renamed) is derived once per input schema; without one it must be a map. Tombstones pass unchanged.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{ConfigDef, ConfigKey, ConfigType, FieldError};
use crate::data::{SchemaRef, Struct, Value};
use crate::record::ConnectRecord;

use super::cache::SchemaCache;
use super::error::TransformError;
use super::schema_util::{field_value, require_map, require_struct, struct_like};
use super::settings::Settings;
use super::side::Side;
use super::Transform;

const PURPOSE: &str = "field replacement";

/// Kafka's `ReplaceField`, on the key or the value.
#[derive(Debug)]
pub struct ReplaceField {
    side: Side,
    exclude: BTreeSet<String>,
    include: BTreeSet<String>,
    renames: BTreeMap<String, String>,
    with_default: bool,
    schemas: SchemaCache<SchemaRef>,
}

impl ReplaceField {
    /// The declared settings.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new([
            ConfigKey::optional(
                "exclude",
                ConfigType::List,
                "",
                "Fields to exclude. This takes precedence over include.",
            ),
            ConfigKey::optional(
                "include",
                ConfigType::List,
                "",
                "Fields to include. If specified, only these are used.",
            ),
            ConfigKey::optional("renames", ConfigType::List, "", "Field rename mappings, as old:new pairs."),
            ConfigKey::optional("blacklist", ConfigType::List, "", "Deprecated. Use exclude instead."),
            ConfigKey::optional("whitelist", ConfigType::List, "", "Deprecated. Use include instead."),
            ConfigKey::optional(
                "replace.null.with.default",
                ConfigType::Boolean,
                "true",
                "Whether null fields of the input take their schema's default in the output.",
            ),
        ])
    }

    /// A `ReplaceField` on `side` from its settings; every bad one is named.
    pub fn configure(side: Side, settings: &Settings) -> Result<Self, Vec<FieldError>> {
        let mut errors = settings.check_declared();
        let list = |new: &str, old: &str| -> BTreeSet<String> {
            let key = if settings.given(new).is_none() && settings.given(old).is_some() { old } else { new };
            settings.list(key).into_iter().collect()
        };
        let mut renames = BTreeMap::new();
        for mapping in settings.list("renames") {
            match mapping.split(':').collect::<Vec<_>>()[..] {
                [from, to] if !from.is_empty() && !to.is_empty() => {
                    renames.insert(from.to_owned(), to.to_owned());
                }
                _ => errors.push(settings.invalid("renames", format!("Invalid rename mapping: {mapping}"))),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ReplaceField {
            side,
            exclude: list("exclude", "blacklist"),
            include: list("include", "whitelist"),
            renames,
            with_default: settings.flag("replace.null.with.default"),
            schemas: SchemaCache::new(16),
        })
    }

    fn keeps(&self, name: &str) -> bool {
        !self.exclude.contains(name) && (self.include.is_empty() || self.include.contains(name))
    }

    fn renamed<'a>(&'a self, name: &'a str) -> &'a str {
        self.renames.get(name).map_or(name, String::as_str)
    }

    fn derive_schema(&self, input: &SchemaRef) -> Result<SchemaRef, TransformError> {
        let builder = input
            .fields()
            .iter()
            .filter(|f| self.keeps(f.name()))
            .fold(struct_like(input), |b, f| b.field(self.renamed(f.name()), f.schema().clone()));
        Ok(builder.build()?)
    }
}

impl Transform for ReplaceField {
    fn apply(&self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>, TransformError> {
        if self.side.value(&record).is_null() {
            return Ok(Some(record));
        }
        if self.side.schema(&record).is_none() {
            let entries = require_map(self.side.take(&mut record), PURPOSE)?;
            let kept = entries
                .into_iter()
                .filter_map(|(key, value)| match key {
                    Value::String(name) if !self.keeps(&name) => None,
                    Value::String(name) => Some((Value::String(self.renamed(&name).to_owned()), value)),
                    other => Some((other, value)),
                })
                .collect();
            self.side.set(&mut record, None, Value::Map(kept));
            return Ok(Some(record));
        }
        let value = require_struct(self.side.value(&record), PURPOSE)?;
        let schema = self.schemas.get_or_try_insert(value.schema(), || self.derive_schema(value.schema()))?;
        let values = (value.schema().fields().iter())
            .filter(|f| self.keeps(f.name()))
            .map(|f| field_value(value, f.index(), self.with_default))
            .collect();
        let updated = Struct::from_values(schema.clone(), values)?;
        self.side.set(&mut record, Some(schema), Value::Struct(updated));
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SchemaBuilder;

    fn replace(side: Side, pairs: &[(&str, &str)]) -> Result<ReplaceField, Vec<FieldError>> {
        let props: BTreeMap<String, String> =
            pairs.iter().map(|(k, v)| (format!("transforms.r.{k}"), v.to_string())).collect();
        ReplaceField::configure(side, &Settings::new("transforms.r.", &props, ReplaceField::config_def()))
    }

    fn row() -> (SchemaRef, Value) {
        let int = SchemaBuilder::int32().build().expect("int");
        let schema = SchemaBuilder::struct_()
            .name("row")
            .field("id", int.clone())
            .field("secret", int.clone())
            .field("qty", int)
            .build()
            .expect("schema");
        let row = Struct::from_values(schema.clone(), vec![1i32.into(), 2i32.into(), 3i32.into()]).expect("row");
        (schema, row.into())
    }

    #[test]
    fn excludes_includes_and_renames_with_a_schema() {
        let (schema, row) = row();
        let record = ConnectRecord::new("t", (None, Value::Null), (Some(schema), row));
        let out = replace(Side::Value, &[("exclude", "secret"), ("renames", "qty:quantity,id:ID")])
            .expect("replace")
            .apply(record.clone())
            .expect("apply")
            .expect("kept");
        let out_schema = out.value_schema.expect("schema");
        assert_eq!(out_schema.name(), Some("row"));
        assert_eq!(out_schema.fields().iter().map(|f| f.name()).collect::<Vec<_>>(), ["ID", "quantity"]);
        assert_eq!(out.value.as_struct().map(|s| s.values().to_vec()), Some(vec![1i32.into(), 3i32.into()]));
        let only = replace(Side::Value, &[("whitelist", "qty")]).expect("deprecated name").apply(record);
        let only = only.expect("apply").expect("kept");
        assert_eq!(only.value.as_struct().map(|s| s.values().to_vec()), Some(vec![3i32.into()]));
    }

    #[test]
    fn schemaless_keys_and_tombstones() {
        let key = Value::Map(vec![("id".into(), 1i32.into()), ("tenant".into(), "a".into())]);
        let record = ConnectRecord::new("t", (None, key), (None, Value::Null));
        let out = replace(Side::Key, &[("blacklist", "tenant"), ("renames", "id:key_id")])
            .expect("replace")
            .apply(record)
            .expect("apply")
            .expect("kept");
        assert_eq!(out.key, Value::Map(vec![("key_id".into(), 1i32.into())]));
        let tombstone = ConnectRecord::new("t", (None, Value::Null), (None, Value::Null));
        let value_side = replace(Side::Value, &[("exclude", "x")]).expect("replace");
        assert_eq!(value_side.apply(tombstone.clone()), Ok(Some(tombstone)));
    }

    #[test]
    fn refuses_bad_renames() {
        let errors = replace(Side::Value, &[("renames", "a:b,c")]).err().unwrap_or_default();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].name, "transforms.r.renames");
        assert!(errors[0].message.ends_with("Invalid rename mapping: c"), "{}", errors[0].message);
    }
}
