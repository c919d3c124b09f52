//! `io.debezium.transforms.outbox.EventRouter`: turns rows inserted into an outbox table into events, as
//! Debezium's `EventRouterDelegate` does.
//!
//! For a create (or snapshot read) of an outbox row: the topic is the `route.by.field` column (`aggregatetype`)
//! through `route.topic.regex` / `route.topic.replacement` (default `outbox.event.<aggregatetype>`); the key is
//! the `table.field.event.key` column (`aggregateid`) with its schema; the value is the
//! `table.field.event.payload` column (`payload`) with its schema, or, when some additional column is placed in
//! the `envelope`, a struct of `payload` and those columns; the header `id` is the `table.field.event.id` column;
//! the timestamp is the change event's `ts_ms` or the `table.field.event.timestamp` column (Debezium
//! `Timestamp`, `MicroTimestamp`, `NanoTimestamp`, or Kafka's `Timestamp`, which Debezium itself refuses).
//! `table.fields.additional.placement` adds columns as headers, envelope fields or the partition.
//! `table.expand.json.payload` turns a JSON string payload into a struct (see [`super::json_expand`]).
//!
//! Deletes of outbox rows and tombstones are dropped; an update is dropped with a warning or an error in the log,
//! or fails the record with `table.op.invalid.behavior=fatal`. A null or blank payload becomes a tombstone with
//! `route.tombstone.on.empty.payload=true`. Records that are not change events pass unchanged.
//!
//! Beyond Debezium, the table-free outbox: a Postgres logical decoding message event whose prefix is
//! `route.message.prefix` (`outbox` by default) is read as the outbox row its JSON content stands for
//! ([`super::outbox_message`]) and routed exactly as that row would be; messages with other prefixes pass
//! unchanged.

use crate::config::{ConfigDef, FieldError};
use crate::data::{SchemaBuilder, SchemaRef, Struct, Value};
use crate::record::{ConnectRecord, Header};

use super::super::cache::{CacheKey, SchemaCache};
use super::super::error::TransformError;
use super::super::java_regex::{JavaRegex, Replacement};
use super::super::settings::Settings;
use super::super::Transform;
use super::envelope::{op_of, Shape, TS_MS};
use super::json_expand::JsonExpander;
use super::outbox_config::{self, AdditionalField, Placement};
use super::outbox_message::{logical_message, outbox_row, RowColumns};

/// What an update of the outbox table does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnUpdate {
    Warn,
    Error,
    Fatal,
}

/// The value schema of an event: derived per payload schema, outbox row schema, routed value and version.
#[derive(Debug, Clone)]
struct ValueKey {
    payload: SchemaRef,
    row: SchemaRef,
    routed: String,
    version: Option<i32>,
}

impl CacheKey for ValueKey {
    fn identical(&self, other: &Self) -> bool {
        self.row.identical(&other.row)
            && self.payload.identical(&other.payload)
            && self.routed == other.routed
            && self.version == other.version
    }
    fn same(&self, other: &Self) -> bool {
        self.row.same(&other.row)
            && self.payload.same(&other.payload)
            && self.routed == other.routed
            && self.version == other.version
    }
}

/// Debezium's outbox `EventRouter`.
#[derive(Debug)]
pub struct EventRouter {
    on_update: OnUpdate,
    id_field: String,
    key_field: Option<String>,
    payload_field: String,
    timestamp_field: Option<String>,
    version_field: Option<String>,
    additional: Vec<AdditionalField>,
    error_on_missing: bool,
    expander: Option<JsonExpander>,
    route_by: String,
    route_regex: JavaRegex,
    route_replacement: Replacement,
    tombstone_on_empty: bool,
    /// `route.message.prefix`; `None` when blank.
    message_prefix: Option<String>,
    value_schemas: SchemaCache<ValueKey>,
}

impl EventRouter {
    /// The declared settings (Debezium's names and defaults).
    pub fn config_def() -> ConfigDef {
        outbox_config::config_def()
    }

    /// The router from its settings; every bad one is named.
    pub fn configure(settings: &Settings) -> Result<Self, Vec<FieldError>> {
        let mut errors = settings.check_declared();
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut additional = Vec::new();
        for item in settings.list("table.fields.additional.placement") {
            match AdditionalField::parse(&item) {
                Ok(field) => additional.push(field),
                Err(why) => errors.push(settings.invalid("table.fields.additional.placement", why)),
            }
        }
        let route = JavaRegex::new(&settings.raw("route.topic.regex"))
            .map_err(|why| errors.push(settings.invalid("route.topic.regex", why)))
            .ok()
            .and_then(|regex| {
                Replacement::parse(&settings.raw("route.topic.replacement"), &regex)
                    .map(|replacement| (regex, replacement))
                    .map_err(|why| errors.push(settings.invalid("route.topic.replacement", why)))
                    .ok()
            });
        let required = |key: &str, errors: &mut Vec<FieldError>| {
            settings.text(key).unwrap_or_else(|| {
                errors.push(settings.invalid(key, "must name a column"));
                String::new()
            })
        };
        let id_field = required("table.field.event.id", &mut errors);
        let payload_field = required("table.field.event.payload", &mut errors);
        let route_by = required("route.by.field", &mut errors);
        let Some((route_regex, route_replacement)) = route.filter(|_| errors.is_empty()) else { return Err(errors) };
        let on_update =
            match settings.get("table.op.invalid.behavior").map(str::trim).map(str::to_ascii_lowercase).as_deref() {
                Some("fatal") => OnUpdate::Fatal,
                Some("error") => OnUpdate::Error,
                _ => OnUpdate::Warn,
            };
        let nulls_as_bytes = settings
            .get("table.json.payload.null.behavior")
            .is_some_and(|b| b.trim().eq_ignore_ascii_case("optional_bytes"));
        Ok(EventRouter {
            on_update,
            id_field,
            key_field: settings.text("table.field.event.key"),
            payload_field,
            timestamp_field: settings.text("table.field.event.timestamp"),
            version_field: settings.text("table.field.event.schema.version"),
            additional,
            error_on_missing: settings.flag("table.fields.additional.error.on.missing"),
            expander: settings.flag("table.expand.json.payload").then_some(JsonExpander { nulls_as_bytes }),
            route_by,
            route_regex,
            route_replacement,
            tombstone_on_empty: settings.flag("route.tombstone.on.empty.payload"),
            message_prefix: settings.text("route.message.prefix"),
            value_schemas: SchemaCache::new(64),
        })
    }

    /// The topic for the routed value (`route.topic.replacement` when the regex matches it whole).
    fn topic(&self, routed: &str) -> String {
        if self.route_regex.matches(routed) {
            if let Some(topic) = self.route_replacement.replace_first(&self.route_regex, routed) {
                return topic;
            }
        }
        routed.to_owned()
    }

    /// The record timestamp: the event's `ts_ms` (`event_ts`), or the `table.field.event.timestamp` column in ms.
    fn timestamp(&self, event_ts: Option<i64>, row: &Struct) -> Result<Option<i64>, TransformError> {
        let Some(column) = &self.timestamp_field else { return Ok(event_ts) };
        let field = row
            .schema()
            .field(column)
            .ok_or_else(|| TransformError::new(format!("Unable to find timestamp field {column} in event")))?;
        let value = match row.get(column)? {
            Value::Null => return Ok(event_ts),
            Value::Int64(v) => *v,
            other => {
                return Err(TransformError::new(format!(
                    "timestamp field {column} is {}, not INT64",
                    other.type_name()
                )))
            }
        };
        match field.schema().name() {
            Some("io.debezium.time.Timestamp" | crate::data::logical::TIMESTAMP) => Ok(Some(value)),
            Some("io.debezium.time.MicroTimestamp") => Ok(Some(value / 1_000)),
            Some("io.debezium.time.NanoTimestamp") => Ok(Some(value / 1_000_000)),
            Some(name) => Err(TransformError::new(format!("Unsupported field type {name} for event timestamp"))),
            None => Err(TransformError::new(format!(
                "Unsupported field type {} (without logical schema name) for event timestamp",
                field.schema().schema_type()
            ))),
        }
    }

    /// The value schema when some column goes into the envelope: `payload` then those columns, named after the
    /// outbox row schema with the routed value inserted before its last part (`<...>.outboxevent.Order.Value`).
    fn value_schema(&self, key: &ValueKey) -> Result<SchemaRef, TransformError> {
        let name = match key.row.name() {
            Some(original) => match original.rfind('.') {
                Some(dot) => format!("{}{}.{}", &original[..=dot], key.routed, &original[dot + 1..]),
                None => format!("{}.{original}", key.routed),
            },
            None => key.routed.clone(),
        };
        let mut builder = SchemaBuilder::struct_().name(name).field("payload", key.payload.clone());
        if let Some(version) = key.version {
            builder = builder.version(version);
        }
        for field in self.additional.iter().filter(|f| f.placement == Placement::Envelope) {
            if let Some(column) = key.row.field(&field.column) {
                builder = builder.field(field.alias.clone(), column.schema().clone());
            }
        }
        Ok(builder.build()?)
    }

    /// Routes the created (or read) outbox row of a change event.
    fn route_change(
        &self,
        record: ConnectRecord,
        envelope: &Struct,
        shape: &Shape<'_>,
    ) -> Result<ConnectRecord, TransformError> {
        match envelope.get_index(shape.after.index()) {
            Some(Value::Struct(row)) => self.route_row(record, row, event_ts(envelope)),
            other => {
                let found = other.map_or("null", Value::type_name);
                Err(TransformError::new(format!(
                    "Only Struct objects supported for [Read Outbox Event], found: {found}"
                )))
            }
        }
    }

    /// Routes a logical decoding message event `message` whose prefix is `route.message.prefix` (`content` its
    /// content), as the outbox row the content stands for.
    fn route_message(
        &self,
        record: ConnectRecord,
        message: &Struct,
        content: &[u8],
    ) -> Result<ConnectRecord, TransformError> {
        let columns = RowColumns { payload: &self.payload_field, timestamp: self.timestamp_field.as_deref() };
        let row = outbox_row(&format!("{}.Value", record.topic), content, columns)?;
        self.route_row(record, &row, event_ts(message))
    }

    /// The event of outbox row `row`, out of `record`; `event_ts` is the event's own timestamp (`ts_ms`).
    fn route_row(
        &self,
        mut record: ConnectRecord,
        row: &Struct,
        event_ts: Option<i64>,
    ) -> Result<ConnectRecord, TransformError> {
        let row_schema = row.schema().clone();
        let missing =
            |what: &str, column: &str| TransformError::new(format!("Unable to find {what} field {column} in event"));
        let payload_field =
            row_schema.field(&self.payload_field).ok_or_else(|| missing("payload", &self.payload_field))?;
        let mut payload_schema = payload_field.schema().clone();
        let mut payload = row.get(&self.payload_field)?.clone();
        let id_field = row_schema.field(&self.id_field).ok_or_else(|| missing("event-id", &self.id_field))?;
        record.headers.push(Header {
            key: "id".into(),
            schema: Some(id_field.schema().clone()),
            value: row.get(&self.id_field)?.clone(),
        });
        if let (Some(expander), Value::String(text)) = (&self.expander, &payload) {
            match expander.expand(&self.payload_field, text) {
                Ok((schema, value)) => (payload_schema, payload) = (schema, value),
                Err(why) => tracing::warn!(topic = %record.topic, "JSON expansion of the outbox payload failed: {why}"),
            }
        }
        let routed = match row.get(&self.route_by) {
            Ok(Value::String(routed)) => routed.clone(),
            Ok(other) => {
                return Err(TransformError::new(format!(
                    "route.by.field {} is {}, not a string",
                    self.route_by,
                    other.type_name()
                )))
            }
            Err(_) => return Err(missing("route-by", &self.route_by)),
        };
        let version = match &self.version_field {
            None => None,
            Some(column) => match row.get(column) {
                Ok(Value::Int32(v)) => Some(*v),
                Ok(Value::Null) => None,
                _ => return Err(TransformError::new(format!("schema version field {column} must be an INT32 column"))),
            },
        };
        let timestamp = self.timestamp(event_ts, row)?;
        let mut envelope_values = Vec::new();
        let mut partition = None;
        for field in &self.additional {
            let Some(column) = row_schema.field(&field.column) else {
                if self.error_on_missing {
                    return Err(missing("additional", &field.column));
                }
                continue;
            };
            let value = row.get(&field.column)?.clone();
            match field.placement {
                Placement::Envelope => envelope_values.push(value),
                Placement::Header => record.headers.push(Header {
                    key: field.alias.clone(),
                    schema: Some(column.schema().clone()),
                    value,
                }),
                Placement::Partition => match value {
                    Value::Int32(p) => partition = Some(p),
                    Value::Null => {}
                    other => {
                        return Err(TransformError::new(format!(
                            "partition column {} is {}, not INT32",
                            field.column,
                            other.type_name()
                        )))
                    }
                },
            }
        }
        let is_empty = match &payload {
            Value::Null => true,
            Value::String(s) => s.trim().is_empty(),
            _ => false,
        };
        let only_payload = !self.additional.iter().any(|f| f.placement == Placement::Envelope);
        (record.value_schema, record.value) = if is_empty && self.tombstone_on_empty {
            (None, Value::Null)
        } else if only_payload {
            (Some(payload_schema), payload)
        } else {
            let key = ValueKey { payload: payload_schema, row: row_schema.clone(), routed: routed.clone(), version };
            let schema = self.value_schemas.get_or_try_insert(&key, || self.value_schema(&key))?;
            let mut values = vec![payload];
            values.extend(envelope_values);
            (Some(schema.clone()), Value::Struct(Struct::from_values(schema, values)?))
        };
        (record.key_schema, record.key) = match &self.key_field {
            None => (Some(crate::data::Schema::string()), Value::Null),
            Some(column) => {
                let field = row_schema.field(column).ok_or_else(|| missing("event-key", column))?;
                (Some(field.schema().clone()), row.get(column)?.clone())
            }
        };
        record.topic = self.topic(&routed);
        record.partition = partition;
        record.timestamp = timestamp;
        Ok(record)
    }
}

impl Transform for EventRouter {
    fn apply(&self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>, TransformError> {
        if record.value.is_null() {
            return Ok(None);
        }
        let event = match std::mem::replace(&mut record.value, Value::Null) {
            Value::Struct(event) => event,
            other => {
                record.value = other;
                return Ok(Some(record));
            }
        };
        if let Some((prefix, content)) = logical_message(&event) {
            if self.message_prefix.as_deref() == Some(prefix) {
                return self.route_message(record, &event, content).map(Some);
            }
        }
        let schema = event.schema().clone();
        let Some(shape) = Shape::of(&schema) else {
            record.value = Value::Struct(event);
            return Ok(Some(record));
        };
        match op_of(&event, &shape).as_str() {
            "d" => Ok(None),
            "u" => match self.on_update {
                OnUpdate::Warn => {
                    tracing::warn!(topic = %record.topic, "Unexpected update message received on the outbox table and ignored");
                    Ok(None)
                }
                OnUpdate::Error => {
                    tracing::error!(topic = %record.topic, "Unexpected update message received on the outbox table and ignored");
                    Ok(None)
                }
                OnUpdate::Fatal => {
                    Err(TransformError::new("Unexpected update message received on the outbox table, fail."))
                }
            },
            _ => self.route_change(record, &event, &shape).map(Some),
        }
    }
}

/// The event's own timestamp, `ts_ms`.
fn event_ts(event: &Struct) -> Option<i64> {
    match event.get(TS_MS) {
        Ok(Value::Int64(ts)) => Some(*ts),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{envelope_schema, message_event, source_schema, with_settings};
    use super::*;
    use crate::data::Type;

    fn outbox_row_schema() -> SchemaRef {
        let string = || SchemaBuilder::string().build().expect("string");
        SchemaBuilder::struct_()
            .name("dbserver1.public.outboxevent.Value")
            .optional()
            .field("id", SchemaBuilder::string().name("io.debezium.data.Uuid").build().expect("uuid"))
            .field("aggregatetype", string())
            .field("aggregateid", string())
            .field("type", string())
            .field("payload", SchemaBuilder::string().optional().name("io.debezium.data.Json").build().expect("json"))
            .field("created", SchemaBuilder::int64().name("io.debezium.time.MicroTimestamp").build().expect("ts"))
            .field("shard", SchemaBuilder::int32().build().expect("shard"))
            .build()
            .expect("outbox")
    }

    fn outbox_event(op: &str, aggregate_type: &str, payload: Value) -> ConnectRecord {
        let row_schema = outbox_row_schema();
        let envelope = envelope_schema("dbserver1.public.outboxevent", &row_schema);
        let row = Struct::from_values(
            row_schema,
            vec![
                "406c07f3".into(),
                aggregate_type.into(),
                "1".into(),
                "OrderCreated".into(),
                payload,
                Value::Int64(1_556_890_294_344_123),
                Value::Int32(3),
            ],
        )
        .expect("row");
        let source = Struct::new(source_schema()).expect("source");
        let (before, after) = if op == "d" { (Value::from(row), Value::Null) } else { (Value::Null, Value::from(row)) };
        let values = vec![before, after, source.into(), op.into(), Value::Int64(1_556_890_294_484), Value::Null];
        let event = Struct::from_values(envelope.clone(), values).expect("event");
        ConnectRecord::new("dbserver1.public.outboxevent", (None, "406c07f3".into()), (Some(envelope), event.into()))
    }

    fn router(pairs: &[(&str, &str)]) -> EventRouter {
        with_settings(pairs, EventRouter::config_def(), EventRouter::configure).expect("router")
    }

    #[test]
    fn routes_an_outbox_row_by_default() {
        let out = router(&[]).apply(outbox_event("c", "order", "{\"id\": 1}".into())).expect("apply").expect("kept");
        assert_eq!(out.topic, "outbox.event.order");
        assert_eq!(out.key, Value::from("1"));
        assert_eq!(out.key_schema.as_ref().map(|s| s.schema_type()), Some(Type::String));
        assert_eq!(out.value, Value::from("{\"id\": 1}"));
        assert_eq!(out.value_schema.as_ref().and_then(|s| s.name()), Some("io.debezium.data.Json"));
        assert_eq!(
            out.headers.iter().map(|h| (h.key.as_str(), &h.value)).collect::<Vec<_>>(),
            [("id", &Value::from("406c07f3"))]
        );
        assert_eq!((out.timestamp, out.partition), (Some(1_556_890_294_484), None));
        let read = router(&[]).apply(outbox_event("r", "customer", Value::from("{}"))).expect("apply").expect("kept");
        assert_eq!(read.topic, "outbox.event.customer", "snapshot reads are routed too");
    }

    #[test]
    fn places_additional_columns_and_versions_the_schema() {
        let router = router(&[
            (
                "table.fields.additional.placement",
                "type:header:eventType,type:envelope,shard:partition,aggregateid:envelope:aggregate",
            ),
            ("table.field.event.timestamp", "created"),
            ("route.topic.replacement", "events.${routedByValue}.v1"),
        ]);
        let out = router.apply(outbox_event("c", "order", "{}".into())).expect("apply").expect("kept");
        assert_eq!(out.topic, "events.order.v1");
        assert_eq!(out.partition, Some(3));
        assert_eq!(out.timestamp, Some(1_556_890_294_344), "micros to millis");
        assert_eq!(out.headers.iter().map(|h| h.key.as_str()).collect::<Vec<_>>(), ["id", "eventType"]);
        let schema = out.value_schema.clone().expect("schema");
        assert_eq!(schema.name(), Some("dbserver1.public.outboxevent.order.Value"));
        assert_eq!(schema.fields().iter().map(|f| f.name()).collect::<Vec<_>>(), ["payload", "type", "aggregate"]);
        let value = out.value.as_struct().expect("envelope value");
        assert_eq!(value.values(), &[Value::from("{}"), "OrderCreated".into(), "1".into()]);
        let again = router.apply(outbox_event("c", "order", "{}".into())).expect("apply").expect("kept");
        assert!(again.value_schema.as_ref().is_some_and(|s| std::sync::Arc::ptr_eq(s, &schema)), "cached");
        let missing = with_settings(
            &[("table.fields.additional.placement", "nope:header")],
            EventRouter::config_def(),
            EventRouter::configure,
        );
        assert!(missing.expect("router").apply(outbox_event("c", "order", "{}".into())).is_err());
        let lenient = with_settings(
            &[
                ("table.fields.additional.placement", "nope:header"),
                ("table.fields.additional.error.on.missing", "false"),
            ],
            EventRouter::config_def(),
            EventRouter::configure,
        );
        assert!(lenient.expect("router").apply(outbox_event("c", "order", "{}".into())).is_ok());
    }

    #[test]
    fn skips_deletes_updates_and_tombstones() {
        let router = router(&[]);
        assert_eq!(router.apply(outbox_event("d", "order", "{}".into())), Ok(None));
        assert_eq!(router.apply(outbox_event("u", "order", "{}".into())), Ok(None));
        let tombstone = ConnectRecord::new("dbserver1.public.outboxevent", (None, "k".into()), (None, Value::Null));
        assert_eq!(router.apply(tombstone), Ok(None));
        let fatal =
            with_settings(&[("table.op.invalid.behavior", "fatal")], EventRouter::config_def(), EventRouter::configure);
        assert!(fatal.expect("router").apply(outbox_event("u", "order", "{}".into())).is_err());
        let plain = ConnectRecord::new("other", (None, Value::Null), (None, Value::from("x")));
        assert_eq!(router.apply(plain.clone()), Ok(Some(plain)));
        let tombstones = with_settings(
            &[("route.tombstone.on.empty.payload", "true")],
            EventRouter::config_def(),
            EventRouter::configure,
        );
        let out =
            tombstones.expect("router").apply(outbox_event("c", "order", " ".into())).expect("apply").expect("kept");
        assert_eq!((out.value.is_null(), out.value_schema.is_none(), out.key.clone()), (true, true, Value::from("1")));
    }

    #[test]
    fn expands_json_payloads() {
        let router = router(&[("table.expand.json.payload", "true")]);
        let out = router
            .apply(outbox_event("c", "order", "{\"id\": 1, \"total\": 9.5}".into()))
            .expect("apply")
            .expect("kept");
        let schema = out.value_schema.clone().expect("schema");
        assert_eq!((schema.name(), schema.schema_type()), (Some("payload"), Type::Struct));
        assert_eq!(out.value.as_struct().map(|s| s.get("total").cloned()), Some(Ok(Value::Float64(9.5))));
        let kept = router.apply(outbox_event("c", "order", "not json".into())).expect("apply").expect("kept");
        assert_eq!(kept.value, Value::from("not json"), "left as it is");
    }

    /// The content of the logical decoding message that stands for `outbox_event`'s row.
    const OUTBOX_MESSAGE: &str = r#"{"id": "406c07f3", "aggregatetype": "order", "aggregateid": "1",
        "type": "OrderCreated", "payload": {"id": 1}, "shard": 3}"#;

    /// Topic, partition, key and value as schemaless JSON, and headers.
    type Seen = (String, Option<i32>, Vec<Option<bytes::Bytes>>, Vec<(String, Value)>);

    /// What consumers of JSON see of a routed record.
    fn seen(record: &ConnectRecord) -> Seen {
        let settings = [("converter.type", "value"), ("schemas.enable", "false")];
        let settings = settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let json = crate::converters::create_converter("json", &settings).expect("json converter");
        let bytes = [(&record.key_schema, &record.key), (&record.value_schema, &record.value)]
            .map(|(schema, value)| json.to_bytes(&record.topic, schema.as_ref(), value).expect("json"));
        let headers = record.headers.iter().map(|h| (h.key.clone(), h.value.clone())).collect();
        (record.topic.clone(), record.partition, bytes.to_vec(), headers)
    }

    #[test]
    fn routes_an_outbox_message_as_the_equivalent_row() {
        for settings in [
            vec![],
            vec![("table.expand.json.payload", "true")],
            vec![("table.fields.additional.placement", "type:header:eventType,shard:partition,type:envelope")],
        ] {
            let router = router(&settings);
            let from_row = router.apply(outbox_event("c", "order", "{\"id\": 1}".into())).expect("row").expect("kept");
            let from_message = router.apply(message_event("outbox", OUTBOX_MESSAGE)).expect("message").expect("kept");
            assert_eq!(seen(&from_message), seen(&from_row), "{settings:?}");
            let types = |r: &ConnectRecord| r.key_schema.as_ref().map(|s| (s.schema_type(), s.is_optional()));
            assert_eq!(types(&from_message), types(&from_row), "the same key schema");
            assert_eq!(from_message.timestamp, Some(1_556_890_294_999), "the message event's ts_ms");
        }
        let plain = router(&[]).apply(message_event("outbox", OUTBOX_MESSAGE)).expect("apply").expect("kept");
        let row = router(&[]).apply(outbox_event("c", "order", "{\"id\": 1}".into())).expect("apply").expect("kept");
        assert_eq!(plain.value_schema, row.value_schema, "the payload's schema, io.debezium.data.Json");
        assert_eq!(plain.value, Value::from("{\"id\": 1}"));
    }

    #[test]
    fn other_messages_pass_and_bad_outbox_messages_fail() {
        let audit = message_event("audit", "not json");
        assert_eq!(router(&[]).apply(audit.clone()), Ok(Some(audit)));
        let events = router(&[("route.message.prefix", "events")]);
        let outbox = message_event("outbox", OUTBOX_MESSAGE);
        assert_eq!(events.apply(outbox.clone()), Ok(Some(outbox.clone())), "only the configured prefix");
        assert_eq!(
            events.apply(message_event("events", OUTBOX_MESSAGE)).map(|r| r.map(|r| r.topic)),
            Ok(Some("outbox.event.order".into()))
        );
        assert_eq!(router(&[("route.message.prefix", " ")]).apply(outbox.clone()), Ok(Some(outbox)), "blank: none");
        let error = router(&[]).apply(message_event("outbox", "[1, 2]")).expect_err("not an object");
        assert!(error.message.contains("not a JSON object"), "{error}");
        let error = router(&[]).apply(message_event("outbox", r#"{"id": "x", "payload": {}}"#)).expect_err("no type");
        assert_eq!(error.message, "Unable to find route-by field aggregatetype in event");
        let tombstones = router(&[("route.tombstone.on.empty.payload", "true")]);
        let empty = r#"{"id": "x", "aggregatetype": "order", "aggregateid": "1", "payload": null}"#;
        let out = tombstones.apply(message_event("outbox", empty)).expect("apply").expect("kept");
        assert_eq!((out.topic.as_str(), out.value.is_null(), out.key), ("outbox.event.order", true, Value::from("1")));
    }

    #[test]
    fn names_bad_settings() {
        let errors = with_settings(
            &[
                ("route.topic.regex", "(?<x>.*)"),
                ("table.fields.additional.placement", "a:body"),
                ("table.op.invalid.behavior", "ignore"),
            ],
            EventRouter::config_def(),
            EventRouter::configure,
        )
        .err()
        .unwrap_or_default();
        assert_eq!(
            errors.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
            ["transforms.t.table.op.invalid.behavior"]
        );
        let errors = with_settings(
            &[("route.topic.regex", "(?<x>.*)"), ("table.fields.additional.placement", "a:body")],
            EventRouter::config_def(),
            EventRouter::configure,
        )
        .err()
        .unwrap_or_default();
        let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["transforms.t.table.fields.additional.placement", "transforms.t.route.topic.replacement"]);
    }
}
