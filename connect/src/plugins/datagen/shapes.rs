//! What datagen generates (`quickstart`): plain orders, or records shaped like Debezium's, so Debezium's transforms
//! can be tried without a database.
//!
//! - `orders`: key the order id; value `io.tidemark.datagen.Order` {order_id, customer, units, note?}.
//! - `debezium`: change events of a `customers` table as Debezium's Postgres connector writes them (topic prefix
//!   `datagen`, schema `inventory`): key `{id}`, value an envelope {before?, after?, source, op, ts_ms?,
//!   transaction?}. Each customer is created, updated, then deleted (the delete followed by its tombstone).
//! - `outbox`: Debezium change events of an outbox table (`inventory.outboxevent`: id, aggregatetype, aggregateid,
//!   type, payload), inserts only, aggregate types taking turns between `order` and `customer`, for the outbox
//!   `EventRouter`.

use crate::connector::TaskError;
use crate::data::{DataError, SchemaBuilder, SchemaError, SchemaRef, Struct, Value};

/// A key and a value, each with its schema.
pub type KeyValue = ((Option<SchemaRef>, Value), (Option<SchemaRef>, Value));

/// One of the shapes; its schemas are built once per task.
pub enum Shape {
    /// Plain orders.
    Orders {
        /// The key's schema (the order id).
        key: SchemaRef,
        /// The value's schema (an order).
        value: SchemaRef,
    },
    /// Debezium change events of a customers table.
    Debezium(Envelope),
    /// Debezium change events of an outbox table.
    Outbox(Envelope),
}

/// The schemas of a Debezium change event.
pub struct Envelope {
    key: SchemaRef,
    row: SchemaRef,
    source: SchemaRef,
    value: SchemaRef,
    table: &'static str,
}

/// The `quickstart` values.
pub const QUICKSTARTS: &[&str] = &["orders", "debezium", "outbox"];

fn schema_error(e: SchemaError) -> TaskError {
    TaskError::Definite(format!("datagen schema: {e}"))
}

fn data_error(e: DataError) -> TaskError {
    TaskError::Definite(format!("datagen record: {e}"))
}

impl Shape {
    /// The shape `quickstart` names.
    pub fn named(quickstart: &str) -> Result<Self, TaskError> {
        match quickstart.trim().to_ascii_lowercase().as_str() {
            "orders" => orders(),
            "debezium" => Ok(Shape::Debezium(Envelope::new("customers", customer_row()?)?)),
            "outbox" => Ok(Shape::Outbox(Envelope::new("outboxevent", outbox_row()?)?)),
            other => Err(TaskError::Definite(format!("unknown quickstart {other}"))),
        }
    }

    /// The records of `sequence`: one, or for a Debezium delete the event and its tombstone.
    pub fn records(&self, sequence: i64, now_ms: i64) -> Result<Vec<KeyValue>, TaskError> {
        match self {
            Shape::Orders { key, value } => {
                let units = i32::try_from(sequence % 10).unwrap_or(0) + 1;
                let note = if sequence % 3 == 0 { Value::Null } else { Value::from(format!("note {sequence}")) };
                let customer = Value::from(format!("customer-{}", sequence % 100));
                let values = vec![Value::from(sequence), customer, Value::from(units), note];
                let order = Struct::from_values(value.clone(), values).map_err(data_error)?;
                Ok(vec![((Some(key.clone()), Value::from(sequence)), (Some(value.clone()), Value::Struct(order)))])
            }
            Shape::Debezium(envelope) => {
                let id = sequence / 3;
                let row = |version: i64| -> Result<Value, TaskError> {
                    let values = vec![
                        Value::from(id),
                        Value::from(format!("customer-{id}")),
                        Value::from(format!("customer-{id}-v{version}@example.com")),
                    ];
                    Ok(Value::Struct(Struct::from_values(envelope.row.clone(), values).map_err(data_error)?))
                };
                let (op, before, after) = match sequence % 3 {
                    0 => ("c", Value::Null, row(0)?),
                    1 => ("u", row(0)?, row(1)?),
                    _ => ("d", row(1)?, Value::Null),
                };
                let key = envelope.key(id)?;
                let event = envelope.event(op, before, after, sequence, now_ms)?;
                let mut records = vec![(key.clone(), event)];
                if op == "d" {
                    records.push((key, (None, Value::Null)));
                }
                Ok(records)
            }
            Shape::Outbox(envelope) => {
                let aggregate = if sequence % 2 == 0 { "order" } else { "customer" };
                let payload = format!(r#"{{"id":{sequence},"units":{}}}"#, sequence % 10 + 1);
                let values = vec![
                    Value::from(format!("00000000-0000-4000-8000-{sequence:012}")),
                    Value::from(aggregate),
                    Value::from((sequence / 2).to_string()),
                    Value::from(format!("{}Created", if aggregate == "order" { "Order" } else { "Customer" })),
                    Value::from(payload),
                ];
                let after = Value::Struct(Struct::from_values(envelope.row.clone(), values).map_err(data_error)?);
                let key = envelope.key(sequence)?;
                Ok(vec![(key, envelope.event("c", Value::Null, after, sequence, now_ms)?)])
            }
        }
    }
}

fn orders() -> Result<Shape, TaskError> {
    let key = SchemaBuilder::int64().build().map_err(schema_error)?;
    let value = SchemaBuilder::struct_()
        .name("io.tidemark.datagen.Order")
        .field("order_id", SchemaBuilder::int64().build().map_err(schema_error)?)
        .field("customer", SchemaBuilder::string().build().map_err(schema_error)?)
        .field("units", SchemaBuilder::int32().build().map_err(schema_error)?)
        .field("note", SchemaBuilder::string().optional().build().map_err(schema_error)?)
        .build()
        .map_err(schema_error)?;
    Ok(Shape::Orders { key, value })
}

fn customer_row() -> Result<SchemaBuilder, TaskError> {
    Ok(SchemaBuilder::struct_()
        .field("id", SchemaBuilder::int64().build().map_err(schema_error)?)
        .field("name", SchemaBuilder::string().build().map_err(schema_error)?)
        .field("email", SchemaBuilder::string().optional().build().map_err(schema_error)?))
}

fn outbox_row() -> Result<SchemaBuilder, TaskError> {
    let text = || SchemaBuilder::string().build().map_err(schema_error);
    let payload = SchemaBuilder::string().optional().name("io.debezium.data.Json").version(1);
    Ok(SchemaBuilder::struct_()
        .field("id", SchemaBuilder::string().name("io.debezium.data.Uuid").version(1).build().map_err(schema_error)?)
        .field("aggregatetype", text()?)
        .field("aggregateid", text()?)
        .field("type", text()?)
        .field("payload", payload.build().map_err(schema_error)?))
}

impl Envelope {
    /// The schemas of `inventory.<table>` events whose rows are `row` (fields only; named and made optional here).
    fn new(table: &'static str, row: SchemaBuilder) -> Result<Self, TaskError> {
        let name = format!("datagen.inventory.{table}");
        let long = || SchemaBuilder::int64().build().map_err(schema_error);
        let optional_long = || SchemaBuilder::int64().optional().build().map_err(schema_error);
        let text = || SchemaBuilder::string().build().map_err(schema_error);
        let id_type = if table == "outboxevent" { SchemaBuilder::string() } else { SchemaBuilder::int64() };
        let key = SchemaBuilder::struct_()
            .name(format!("{name}.Key"))
            .field("id", id_type.build().map_err(schema_error)?)
            .build()
            .map_err(schema_error)?;
        let row = row.name(format!("{name}.Value")).optional().build().map_err(schema_error)?;
        let source = SchemaBuilder::struct_()
            .name("io.debezium.connector.postgresql.Source")
            .field("version", text()?)
            .field("connector", text()?)
            .field("name", text()?)
            .field("ts_ms", long()?)
            .field("snapshot", SchemaBuilder::string().optional().build().map_err(schema_error)?)
            .field("db", text()?)
            .field("schema", text()?)
            .field("table", text()?)
            .field("txId", optional_long()?)
            .field("lsn", optional_long()?)
            .build()
            .map_err(schema_error)?;
        let value = SchemaBuilder::struct_()
            .name(format!("{name}.Envelope"))
            .version(1)
            .field("before", row.clone())
            .field("after", row.clone())
            .field("source", source.clone())
            .field("op", text()?)
            .field("ts_ms", optional_long()?)
            .build()
            .map_err(schema_error)?;
        Ok(Envelope { key, row, source, value, table })
    }

    fn key(&self, id: i64) -> Result<(Option<SchemaRef>, Value), TaskError> {
        let id = if self.table == "outboxevent" { Value::from(id.to_string()) } else { Value::from(id) };
        let key = Struct::from_values(self.key.clone(), vec![id]).map_err(data_error)?;
        Ok((Some(self.key.clone()), Value::Struct(key)))
    }

    fn event(
        &self,
        op: &str,
        before: Value,
        after: Value,
        sequence: i64,
        now_ms: i64,
    ) -> Result<(Option<SchemaRef>, Value), TaskError> {
        let source = Struct::from_values(
            self.source.clone(),
            vec![
                Value::from("2.7.0.Final"),
                Value::from("postgresql"),
                Value::from("datagen"),
                Value::from(now_ms),
                Value::from("false"),
                Value::from("datagen"),
                Value::from("inventory"),
                Value::from(self.table),
                Value::from(1000 + sequence),
                Value::from(33_554_432 + sequence * 64),
            ],
        )
        .map_err(data_error)?;
        let values = vec![before, after, Value::Struct(source), Value::from(op), Value::from(now_ms)];
        let event = Struct::from_values(self.value.clone(), values).map_err(data_error)?;
        Ok((Some(self.value.clone()), Value::Struct(event)))
    }
}
