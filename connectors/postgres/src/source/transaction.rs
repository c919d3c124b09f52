//! Transaction metadata (`provide.transaction.metadata=true`), as Debezium's Postgres connector writes it: a `BEGIN`
//! and an `END` record per transaction the stream delivers, on `<topic.prefix>.transaction` (key
//! `io.debezium.connector.common.TransactionMetadataKey` `{id}`, value
//! `io.debezium.connector.common.TransactionMetadataValue` `{status, id, event_count, data_collections, ts_ms}`),
//! and between them the `transaction` block `{id, total_order, data_collection_order}` of each event.
//!
//! Ids are Debezium's for Postgres, `<txId>:<lsn>` with the position the record stands at: for BEGIN the one the
//! server reports for pgoutput's Begin (PostgreSQL 15 sends the Begin with the first change, at its LSN; a streamed
//! transaction's BEGIN takes its first change's LSN likewise), each event's own `source.lsn`, the end of the commit
//! for END. The ids of one transaction therefore share their `<txId>` part only, as Debezium's do.
//!
//! Counted are change events (tombstones are not) and transactional logical decoding messages (Debezium 3.0
//! counts them too; their data collection is named `LOGICAL_DECODING_MESSAGE`); `data_collections` lists
//! `<schema>.<table>` in the order first seen; `ts_ms` is the commit time. A transaction whose changes are all
//! filtered out still gets its BEGIN and END (`event_count` 0), as in Debezium. Snapshot records carry no block.

use tidemark_connect::data::{SchemaBuilder, SchemaRef, Struct, Value};
use tidemark_connect::record::ConnectRecord;

use super::envelope::SourceInfo;
use super::error::SourceError;
use crate::replication::Lsn;
use tidemark_debezium::topic_name;

/// The data collection transactional logical decoding messages are counted under.
const MESSAGE_COLLECTION: &str = "LOGICAL_DECODING_MESSAGE";
/// The field of change events (and logical decoding messages) that holds the block.
const BLOCK_FIELD: &str = "transaction";

/// The events of the transaction in progress, counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionCounts {
    xid: u32,
    commit_us: i64,
    total: i64,
    /// Events per data collection, in the order first seen.
    collections: Vec<(String, i64)>,
}

impl TransactionCounts {
    /// No events yet of transaction `xid`, committed at `commit_us` (µs since the Unix epoch).
    pub fn new(xid: u32, commit_us: i64) -> Self {
        TransactionCounts { xid, commit_us, total: 0, collections: Vec::new() }
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

    /// The id written on a record at `lsn`.
    fn id(&self, lsn: u64) -> String {
        format!("{}:{lsn}", self.xid)
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

fn build(builder: SchemaBuilder, name: &str) -> Result<SchemaRef, SourceError> {
    builder.build().map_err(|source| SourceError::Schema { name: name.to_owned(), source })
}

fn data_error(source: tidemark_connect::data::DataError) -> SourceError {
    SourceError::Data { table: "transaction metadata".to_owned(), source }
}

impl TransactionRecords {
    /// The records of a connector with `topic.prefix` `prefix`.
    pub fn new(prefix: &str) -> Result<Self, SourceError> {
        let string = || build(SchemaBuilder::string(), "string");
        let long = || build(SchemaBuilder::int64(), "int64");
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
        let collection = build(collection, "event.collection")?;
        let value = SchemaBuilder::struct_()
            .name("io.debezium.connector.common.TransactionMetadataValue")
            .version(1)
            .field("status", string()?)
            .field("id", string()?)
            .field("event_count", build(SchemaBuilder::int64().optional(), "event_count")?)
            .field("data_collections", build(SchemaBuilder::array(collection.clone()).optional(), "data_collections")?)
            .field("ts_ms", long()?);
        let block = SchemaBuilder::struct_()
            .name("event.block")
            .version(1)
            .optional()
            .field("id", string()?)
            .field("total_order", long()?)
            .field("data_collection_order", long()?);
        Ok(TransactionRecords {
            topic: topic_name(&format!("{prefix}.transaction")),
            key: build(key, "io.debezium.connector.common.TransactionMetadataKey")?,
            value: build(value, "io.debezium.connector.common.TransactionMetadataValue")?,
            collection,
            block: build(block, "event.block")?,
        })
    }

    /// The schema of the `transaction` block.
    pub fn block_schema(&self) -> &SchemaRef {
        &self.block
    }

    /// The BEGIN record of the transaction `counts` counts, standing at `lsn`.
    pub fn begin(&self, counts: &TransactionCounts, lsn: Lsn) -> Result<ConnectRecord, SourceError> {
        let id = counts.id(lsn.0);
        self.record(&id, vec![Value::from("BEGIN"), Value::from(id.as_str()), Value::Null, Value::Null], counts)
    }

    /// The END record of the transaction `counts` counted, whose commit ended at `lsn`.
    pub fn end(&self, counts: &TransactionCounts, lsn: Lsn) -> Result<ConnectRecord, SourceError> {
        let id = counts.id(lsn.0);
        let collections = counts
            .collections
            .iter()
            .map(|(name, count)| {
                Struct::from_values(self.collection.clone(), vec![Value::from(name.as_str()), Value::Int64(*count)])
                    .map(Value::Struct)
                    .map_err(data_error)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let values =
            vec![Value::from("END"), Value::from(id.as_str()), Value::Int64(counts.total), Value::Array(collections)];
        self.record(&id, values, counts)
    }

    /// A record keyed by `id` with the value's first four fields `values` (then `ts_ms`).
    fn record(
        &self,
        id: &str,
        mut values: Vec<Value>,
        counts: &TransactionCounts,
    ) -> Result<ConnectRecord, SourceError> {
        values.push(Value::Int64(counts.ts_ms()));
        let key = Struct::from_values(self.key.clone(), vec![Value::from(id)]).map_err(data_error)?;
        let value = Struct::from_values(self.value.clone(), values).map_err(data_error)?;
        Ok(ConnectRecord::new(
            self.topic.clone(),
            (Some(self.key.clone()), Value::Struct(key)),
            (Some(self.value.clone()), Value::Struct(value)),
        ))
    }

    /// Counts the event `record` (whose `source` block `info` describes) and writes its `transaction` block.
    pub fn enrich(
        &self,
        record: &mut ConnectRecord,
        counts: &mut TransactionCounts,
        info: &SourceInfo,
    ) -> Result<(), SourceError> {
        let Value::Struct(event) = &mut record.value else { return Ok(()) };
        let collection = if info.table.is_empty() {
            MESSAGE_COLLECTION.to_owned()
        } else {
            format!("{}.{}", info.schema, info.table)
        };
        let (total, order) = counts.count(collection);
        let id = counts.id(info.lsn.unwrap_or_default());
        let block = Struct::from_values(
            self.block.clone(),
            vec![Value::from(id.as_str()), Value::Int64(total), Value::Int64(order)],
        )
        .map_err(data_error)?;
        event.put(BLOCK_FIELD, Value::Struct(block)).map_err(data_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidemark_debezium::SnapshotMarker;

    fn info(schema: &str, table: &str, lsn: u64) -> SourceInfo {
        SourceInfo {
            snapshot: SnapshotMarker::False,
            ts_us: 0,
            tx_id: Some(571),
            lsn: Some(lsn),
            last_commit_lsn: None,
            schema: schema.into(),
            table: table.into(),
        }
    }

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
        let records = TransactionRecords::new("pg1").expect("records");
        let mut counts = TransactionCounts::new(571, 1_486_500_577_125_999);
        let begin = records.begin(&counts, Lsn(53_195_829)).expect("begin");
        assert_eq!(begin.topic, "pg1.transaction");
        assert_eq!(
            begin.key_schema.as_ref().and_then(|s| s.name()),
            Some("io.debezium.connector.common.TransactionMetadataKey")
        );
        assert_eq!(begin.key.as_struct().map(|k| k.values().to_vec()), Some(vec![Value::from("571:53195829")]));
        let value = &begin.value;
        assert_eq!(
            value.as_struct().map(|v| v.values().to_vec()),
            Some(vec![
                "BEGIN".into(),
                "571:53195829".into(),
                Value::Null,
                Value::Null,
                Value::Int64(1_486_500_577_125)
            ])
        );

        let mut events: Vec<ConnectRecord> = (0..3).map(|_| event(&records)).collect();
        let infos = [info("s1", "a", 100), info("s2", "a", 200), info("s1", "a", 300)];
        for (event, info) in events.iter_mut().zip(&infos) {
            records.enrich(event, &mut counts, info).expect("enrich");
        }
        let blocks: Vec<Vec<Value>> = events
            .iter()
            .filter_map(|e| field(&e.value, BLOCK_FIELD).as_struct().map(|b| b.values().to_vec()))
            .collect();
        assert_eq!(
            blocks,
            [
                vec!["571:100".into(), Value::Int64(1), Value::Int64(1)],
                vec!["571:200".into(), Value::Int64(2), Value::Int64(1)],
                vec!["571:300".into(), Value::Int64(3), Value::Int64(2)],
            ]
        );
        let mut message = event(&records);
        records.enrich(&mut message, &mut counts, &info("", "", 400)).expect("message");

        let end = records.end(&counts, Lsn(500)).expect("end");
        assert_eq!(field(&end.value, "status"), &Value::from("END"));
        assert_eq!(field(&end.value, "id"), &Value::from("571:500"));
        assert_eq!(field(&end.value, "event_count"), &Value::Int64(4));
        let Value::Array(collections) = field(&end.value, "data_collections") else { panic!("data_collections") };
        let collections: Vec<Vec<Value>> =
            collections.iter().filter_map(|c| c.as_struct().map(|c| c.values().to_vec())).collect();
        assert_eq!(
            collections,
            [
                vec!["s1.a".into(), Value::Int64(2)],
                vec!["s2.a".into(), Value::Int64(1)],
                vec![MESSAGE_COLLECTION.into(), Value::Int64(1)],
            ]
        );
    }

    #[test]
    fn tombstones_are_not_counted() {
        let records = TransactionRecords::new("pg1").expect("records");
        let mut counts = TransactionCounts::new(7, 0);
        let mut tombstone = ConnectRecord::new("t", (None, Value::Null), (None, Value::Null));
        records.enrich(&mut tombstone, &mut counts, &info("s", "t", 1)).expect("tombstone");
        assert_eq!(counts, TransactionCounts::new(7, 0));
    }
}
