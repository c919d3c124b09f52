//! Debezium-shaped change events for the unit tests: a Postgres `customers` table and an outbox table, with the
//! key, row, `source` and envelope schemas Debezium gives them.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use crate::data::{SchemaBuilder, SchemaRef, Struct, Value};
use crate::record::ConnectRecord;

use super::super::settings::Settings;

fn string() -> SchemaRef {
    SchemaBuilder::string().build().expect("string")
}

fn optional_string() -> SchemaRef {
    SchemaBuilder::string().optional().build().expect("string")
}

/// Debezium's Postgres `source` block schema.
pub(crate) fn source_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            SchemaBuilder::struct_()
                .name("io.debezium.connector.postgresql.Source")
                .field("version", string())
                .field("connector", string())
                .field("name", string())
                .field("ts_ms", SchemaBuilder::int64().build().expect("ts"))
                .field("snapshot", optional_string())
                .field("db", string())
                .field("schema", string())
                .field("table", string())
                .field("txId", SchemaBuilder::int64().optional().build().expect("tx"))
                .field("lsn", SchemaBuilder::int64().optional().build().expect("lsn"))
                .build()
                .expect("source")
        })
        .clone()
}

fn source(table: &str) -> Value {
    let values = vec![
        "2.7.0.Final".into(),
        "postgresql".into(),
        "dbserver1".into(),
        Value::Int64(1_556_890_294_000),
        "false".into(),
        "postgres".into(),
        "inventory".into(),
        table.into(),
        Value::Int64(584),
        Value::Int64(24_064_704),
    ];
    Struct::from_values(source_schema(), values).expect("source").into()
}

/// The envelope schema for a row schema.
pub(crate) fn envelope_schema(name: &str, row: &SchemaRef) -> SchemaRef {
    let tx = SchemaBuilder::struct_()
        .name("event.block")
        .optional()
        .field("id", string())
        .field("total_order", SchemaBuilder::int64().build().expect("total"))
        .field("data_collection_order", SchemaBuilder::int64().build().expect("order"))
        .build()
        .expect("tx");
    SchemaBuilder::struct_()
        .name(format!("{name}.Envelope"))
        .field("before", row.clone())
        .field("after", row.clone())
        .field("source", source_schema())
        .field("op", string())
        .field("ts_ms", SchemaBuilder::int64().optional().build().expect("ts"))
        .field("transaction", tx)
        .build()
        .expect("envelope")
}

/// `dbserver1.inventory.customers`: its key schema, row schema and envelope schema (shared by every event).
pub(crate) fn customers() -> &'static (SchemaRef, SchemaRef, SchemaRef) {
    static SCHEMAS: OnceLock<(SchemaRef, SchemaRef, SchemaRef)> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let int = SchemaBuilder::int32().build().expect("int");
        let key = SchemaBuilder::struct_().name("dbserver1.inventory.customers.Key").field("id", int.clone()).build();
        let row = SchemaBuilder::struct_()
            .name("dbserver1.inventory.customers.Value")
            .optional()
            .field("id", int)
            .field("first_name", string())
            .field("email", optional_string())
            .build()
            .expect("row");
        let envelope = envelope_schema("dbserver1.inventory.customers", &row);
        (key.expect("key"), row, envelope)
    })
}

/// A change event of `customers` with `op` and the before/after rows as (id, first_name, email).
pub(crate) fn customer_event(
    op: &str,
    before: Option<(i32, &str, &str)>,
    after: Option<(i32, &str, &str)>,
) -> ConnectRecord {
    let (key_schema, row_schema, envelope_schema) = customers();
    let row = |r: Option<(i32, &str, &str)>| -> Value {
        r.map_or(Value::Null, |(id, name, email)| {
            Struct::from_values(row_schema.clone(), vec![id.into(), name.into(), email.into()]).expect("row").into()
        })
    };
    let id = after.or(before).map_or(0, |r| r.0);
    let key = Struct::from_values(key_schema.clone(), vec![id.into()]).expect("key");
    let values =
        vec![row(before), row(after), source("customers"), op.into(), Value::Int64(1_556_890_294_484), Value::Null];
    let envelope = Struct::from_values(envelope_schema.clone(), values).expect("envelope");
    ConnectRecord::new(
        "dbserver1.inventory.customers",
        (Some(key_schema.clone()), key.into()),
        (Some(envelope_schema.clone()), envelope.into()),
    )
}

/// The tombstone that follows a delete of customer `id`.
pub(crate) fn customer_tombstone(id: i32) -> ConnectRecord {
    let key = Struct::from_values(customers().0.clone(), vec![id.into()]).expect("key");
    ConnectRecord::new("dbserver1.inventory.customers", (Some(customers().0.clone()), key.into()), (None, Value::Null))
}

/// A Postgres logical decoding message event on `dbserver1.message`, as the Postgres source writes it
/// (`io.debezium.connector.postgresql.MessageValue`, keyed by the prefix), with `content` as its bytes.
pub(crate) fn message_event(prefix: &str, content: &str) -> ConnectRecord {
    let block = SchemaBuilder::struct_()
        .name("io.debezium.connector.postgresql.Message")
        .field("prefix", optional_string())
        .field("content", SchemaBuilder::bytes().optional().build().expect("content"))
        .build()
        .expect("block");
    let key_schema =
        SchemaBuilder::struct_().name("io.debezium.connector.postgresql.MessageKey").field("prefix", optional_string());
    let key_schema = key_schema.build().expect("key");
    let value_schema = SchemaBuilder::struct_()
        .name("io.debezium.connector.postgresql.MessageValue")
        .field("op", string())
        .field("ts_ms", SchemaBuilder::int64().optional().build().expect("ts"))
        .field("source", source_schema())
        .field("message", block.clone())
        .build()
        .expect("value");
    let message = Struct::from_values(block, vec![prefix.into(), Value::Bytes(content.to_owned().into())]);
    let values = vec!["m".into(), Value::Int64(1_556_890_294_999), source(""), message.expect("message").into()];
    let value = Struct::from_values(value_schema.clone(), values).expect("value");
    let key = Struct::from_values(key_schema.clone(), vec![prefix.into()]).expect("key");
    ConnectRecord::new("dbserver1.message", (Some(key_schema), key.into()), (Some(value_schema), value.into()))
}

/// Settings under `transforms.t.` built from `pairs`, read through `def`.
pub(crate) fn with_settings<T>(
    pairs: &[(&str, &str)],
    def: crate::config::ConfigDef,
    f: impl FnOnce(&Settings) -> T,
) -> T {
    let props: BTreeMap<String, String> =
        pairs.iter().map(|(k, v)| (format!("transforms.t.{k}"), v.to_string())).collect();
    f(&Settings::new("transforms.t.", &props, def))
}

/// Whether two records carry the same schema `Arc` on their value.
pub(crate) fn same_value_schema(a: &ConnectRecord, b: &ConnectRecord) -> bool {
    matches!((&a.value_schema, &b.value_schema), (Some(x), Some(y)) if Arc::ptr_eq(x, y))
}
