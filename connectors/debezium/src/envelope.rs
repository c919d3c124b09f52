//! The records every Debezium source writes the same way: the change event `{before, after, source, transaction,
//! op, ts_ms, ts_us, ts_ns}` (the `source` block's schema and values are the connector's), the tombstone after a
//! delete, and heartbeats on `__debezium-heartbeat.<prefix>`.

use tidemark_connect::data::{DataError, SchemaBuilder, SchemaError, SchemaRef, Struct, Value};
use tidemark_connect::record::ConnectRecord;

use crate::event::{now_us, Op};
use crate::table::{ColumnSchema, Row, TableError, TableSchema};

/// The schema of `<name>.Envelope` for rows of `row`, with the connector's `source` block and the `transaction`
/// block of transaction metadata.
pub fn envelope_schema(
    name: &str,
    row: &SchemaRef,
    source: &SchemaRef,
    transaction: &SchemaRef,
) -> Result<SchemaRef, SchemaError> {
    let optional_long = || SchemaBuilder::int64().optional().build();
    SchemaBuilder::struct_()
        .name(format!("{name}.Envelope"))
        .version(2)
        .field("before", row.clone())
        .field("after", row.clone())
        .field("source", source.clone())
        .field("transaction", transaction.clone())
        .field("op", SchemaBuilder::string().build()?)
        .field("ts_ms", optional_long()?)
        .field("ts_us", optional_long()?)
        .field("ts_ns", optional_long()?)
        .build()
}

/// A change event of `table` (keyed by `after`, or `before` for a delete) with the `source` block `source`, without
/// a transaction block.
pub fn change_event<C: ColumnSchema>(
    table: &TableSchema<C>,
    op: Op,
    before: Option<Row>,
    after: Option<Row>,
    source: Value,
) -> Result<ConnectRecord, TableError<C::Error>> {
    // The key is moved out of the row that gives it, not cloned: `after`'s, else `before`'s.
    let (before, before_key) = before.map_or((Value::Null, Value::Null), |row| (Value::Struct(row.value), row.key));
    let (after, key) = match after {
        Some(row) => (Value::Struct(row.value), row.key),
        None => (Value::Null, before_key),
    };
    let now = now_us();
    let values = vec![
        before,
        after,
        source,
        Value::Null,
        Value::from(op.code()),
        Value::Int64(now.div_euclid(1000)),
        Value::Int64(now),
        Value::Int64(now.saturating_mul(1000)),
    ];
    let event = Struct::from_values(table.envelope_schema.clone(), values)
        .map_err(|source| TableError::Data { table: table.qualified_name(), source })?;
    let key_schema = if key.is_null() { None } else { table.key_schema.clone() };
    Ok(ConnectRecord::new(
        table.topic.clone(),
        (key_schema, key),
        (Some(table.envelope_schema.clone()), Value::Struct(event)),
    ))
}

/// The tombstone after a delete event: the same key, a null value.
pub fn tombstone(deleted: &ConnectRecord) -> ConnectRecord {
    ConnectRecord::new(deleted.topic.clone(), (deleted.key_schema.clone(), deleted.key.clone()), (None, Value::Null))
}

/// Heartbeat records of one connector.
#[derive(Debug, Clone)]
pub struct Heartbeats {
    topic: String,
    prefix: String,
    key: SchemaRef,
    value: SchemaRef,
}

impl Heartbeats {
    /// The heartbeats of the connector with `topic.prefix` `prefix`.
    pub fn new(prefix: &str) -> Result<Self, SchemaError> {
        let key = SchemaBuilder::struct_()
            .name("io.debezium.connector.common.ServerNameKey")
            .field("serverName", SchemaBuilder::string().build()?)
            .build()?;
        let value = SchemaBuilder::struct_()
            .name("io.debezium.connector.common.Heartbeat")
            .field("ts_ms", SchemaBuilder::int64().build()?)
            .build()?;
        Ok(Heartbeats { topic: format!("__debezium-heartbeat.{prefix}"), prefix: prefix.to_owned(), key, value })
    }

    /// A heartbeat on `__debezium-heartbeat.<prefix>`: it carries the current position when nothing else does.
    pub fn record(&self) -> Result<ConnectRecord, DataError> {
        let key = Struct::from_values(self.key.clone(), vec![Value::from(self.prefix.as_str())])?;
        let value = Struct::from_values(self.value.clone(), vec![Value::Int64(now_us().div_euclid(1000))])?;
        Ok(ConnectRecord::new(
            self.topic.clone(),
            (Some(self.key.clone()), Value::Struct(key)),
            (Some(self.value.clone()), Value::Struct(value)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeats() {
        let heartbeat = Heartbeats::new("pg1").expect("schemas").record().expect("heartbeat");
        assert_eq!(heartbeat.topic, "__debezium-heartbeat.pg1");
        assert_eq!(heartbeat.key.as_struct().map(|k| k.values().to_vec()), Some(vec![Value::from("pg1")]));
    }
}
