//! Transaction metadata (`provide.transaction.metadata=true`) as Debezium's Postgres connector writes it, on
//! [`tidemark_debezium::TransactionRecords`].
//!
//! Ids are Debezium's for Postgres, `<txId>:<lsn>` with the position the record stands at: for BEGIN the one the
//! server reports for pgoutput's Begin (PostgreSQL 15 sends the Begin with the first change, at its LSN; a streamed
//! transaction's BEGIN takes its first change's LSN likewise), each event's own `source.lsn`, the end of the commit
//! for END. The ids of one transaction therefore share their `<txId>` part only, as Debezium's do.
//!
//! Transactional logical decoding messages are counted too (as Debezium 3.0 does), under the data collection
//! `LOGICAL_DECODING_MESSAGE`; change events under `<schema>.<table>`.

use tidemark_connect::data::SchemaRef;
use tidemark_connect::record::ConnectRecord;
use tidemark_debezium::TransactionRecords as Records;

use super::envelope::SourceInfo;
use super::error::SourceError;
use crate::replication::Lsn;

/// The data collection transactional logical decoding messages are counted under.
const MESSAGE_COLLECTION: &str = "LOGICAL_DECODING_MESSAGE";

/// The events of the transaction in progress, counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionCounts {
    xid: u32,
    counts: tidemark_debezium::TransactionCounts,
}

impl TransactionCounts {
    /// No events yet of transaction `xid`, committed at `commit_us` (µs since the Unix epoch).
    pub fn new(xid: u32, commit_us: i64) -> Self {
        TransactionCounts { xid, counts: tidemark_debezium::TransactionCounts::new(commit_us) }
    }

    /// The id written on a record at `lsn`.
    fn id(&self, lsn: u64) -> String {
        format!("{}:{lsn}", self.xid)
    }
}

/// The transaction metadata records of one connector.
#[derive(Debug, Clone)]
pub struct TransactionRecords(Records);

fn data_error(source: tidemark_connect::data::DataError) -> SourceError {
    SourceError::Data { table: "transaction metadata".to_owned(), source }
}

impl TransactionRecords {
    /// The records of a connector, on `topic`.
    pub fn new(topic: &str) -> Result<Self, SourceError> {
        Records::new(topic)
            .map(TransactionRecords)
            .map_err(|source| SourceError::Schema { name: "transaction metadata".to_owned(), source })
    }

    /// The schema of the `transaction` block.
    pub fn block_schema(&self) -> &SchemaRef {
        self.0.block_schema()
    }

    /// The BEGIN record of the transaction `counts` counts, standing at `lsn`.
    pub fn begin(&self, counts: &TransactionCounts, lsn: Lsn) -> Result<ConnectRecord, SourceError> {
        self.0.begin(&counts.counts, &counts.id(lsn.0)).map_err(data_error)
    }

    /// The END record of the transaction `counts` counted, whose commit ended at `lsn`.
    pub fn end(&self, counts: &TransactionCounts, lsn: Lsn) -> Result<ConnectRecord, SourceError> {
        self.0.end(&counts.counts, &counts.id(lsn.0)).map_err(data_error)
    }

    /// Counts the event `record` (whose `source` block `info` describes) and writes its `transaction` block.
    pub fn enrich(
        &self,
        record: &mut ConnectRecord,
        counts: &mut TransactionCounts,
        info: &SourceInfo<'_>,
    ) -> Result<(), SourceError> {
        let collection = if info.table.is_empty() {
            MESSAGE_COLLECTION.to_owned()
        } else {
            format!("{}.{}", info.schema, info.table)
        };
        let id = counts.id(info.lsn.unwrap_or_default());
        self.0.enrich(record, &mut counts.counts, collection, &id).map_err(data_error)
    }
}

#[cfg(test)]
mod tests {
    use tidemark_connect::data::{SchemaBuilder, Struct, Value};
    use tidemark_debezium::SnapshotMarker;

    use super::*;

    fn info<'a>(schema: &'a str, table: &'a str, lsn: u64) -> SourceInfo<'a> {
        SourceInfo {
            snapshot: SnapshotMarker::False,
            ts_us: 0,
            tx_id: Some(571),
            lsn: Some(lsn),
            last_commit_lsn: None,
            schema,
            table,
        }
    }

    fn block(record: &ConnectRecord) -> Vec<Value> {
        let block = record.value.as_struct().and_then(|s| s.get("transaction").ok()).and_then(Value::as_struct);
        block.map(|b| b.values().to_vec()).unwrap_or_default()
    }

    #[test]
    fn ids_are_txid_and_lsn_and_messages_are_counted() {
        let records = TransactionRecords::new("pg1.transaction").expect("records");
        let mut counts = TransactionCounts::new(571, 1_486_500_577_125_999);
        let begin = records.begin(&counts, Lsn(53_195_829)).expect("begin");
        assert_eq!(begin.key.as_struct().map(|k| k.values().to_vec()), Some(vec![Value::from("571:53195829")]));
        let schema = SchemaBuilder::struct_().field("transaction", records.block_schema().clone()).build().expect("s");
        let event = || {
            let value = Struct::from_values(schema.clone(), vec![Value::Null]).expect("event");
            ConnectRecord::new("t", (None, Value::Null), (Some(schema.clone()), Value::Struct(value)))
        };
        let mut change = event();
        records.enrich(&mut change, &mut counts, &info("s1", "a", 100)).expect("enrich");
        assert_eq!(block(&change), vec!["571:100".into(), Value::Int64(1), Value::Int64(1)]);
        let mut message = event();
        records.enrich(&mut message, &mut counts, &info("", "", 400)).expect("message");
        let end = records.end(&counts, Lsn(500)).expect("end");
        let value = end.value.as_struct().expect("end");
        assert_eq!(value.get("id"), Ok(&Value::from("571:500")));
        let Ok(Value::Array(collections)) = value.get("data_collections") else { panic!("data_collections") };
        let names: Vec<Value> = collections
            .iter()
            .filter_map(|c| c.as_struct().and_then(|c| c.get("data_collection").ok().cloned()))
            .collect();
        assert_eq!(names, [Value::from("s1.a"), Value::from(MESSAGE_COLLECTION)]);
    }
}
