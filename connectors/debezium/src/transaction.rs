//! Transaction metadata (`provide.transaction.metadata=true`), as Debezium writes it: a `BEGIN` and an `END`
//! record per transaction on `<topic.prefix>.transaction` (key `io.debezium.connector.common.TransactionMetadataKey`
//! `{id}`, value `io.debezium.connector.common.TransactionMetadataValue` `{status, id, event_count,
//! data_collections, ts_ms}`), and between them the `transaction` block `{id, total_order, data_collection_order}`
//! of each event. The ids are the connector's (Postgres `<txId>:<lsn>`, MySQL the GTID or `<file>:<pos>`).
//!
//! Counted are the events the connector enriches (tombstones are not); `data_collections` lists the collections in
//! the order first seen; `ts_ms` is the commit time. A transaction whose changes are all filtered out still gets
//! its BEGIN and END (`event_count` 0), as in Debezium. Snapshot records carry no block.

use tidemark_connect::data::{DataError, SchemaBuilder, SchemaError, SchemaRef, Struct, Value};
use tidemark_connect::record::ConnectRecord;

use crate::event::topic_name;

/// The field of change events (and logical decoding messages) that holds the block.
const BLOCK_FIELD: &str = "transaction";

/// The events of the transaction in progress, counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionCounts {
    commit_us: i64,
    total: i64,
    /// Events per data collection, in the order first seen.
    collections: Vec<(String, i64)>,
}

impl TransactionCounts {
    /// No events yet of a transaction committed at `commit_us` (µs since the Unix epoch).
    pub fn new(commit_us: i64) -> Self {
        TransactionCounts { commit_us, total: 0, collections: Vec::new() }
    }

    /// Counts one more event of `collection`: its place in the transaction and in its collection, from 1.
    fn count(&mut self, collection: String) -> (i64, i64) {
        self.total += 1;
        let order = match self.collections.iter_mut().find(|(name, _)| *name == collection) {
            Some((_, count)) => {
                *count += 1;
                *count
            }
            None => {
                self.collections.push((collection, 1));
                1
            }
        };
        (self.total, order)
    }

    fn ts_ms(&self) -> i64 {
        self.commit_us.div_euclid(1000)
    }
}

/// The schemas and the topic of transaction metadata, and the records built with them.
#[derive(Debug, Clone)]
pub struct TransactionRecords {
    topic: String,
    key: SchemaRef,
    value: SchemaRef,
    collection: SchemaRef,
    block: SchemaRef,
}

impl TransactionRecords {
    /// The records of a connector, on `topic` (`<topic.prefix>.<topic.transaction>`).
    pub fn new(topic: &str) -> Result<Self, SchemaError> {
        let string = || SchemaBuilder::string().build();
        let long = || SchemaBuilder::int64().build();
        let key = SchemaBuilder::struct_()
            .name("io.debezium.connector.common.TransactionMetadataKey")
            .version(1)
            .field("id", string()?);
        let collection = SchemaBuilder::struct_()
            .name("event.collection")
            .version(1)
            .optional()
            .field("data_collection", string()?)
            .field("event_count", long()?);
        let collection = collection.build()?;
        let value = SchemaBuilder::struct_()
            .name("io.debezium.connector.common.TransactionMetadataValue")
            .version(1)
            .field("status", string()?)
            .field("id", string()?)
            .field("event_count", SchemaBuilder::int64().optional().build()?)
            .field("data_collections", SchemaBuilder::array(collection.clone()).optional().build()?)
            .field("ts_ms", long()?);
        let block = SchemaBuilder::struct_()
            .name("event.block")
            .version(1)
            .optional()
            .field("id", string()?)
            .field("total_order", long()?)
            .field("data_collection_order", long()?);
        Ok(TransactionRecords {
            topic: topic_name(topic),
            key: key.build()?,
            value: value.build()?,
            collection,
            block: block.build()?,
        })
    }

    /// The schema of the `transaction` block.
    pub fn block_schema(&self) -> &SchemaRef {
        &self.block
    }

    /// The BEGIN record of the transaction `counts` counts, with id `id`.
    pub fn begin(&self, counts: &TransactionCounts, id: &str) -> Result<ConnectRecord, DataError> {
        self.record(id, vec![Value::from("BEGIN"), Value::from(id), Value::Null, Value::Null], counts)
    }

    /// The END record of the transaction `counts` counted, with id `id`.
    pub fn end(&self, counts: &TransactionCounts, id: &str) -> Result<ConnectRecord, DataError> {
        let collections = counts
            .collections
            .iter()
            .map(|(name, count)| {
                Struct::from_values(self.collection.clone(), vec![Value::from(name.as_str()), Value::Int64(*count)])
                    .map(Value::Struct)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let values = vec![Value::from("END"), Value::from(id), Value::Int64(counts.total), Value::Array(collections)];
        self.record(id, values, counts)
    }

    /// A record keyed by `id` with the value's first four fields `values` (then `ts_ms`).
    fn record(&self, id: &str, mut values: Vec<Value>, counts: &TransactionCounts) -> Result<ConnectRecord, DataError> {
        values.push(Value::Int64(counts.ts_ms()));
        let key = Struct::from_values(self.key.clone(), vec![Value::from(id)])?;
        let value = Struct::from_values(self.value.clone(), values)?;
        Ok(ConnectRecord::new(
            self.topic.clone(),
            (Some(self.key.clone()), Value::Struct(key)),
            (Some(self.value.clone()), Value::Struct(value)),
        ))
    }

    /// Counts the event `record` of data collection `collection` (`<schema>.<table>`) and writes its
    /// `transaction` block with id `id`. Records without a struct value (tombstones) are not counted.
    pub fn enrich(
        &self,
        record: &mut ConnectRecord,
        counts: &mut TransactionCounts,
        collection: String,
        id: &str,
    ) -> Result<(), DataError> {
        let Value::Struct(event) = &mut record.value else { return Ok(()) };
        let (total, order) = counts.count(collection);
        let block =
            Struct::from_values(self.block.clone(), vec![Value::from(id), Value::Int64(total), Value::Int64(order)])?;
        event.put(BLOCK_FIELD, Value::Struct(block))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(records: &TransactionRecords) -> ConnectRecord {
        let schema = SchemaBuilder::struct_().field(BLOCK_FIELD, records.block_schema().clone()).build().expect("s");
        let value = Struct::from_values(schema.clone(), vec![Value::Null]).expect("event");
        ConnectRecord::new("t", (None, Value::Null), (Some(schema), Value::Struct(value)))
    }

    fn field<'a>(value: &'a Value, name: &str) -> &'a Value {
        value.as_struct().and_then(|s| s.get(name).ok()).unwrap_or(&Value::Null)
    }

    #[test]
    fn begin_events_and_end_as_debezium_writes_them() {
        let records = TransactionRecords::new("my1.transaction").expect("records");
        let mut counts = TransactionCounts::new(1_486_500_577_125_999);
        let begin = records.begin(&counts, "0-1-17").expect("begin");
        assert_eq!(begin.topic, "my1.transaction");
        assert_eq!(
            begin.key_schema.as_ref().and_then(|s| s.name()),
            Some("io.debezium.connector.common.TransactionMetadataKey")
        );
        assert_eq!(
            begin.value.as_struct().map(|v| v.values().to_vec()),
            Some(vec!["BEGIN".into(), "0-1-17".into(), Value::Null, Value::Null, Value::Int64(1_486_500_577_125)])
        );
        let mut events: Vec<ConnectRecord> = (0..3).map(|_| event(&records)).collect();
        for (event, collection) in events.iter_mut().zip(["s1.a", "s2.a", "s1.a"]) {
            records.enrich(event, &mut counts, collection.to_owned(), "0-1-17").expect("enrich");
        }
        let blocks: Vec<Vec<Value>> = events
            .iter()
            .filter_map(|e| field(&e.value, BLOCK_FIELD).as_struct().map(|b| b.values().to_vec()))
            .collect();
        assert_eq!(
            blocks,
            [
                vec!["0-1-17".into(), Value::Int64(1), Value::Int64(1)],
                vec!["0-1-17".into(), Value::Int64(2), Value::Int64(1)],
                vec!["0-1-17".into(), Value::Int64(3), Value::Int64(2)],
            ]
        );
        let end = records.end(&counts, "0-1-17").expect("end");
        assert_eq!(field(&end.value, "status"), &Value::from("END"));
        assert_eq!(field(&end.value, "event_count"), &Value::Int64(3));
        let Value::Array(collections) = field(&end.value, "data_collections") else { panic!("data_collections") };
        let collections: Vec<Vec<Value>> =
            collections.iter().filter_map(|c| c.as_struct().map(|c| c.values().to_vec())).collect();
        assert_eq!(collections, [vec!["s1.a".into(), Value::Int64(2)], vec!["s2.a".into(), Value::Int64(1)]]);
    }

    #[test]
    fn tombstones_are_not_counted() {
        let records = TransactionRecords::new("pg1.transaction").expect("records");
        let mut counts = TransactionCounts::new(0);
        let mut tombstone = ConnectRecord::new("t", (None, Value::Null), (None, Value::Null));
        records.enrich(&mut tombstone, &mut counts, "s.t".to_owned(), "7:1").expect("tombstone");
        assert_eq!(counts, TransactionCounts::new(0));
    }
}
