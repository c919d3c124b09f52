//! Debezium's MySQL records (Debezium 3.0's MySQL connector, field for field): change events with the
//! `io.debezium.connector.mysql.Source` block `{version, connector, name, ts_ms, snapshot, db, sequence, ts_us,
//! ts_ns, table, server_id, gtid, file, pos, row, thread, query}`, their tombstones, and heartbeats.

use tidemark_connect::data::{SchemaBuilder, SchemaRef, Struct, Value};
use tidemark_connect::record::ConnectRecord;
use tidemark_debezium::{
    change_event, envelope_schema, snapshot_schema, Heartbeats, Op, SnapshotMarker, TransactionRecords,
    DEBEZIUM_VERSION,
};

use super::error::SourceError;
use super::schema::{Row, TableSchema};
use super::schema_change::{SchemaChanges, TableChange};

/// `source.connector`.
pub const CONNECTOR: &str = "mysql";

/// What the `source` block says about one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    /// Its place in the snapshot.
    pub snapshot: SnapshotMarker,
    /// When the change was written to the binlog (or the row read), in ms since the Unix epoch.
    pub ts_ms: i64,
    /// The database.
    pub db: String,
    /// The table.
    pub table: String,
    /// The id of the server that wrote the event (0 in the snapshot).
    pub server_id: u32,
    /// The GTID of the transaction, when the server has GTIDs.
    pub gtid: Option<String>,
    /// The binlog file of the transaction.
    pub file: String,
    /// Where in it the transaction (its event group) starts.
    pub pos: u64,
    /// The row's index within its rows event.
    pub row: i32,
    /// The thread (connection) that made the change, when the binlog says.
    pub thread: Option<u32>,
}

/// The schemas every event of one connector shares, and the records built with them.
#[derive(Debug, Clone)]
pub struct Envelopes {
    prefix: String,
    source: SchemaRef,
    transactions: TransactionRecords,
    heartbeats: Heartbeats,
    schema_changes: SchemaChanges,
}

fn schema_error(name: &str) -> impl FnOnce(tidemark_connect::data::SchemaError) -> SourceError + '_ {
    move |source| SourceError::Schema { name: name.to_owned(), source }
}

impl Envelopes {
    /// The shared schemas of a connector with `topic.prefix` `prefix`, writing transaction metadata on
    /// `transaction_topic`.
    pub fn new(prefix: &str, transaction_topic: &str) -> Result<Self, SourceError> {
        const SOURCE: &str = "io.debezium.connector.mysql.Source";
        let string = || SchemaBuilder::string().build();
        let optional_string = || SchemaBuilder::string().optional().build();
        let optional_long = || SchemaBuilder::int64().optional().build();
        let source = (|| {
            SchemaBuilder::struct_()
                .name(SOURCE)
                .field("version", string()?)
                .field("connector", string()?)
                .field("name", string()?)
                .field("ts_ms", SchemaBuilder::int64().build()?)
                .field("snapshot", snapshot_schema().build()?)
                .field("db", string()?)
                .field("sequence", optional_string()?)
                .field("ts_us", optional_long()?)
                .field("ts_ns", optional_long()?)
                .field("table", optional_string()?)
                .field("server_id", SchemaBuilder::int64().build()?)
                .field("gtid", optional_string()?)
                .field("file", string()?)
                .field("pos", SchemaBuilder::int64().build()?)
                .field("row", SchemaBuilder::int32().build()?)
                .field("thread", optional_long()?)
                .field("query", optional_string()?)
                .build()
        })()
        .map_err(schema_error(SOURCE))?;
        let transactions = TransactionRecords::new(transaction_topic).map_err(schema_error("transaction metadata"))?;
        let heartbeats = Heartbeats::new(prefix).map_err(schema_error("io.debezium.connector.common.Heartbeat"))?;
        let schema_changes = SchemaChanges::new(prefix, &source)
            .map_err(schema_error("io.debezium.connector.mysql.SchemaChangeValue"))?;
        Ok(Envelopes { prefix: prefix.to_owned(), source, transactions, heartbeats, schema_changes })
    }

    /// `topic.prefix`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The schema of `<name>.Envelope` for rows of `row`.
    pub fn envelope_schema(
        &self,
        name: &str,
        row: &SchemaRef,
    ) -> Result<SchemaRef, tidemark_connect::data::SchemaError> {
        envelope_schema(name, row, &self.source, self.transactions.block_schema())
    }

    /// The transaction metadata records and blocks.
    pub fn transactions(&self) -> &TransactionRecords {
        &self.transactions
    }

    /// The `source` block.
    pub fn source(&self, info: &SourceInfo) -> Result<Value, SourceError> {
        let ts_us = info.ts_ms.saturating_mul(1000);
        let values = vec![
            Value::from(DEBEZIUM_VERSION),
            Value::from(CONNECTOR),
            Value::from(self.prefix.as_str()),
            Value::Int64(info.ts_ms),
            Value::from(info.snapshot.as_str()),
            Value::from(info.db.as_str()),
            Value::Null,
            Value::Int64(ts_us),
            Value::Int64(ts_us.saturating_mul(1000)),
            if info.table.is_empty() { Value::Null } else { Value::from(info.table.as_str()) },
            Value::Int64(i64::from(info.server_id)),
            Value::from(info.gtid.clone()),
            Value::from(info.file.as_str()),
            Value::Int64(i64::try_from(info.pos).unwrap_or(i64::MAX)),
            Value::Int32(info.row),
            Value::from(info.thread.map(i64::from)),
            Value::Null,
        ];
        Struct::from_values(self.source.clone(), values)
            .map(Value::Struct)
            .map_err(|source| SourceError::Data { table: format!("{}.{}", info.db, info.table), source })
    }

    /// A change event of `table`.
    pub fn change(
        &self,
        table: &TableSchema,
        op: Op,
        before: Option<Row>,
        after: Option<Row>,
        info: &SourceInfo,
    ) -> Result<ConnectRecord, SourceError> {
        Ok(change_event(table, op, before, after, self.source(info)?)?)
    }

    /// The schema change event of statement `ddl` in `database`.
    pub fn schema_change(
        &self,
        database: &str,
        ddl: &str,
        info: &SourceInfo,
        changes: &[TableChange],
    ) -> Result<ConnectRecord, SourceError> {
        self.schema_changes
            .record(database, ddl, self.source(info)?, info.ts_ms, changes)
            .map_err(|source| SourceError::Data { table: format!("{database} schema change"), source })
    }

    /// A heartbeat on `__debezium-heartbeat.<prefix>`.
    pub fn heartbeat(&self) -> Result<ConnectRecord, SourceError> {
        self.heartbeats.record().map_err(|source| SourceError::Data { table: "heartbeat".to_owned(), source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_block() {
        let envelopes = Envelopes::new("my1", "my1.transaction").expect("envelopes");
        let info = SourceInfo {
            snapshot: SnapshotMarker::False,
            ts_ms: 1_700_000_000_000,
            db: "inventory".into(),
            table: "orders".into(),
            server_id: 1,
            gtid: Some("0-1-17".into()),
            file: "binlog.000003".into(),
            pos: 1234,
            row: 2,
            thread: Some(9),
        };
        let source = envelopes.source(&info).expect("source");
        let source = source.as_struct().expect("struct");
        let fields: Vec<&str> = source.schema().fields().iter().map(|f| f.name()).collect();
        assert_eq!(
            fields,
            [
                "version",
                "connector",
                "name",
                "ts_ms",
                "snapshot",
                "db",
                "sequence",
                "ts_us",
                "ts_ns",
                "table",
                "server_id",
                "gtid",
                "file",
                "pos",
                "row",
                "thread",
                "query"
            ]
        );
        let get = |name: &str| source.get(name).expect(name).clone();
        assert_eq!(get("connector"), Value::from("mysql"));
        assert_eq!(get("name"), Value::from("my1"));
        assert_eq!(get("ts_us"), Value::Int64(1_700_000_000_000_000));
        assert_eq!((get("db"), get("table")), (Value::from("inventory"), Value::from("orders")));
        assert_eq!((get("server_id"), get("gtid")), (Value::Int64(1), Value::from("0-1-17")));
        assert_eq!(
            (get("file"), get("pos"), get("row")),
            (Value::from("binlog.000003"), Value::Int64(1234), Value::Int32(2))
        );
        assert_eq!((get("thread"), get("query")), (Value::Int64(9), Value::Null));
        assert_eq!(source.schema().name(), Some("io.debezium.connector.mysql.Source"));
    }
}
