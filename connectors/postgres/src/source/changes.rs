//! Decoded pgoutput messages into Debezium's change events, transaction by transaction.
//!
//! **Positions.** Each record's offset carries a resume point: the end of the last transaction all of whose
//! records come at or before it. A transaction's last record is held back until its Commit arrives and then
//! carries the transaction's own end; the ones before it carry the previous transaction's end. Whatever prefix of
//! the records the log has durably written, restarting from the last one's offset repeats at most the
//! transaction in progress and loses nothing. Between transactions the position also moves past transactions
//! that emitted nothing (uncaptured tables) and to the server's keepalive position, so heartbeats can carry it.
//!
//! **Updates.** `before` is the old row only under REPLICA IDENTITY FULL (pgoutput sends it then). An update that
//! changes the primary key becomes, as in Debezium, a delete of the old key (and its tombstone) and a create of
//! the new. An unchanged TOASTed value that pgoutput did not send is taken from the old row when REPLICA IDENTITY
//! FULL sent one, else it is the types' placeholder: never invented.
//!
//! **Streamed transactions** are held ([`super::streamed`]) until Stream Commit and then replayed as one
//! transaction, a batch at a time ([`Changes::replay`]): the stream is not read again until the replay is done, and
//! the positions are those of any transaction, so a huge transaction is handed over (and written) as it is
//! replayed rather than gathered whole first.
//!
//! **Transaction metadata** (`provide.transaction.metadata`, [`super::transaction`]): a transaction's BEGIN record
//! comes first and its END record last, so the END carries the transaction's end as its resume point and a restart
//! repeats a transaction whole, BEGIN to END.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use tidemark_connect::data::Value;
use tidemark_connect::record::ConnectRecord;
use tokio_postgres::Client;

use super::catalog;
use super::columns::TypeCache;
use super::config::SourceConfig;
use super::emit::Emitter;
use super::envelope::{Envelopes, SourceInfo};
use super::error::SourceError;
use super::offsets::{streaming_offset, Position};
use super::schema::{build_table, ColumnSpec, Row, TableSchema};
use super::stream::DECODING;
use super::streamed::{Replayed, StreamedTransactions};
use super::transaction::TransactionCounts;
use crate::pgoutput::{
    ColumnValue, Decoder, Delete, Insert, LogicalMessage, Message, OldTuple, Relation, RelationCache, ReplicaIdentity,
    Truncate, TupleData, Update,
};
use crate::replication::Lsn;
use tidemark_debezium::{now_us, tombstone, Op, SnapshotMarker};

/// 2000-01-01 00:00:00 UTC (Postgres's epoch) in µs since the Unix epoch.
const PG_EPOCH_UNIX_US: i64 = 946_684_800_000_000;

/// The transaction whose messages are being processed.
#[derive(Debug, Clone, Copy)]
struct Transaction {
    xid: u32,
    commit_us: i64,
}

/// Turns the messages of one replication session into records.
pub struct Changes {
    config: Arc<SourceConfig>,
    envelopes: Arc<Envelopes>,
    relations: RelationCache,
    /// Captured tables by relation oid (`None`: not captured), built on first use after each Relation message.
    tables: HashMap<u32, Option<Arc<TableSchema>>>,
    types: TypeCache,
    position: Position,
    transaction: Option<Transaction>,
    /// The open transaction's events so far, with `provide.transaction.metadata`.
    counts: Option<TransactionCounts>,
    held: Option<ConnectRecord>,
    streamed: StreamedTransactions,
    /// The committed streamed transaction being replayed, if any.
    replay: Option<Replay>,
}

/// A committed streamed transaction whose held messages are being applied.
struct Replay {
    payloads: Replayed,
    /// Decodes the payloads as the stream block they came in did.
    decoder: Decoder,
    commit_lsn: u64,
    end_lsn: u64,
}

/// The next step of a replay.
enum ReplayStep {
    Apply(Lsn, Message),
    Commit(u64, u64),
}

impl Changes {
    /// Processing that resumes at `position`.
    pub fn new(config: Arc<SourceConfig>, envelopes: Arc<Envelopes>, types: TypeCache, position: Position) -> Self {
        Changes {
            streamed: StreamedTransactions::spilling_past(config.spill_bytes),
            config,
            envelopes,
            relations: RelationCache::new(),
            tables: HashMap::new(),
            types,
            position,
            transaction: None,
            counts: None,
            held: None,
            replay: None,
        }
    }

    /// Handles one message, which arrived at WAL position `lsn` as `payload`; `stream_xid` is the streamed
    /// transaction whose block it came in, if any.
    pub async fn handle(
        &mut self,
        client: &Client,
        stream_xid: Option<u32>,
        (lsn, payload): (Lsn, Bytes),
        message: Message,
        emitter: &mut Emitter,
    ) -> Result<(), SourceError> {
        match message {
            Message::Begin(begin) => {
                self.begin(Transaction { xid: begin.xid, commit_us: unix_us(begin.commit_time) }, lsn, emitter)?
            }
            Message::Commit(commit) => self.commit(commit.commit_lsn, commit.end_lsn, emitter)?,
            Message::StreamCommit(commit) => {
                let committed = self.streamed.commit(commit.xid).map_err(SourceError::Spill)?;
                // The BEGIN stands where the first change is, as pgoutput's Begin does (Relation messages have no
                // position of their own).
                let transaction = Transaction { xid: commit.xid, commit_us: unix_us(commit.commit_time) };
                self.begin(transaction, committed.first_lsn.unwrap_or(Lsn(commit.commit_lsn)), emitter)?;
                self.replay = Some(Replay {
                    payloads: committed.payloads,
                    decoder: Decoder::inside_stream(DECODING, commit.xid),
                    commit_lsn: commit.commit_lsn,
                    end_lsn: commit.end_lsn,
                });
                self.replay(client, emitter).await?;
            }
            Message::StreamAbort(abort) => self.streamed.abort(abort.xid, abort.subxid).map_err(SourceError::Spill)?,
            Message::StreamStart(_) | Message::StreamStop | Message::Origin(_) => {}
            Message::BeginPrepare(_)
            | Message::Prepare(_)
            | Message::CommitPrepared(_)
            | Message::RollbackPrepared(_)
            | Message::StreamPrepare(_) => {
                return Err(SourceError::Refused(
                    "pgoutput sent a two-phase commit message, which the connector does not ask for".to_owned(),
                ))
            }
            other => match stream_xid {
                Some(top) => {
                    let xid = change_xid(&other).unwrap_or(top);
                    self.streamed.hold(top, xid, lsn, payload).map_err(SourceError::Spill)?;
                }
                None => self.apply(client, lsn, other, emitter).await?,
            },
        }
        Ok(())
    }

    /// Whether a committed streamed transaction is still being replayed: [`Changes::replay`] must go on before the
    /// stream is read again.
    pub fn replaying(&self) -> bool {
        self.replay.is_some()
    }

    /// Applies the replayed transaction's messages until the emitter is full or the transaction is done (its
    /// commit then processed).
    pub async fn replay(&mut self, client: &Client, emitter: &mut Emitter) -> Result<(), SourceError> {
        while !emitter.is_full() {
            let step = match &mut self.replay {
                None => return Ok(()),
                Some(replay) => match replay.payloads.next_payload().map_err(SourceError::Spill)? {
                    Some((lsn, payload)) => ReplayStep::Apply(lsn, replay.decoder.decode(payload)?),
                    None => ReplayStep::Commit(replay.commit_lsn, replay.end_lsn),
                },
            };
            match step {
                ReplayStep::Apply(lsn, message) => self.apply(client, lsn, message, emitter).await?,
                ReplayStep::Commit(commit_lsn, end_lsn) => {
                    self.replay = None;
                    self.commit(commit_lsn, end_lsn, emitter)?;
                }
            }
        }
        Ok(())
    }

    /// Moves the position to `lsn` (a keepalive's) when no transaction is open: every transaction committed
    /// before it has been received.
    pub fn advance_to(&mut self, lsn: Lsn) {
        if self.transaction.is_none() && lsn > self.position.lsn {
            self.position.lsn = lsn;
        }
    }

    /// Emits a heartbeat at the current position, unless a transaction is open.
    pub fn heartbeat(&mut self, emitter: &mut Emitter) -> Result<(), SourceError> {
        if self.transaction.is_none() {
            emitter.push(self.envelopes.heartbeat()?, streaming_offset(&self.position).into());
        }
        Ok(())
    }

    /// Processes a row, relation, truncate or logical message of the current transaction.
    async fn apply(
        &mut self,
        client: &Client,
        lsn: Lsn,
        message: Message,
        emitter: &mut Emitter,
    ) -> Result<(), SourceError> {
        match message {
            Message::Relation(relation) => self.relation(relation),
            Message::Insert(insert) => self.insert(client, lsn, insert, emitter).await?,
            Message::Update(update) => self.update(client, lsn, update, emitter).await?,
            Message::Delete(delete) => self.delete(client, lsn, delete, emitter).await?,
            Message::Truncate(truncate) => self.truncate(client, lsn, truncate, emitter).await?,
            Message::Logical(logical) => self.logical(logical, emitter)?,
            _ => {}
        }
        Ok(())
    }

    fn relation(&mut self, relation: Relation) {
        self.tables.remove(&relation.oid);
        self.relations.insert_relation(relation);
    }

    async fn insert(
        &mut self,
        client: &Client,
        lsn: Lsn,
        insert: Insert,
        emitter: &mut Emitter,
    ) -> Result<(), SourceError> {
        let Some(table) = self.table(client, insert.relation_oid).await? else { return Ok(()) };
        if self.config.skipped.skips(Op::Create.code()) {
            return Ok(());
        }
        let after = self.row(&table, &insert.new, None)?;
        let info = self.info(&table, lsn);
        let record = self.envelopes.change(&table, Op::Create, None, Some(after), &info)?;
        self.emit_event(record, &info, emitter)
    }

    async fn update(
        &mut self,
        client: &Client,
        lsn: Lsn,
        update: Update,
        emitter: &mut Emitter,
    ) -> Result<(), SourceError> {
        let Some(table) = self.table(client, update.relation_oid).await? else { return Ok(()) };
        let full_old = match &update.old {
            Some(OldTuple::Full(tuple)) => Some(tuple),
            _ => None,
        };
        let after = self.row(&table, &update.new, full_old)?;
        let old = update.old.as_ref().map(|old| self.row(&table, old.tuple(), None)).transpose()?;
        let info = self.info(&table, lsn);
        if let Some(old) = &old {
            if table.key_schema.is_some() && old.key != after.key {
                self.delete_events(&table, old.clone(), &info, emitter)?;
                if !self.config.skipped.skips(Op::Create.code()) {
                    let record = self.envelopes.change(&table, Op::Create, None, Some(after), &info)?;
                    self.emit_event(record, &info, emitter)?;
                }
                return Ok(());
            }
        }
        if self.config.skipped.skips(Op::Update.code()) {
            return Ok(());
        }
        let before = if full_old.is_some() { old } else { None };
        let record = self.envelopes.change(&table, Op::Update, before, Some(after), &info)?;
        self.emit_event(record, &info, emitter)
    }

    async fn delete(
        &mut self,
        client: &Client,
        lsn: Lsn,
        delete: Delete,
        emitter: &mut Emitter,
    ) -> Result<(), SourceError> {
        let Some(table) = self.table(client, delete.relation_oid).await? else { return Ok(()) };
        let before = self.row(&table, delete.old.tuple(), None)?;
        let info = self.info(&table, lsn);
        self.delete_events(&table, before, &info, emitter)
    }

    /// A delete event of `before` and, with `tombstones.on.delete` and a key, its tombstone.
    fn delete_events(
        &mut self,
        table: &TableSchema,
        before: Row,
        info: &SourceInfo<'_>,
        emitter: &mut Emitter,
    ) -> Result<(), SourceError> {
        if self.config.skipped.skips(Op::Delete.code()) {
            return Ok(());
        }
        let record = self.envelopes.change(table, Op::Delete, Some(before), None, info)?;
        let tombstone = (self.config.tombstones_on_delete && !record.key.is_null()).then(|| tombstone(&record));
        self.emit_event(record, info, emitter)?;
        if let Some(tombstone) = tombstone {
            self.emit(tombstone, emitter);
        }
        Ok(())
    }

    async fn truncate(
        &mut self,
        client: &Client,
        lsn: Lsn,
        truncate: Truncate,
        emitter: &mut Emitter,
    ) -> Result<(), SourceError> {
        if self.config.skipped.skips(Op::Truncate.code()) {
            return Ok(());
        }
        for oid in truncate.relation_oids {
            let Some(table) = self.table(client, oid).await? else { continue };
            let info = self.info(&table, lsn);
            let record = self.envelopes.change(&table, Op::Truncate, None, None, &info)?;
            self.emit_event(record, &info, emitter)?;
        }
        Ok(())
    }

    /// A logical decoding message: inside its transaction when transactional; otherwise on its own, moving the
    /// position to it (everything committed before it has been received).
    fn logical(&mut self, message: LogicalMessage, emitter: &mut Emitter) -> Result<(), SourceError> {
        let lsn = Lsn(message.lsn);
        let transactional = self.transaction.filter(|_| message.is_transactional());
        let info = SourceInfo {
            snapshot: SnapshotMarker::False,
            ts_us: transactional.map_or_else(now_us, |t| t.commit_us),
            tx_id: transactional.map(|t| i64::from(t.xid)),
            lsn: Some(lsn.0),
            last_commit_lsn: self.position.commit_lsn.map(|l| l.0),
            schema: "",
            table: "",
        };
        let record = self.envelopes.message(&message.prefix, message.content, &info)?;
        if transactional.is_some() {
            self.emit_event(record, &info, emitter)?;
        } else if self.transaction.is_some() {
            self.emit(record, emitter);
        } else {
            self.advance_to(lsn);
            emitter.push(record, streaming_offset(&self.position).into());
        }
        Ok(())
    }

    /// A transaction begins: its BEGIN record first, with transaction metadata (`lsn`: where its first change is).
    fn begin(&mut self, transaction: Transaction, lsn: Lsn, emitter: &mut Emitter) -> Result<(), SourceError> {
        self.transaction = Some(transaction);
        if self.config.transaction_metadata {
            let counts = TransactionCounts::new(transaction.xid, transaction.commit_us);
            let record = self.envelopes.transactions().begin(&counts, lsn)?;
            self.counts = Some(counts);
            self.emit(record, emitter);
        }
        Ok(())
    }

    /// An event of the open transaction (or a change outside one), counted and given its transaction block when
    /// there is transaction metadata; `info` is its `source` block.
    fn emit_event(
        &mut self,
        mut record: ConnectRecord,
        info: &SourceInfo<'_>,
        emitter: &mut Emitter,
    ) -> Result<(), SourceError> {
        if let Some(counts) = &mut self.counts {
            self.envelopes.transactions().enrich(&mut record, counts, info)?;
        }
        self.emit(record, emitter);
        Ok(())
    }

    /// A record of the open transaction: the one held so far goes out at the previous position, this one is held
    /// until the next record or the commit.
    fn emit(&mut self, record: ConnectRecord, emitter: &mut Emitter) {
        if self.transaction.is_none() {
            emitter.push(record, streaming_offset(&self.position).into());
        } else if let Some(previous) = self.held.replace(record) {
            emitter.push(previous, streaming_offset(&self.position).into());
        }
    }

    /// The transaction committed: its END record is its last (with transaction metadata), the position moves to
    /// its end, and its last record goes out with it.
    fn commit(&mut self, commit_lsn: u64, end_lsn: u64, emitter: &mut Emitter) -> Result<(), SourceError> {
        if let Some(counts) = self.counts.take() {
            let record = self.envelopes.transactions().end(&counts, Lsn(end_lsn))?;
            self.emit(record, emitter);
        }
        let transaction = self.transaction.take();
        self.position = Position {
            lsn: self.position.lsn.max(Lsn(end_lsn)),
            commit_lsn: Some(Lsn(commit_lsn)),
            tx_id: transaction.map(|t| i64::from(t.xid)),
            ts_us: transaction.map_or(self.position.ts_us, |t| t.commit_us),
        };
        if let Some(last) = self.held.take() {
            emitter.push(last, streaming_offset(&self.position).into());
        }
        Ok(())
    }

    /// The `source` block of a change of `table` at `lsn` in the open transaction.
    fn info<'a>(&self, table: &'a TableSchema, lsn: Lsn) -> SourceInfo<'a> {
        SourceInfo {
            snapshot: SnapshotMarker::False,
            ts_us: self.transaction.map_or_else(now_us, |t| t.commit_us),
            tx_id: self.transaction.map(|t| i64::from(t.xid)),
            lsn: Some(lsn.0),
            last_commit_lsn: self.position.commit_lsn.map(|l| l.0),
            schema: &table.schema,
            table: &table.table,
        }
    }

    /// The captured table a row message names, `None` when it is not captured.
    async fn table(&mut self, client: &Client, oid: u32) -> Result<Option<Arc<TableSchema>>, SourceError> {
        if let Some(known) = self.tables.get(&oid) {
            return Ok(known.clone());
        }
        let relation = self.relations.relation(oid)?.clone();
        let table = if self.config.filter.includes(&relation.namespace, &relation.name) {
            Some(Arc::new(self.describe(client, &relation).await?))
        } else {
            None
        };
        self.tables.insert(oid, table.clone());
        Ok(table)
    }

    /// A table's schemas from its Relation message (columns, types) and the catalog (nullability, primary key).
    async fn describe(&mut self, client: &Client, relation: &Relation) -> Result<TableSchema, SourceError> {
        let catalog = catalog::table(client, relation.oid).await?;
        let mut columns = Vec::with_capacity(relation.columns.len());
        for column in &relation.columns {
            let known = catalog.as_ref().and_then(|t| t.columns.iter().find(|c| c.name == column.name));
            let ty = self.types.column_type(client, column.type_oid, column.type_modifier).await?;
            columns.push(ColumnSpec { name: column.name.clone(), ty, optional: !known.is_some_and(|c| c.not_null) });
        }
        let primary_key = catalog.map(|t| t.primary_key).unwrap_or_default();
        let names = (relation.namespace.as_str(), relation.name.as_str());
        let table = build_table(&self.envelopes, names, columns, &primary_key, self.config.rules())?;
        if primary_key.is_empty()
            && matches!(relation.replica_identity, ReplicaIdentity::Default | ReplicaIdentity::Nothing)
        {
            let keys = if table.key_schema.is_none() { "its events have null keys, and " } else { "" };
            tracing::warn!(
                table = %table.qualified_name(),
                "the table has no primary key: {keys}Postgres refuses UPDATE and DELETE on it while it is published; \
                 set REPLICA IDENTITY FULL (or USING INDEX) to capture them"
            );
        }
        Ok(table)
    }

    /// The row of a tuple; an unchanged TOASTed value comes from `old` (REPLICA IDENTITY FULL) or is the
    /// placeholder.
    fn row(&self, table: &TableSchema, tuple: &TupleData, old: Option<&TupleData>) -> Result<Row, SourceError> {
        let mut values = Vec::with_capacity(table.columns.len());
        for (index, column) in table.columns.iter().enumerate() {
            let Some(value) = tuple.columns.get(column.position) else {
                return Err(SourceError::Refused(format!(
                    "pgoutput sent {} values for a row of {}, whose column {} is at position {}",
                    tuple.columns.len(),
                    table.qualified_name(),
                    column.name,
                    column.position
                )));
            };
            let converter = &column.converter;
            let value = match value {
                ColumnValue::UnchangedToast => match old.and_then(|o| o.columns.get(column.position)) {
                    Some(ColumnValue::Text(text)) => converter.text(text),
                    Some(ColumnValue::Binary(bytes)) => converter.binary(bytes),
                    _ => converter.unavailable(),
                },
                ColumnValue::Null => Ok(Value::Null),
                ColumnValue::Text(text) => converter.text(text),
                ColumnValue::Binary(bytes) => converter.binary(bytes),
            };
            values.push(value.map_err(|source| table.column_error(index, source))?);
        }
        Ok(table.row(values)?)
    }
}

/// The (sub)transaction a message inside a stream block names.
fn change_xid(message: &Message) -> Option<u32> {
    match message {
        Message::Relation(m) => m.xid,
        Message::Type(m) => m.xid,
        Message::Insert(m) => m.xid,
        Message::Update(m) => m.xid,
        Message::Delete(m) => m.xid,
        Message::Truncate(m) => m.xid,
        Message::Logical(m) => m.xid,
        _ => None,
    }
}

/// A protocol timestamp (µs since 2000-01-01 UTC) in µs since the Unix epoch.
pub(super) fn unix_us(pg_us: i64) -> i64 {
    pg_us.saturating_add(PG_EPOCH_UNIX_US)
}
