//! What a record asks of its table ([`Change`]), read the way Debezium's JDBC sink reads it:
//!
//! - a Debezium change event (a value struct named `*.Envelope` with `op`, `before` and `after`): `c`, `r` and `u`
//!   write `after`; `d` deletes the row of the record's key when `delete.enabled`, and is skipped otherwise; `t`
//!   (truncate) empties the table when `truncate.enabled` ([`Reader::truncated_table`]) and is skipped otherwise;
//!   `m` (message) is skipped;
//! - a flat record: the value struct is the row;
//! - a tombstone (null value): deletes when `delete.enabled`, skipped otherwise.
//!
//! A row is written as `insert.mode` says. A record that cannot be written (no struct value, a field no column
//! holds, a null key) is refused with the reason.

use std::sync::Arc;

use tidemark_connect::connector::SinkRecord;
use tidemark_connect::data::{SchemaRef, Struct, Type, Value};

use crate::config::{InsertMode, SinkConfig};
use crate::layout::{Extracted, Layout};
use crate::value::SqlValue;

/// The statement a change needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `INSERT`.
    Insert,
    /// Insert, or update the row with the same key.
    Upsert,
    /// Update the row with the same key.
    Update,
    /// Delete the row with the same key.
    Delete,
}

/// One record's change to its table.
#[derive(Debug, Clone)]
pub struct Change {
    /// The record's index in the batch given to `put`.
    pub index: usize,
    /// What to do.
    pub operation: Operation,
    /// The table and columns.
    pub layout: Arc<Layout>,
    /// The key columns' values.
    pub key: Vec<SqlValue>,
    /// The other columns' values (none for a delete).
    pub values: Vec<SqlValue>,
    /// The key as the record has it: changes with equal identities change the same row.
    pub identity: Vec<Value>,
}

/// What a record's value says.
enum Event<'a> {
    /// Write this row.
    Write(&'a Struct),
    /// Delete the row of the key.
    Delete,
    /// Nothing to do.
    Skip,
}

/// Reads records into changes, reusing the layout while consecutive records have the same shape.
pub struct Reader<'c> {
    config: &'c SinkConfig,
    last: Option<(Shape, Arc<Layout>)>,
}

/// What a layout depends on: the topic, the key's and the row's schemas (by identity: records of a table share
/// them), the type of a key without a schema, and whether there is a row.
struct Shape {
    topic: String,
    key_schema: Option<SchemaRef>,
    key_type: Option<Type>,
    row_schema: Option<SchemaRef>,
}

/// The schema of a record's key: the key struct's own, or the record's key schema.
fn key_schema(record: &SinkRecord) -> Option<&SchemaRef> {
    match &record.record.key {
        Value::Struct(k) => Some(k.schema()),
        _ => record.record.key_schema.as_ref(),
    }
}

impl Shape {
    fn of(record: &SinkRecord, row: Option<&Struct>) -> Shape {
        Shape {
            topic: record.record.topic.clone(),
            key_schema: key_schema(record).cloned(),
            key_type: record.record.key.schema_type(),
            row_schema: row.map(|row| row.schema().clone()),
        }
    }

    /// Whether `record` with `row` has this shape (checked for every record, so it allocates nothing).
    fn matches(&self, record: &SinkRecord, row: Option<&Struct>) -> bool {
        let same = |a: Option<&SchemaRef>, b: Option<&SchemaRef>| match (a, b) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        self.topic == record.record.topic
            && self.key_type == record.record.key.schema_type()
            && same(self.key_schema.as_ref(), key_schema(record))
            && same(self.row_schema.as_ref(), row.map(Struct::schema))
    }
}

impl<'c> Reader<'c> {
    /// A reader for a task's settings.
    pub fn new(config: &'c SinkConfig) -> Self {
        Reader { config, last: None }
    }

    /// The change of the record at `index` of a batch: `None` when there is nothing to write, `Err` with the reason
    /// when it cannot be written.
    pub fn read(&mut self, index: usize, record: &SinkRecord) -> Result<Option<Change>, String> {
        let (operation, row) = match event(&record.record.value)? {
            Event::Skip => return Ok(None),
            Event::Delete if !self.config.delete_enabled => return Ok(None),
            Event::Delete => (Operation::Delete, None),
            Event::Write(row) => {
                let operation = match self.config.insert_mode {
                    InsertMode::Insert => Operation::Insert,
                    InsertMode::Upsert => Operation::Upsert,
                    InsertMode::Update => Operation::Update,
                };
                (operation, Some(row))
            }
        };
        let layout = self.layout(record, row)?;
        let Extracted { key, values, identity } = layout.extract(record, row)?;
        Ok(Some(Change { index, operation, layout, key, values, identity }))
    }

    /// The table a truncate event (op `t`) empties under `truncate.enabled`; `None` for any other record.
    pub fn truncated_table(&self, record: &SinkRecord) -> Option<String> {
        let Value::Struct(event) = &record.record.value else { return None };
        let truncate = is_envelope(event.schema()) && event.get("op").ok().and_then(Value::as_str) == Some("t");
        let (config, dialect) = (self.config, self.config.url.dialect);
        (config.truncate_enabled && truncate)
            .then(|| dialect.fold(&config.table_name(&record.record.topic), config.quote_identifiers))
    }

    fn layout(&mut self, record: &SinkRecord, row: Option<&Struct>) -> Result<Arc<Layout>, String> {
        if let Some((last, layout)) = &self.last {
            if last.matches(record, row) {
                return Ok(layout.clone());
            }
        }
        let layout = Arc::new(Layout::new(self.config, record, row)?);
        self.last = Some((Shape::of(record, row), layout.clone()));
        Ok(layout)
    }
}

/// Whether a value of `schema` is a Debezium change event.
fn is_envelope(schema: &SchemaRef) -> bool {
    schema.name().is_some_and(|name| name.ends_with(".Envelope"))
        && ["op", "before", "after"].iter().all(|field| schema.field(field).is_some())
}

/// What a record's value asks for.
fn event(value: &Value) -> Result<Event<'_>, String> {
    let row = match value {
        Value::Null => return Ok(Event::Delete),
        Value::Struct(row) => row,
        other => {
            return Err(format!(
                "the value is a {}: the JDBC sink writes struct values with a schema (a converter with schemas, such \
                 as Avro or JSON with schemas.enable=true)",
                other.type_name()
            ))
        }
    };
    if !is_envelope(row.schema()) {
        return Ok(Event::Write(row));
    }
    let op = row.get("op").ok().and_then(Value::as_str).unwrap_or_default();
    match op {
        "c" | "r" | "u" => match row.get("after") {
            Ok(Value::Struct(after)) => Ok(Event::Write(after)),
            _ => Err(format!("a change event with op {op} has no after")),
        },
        "d" => Ok(Event::Delete),
        "t" | "m" => Ok(Event::Skip),
        other => Err(format!("a change event with op {other:?}, which the sink does not know")),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tidemark_connect::data::SchemaBuilder;
    use tidemark_connect::record::ConnectRecord;

    use super::*;
    use crate::config::PrimaryKeyMode;
    use crate::layout::Source;

    fn settings(pairs: &[(&str, &str)]) -> SinkConfig {
        let mut props: BTreeMap<String, String> = [
            ("connection.url", "jdbc:postgresql://localhost/sink"),
            ("connection.username", "u"),
            ("insert.mode", "upsert"),
            ("primary.key.mode", "record_key"),
            ("delete.enabled", "true"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        props.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        SinkConfig::from_props(&props).expect("config")
    }

    fn row_schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .name("pg1.public.Customers.Value")
            .field("id", SchemaBuilder::int32().build().expect("id"))
            .field("Name", SchemaBuilder::string().optional().build().expect("name"))
            .build()
            .expect("row")
    }

    fn key_schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .name("pg1.public.Customers.Key")
            .field("id", SchemaBuilder::int32().build().expect("id"))
            .build()
            .expect("key")
    }

    fn envelope_schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .name("pg1.public.Customers.Envelope")
            .field("before", SchemaBuilder::struct_().optional().build().expect("before"))
            .field("after", row_schema())
            .field("op", SchemaBuilder::string().build().expect("op"))
            .build()
            .expect("envelope")
    }

    fn row(id: i32, name: &str) -> Struct {
        Struct::from_values(row_schema(), vec![Value::Int32(id), Value::from(name)]).expect("row")
    }

    fn record(key: Value, value: Value) -> SinkRecord {
        let key_schema = key.as_struct().map(|k| k.schema().clone());
        let value_schema = value.as_struct().map(|v| v.schema().clone());
        let mut record = ConnectRecord::new("pg1.public.Customers", (key_schema, key), (value_schema, value));
        record.partition = Some(0);
        SinkRecord { record, kafka_offset: 7 }
    }

    fn key(id: i32) -> Value {
        Value::Struct(Struct::from_values(key_schema(), vec![Value::Int32(id)]).expect("key"))
    }

    fn envelope(op: &str, after: Option<Struct>) -> Value {
        let after = after.map_or(Value::Null, Value::Struct);
        Value::Struct(
            Struct::from_values(envelope_schema(), vec![Value::Null, after, Value::from(op)]).expect("envelope"),
        )
    }

    #[test]
    fn envelopes_write_after_and_delete_by_key() {
        let config = settings(&[]);
        let mut reader = Reader::new(&config);
        let change =
            reader.read(0, &record(key(1), envelope("u", Some(row(1, "Ann"))))).expect("read").expect("change");
        assert_eq!(change.operation, Operation::Upsert);
        assert_eq!(change.layout.table, "pg1_public_customers");
        assert_eq!(change.layout.key_names(), ["id"]);
        assert_eq!(change.layout.value_names(), ["name"]);
        assert_eq!(change.key, [SqlValue::Int(1)]);
        assert_eq!(change.values, [SqlValue::Text("Ann".into())]);
        assert_eq!(change.identity, [Value::Int32(1)]);
        let delete = reader.read(1, &record(key(1), envelope("d", None))).expect("read").expect("delete");
        assert_eq!((delete.operation, delete.key.as_slice()), (Operation::Delete, &[SqlValue::Int(1)][..]));
        assert!(delete.values.is_empty());
        let tombstone = reader.read(2, &record(key(1), Value::Null)).expect("read").expect("tombstone");
        assert_eq!(tombstone.operation, Operation::Delete);
        assert!(reader.read(3, &record(Value::Null, envelope("t", None))).expect("read").is_none());
        assert!(reader.read(4, &record(key(1), envelope("x", None))).is_err());
    }

    #[test]
    fn flat_records_and_disabled_deletes() {
        let config = settings(&[("delete.enabled", "false"), ("insert.mode", "insert")]);
        let mut reader = Reader::new(&config);
        let change = reader.read(0, &record(key(2), Value::Struct(row(2, "Bo")))).expect("read").expect("change");
        assert_eq!(change.operation, Operation::Insert);
        assert!(reader.read(1, &record(key(2), Value::Null)).expect("read").is_none());
        assert!(reader.read(2, &record(key(2), envelope("d", None))).expect("read").is_none());
        let refused = reader.read(3, &record(key(2), Value::from("text"))).expect_err("not a struct");
        assert!(refused.contains("the value is a STRING"), "{refused}");
    }

    #[test]
    fn layouts_are_shared_while_the_shape_stays() {
        let config = settings(&[]);
        let mut reader = Reader::new(&config);
        let (rows, keys) = (row_schema(), key_schema());
        let keyed = |id: i32, rows: &SchemaRef| {
            let key = Struct::from_values(keys.clone(), vec![Value::Int32(id)]).expect("key");
            let row = Struct::from_values(rows.clone(), vec![Value::Int32(id), Value::Null]).expect("row");
            record(Value::Struct(key), Value::Struct(row))
        };
        let a = reader.read(0, &keyed(1, &rows)).expect("read").expect("a");
        let b = reader.read(1, &keyed(2, &rows)).expect("read").expect("b");
        assert!(Arc::ptr_eq(&a.layout, &b.layout));
        let other_schema = row_schema();
        let c = reader.read(2, &keyed(3, &other_schema)).expect("read").expect("c");
        assert!(!Arc::ptr_eq(&b.layout, &c.layout) && b.layout.same_columns(&c.layout));
        let delete = reader.read(3, &record(Value::Struct(Struct::new(keys.clone()).expect("key")), Value::Null));
        assert!(delete.expect_err("null key").contains("the key column id is null"));
        let keyless = reader.read(4, &record(Value::Null, Value::Struct(row(1, "a"))));
        assert!(keyless.expect_err("no key").contains("has no key"));
    }

    #[test]
    fn primary_key_modes() {
        let config = settings(&[("primary.key.mode", "kafka"), ("delete.enabled", "false")]);
        let change = Reader::new(&config).read(0, &record(key(1), Value::Struct(row(1, "a")))).expect("read");
        let change = change.expect("change");
        assert_eq!(change.layout.key_names(), ["__connect_topic", "__connect_partition", "__connect_offset"]);
        assert_eq!(change.key, [SqlValue::Text("pg1.public.Customers".into()), SqlValue::Int(0), SqlValue::Int(7)]);
        assert_eq!(change.layout.value_names(), ["id", "name"]);

        let config = settings(&[
            ("primary.key.mode", "record_value"),
            ("primary.key.fields", "Name"),
            ("delete.enabled", "false"),
        ]);
        let change = Reader::new(&config).read(0, &record(Value::Null, Value::Struct(row(1, "a")))).expect("read");
        let change = change.expect("change");
        assert_eq!(change.layout.key[0].source, Source::RowField(1));
        assert_eq!((change.layout.key_names(), change.layout.value_names()), (vec!["name"], vec!["id"]));

        let config = settings(&[("primary.key.fields", "customer_id")]);
        let mut primitive = record(Value::Int64(9), Value::Struct(row(1, "a")));
        primitive.record.key_schema = None;
        let change = Reader::new(&config).read(0, &primitive).expect("read").expect("change");
        assert_eq!(change.layout.key_names(), ["customer_id"]);
        assert_eq!(change.layout.key[0].kind, crate::kind::Kind::Int64);
        assert_eq!(change.layout.value_names(), ["id", "name"]);

        let config = settings(&[]);
        let refused = Reader::new(&config).read(0, &primitive).expect_err("no field named");
        assert!(refused.contains("primary.key.fields must name the one column"), "{refused}");
        assert_eq!(config.primary_key_mode, PrimaryKeyMode::RecordKey);
        let config = settings(&[("primary.key.fields", "nope")]);
        let refused = Reader::new(&config).read(0, &record(key(1), Value::Struct(row(1, "a")))).expect_err("lacks");
        assert!(refused.contains("primary.key.fields names nope, which the record's key lacks"), "{refused}");
    }

    #[test]
    fn unmappable_fields_are_named() {
        let nested = SchemaBuilder::struct_()
            .name("flat")
            .field("id", SchemaBuilder::int32().build().expect("id"))
            .field(
                "tags",
                SchemaBuilder::map(
                    SchemaBuilder::string().build().expect("k"),
                    SchemaBuilder::string().build().expect("v"),
                )
                .build()
                .expect("map"),
            )
            .build()
            .expect("schema");
        let value = Struct::from_values(nested, vec![Value::Int32(1), Value::Map(vec![])]).expect("value");
        let config = settings(&[]);
        let refused = Reader::new(&config).read(0, &record(key(1), Value::Struct(value))).expect_err("map");
        assert_eq!(refused, "field tags: a MAP cannot be written to a Postgres column");
    }
}
