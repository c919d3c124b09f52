//! The snapshot: every captured table read inside one repeatable-read snapshot (the slot's exported snapshot when
//! the slot was just created, so it ends exactly where streaming begins), with binary COPY, each row an `op: "r"`
//! event. `source.snapshot` marks the first record (`first`), each later table's first
//! (`first_in_data_collection`), each table's last but the final table's (`last_in_data_collection`), the very last
//! (`last`) and the rest (`true`), as Debezium does; a one-record lookahead tells where each record stands. The
//! offset of the last record says `last_snapshot_record: true`: a restart after it streams, a restart before it
//! takes the snapshot again.
//!
//! The tables are cut into pieces (large ones into ranges of pages, [`super::pieces`]) read by
//! `snapshot.max.threads` readers ([`super::snapshot_reader`], a task each) on connections of their own sharing
//! the snapshot (`pg_export_snapshot`). Pieces are handed out and their rows emitted in table order, so the events
//! are those of one connection reading the tables in turn, while the readers read and decode the next pieces in
//! parallel with the emitting. The snapshot's own connection holds an ACCESS SHARE lock on every table read in
//! ranges until the end, so none is rewritten (VACUUM FULL, CLUSTER, a rewriting ALTER TABLE) between the reads of
//! its ranges.

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::Value as Json;
use tokio::sync::{mpsc, watch, Mutex};
use tokio::task::JoinSet;
use tokio_postgres::Client;

use super::catalog;
use super::columns::TypeCache;
use super::config::SourceConfig;
use super::emit::{send_batch, Emitter, Flow};
use super::envelope::{Envelopes, SourceInfo};
use super::error::SourceError;
use super::offsets;
use super::pieces::{self, Piece, TID_RANGE_SCAN_VERSION};
use super::schema::{build_table, ColumnSpec, Row, TableSchema};
use super::snapshot_reader::{self, copy_error, Read, Work};
use crate::replication::{quote_identifier, Lsn};
use tidemark_debezium::{change_event, now_us, Op, SnapshotMarker, SnapshotSourceBlock};

/// Chunks of rows a reader may read ahead in each piece handed to it.
const CHUNKS_AHEAD: usize = 4;

/// A row read but not yet emitted: whether it is the last of its table or of the snapshot is not known yet.
struct Held {
    table: usize,
    row: Row,
    first_in_table: bool,
    first_overall: bool,
}

/// When the snapshot started (its records' `ts_us`), and the offset all its records but the last carry, built once
/// rather than per record.
struct Started {
    ts_us: i64,
    /// The offset of every record but the last, shared by them.
    offset: Arc<Json>,
}

/// The pieces handed to the readers, in order, each with the channel its rows come through.
type Handed = VecDeque<(Piece, mpsc::Receiver<Result<Read, SourceError>>)>;

/// What the snapshot needs.
pub struct Snapshot<'a> {
    /// A connection inside the snapshot's transaction.
    pub client: &'a Client,
    /// The settings.
    pub config: &'a SourceConfig,
    /// The event schemas.
    pub envelopes: &'a Envelopes,
    /// The column types seen so far.
    pub types: &'a mut TypeCache,
    /// Where streaming starts after the snapshot (the records' `lsn`).
    pub lsn: Lsn,
}

impl Snapshot<'_> {
    /// Reads every captured table and emits its rows; stops early (with [`Flow::Stop`]) when the task stops.
    pub async fn read(
        mut self,
        emitter: &mut Emitter,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Flow, SourceError> {
        let tx_id = catalog::snapshot_xid(self.client).await?;
        let (tables, pieces) = self.tables_and_pieces().await?;
        let readers = self.config.snapshot_threads.min(pieces.len());
        tracing::info!(tables = tables.len(), pieces = pieces.len(), readers, lsn = %self.lsn, "snapshot started");
        let ts_us = now_us();
        let started = Started { ts_us, offset: offsets::snapshot_offset(self.lsn, tx_id, ts_us, false).into() };
        let shared = catalog::export_snapshot(self.client).await?;
        // Pieces handed out ahead of the one being emitted: one per reader and one waiting in the queue.
        let ahead = readers + 1;
        let (work, queue) = mpsc::channel(ahead);
        let queue = Arc::new(Mutex::new(queue));
        // Dropped on every way out, which ends the readers.
        let mut running = JoinSet::new();
        for _ in 0..readers {
            let client = snapshot_reader::open(self.config, &shared).await?;
            running.spawn(snapshot_reader::run(client, Arc::clone(&tables), Arc::clone(&queue)));
        }
        let mut pieces = pieces.into_iter().peekable();
        let mut handed = Handed::new();
        let mut held: Option<Held> = None;
        let mut emitted_any = false;
        let mut table_rows = 0u64;
        let mut source = SnapshotSourceBlock::default();
        loop {
            while handed.len() < ahead {
                let Some(piece) = pieces.next() else { break };
                let (rows, receiver) = mpsc::channel(CHUNKS_AHEAD);
                // The queue never holds more than `ahead`: sending does not wait, and fails only if every reader
                // is gone, which the piece's channel then reports.
                let _ = work.send(Work { piece, rows }).await;
                handed.push_back((piece, receiver));
            }
            let Some((piece, mut receiver)) = handed.pop_front() else { break };
            let table = &tables[piece.table];
            loop {
                let rows = match receiver.recv().await {
                    Some(Ok(Read::Rows(rows))) => rows,
                    Some(Ok(Read::Done)) => break,
                    Some(Err(error)) => return Err(error),
                    None => return Err(copy_error(table, "its reader stopped before the end".to_owned())),
                };
                for row in rows {
                    let first_in_table = held.as_ref().is_none_or(|h| h.table != piece.table);
                    let next = Held { table: piece.table, row, first_in_table, first_overall: !emitted_any };
                    emitted_any = true;
                    table_rows += 1;
                    if let Some(previous) = held.replace(next) {
                        let next = Some(piece.table);
                        self.emit((&tables[..], &started, &mut source), previous, next, tx_id, emitter)?;
                    }
                    if emitter.is_full() && send_batch(emitter, shutdown).await == Flow::Stop {
                        return Ok(Flow::Stop);
                    }
                }
            }
            if pieces.peek().is_none_or(|next| next.table != piece.table) {
                tracing::info!(table = %table.qualified_name(), rows = table_rows, "table read");
                table_rows = 0;
            }
        }
        drop(work);
        while running.join_next().await.is_some() {}
        if let Some(last) = held.take() {
            self.emit((&tables[..], &started, &mut source), last, None, tx_id, emitter)?;
        }
        if !emitter.is_empty() && send_batch(emitter, shutdown).await == Flow::Stop {
            return Ok(Flow::Stop);
        }
        tracing::info!("snapshot finished");
        Ok(Flow::Continue)
    }

    /// The captured tables' schemas as of the snapshot, and the pieces to read them in. Each table read in ranges is
    /// locked in ACCESS SHARE mode, which only a rewrite of the table conflicts with, until the snapshot's
    /// transaction ends; a table read whole needs no lock (one COPY reads it), and locking every table of a large
    /// schema could exhaust the server's lock table.
    async fn tables_and_pieces(&mut self) -> Result<(Arc<[Arc<TableSchema>]>, Vec<Piece>), SourceError> {
        // Ranges only pay with several readers to share them.
        let ranges =
            self.config.snapshot_threads > 1 && catalog::server_version(self.client).await? >= TID_RANGE_SCAN_VERSION;
        let mut schemas = Vec::new();
        let mut pieces = Vec::new();
        for id in catalog::captured_tables(self.client, &self.config.filter).await? {
            let Some(table) = catalog::table(self.client, id.oid).await? else { continue };
            let mut columns = Vec::with_capacity(table.columns.len());
            for column in &table.columns {
                let ty = self.types.column_type(self.client, column.type_oid, column.modifier).await?;
                columns.push(ColumnSpec { name: column.name.clone(), ty, optional: !column.not_null });
            }
            let names = (id.schema.as_str(), id.name.as_str());
            let schema = build_table(self.envelopes, names, columns, &table.primary_key, self.config.rules())?;
            let pages = catalog::table_pages(self.client, id.oid).await?;
            let cut = pieces::cut(schemas.len(), pages, ranges);
            if cut.len() > 1 {
                let name = format!("{}.{}", quote_identifier(&id.schema), quote_identifier(&id.name));
                self.client.batch_execute(&format!("LOCK TABLE ONLY {name} IN ACCESS SHARE MODE")).await?;
            }
            pieces.extend(cut);
            schemas.push(Arc::new(schema));
        }
        Ok((schemas.into(), pieces))
    }

    /// Emits a held row, now that the table of the next one (`None`: there is none) is known.
    fn emit(
        &self,
        (tables, started, source): (&[Arc<TableSchema>], &Started, &mut SnapshotSourceBlock),
        held: Held,
        next_table: Option<usize>,
        tx_id: i64,
        emitter: &mut Emitter,
    ) -> Result<(), SourceError> {
        let last_in_table = next_table != Some(held.table);
        let marker = SnapshotMarker::of(held.first_overall, held.first_in_table, last_in_table, next_table.is_none());
        let table = &tables[held.table];
        let block = source.get(held.table, marker, || {
            self.envelopes.source(&SourceInfo {
                snapshot: marker,
                ts_us: started.ts_us,
                tx_id: Some(tx_id),
                lsn: Some(self.lsn.0),
                last_commit_lsn: None,
                schema: &table.schema,
                table: &table.table,
            })
        })?;
        let record = change_event(table, Op::Read, None, Some(held.row), block)?;
        let offset = match marker {
            SnapshotMarker::Last => offsets::snapshot_offset(self.lsn, tx_id, started.ts_us, true).into(),
            _ => started.offset.clone(),
        };
        emitter.push(record, offset);
        Ok(())
    }
}
