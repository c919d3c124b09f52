//! `io.debezium.transforms.ExtractNewRecordState` ("unwrap"): replaces a change event envelope with the row state
//! after the change, so that sinks and consumers that want flat rows get them.
//!
//! - Creates, updates and snapshot reads become their `after` row (its schema: the envelope's `after` field's).
//! - Deletes and tombstones are handled per `delete.tombstone.handling.mode` (see [`super::unwrap_config`]).
//! - Truncates (`op=t`, or neither row) are dropped.
//! - `add.fields` appends metadata to the row (`op,table,lsn,source.ts_ms` → `__op`, `__table`, `__lsn`,
//!   `__source_ts_ms`; optional copies of the envelope's field schemas; fields the envelope lacks are left out);
//!   `add.headers` adds the same as headers (a kept tombstone gets `op` = `d`). The row schema with the added
//!   fields (and `__deleted` in the rewrite modes) is derived once per row and envelope schema.
//! - `route.by.field` sends the record to the topic named by a row field.
//! - `drop.fields.header.name` removes the fields a header lists (optional ones only, unless
//!   `drop.fields.keep.schema.compatible=false`) from the output value, and from the key with
//!   `drop.fields.from.key=true`.
//! - Records whose value is not an envelope (heartbeats, schema changes) pass unchanged; so do schemaless values.

use crate::config::{ConfigDef, FieldError};
use crate::data::{SchemaBuilder, SchemaRef, Struct, Value};
use crate::record::{ConnectRecord, Header};

use super::super::cache::SchemaCache;
use super::super::error::TransformError;
use super::super::schema_util::{field_value, struct_like};
use super::super::settings::Settings;
use super::super::Transform;
use super::envelope::{op_of, Shape};
use super::field_ref::FieldRef;
use super::unwrap_config::{self, DeleteHandling, OnDelete};

/// The field the rewrite modes add.
const DELETED: &str = "__deleted";

/// Debezium's `ExtractNewRecordState`.
#[derive(Debug)]
pub struct ExtractNewRecordState {
    delete: DeleteHandling,
    fields: Vec<FieldRef>,
    headers: Vec<FieldRef>,
    route_by: Option<String>,
    replace_null_with_default: bool,
    drop_fields_header: Option<String>,
    drop_from_key: bool,
    drop_optional_only: bool,
    /// (row schema, envelope schema) → output row schema.
    rows: SchemaCache<(SchemaRef, SchemaRef)>,
    /// Envelope schema → a struct whose fields are the header schemas, by output name.
    header_schemas: SchemaCache<SchemaRef>,
}

impl ExtractNewRecordState {
    /// The declared settings (Debezium's names and defaults).
    pub fn config_def() -> ConfigDef {
        unwrap_config::config_def()
    }

    /// The transform from its settings; every bad one is named.
    pub fn configure(settings: &Settings) -> Result<Self, Vec<FieldError>> {
        let mut errors = settings.check_declared();
        let delete = if errors.is_empty() {
            DeleteHandling::from_settings(settings).map_err(|e| errors.push(e)).ok()
        } else {
            None
        };
        let mut refs = |key: &str, prefix_key: &str| -> Vec<FieldRef> {
            let prefix = settings.raw(prefix_key);
            let parsed: Result<Vec<_>, String> =
                settings.list(key).iter().map(|spec| FieldRef::parse(&prefix, spec)).collect();
            parsed.map_err(|why| errors.push(settings.invalid(key, why))).unwrap_or_default()
        };
        let fields = refs("add.fields", "add.fields.prefix");
        let headers = refs("add.headers", "add.headers.prefix");
        match delete {
            Some(delete) if errors.is_empty() => Ok(ExtractNewRecordState {
                delete,
                fields,
                headers,
                route_by: settings.text("route.by.field"),
                replace_null_with_default: settings.flag("replace.null.with.default"),
                drop_fields_header: settings.text("drop.fields.header.name"),
                drop_from_key: settings.flag("drop.fields.from.key"),
                drop_optional_only: settings.flag("drop.fields.keep.schema.compatible"),
                rows: SchemaCache::new(64),
                header_schemas: SchemaCache::new(64),
            }),
            _ => Err(errors),
        }
    }

    fn rewrites(&self) -> bool {
        self.delete.on_delete == OnDelete::Rewrite
    }

    /// A tombstone from the source: dropped, or kept with `op` = `d` in the `op` header if one is asked for.
    fn tombstone(&self, mut record: ConnectRecord) -> Option<ConnectRecord> {
        if !self.delete.keep_tombstones {
            return None;
        }
        for header in self.headers.iter().filter(|h| h.is_op()) {
            record.headers.push(Header::string(header.out_name.clone(), "d"));
        }
        Some(record)
    }

    fn add_headers(&self, record: &mut ConnectRecord, envelope: &Struct) -> Result<(), TransformError> {
        if self.headers.is_empty() {
            return Ok(());
        }
        let schemas = self.header_schemas.get_or_try_insert(envelope.schema(), || {
            let mut builder = SchemaBuilder::struct_();
            let mut named = std::collections::BTreeSet::new();
            for header in &self.headers {
                if let Some(schema) = header.schema_in(envelope.schema()) {
                    if named.insert(header.out_name.as_str()) {
                        builder = builder.field(header.out_name.clone(), schema?);
                    }
                }
            }
            Ok::<_, TransformError>(builder.build()?)
        })?;
        for header in &self.headers {
            if let Some(field) = schemas.field(&header.out_name) {
                let value = header.value_in(envelope);
                record.headers.push(Header {
                    key: header.out_name.clone(),
                    schema: Some(field.schema().clone()),
                    value,
                });
            }
        }
        Ok(())
    }

    /// The output row schema for `row` in `envelope`: the row's fields, the metadata fields the envelope has, and
    /// `__deleted` in the rewrite modes.
    fn derive_row_schema(&self, row: &SchemaRef, envelope: &SchemaRef) -> Result<SchemaRef, TransformError> {
        let mut builder = row.fields().iter().fold(struct_like(row), |b, f| b.field(f.name(), f.schema().clone()));
        for field in &self.fields {
            if let Some(schema) = field.schema_in(envelope) {
                builder = builder.field(field.out_name.clone(), schema?);
            }
        }
        if self.rewrites() {
            builder = builder.field(DELETED, SchemaBuilder::string().optional().build()?);
        }
        Ok(builder.build()?)
    }

    /// `row` with the metadata fields and, when rewriting, `__deleted`.
    fn flatten(
        &self,
        row: Struct,
        envelope_schema: &SchemaRef,
        metadata: Vec<Value>,
        deleted: bool,
    ) -> Result<Struct, TransformError> {
        let key = (row.schema().clone(), envelope_schema.clone());
        let schema = self.rows.get_or_try_insert(&key, || self.derive_row_schema(&key.0, envelope_schema))?;
        let mut values = if self.rewrites() && self.replace_null_with_default {
            (0..row.schema().fields().len()).map(|i| field_value(&row, i, true)).collect()
        } else {
            row.into_values()
        };
        values.extend(metadata);
        if self.rewrites() {
            values.push(Value::String(deleted.to_string()));
        }
        Ok(Struct::from_values(schema, values)?)
    }

    /// The topic named by the `route.by.field` field of `row`, if set and not blank.
    fn route(&self, record: &mut ConnectRecord, row: &Struct) -> Result<(), TransformError> {
        let Some(field) = &self.route_by else { return Ok(()) };
        let value = row
            .get(field)
            .map_err(|_| TransformError::new(format!("route.by.field: the row has no field '{field}'")))?;
        if let Some(topic) = value.as_str().map(str::trim).filter(|t| !t.is_empty()) {
            record.topic = topic.to_owned();
        }
        Ok(())
    }

    /// Removes the fields listed in the `drop.fields.header.name` header from the value (and the key if asked).
    fn drop_fields(&self, record: &mut ConnectRecord) -> Result<(), TransformError> {
        let Some(name) = &self.drop_fields_header else { return Ok(()) };
        let listed: Vec<String> = match record.headers.iter().find(|h| &h.key == name).map(|h| &h.value) {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ => return Ok(()),
        };
        if listed.is_empty() {
            return Ok(());
        }
        if self.drop_from_key {
            record.key =
                self.without(std::mem::replace(&mut record.key, Value::Null), &listed, &mut record.key_schema)?;
        }
        record.value =
            self.without(std::mem::replace(&mut record.value, Value::Null), &listed, &mut record.value_schema)?;
        Ok(())
    }

    fn without(
        &self,
        value: Value,
        listed: &[String],
        schema: &mut Option<SchemaRef>,
    ) -> Result<Value, TransformError> {
        let (Value::Struct(row), Some(_)) = (&value, schema.as_ref()) else { return Ok(value) };
        let dropped = |f: &crate::data::Field| {
            listed.iter().any(|n| n == f.name()) && (!self.drop_optional_only || f.schema().is_optional())
        };
        if !row.schema().fields().iter().any(dropped) {
            return Ok(value);
        }
        let kept: Vec<_> = row.schema().fields().iter().filter(|f| !dropped(f)).collect();
        let new_schema =
            kept.iter().fold(struct_like(row.schema()), |b, f| b.field(f.name(), f.schema().clone())).build()?;
        let values = kept.iter().map(|f| row.get_index(f.index()).cloned().unwrap_or(Value::Null)).collect();
        *schema = Some(new_schema.clone());
        Ok(Value::Struct(Struct::from_values(new_schema, values)?))
    }
}

impl Transform for ExtractNewRecordState {
    fn apply(&self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>, TransformError> {
        if record.value.is_null() {
            return Ok(self.tombstone(record));
        }
        let envelope = match std::mem::replace(&mut record.value, Value::Null) {
            Value::Struct(envelope) if Shape::of(envelope.schema()).is_some() => envelope,
            other => {
                record.value = other;
                return Ok(Some(record));
            }
        };
        let envelope_schema = envelope.schema().clone();
        let Some(shape) = Shape::of(&envelope_schema) else { return Ok(Some(record)) };
        self.add_headers(&mut record, &envelope)?;
        let op = op_of(&envelope, &shape);
        let row_schema = shape.after.schema().clone();
        let is_delete = matches!(envelope.get_index(shape.after.index()), None | Some(Value::Null));
        let metadata: Vec<Value> = if !self.fields.is_empty() && (!is_delete || self.rewrites()) {
            let located = self.fields.iter().filter(|f| f.locate(&envelope_schema).is_some());
            located.map(|f| f.value_in(&envelope)).collect()
        } else {
            Vec::new()
        };
        let (before_index, after_index) = (shape.before.index(), shape.after.index());
        let mut parts = envelope.into_values();
        let mut take = |i: usize| parts.get_mut(i).map(|v| std::mem::replace(v, Value::Null)).unwrap_or(Value::Null);
        let (after, before) = (take(after_index), take(before_index));
        let row = match (op.as_str(), after, before) {
            ("t", _, _) | (_, Value::Null, Value::Null) => return Ok(None),
            (_, Value::Null, before) => {
                let before = match before {
                    Value::Struct(before) => Some(before),
                    _ => None,
                };
                if let Some(before) = &before {
                    if self.delete.on_delete != OnDelete::Drop {
                        self.route(&mut record, before)?;
                    }
                }
                match (self.delete.on_delete, before) {
                    (OnDelete::Drop, _) => return Ok(None),
                    (OnDelete::NullValue, _) => (Some(row_schema), Value::Null),
                    (OnDelete::Tombstone, _) => (None, Value::Null),
                    (OnDelete::Rewrite, Some(before)) => {
                        let row = self.flatten(before, &envelope_schema, metadata, true)?;
                        (Some(row.schema().clone()), Value::Struct(row))
                    }
                    (OnDelete::Rewrite, None) => {
                        return Err(TransformError::new("a delete event whose before state is not a struct"))
                    }
                }
            }
            (_, Value::Struct(after), _) => {
                self.route(&mut record, &after)?;
                if self.fields.is_empty() && !self.rewrites() {
                    (Some(row_schema), Value::Struct(after))
                } else {
                    let row = self.flatten(after, &envelope_schema, metadata, false)?;
                    (Some(row.schema().clone()), Value::Struct(row))
                }
            }
            (_, other, _) => {
                return Err(TransformError::new(format!("the after state is a {}, not a struct", other.type_name())))
            }
        };
        (record.value_schema, record.value) = row;
        self.drop_fields(&mut record)?;
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{customer_event, customer_tombstone, customers, same_value_schema, with_settings};
    use super::*;
    use crate::data::Type;

    fn unwrap(pairs: &[(&str, &str)]) -> ExtractNewRecordState {
        with_settings(pairs, ExtractNewRecordState::config_def(), ExtractNewRecordState::configure).expect("unwrap")
    }

    fn apply(unwrap: &ExtractNewRecordState, record: ConnectRecord) -> Option<ConnectRecord> {
        unwrap.apply(record).expect("apply")
    }

    fn fields(record: &ConnectRecord) -> Vec<(String, Value)> {
        let row = record.value.as_struct().expect("a struct value");
        row.schema().fields().iter().map(|f| (f.name().to_owned(), row.values()[f.index()].clone())).collect()
    }

    #[test]
    fn creates_and_updates_become_the_after_row() {
        let unwrap = unwrap(&[]);
        let event = customer_event("u", Some((1, "Anne", "a@x")), Some((1, "Anne Marie", "a@x")));
        let out = apply(&unwrap, event.clone()).expect("kept");
        assert_eq!(out.value_schema.as_ref(), Some(&customers().1));
        assert_eq!(fields(&out)[1], ("first_name".into(), "Anne Marie".into()));
        assert_eq!((out.topic.as_str(), &out.key, out.headers.len()), (event.topic.as_str(), &event.key, 0));
    }

    #[test]
    fn adds_metadata_fields_and_headers() {
        let unwrap = unwrap(&[("add.fields", "op,table,lsn,source.ts_ms,id"), ("add.headers", "db,op:operation")]);
        let first = apply(&unwrap, customer_event("c", None, Some((1, "Anne", "a@x")))).expect("kept");
        let names: Vec<String> = fields(&first).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["id", "first_name", "email", "__op", "__table", "__lsn", "__source_ts_ms", "__id"]);
        let row = first.value.as_struct().expect("row");
        assert_eq!(row.get("__op"), Ok(&Value::from("c")));
        assert_eq!(row.get("__table"), Ok(&Value::from("customers")));
        assert_eq!(row.get("__lsn"), Ok(&Value::Int64(24_064_704)));
        assert_eq!(row.get("__source_ts_ms"), Ok(&Value::Int64(1_556_890_294_000)));
        assert_eq!(row.get("__id"), Ok(&Value::Null), "no transaction block");
        assert!(row.schema().field("__lsn").is_some_and(|f| f.schema().is_optional()));
        assert_eq!(row.validate(), Ok(()));
        let headers: Vec<(&str, &Value)> = first.headers.iter().map(|h| (h.key.as_str(), &h.value)).collect();
        assert_eq!(headers, [("__db", &Value::from("postgres")), ("__operation", &Value::from("c"))]);
        let second = apply(&unwrap, customer_event("r", None, Some((2, "Bob", "b@x")))).expect("kept");
        assert!(same_value_schema(&first, &second), "the derived schema is cached");
    }

    #[test]
    fn delete_and_tombstone_handling_modes() {
        let delete = || customer_event("d", Some((1, "Anne", "a@x")), None);
        let default = unwrap(&[]);
        let out = apply(&default, delete()).expect("a null-value record");
        assert_eq!((out.value.is_null(), out.value_schema.as_ref()), (true, Some(&customers().1)));
        assert_eq!(apply(&default, customer_tombstone(1)), None);

        let drop = unwrap(&[("delete.tombstone.handling.mode", "drop")]);
        assert_eq!(apply(&drop, delete()), None);
        assert_eq!(apply(&drop, customer_tombstone(1)), None);

        let rewrite = unwrap(&[("delete.tombstone.handling.mode", "rewrite"), ("add.fields", "op")]);
        let out = apply(&rewrite, delete()).expect("rewritten");
        let tail: Vec<(String, Value)> = fields(&out).into_iter().skip(3).collect();
        assert_eq!(tail, [("__op".into(), "d".into()), ("__deleted".into(), "true".into())]);
        assert_eq!(fields(&out)[1], ("first_name".into(), "Anne".into()), "the before row");
        let created = apply(&rewrite, customer_event("c", None, Some((2, "Bob", "b@x")))).expect("kept");
        assert_eq!(fields(&created).last(), Some(&("__deleted".into(), "false".into())));
        assert_eq!(apply(&rewrite, customer_tombstone(1)), None);

        let keep = unwrap(&[("delete.tombstone.handling.mode", "rewrite-with-tombstone"), ("add.headers", "op")]);
        let tombstone = apply(&keep, customer_tombstone(1)).expect("kept");
        assert_eq!(
            tombstone.headers.iter().map(|h| (h.key.as_str(), &h.value)).collect::<Vec<_>>(),
            [("__op", &Value::from("d"))]
        );

        let real = unwrap(&[("delete.tombstone.handling.mode", "delete-to-tombstone")]);
        let out = apply(&real, delete()).expect("a tombstone");
        assert_eq!((out.value.is_null(), out.value_schema.is_none()), (true, true));
    }

    #[test]
    fn passes_other_records_and_drops_truncates() {
        let unwrap = unwrap(&[("add.fields", "op")]);
        let heartbeat_schema = SchemaBuilder::struct_()
            .name("io.debezium.connector.common.Heartbeat")
            .field("ts_ms", SchemaBuilder::int64().build().expect("ts"))
            .build()
            .expect("heartbeat");
        let beat = Struct::from_values(heartbeat_schema.clone(), vec![Value::Int64(1)]).expect("beat");
        let heartbeat = ConnectRecord::new(
            "__debezium-heartbeat.dbserver1",
            (None, Value::Null),
            (Some(heartbeat_schema), beat.into()),
        );
        assert_eq!(apply(&unwrap, heartbeat.clone()), Some(heartbeat));
        let schemaless =
            ConnectRecord::new("t", (None, Value::Null), (None, Value::Map(vec![("op".into(), "c".into())])));
        assert_eq!(apply(&unwrap, schemaless.clone()), Some(schemaless));
        assert_eq!(apply(&unwrap, customer_event("t", None, None)), None);
    }

    #[test]
    fn routes_by_a_row_field_and_drops_listed_fields() {
        let unwrap = unwrap(&[("route.by.field", "first_name"), ("drop.fields.header.name", "drop")]);
        let mut event = customer_event("c", None, Some((1, "vip", "a@x")));
        event.headers.push(Header {
            key: "drop".into(),
            schema: None,
            value: Value::Array(vec!["email".into(), "id".into()]),
        });
        let out = apply(&unwrap, event).expect("kept");
        assert_eq!(out.topic, "vip");
        let names: Vec<String> = fields(&out).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["id", "first_name"], "only optional fields are dropped by default");
        let bad = super::super::fixtures::with_settings(
            &[("route.by.field", "nope")],
            ExtractNewRecordState::config_def(),
            ExtractNewRecordState::configure,
        );
        assert!(bad.expect("unwrap").apply(customer_event("c", None, Some((1, "a", "b")))).is_err());
        let errors = with_settings(
            &[("add.fields", "a:b:c"), ("delete.handling.mode", "keep")],
            ExtractNewRecordState::config_def(),
            ExtractNewRecordState::configure,
        );
        let names: Vec<String> = errors.err().unwrap_or_default().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["transforms.t.delete.handling.mode", "transforms.t.add.fields"]);
        assert_eq!(customers().1.field("id").map(|f| f.schema().schema_type()), Some(Type::Int32));
    }
}
