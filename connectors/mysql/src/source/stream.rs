//! Streaming: binlog events turned into Debezium's change events, transaction by transaction.
//!
//! A transaction starts at its GTID event (or `BEGIN` without GTIDs) and ends at its XID event (or `COMMIT`); a
//! DDL statement is a transaction of its own. Each record's offset is the position after the last transaction
//! completed before it ([`super::offsets`]), except the transaction's last record, held back until the commit and
//! then given the position after the transaction: a restart from any durable record repeats at most that
//! transaction and loses nothing.
//!
//! A table's schemas come from its table map (`binlog_row_metadata=FULL` names the columns and gives their
//! signedness, charsets, enum and set values and primary key), so they are the table's definition at that point of
//! the binlog, not today's: a table map that differs from the cached one (after `ALTER TABLE`) rebuilds them and
//! the converter registers the new version. Without the metadata the definition is read from
//! `information_schema` when the table is first seen or changes its column count.
//!
//! The lag ([`LagMeter`]): at each commit, how long ago the server wrote it (the event's timestamp), MySQL's
//! "seconds behind" as the connector reads.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use mysql_async::binlog::row::BinlogRow;
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use serde_json::Value as Json;
use tidemark_connect::record::ConnectRecord;
use tidemark_debezium::{send_batch, stopping, tombstone, Flow, LagMeter, Op, SnapshotMarker, TransactionCounts};
use tokio::sync::watch;

use super::config::SourceConfig;
use super::connect;
use super::ddl::{Statement, TableName};
use super::emit::Emitter;
use super::envelope::{Envelopes, SourceInfo};
use super::error::SourceError;
use super::offsets::{streaming_offset, Position};
use super::schema::{build_table, Row, TableSchema};
use super::schema_change::{load_definition, TableChange};
use crate::binlog::{
    BinlogEntry, BinlogError, BinlogEvent, BinlogEventStream, Gtid, GtidSet, RowsChange, RowsKind, TableMap,
};
use crate::types::{load_table_columns, ColumnDef};

/// Where a statement stands in the binlog.
#[derive(Debug, Clone, Copy)]
struct Event {
    /// Where its event group starts.
    pos: u64,
    /// The session that ran it.
    thread: u32,
    /// When it was written.
    timestamp: u32,
    /// The server that wrote it.
    server_id: u32,
}

/// The transaction being read.
struct Transaction {
    gtid: Option<Gtid>,
    /// Where its event group starts.
    file: String,
    pos: u64,
    thread: Option<u32>,
    /// A group of statements that ends with XID or COMMIT (BEGIN was seen, or MariaDB's GTID event said so);
    /// otherwise a single statement (DDL) that ends with its own Query event.
    grouped: bool,
    /// Its latest record, held until the next one or the commit.
    held: Option<ConnectRecord>,
    /// Its events so far, under `provide.transaction.metadata`.
    counts: Option<TransactionCounts>,
}

impl Transaction {
    /// Its id in transaction metadata: the GTID, else where it starts (`<file>:<pos>`).
    fn id(&self) -> String {
        match self.gtid {
            Some(gtid) => gtid.to_string(),
            None => format!("{}:{}", self.file, self.pos),
        }
    }
}

/// A table's schemas and the table map they were built from.
struct Cached {
    map: Arc<TableMap>,
    schema: Arc<TableSchema>,
}

/// The binlog reader's state between events.
pub struct Changes {
    config: Arc<SourceConfig>,
    envelopes: Arc<Envelopes>,
    /// Where the last completed transaction ended.
    position: Position,
    /// `position` as a record's offset, built once per transaction rather than once per record, and shared by them.
    offset: Arc<Json>,
    /// The executed GTID set up to `position` (the sources `gtid.source.*` keep).
    gtids: GtidSet,
    /// The binlog file being read.
    file: String,
    /// Where the next event starts in it.
    next_event: u64,
    transaction: Option<Transaction>,
    tables: HashMap<(String, String), Cached>,
    /// A connection for `information_schema`, opened when a table map lacks the column names.
    catalog: Option<Conn>,
    /// Where the seconds behind go: how long ago each transaction read was written.
    lag: LagMeter,
}

impl Changes {
    /// The state at `position` (its GTID set parsed in the server's flavour), measuring the lag into `lag`.
    pub fn new(
        config: Arc<SourceConfig>,
        envelopes: Arc<Envelopes>,
        position: Position,
        gtids: GtidSet,
        lag: LagMeter,
    ) -> Self {
        Changes {
            config,
            envelopes,
            file: position.file.clone(),
            next_event: position.pos,
            offset: streaming_offset(&position).into(),
            position,
            gtids,
            transaction: None,
            tables: HashMap::new(),
            catalog: None,
            lag,
        }
    }

    /// Reads `stream` until the task stops (`Ok`) or reading fails.
    pub async fn run(
        mut self,
        mut stream: BinlogEventStream,
        emitter: &mut Emitter,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), SourceError> {
        let beat = self.config.heartbeat_interval;
        let mut heartbeat = tokio::time::interval(beat.unwrap_or(Duration::from_secs(3600)));
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        heartbeat.tick().await;
        'read: loop {
            // Take what has arrived without waiting, up to a batch, and hand it over: batches are as large as the
            // binlog is ahead, and a lone change goes out at once.
            while !emitter.is_full() {
                let Some(entry) = stream.next().now_or_never() else { break };
                self.handle(arrived(entry)?, emitter).await?;
            }
            if !emitter.is_empty() {
                if send_batch(emitter, shutdown).await == Flow::Stop {
                    break;
                }
                continue;
            }
            tokio::select! {
                biased;
                _ = stopping(shutdown) => break 'read,
                entry = stream.next() => self.handle(arrived(entry)?, emitter).await?,
                _ = heartbeat.tick(), if beat.is_some() => {
                    if self.transaction.is_none() {
                        emitter.push(self.envelopes.heartbeat()?, self.offset.clone());
                    }
                    self.heartbeat_action().await;
                }
            }
        }
        if let Err(error) = stream.close().await {
            tracing::debug!(error = %error, "closing the binlog stream");
        }
        Ok(())
    }

    /// Takes one event into account.
    async fn handle(&mut self, entry: BinlogEntry, emitter: &mut Emitter) -> Result<(), SourceError> {
        let starts_at = self.next_event;
        if *entry.file != *self.file {
            self.file = entry.file.to_string();
        }
        if entry.next_pos > 0 {
            self.next_event = u64::from(entry.next_pos);
        }
        match entry.event {
            BinlogEvent::Rotate { file, pos } => {
                self.file = file;
                self.next_event = pos;
                if self.transaction.is_none() {
                    self.position.file = self.file.clone();
                    self.position.pos = pos;
                    self.offset = streaming_offset(&self.position).into();
                }
            }
            BinlogEvent::MariaDbGtid { gtid, standalone, .. } => {
                self.begin(Some(Gtid::MariaDb(gtid)), starts_at, None, !standalone, entry.timestamp, emitter)?
            }
            BinlogEvent::MySqlGtid { gtid } => {
                self.begin(Some(Gtid::MySql(gtid)), starts_at, None, false, entry.timestamp, emitter)?
            }
            BinlogEvent::Query { thread, schema, query } => {
                let statement = query.trim();
                if statement.eq_ignore_ascii_case("BEGIN") {
                    match &mut self.transaction {
                        Some(transaction) => {
                            transaction.thread = Some(thread);
                            transaction.grouped = true;
                        }
                        None => self.begin(None, starts_at, Some(thread), true, entry.timestamp, emitter)?,
                    }
                } else if statement.eq_ignore_ascii_case("COMMIT") {
                    self.commit(&entry.file, entry.next_pos, entry.timestamp, entry.server_id, emitter)?;
                } else {
                    let at = Event { pos: starts_at, thread, timestamp: entry.timestamp, server_id: entry.server_id };
                    self.statement(&schema, statement, at, emitter).await?;
                    if self.transaction.as_ref().is_none_or(|t| !t.grouped) {
                        self.commit(&entry.file, entry.next_pos, entry.timestamp, entry.server_id, emitter)?;
                    }
                }
            }
            BinlogEvent::TableMap(map) => self.table_map(map).await?,
            BinlogEvent::Rows(change) => self.rows(change, entry.server_id, entry.timestamp, starts_at, emitter)?,
            BinlogEvent::Xid { .. } => {
                self.commit(&entry.file, entry.next_pos, entry.timestamp, entry.server_id, emitter)?
            }
            BinlogEvent::MariaDbGtidList(_) | BinlogEvent::BinlogCheckpoint { .. } => {}
        }
        Ok(())
    }

    /// A transaction (event group) starts at `pos` of the current file, written at `timestamp`; with transaction
    /// metadata, its BEGIN record first.
    fn begin(
        &mut self,
        gtid: Option<Gtid>,
        pos: u64,
        thread: Option<u32>,
        grouped: bool,
        timestamp: u32,
        emitter: &mut Emitter,
    ) -> Result<(), SourceError> {
        if let Some(open) = &self.transaction {
            tracing::warn!(gtid = ?open.gtid, "a transaction started before the previous one ended");
        }
        let mut transaction =
            Transaction { gtid, file: self.file.clone(), pos, thread, grouped, held: None, counts: None };
        let begin = if self.config.transaction_metadata {
            let counts = TransactionCounts::new(i64::from(timestamp) * 1_000_000);
            let record = self.envelopes.transactions().begin(&counts, &transaction.id()).map_err(metadata_error)?;
            transaction.counts = Some(counts);
            Some(record)
        } else {
            None
        };
        self.transaction = Some(transaction);
        if let Some(record) = begin {
            self.hold(record, emitter);
        }
        Ok(())
    }

    /// The transaction ends (with transaction metadata, its END record last); its last record goes out with the
    /// position after it.
    fn commit(
        &mut self,
        file: &str,
        next_pos: u32,
        timestamp: u32,
        server_id: u32,
        emitter: &mut Emitter,
    ) -> Result<(), SourceError> {
        let end = match &self.transaction {
            Some(transaction) => match &transaction.counts {
                Some(counts) => {
                    Some(self.envelopes.transactions().end(counts, &transaction.id()).map_err(metadata_error)?)
                }
                None => None,
            },
            None => None,
        };
        if let Some(record) = end {
            self.hold(record, emitter);
        }
        if timestamp > 0 {
            self.lag.change_read(i64::from(timestamp) * 1_000_000);
        }
        let transaction = self.transaction.take();
        if let Some(gtid) = transaction.as_ref().and_then(|t| t.gtid) {
            if self.config.keeps_gtid_source(&gtid.source_id()) {
                if let Err(error) = self.gtids.add(gtid) {
                    tracing::warn!(error = %error, "a GTID of another flavour is left out of the position");
                }
            }
        }
        self.position = Position {
            file: file.to_owned(),
            pos: if next_pos > 0 { u64::from(next_pos) } else { self.next_event },
            gtids: self.gtids.to_string(),
            ts_sec: i64::from(timestamp),
            server_id,
        };
        self.offset = streaming_offset(&self.position).into();
        if let Some(record) = transaction.and_then(|t| t.held) {
            emitter.push(record, self.offset.clone());
        }
        Ok(())
    }

    /// A statement other than BEGIN and COMMIT: DDL (a schema change event under `include.schema.changes`; the
    /// changed table itself is noticed at its next table map), or TRUNCATE (emitted unless `skipped.operations` has
    /// `t`).
    async fn statement(
        &mut self,
        default: &str,
        text: &str,
        at: Event,
        emitter: &mut Emitter,
    ) -> Result<(), SourceError> {
        let statement = Statement::parse(text, default);
        match &statement {
            Statement::Other => tracing::debug!(%default, %text, "statement in the binlog"),
            Statement::Truncate(name) => self.truncate(name, at, emitter)?,
            _ if self.config.include_schema_changes => self.schema_change(&statement, text, at, emitter).await?,
            _ => {}
        }
        Ok(())
    }

    /// A truncate event of a captured table.
    fn truncate(&mut self, name: &TableName, at: Event, emitter: &mut Emitter) -> Result<(), SourceError> {
        if self.config.skipped.truncates || !self.config.filter.includes(&name.database, &name.table) {
            return Ok(());
        }
        let Some(cached) = self.tables.get(&(name.database.clone(), name.table.clone())) else { return Ok(()) };
        let schema = Arc::clone(&cached.schema);
        if self.transaction.is_none() {
            self.begin(None, at.pos, Some(at.thread), false, at.timestamp, emitter)?;
        }
        let info = self.info(&schema.schema, &schema.table, 0, at.timestamp, at.server_id);
        let record = self.envelopes.change(&schema, Op::Truncate, None, None, &info)?;
        self.event(record, &schema, emitter)
    }

    /// The schema change event of a DDL statement on captured tables or a captured database, with the changed
    /// tables' definitions as they are now.
    async fn schema_change(
        &mut self,
        statement: &Statement,
        text: &str,
        at: Event,
        emitter: &mut Emitter,
    ) -> Result<(), SourceError> {
        let captured: Vec<&TableName> =
            statement.tables().into_iter().filter(|t| self.config.filter.includes(&t.database, &t.table)).collect();
        let database = match statement {
            Statement::Database(database) if self.config.filter.includes_container(database) => database.clone(),
            Statement::Database(_) => return Ok(()),
            _ => match captured.first() {
                Some(table) => table.database.clone(),
                None => return Ok(()),
            },
        };
        let mut changes = Vec::new();
        for table in &captured {
            let kind = match statement {
                Statement::CreateTable(_) => "CREATE",
                Statement::AlterTable(_) => "ALTER",
                Statement::RenameTables(pairs) if pairs.iter().any(|(_, new)| new == *table) => "ALTER",
                _ => continue,
            };
            let conn = self.catalog().await?;
            if let Some(definition) = load_definition(conn, table).await? {
                changes.push(TableChange { kind, table: (*table).clone(), definition });
            }
        }
        let table = captured.iter().map(|t| t.table.as_str()).collect::<Vec<_>>().join(",");
        let info = self.info(&database, &table, 0, at.timestamp, at.server_id);
        let record = self.envelopes.schema_change(&database, text, &info, &changes)?;
        tracing::info!(%database, ddl = %text, "schema change");
        self.hold(record, emitter);
        Ok(())
    }

    /// Runs `heartbeat.action.query`, when set; its own change comes back through the binlog like any other.
    async fn heartbeat_action(&mut self) {
        let Some(query) = self.config.heartbeat_action.clone() else { return };
        let ran = match self.catalog().await {
            Ok(conn) => conn.query_drop(query).await.map_err(SourceError::from),
            Err(error) => Err(error),
        };
        if let Err(error) = ran {
            tracing::warn!(%error, "heartbeat.action.query failed");
            self.catalog = None;
        }
    }

    /// The connection for `information_schema`, opened on first use.
    async fn catalog(&mut self) -> Result<&mut Conn, SourceError> {
        if self.catalog.is_none() {
            self.catalog = Some(connect::sql(&self.config).await?);
        }
        self.catalog.as_mut().ok_or_else(|| SourceError::Refused("no catalog connection".to_owned()))
    }

    /// Notes the definition a table map gives, rebuilding the table's schemas when it changed.
    async fn table_map(&mut self, map: Arc<TableMap>) -> Result<(), SourceError> {
        if !self.config.filter.includes(&map.database, &map.table) {
            return Ok(());
        }
        let key = (map.database.clone(), map.table.clone());
        if let Some(cached) = self.tables.get(&key) {
            if cached.map.columns == map.columns && cached.map.primary_key == map.primary_key {
                return Ok(());
            }
        }
        let (columns, primary_key) = self.definition(&map).await?;
        let schema = build_table(&self.envelopes, &self.config, (&map.database, &map.table), columns, &primary_key)?;
        tracing::info!(table = %schema.qualified_name(), "table schema read from the binlog");
        self.tables.insert(key, Cached { map, schema: Arc::new(schema) });
        Ok(())
    }

    /// The columns and primary key of a table map: from its metadata, else from `information_schema`.
    async fn definition(&mut self, map: &TableMap) -> Result<(Vec<ColumnDef>, Vec<String>), SourceError> {
        let named = map.columns.iter().all(|c| c.name.is_some());
        if named {
            let columns =
                map.columns.iter().map(ColumnDef::from_table_map).collect::<Result<Vec<_>, _>>().map_err(|source| {
                    SourceError::Column {
                        table: format!("{}.{}", map.database, map.table),
                        column: String::new(),
                        source: Box::new(source),
                    }
                })?;
            let primary_key = map.primary_key.iter().filter_map(|&i| columns.get(i).map(|c| c.name.clone())).collect();
            return Ok((columns, primary_key));
        }
        tracing::warn!(table = %format!("{}.{}", map.database, map.table),
            "the table map has no column names (binlog_row_metadata is not FULL): reading information_schema");
        let conn = self.catalog().await?;
        let (columns, primary_key) = load_table_columns(conn, &map.database, &map.table).await?;
        if columns.len() != map.columns.len() {
            return Err(SourceError::Refused(format!(
                "the binlog's table map of {}.{} has {} columns but information_schema has {}: the table changed \
                 since; set binlog_row_metadata=FULL so the binlog describes its own rows",
                map.database,
                map.table,
                map.columns.len(),
                columns.len()
            )));
        }
        Ok((columns, primary_key))
    }

    /// The events of a rows event.
    fn rows(
        &mut self,
        change: RowsChange,
        server_id: u32,
        timestamp: u32,
        pos: u64,
        emitter: &mut Emitter,
    ) -> Result<(), SourceError> {
        let key = (change.table.database.clone(), change.table.table.clone());
        let Some(cached) = self.tables.get(&key) else { return Ok(()) };
        let table = Arc::clone(&cached.schema);
        if self.transaction.is_none() {
            self.begin(None, pos, None, true, timestamp, emitter)?;
        }
        let skipped = self.config.skipped;
        for (index, (before, after)) in change.rows.iter().enumerate() {
            let row_index = i32::try_from(index).unwrap_or(i32::MAX);
            let info = self.info(&table.schema, &table.table, row_index, timestamp, server_id);
            let before = before.as_ref().map(|row| binlog_row(&table, row)).transpose()?;
            let after = after.as_ref().map(|row| binlog_row(&table, row)).transpose()?;
            match change.kind {
                RowsKind::Insert if !skipped.creates => {
                    let record = self.envelopes.change(&table, Op::Create, None, after, &info)?;
                    self.event(record, &table, emitter)?;
                }
                RowsKind::Update if !skipped.updates => {
                    let key_changed = matches!((&before, &after), (Some(b), Some(a)) if b.key != a.key);
                    if key_changed {
                        // As Debezium: the old key's row is deleted (and tombstoned), the new key's created.
                        self.delete(&table, before, &info, emitter)?;
                        let record = self.envelopes.change(&table, Op::Create, None, after, &info)?;
                        self.event(record, &table, emitter)?;
                    } else {
                        let record = self.envelopes.change(&table, Op::Update, before, after, &info)?;
                        self.event(record, &table, emitter)?;
                    }
                }
                RowsKind::Delete if !skipped.deletes => self.delete(&table, before, &info, emitter)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// A delete event and, with `tombstones.on.delete` and a key, its tombstone.
    fn delete(
        &mut self,
        table: &TableSchema,
        before: Option<Row>,
        info: &SourceInfo,
        emitter: &mut Emitter,
    ) -> Result<(), SourceError> {
        let record = self.envelopes.change(table, Op::Delete, before, None, info)?;
        let tombstone = (self.config.tombstones_on_delete && !record.key.is_null()).then(|| tombstone(&record));
        self.event(record, table, emitter)?;
        if let Some(tombstone) = tombstone {
            self.hold(tombstone, emitter);
        }
        Ok(())
    }

    /// The `source` block of row `row` of `database.table` in the current transaction.
    fn info(&self, database: &str, table: &str, row: i32, timestamp: u32, server_id: u32) -> SourceInfo {
        let transaction = self.transaction.as_ref();
        SourceInfo {
            snapshot: SnapshotMarker::False,
            ts_ms: i64::from(timestamp) * 1000,
            db: database.to_owned(),
            table: table.to_owned(),
            server_id,
            gtid: transaction.and_then(|t| t.gtid).map(|g| g.to_string()),
            file: transaction.map_or_else(|| self.file.clone(), |t| t.file.clone()),
            pos: transaction.map_or(self.next_event, |t| t.pos),
            row,
            thread: transaction.and_then(|t| t.thread),
        }
    }

    /// A change event of `table`: counted and given its `transaction` block under transaction metadata, then held.
    fn event(
        &mut self,
        mut record: ConnectRecord,
        table: &TableSchema,
        emitter: &mut Emitter,
    ) -> Result<(), SourceError> {
        if let Some(transaction) = &mut self.transaction {
            let id = transaction.id();
            if let Some(counts) = &mut transaction.counts {
                self.envelopes
                    .transactions()
                    .enrich(&mut record, counts, table.qualified_name(), &id)
                    .map_err(metadata_error)?;
            }
        }
        self.hold(record, emitter);
        Ok(())
    }

    /// Holds `record` as the transaction's latest, handing the one held before it over with the position before
    /// the transaction.
    fn hold(&mut self, record: ConnectRecord, emitter: &mut Emitter) {
        let Some(transaction) = &mut self.transaction else {
            emitter.push(record, self.offset.clone());
            return;
        };
        if let Some(previous) = transaction.held.replace(record) {
            emitter.push(previous, self.offset.clone());
        }
    }
}

/// An event the stream yielded; its end is a lost connection (the task resumes from its last position).
fn arrived(entry: Option<Result<BinlogEntry, BinlogError>>) -> Result<BinlogEntry, SourceError> {
    let closed = || {
        SourceError::Binlog(BinlogError::Mysql(mysql_async::Error::Driver(mysql_async::DriverError::ConnectionClosed)))
    };
    Ok(entry.ok_or_else(closed)??)
}

fn metadata_error(source: tidemark_connect::data::DataError) -> SourceError {
    SourceError::Data { table: "transaction metadata".to_owned(), source }
}

/// The row of a binlog row image.
fn binlog_row(table: &TableSchema, image: &BinlogRow) -> Result<Row, SourceError> {
    let values = table
        .columns
        .iter()
        .enumerate()
        .map(|(index, column)| match image.as_ref(column.position) {
            Some(value) => {
                column.converter.binlog(value).map_err(|source| SourceError::from(table.column_error(index, source)))
            }
            None => Ok(tidemark_connect::data::Value::Null),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(table.row(values)?)
}
