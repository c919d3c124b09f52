//! Debezium's records (Debezium 3.0's Postgres connector, field for field): change events
//! `{before, after, source, transaction, op, ts_ms, ts_us, ts_ns}` with the `io.debezium.connector.postgresql.Source`
//! block, the tombstone after a delete, logical decoding messages on `<prefix>.message`
//! (`io.debezium.connector.postgresql.MessageValue` `{op, ts_ms, source, transaction, message}`) and heartbeats on
//! `__debezium-heartbeat.<prefix>`. The `transaction` blocks and the transaction metadata records are
//! [`super::transaction`]'s.

use bytes::Bytes;
use tidemark_connect::data::{SchemaBuilder, SchemaError, SchemaRef, Struct, Value};
use tidemark_connect::record::ConnectRecord;
use tidemark_debezium::calendar::push_decimal;
use tidemark_debezium::{
    change_event, envelope_schema, now_us, snapshot_schema, topic_name, Heartbeats, Op, SnapshotMarker,
    DEBEZIUM_VERSION,
};

use super::error::SourceError;
use super::schema::{Row, TableSchema};
use super::transaction::TransactionRecords;

/// `source.connector`.
pub const CONNECTOR: &str = "postgresql";

/// What the `source` block says about one event (borrowing the names: one is built per record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo<'a> {
    /// Its place in the snapshot.
    pub snapshot: SnapshotMarker,
    /// When the change was committed (or the row read), in µs since the Unix epoch.
    pub ts_us: i64,
    /// The transaction's id.
    pub tx_id: Option<i64>,
    /// The change's LSN.
    pub lsn: Option<u64>,
    /// The commit LSN of the last transaction completed before this one, for `sequence`.
    pub last_commit_lsn: Option<u64>,
    /// The schema (empty for a logical decoding message).
    pub schema: &'a str,
    /// The table (empty for a logical decoding message).
    pub table: &'a str,
}

/// The schemas every event of one connector shares, and the records built with them.
#[derive(Debug, Clone)]
pub struct Envelopes {
    prefix: String,
    dbname: String,
    source: SchemaRef,
    transactions: TransactionRecords,
    message_key: SchemaRef,
    message_block: SchemaRef,
    message_value: SchemaRef,
    heartbeats: Heartbeats,
}

fn build(builder: SchemaBuilder, name: &str) -> Result<SchemaRef, SourceError> {
    builder.build().map_err(|source| SourceError::Schema { name: name.to_owned(), source })
}

fn string() -> SchemaBuilder {
    SchemaBuilder::string()
}

fn optional_long() -> SchemaBuilder {
    SchemaBuilder::int64().optional()
}

impl Envelopes {
    /// The shared schemas of a connector with `topic.prefix` `prefix` capturing database `dbname`, writing
    /// transaction metadata on `transaction_topic`.
    pub fn new(prefix: &str, dbname: &str, transaction_topic: &str) -> Result<Self, SourceError> {
        let b = |builder: SchemaBuilder, name: &str| build(builder, name);
        let snapshot = snapshot_schema();
        let source = SchemaBuilder::struct_()
            .name("io.debezium.connector.postgresql.Source")
            .field("version", b(string(), "version")?)
            .field("connector", b(string(), "connector")?)
            .field("name", b(string(), "name")?)
            .field("ts_ms", b(SchemaBuilder::int64(), "ts_ms")?)
            .field("snapshot", b(snapshot, "snapshot")?)
            .field("db", b(string(), "db")?)
            .field("sequence", b(string().optional(), "sequence")?)
            .field("ts_us", b(optional_long(), "ts_us")?)
            .field("ts_ns", b(optional_long(), "ts_ns")?)
            .field("schema", b(string(), "schema")?)
            .field("table", b(string(), "table")?)
            .field("txId", b(optional_long(), "txId")?)
            .field("lsn", b(optional_long(), "lsn")?)
            .field("xmin", b(optional_long(), "xmin")?);
        let source = b(source, "io.debezium.connector.postgresql.Source")?;
        let transactions = TransactionRecords::new(transaction_topic)?;
        let optional_string = b(string().optional(), "prefix")?;
        let message_key = SchemaBuilder::struct_()
            .name("io.debezium.connector.postgresql.MessageKey")
            .version(1)
            .field("prefix", optional_string.clone());
        let message_key = b(message_key, "io.debezium.connector.postgresql.MessageKey")?;
        let message_block = SchemaBuilder::struct_()
            .name("io.debezium.connector.postgresql.Message")
            .version(1)
            .field("prefix", optional_string)
            .field("content", b(SchemaBuilder::bytes().optional(), "content")?);
        let message_block = b(message_block, "io.debezium.connector.postgresql.Message")?;
        let message_value = SchemaBuilder::struct_()
            .name("io.debezium.connector.postgresql.MessageValue")
            .version(1)
            .field("op", b(string(), "op")?)
            .field("ts_ms", b(optional_long(), "ts_ms")?)
            .field("source", source.clone())
            .field("transaction", transactions.block_schema().clone())
            .field("message", message_block.clone());
        let message_value = b(message_value, "io.debezium.connector.postgresql.MessageValue")?;
        let heartbeats = Heartbeats::new(prefix)
            .map_err(|source| SourceError::Schema { name: "io.debezium.connector.common.Heartbeat".into(), source })?;
        Ok(Envelopes {
            prefix: prefix.to_owned(),
            dbname: dbname.to_owned(),
            source,
            transactions,
            message_key,
            message_block,
            message_value,
            heartbeats,
        })
    }

    /// `topic.prefix`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The transaction metadata records and blocks.
    pub fn transactions(&self) -> &TransactionRecords {
        &self.transactions
    }

    /// The schema of `<name>.Envelope` for rows of `row`.
    pub fn envelope_schema(&self, name: &str, row: &SchemaRef) -> Result<SchemaRef, SchemaError> {
        envelope_schema(name, row, &self.source, self.transactions.block_schema())
    }

    /// The `source` block.
    pub fn source(&self, info: &SourceInfo<'_>) -> Result<Value, SourceError> {
        let sequence = info.lsn.map(|lsn| sequence(info.last_commit_lsn, lsn));
        let values = vec![
            Value::from(DEBEZIUM_VERSION),
            Value::from(CONNECTOR),
            Value::from(self.prefix.as_str()),
            Value::Int64(info.ts_us.div_euclid(1000)),
            Value::from(info.snapshot.as_str()),
            Value::from(self.dbname.as_str()),
            Value::from(sequence),
            Value::Int64(info.ts_us),
            Value::Int64(info.ts_us.saturating_mul(1000)),
            Value::from(info.schema),
            Value::from(info.table),
            Value::from(info.tx_id),
            Value::from(info.lsn.map(|lsn| lsn as i64)),
            Value::Null,
        ];
        Struct::from_values(self.source.clone(), values)
            .map(Value::Struct)
            .map_err(|source| SourceError::Data { table: format!("{}.{}", info.schema, info.table), source })
    }

    /// A change event of `table` (keyed by `after`, or `before` for a delete), without a transaction block.
    pub fn change(
        &self,
        table: &TableSchema,
        op: Op,
        before: Option<Row>,
        after: Option<Row>,
        info: &SourceInfo<'_>,
    ) -> Result<ConnectRecord, SourceError> {
        Ok(change_event(table, op, before, after, self.source(info)?)?)
    }

    /// A logical decoding message (`pg_logical_emit_message`) on `<prefix>.message`, keyed by its prefix, without a
    /// transaction block.
    pub fn message(&self, prefix: &str, content: Bytes, info: &SourceInfo<'_>) -> Result<ConnectRecord, SourceError> {
        let data_error = |source| SourceError::Data { table: format!("{}.message", self.prefix), source };
        let key = Struct::from_values(self.message_key.clone(), vec![Value::from(prefix)]).map_err(data_error)?;
        let block = Struct::from_values(self.message_block.clone(), vec![Value::from(prefix), Value::Bytes(content)])
            .map_err(data_error)?;
        let values = vec![
            Value::from("m"),
            Value::Int64(now_us().div_euclid(1000)),
            self.source(info)?,
            Value::Null,
            Value::Struct(block),
        ];
        let value = Struct::from_values(self.message_value.clone(), values).map_err(data_error)?;
        Ok(ConnectRecord::new(
            topic_name(&format!("{}.message", self.prefix)),
            (Some(self.message_key.clone()), Value::Struct(key)),
            (Some(self.message_value.clone()), Value::Struct(value)),
        ))
    }

    /// A heartbeat on `__debezium-heartbeat.<prefix>`: it carries the current position when nothing else does.
    pub fn heartbeat(&self) -> Result<ConnectRecord, SourceError> {
        self.heartbeats.record().map_err(|source| SourceError::Data { table: "heartbeat".to_owned(), source })
    }
}

/// `source.sequence`: `["<last commit LSN>","<LSN>"]`, `null` for a missing last commit. Written without `format!`:
/// it is built for every record.
fn sequence(last_commit_lsn: Option<u64>, lsn: u64) -> String {
    let mut out = String::with_capacity(48);
    out.push('[');
    match last_commit_lsn {
        Some(last) => push_quoted(&mut out, last),
        None => out.push_str("null"),
    }
    out.push(',');
    push_quoted(&mut out, lsn);
    out.push(']');
    out
}

/// Appends `"<n>"`.
fn push_quoted(out: &mut String, n: u64) {
    out.push('"');
    push_decimal(out, n, 1);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> SourceInfo<'static> {
        SourceInfo {
            snapshot: SnapshotMarker::False,
            ts_us: 1_700_000_000_123_456,
            tx_id: Some(771),
            lsn: Some(26_863_936),
            last_commit_lsn: Some(26_863_880),
            schema: "public",
            table: "orders",
        }
    }

    #[test]
    fn the_source_block() {
        let envelopes = Envelopes::new("pg1", "shop", "pg1.transaction").expect("envelopes");
        let source = envelopes.source(&info()).expect("source");
        let source = source.as_struct().expect("struct");
        let get = |name: &str| source.get(name).expect(name).clone();
        assert_eq!(get("version"), Value::from(DEBEZIUM_VERSION));
        assert_eq!(get("connector"), Value::from("postgresql"));
        assert_eq!(get("name"), Value::from("pg1"));
        assert_eq!(get("ts_ms"), Value::Int64(1_700_000_000_123));
        assert_eq!(get("ts_us"), Value::Int64(1_700_000_000_123_456));
        assert_eq!(get("ts_ns"), Value::Int64(1_700_000_000_123_456_000));
        assert_eq!(get("snapshot"), Value::from("false"));
        assert_eq!(get("db"), Value::from("shop"));
        assert_eq!(get("sequence"), Value::from("[\"26863880\",\"26863936\"]"));
        assert_eq!((get("schema"), get("table")), (Value::from("public"), Value::from("orders")));
        assert_eq!((get("txId"), get("lsn"), get("xmin")), (Value::Int64(771), Value::Int64(26_863_936), Value::Null));
        let first = SourceInfo { last_commit_lsn: None, ..info() };
        let source = envelopes.source(&first).expect("source");
        let sequence = source.as_struct().and_then(|s| s.get("sequence").ok().cloned());
        assert_eq!(sequence, Some(Value::from("[null,\"26863936\"]")));
        assert_eq!(super::sequence(Some(0), u64::MAX), "[\"0\",\"18446744073709551615\"]");
    }

    #[test]
    fn messages_and_heartbeats() {
        let envelopes = Envelopes::new("pg1", "shop", "pg1.transaction").expect("envelopes");
        let info = SourceInfo { schema: "", table: "", ..info() };
        let record = envelopes.message("outbox", Bytes::from_static(b"hi"), &info).expect("message");
        assert_eq!(record.topic, "pg1.message");
        let value = record.value.as_struct().expect("value");
        assert_eq!(value.get("op"), Ok(&Value::from("m")));
        let fields: Vec<&str> = value.schema().fields().iter().map(|f| f.name()).collect();
        assert_eq!(fields, ["op", "ts_ms", "source", "transaction", "message"], "Debezium 3.0's MessageValue");
        assert_eq!(value.get("transaction"), Ok(&Value::Null));
        let block = value.get("message").ok().and_then(Value::as_struct).expect("block");
        assert_eq!(block.values(), &[Value::from("outbox"), Value::Bytes(Bytes::from_static(b"hi"))]);
        assert_eq!(record.key.as_struct().map(|k| k.values().to_vec()), Some(vec![Value::from("outbox")]));
        let heartbeat = envelopes.heartbeat().expect("heartbeat");
        assert_eq!(heartbeat.topic, "__debezium-heartbeat.pg1");
        assert_eq!(heartbeat.key.as_struct().map(|k| k.values().to_vec()), Some(vec![Value::from("pg1")]));
    }
}
