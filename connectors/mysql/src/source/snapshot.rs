//! The consistent snapshot: a `START TRANSACTION WITH CONSISTENT SNAPSHOT` transaction and the binlog position it
//! corresponds to ([`begin`]), then every captured table read in it as `op: "r"` events ([`Snapshot::read`]).
//!
//! MariaDB reports the position of the snapshot itself (`binlog_snapshot_file` / `binlog_snapshot_position`, and
//! `BINLOG_GTID_POS` of it), so no lock is taken. MySQL has no such report: under `snapshot.locking.mode=minimal` a
//! global read lock is held only while the transaction starts and the position is read (Debezium's minimal
//! locking); under `none` the position is read without it. Streaming then starts exactly at that position: the
//! snapshot shows the transactions before it and the stream those after.
//!
//! Tables are read with the text protocol, row by row as the server sends them (`query_iter`), so a large table
//! never sits in memory. A reader task of its own reads and decodes the rows ([`read_tables`]) while the snapshot
//! builds the events of those before, so the two work in parallel; the channels between them and to `poll` hold the
//! reading back to the log's pace.

use std::sync::Arc;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row as MySqlRow};
use serde_json::Value as Json;
use tidemark_debezium::{change_event, now_us, send_batch, Flow, Op, SnapshotMarker, SnapshotSourceBlock};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::config::{LockingMode, SourceConfig};
use super::emit::Emitter;
use super::envelope::{Envelopes, SourceInfo};
use super::error::SourceError;
use super::offsets::{self, Position};
use super::schema::{build_table, Row, TableSchema};
use crate::binlog::{position_on, BinlogError, Flavor, GtidSet};
use crate::types::load_table_columns;

/// Opens the snapshot's transaction on `conn` and returns the binlog position it corresponds to, its GTID set
/// kept to the sources `gtid.source.includes|excludes` admit.
pub async fn begin(conn: &mut Conn, config: &SourceConfig, flavor: Flavor) -> Result<Position, SourceError> {
    conn.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ").await?;
    let (file, pos, gtids) = match flavor {
        Flavor::MariaDb => {
            conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT").await?;
            let status: Vec<(String, String)> = conn.query("SHOW STATUS LIKE 'binlog_snapshot_%'").await?;
            let value = |name: &str| status.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
            let file = value("binlog_snapshot_file").filter(|f| !f.is_empty()).ok_or_else(no_binlog)?;
            let pos: u64 = value("binlog_snapshot_position").and_then(|p| p.parse().ok()).ok_or_else(no_binlog)?;
            let gtids: Option<String> = conn.exec_first("SELECT BINLOG_GTID_POS(?, ?)", (&file, pos)).await?;
            (file, pos, gtids.unwrap_or_default())
        }
        Flavor::MySql => {
            let locked = config.locking == LockingMode::Minimal;
            if locked {
                conn.query_drop("FLUSH TABLES WITH READ LOCK").await?;
            }
            let started = async {
                conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT").await?;
                Ok::<_, SourceError>(position_on(conn, flavor).await?)
            }
            .await;
            if locked {
                conn.query_drop("UNLOCK TABLES").await?;
            }
            let position = started?;
            (position.file, position.pos, position.gtids)
        }
    };
    let mut set = GtidSet::parse(flavor, &gtids).map_err(BinlogError::Gtid)?;
    set.retain_sources(|id| config.keeps_gtid_source(id));
    let ts_sec = now_us().div_euclid(1_000_000);
    Ok(Position { file, pos, gtids: set.to_string(), ts_sec, server_id: 0 })
}

fn no_binlog() -> SourceError {
    SourceError::Refused(
        "the server has no binary log: start it with log_bin (and binlog_format=ROW, binlog_row_image=FULL)".to_owned(),
    )
}

/// A read row held back until the next one shows whether it was the last of its table.
struct Held {
    table: usize,
    row: Row,
    first_in_table: bool,
    first_overall: bool,
}

/// Rows the reader sends at a time.
const CHUNK_ROWS: usize = 1024;
/// Chunks the reader may read ahead.
const CHUNKS_AHEAD: usize = 8;

/// What the reader sends.
enum Read {
    /// Rows of the table at this index.
    Rows(usize, Vec<Row>),
    /// The table at this index was read to its end, with this many rows.
    TableDone(usize, u64),
}

/// Reads the captured tables inside the snapshot's transaction.
pub struct Snapshot<'a> {
    /// The connection with the snapshot's transaction open; committed and closed at the end.
    pub conn: Conn,
    /// The settings.
    pub config: &'a SourceConfig,
    /// The event schemas.
    pub envelopes: &'a Envelopes,
    /// Where the snapshot stands in the binlog (and where streaming starts after it).
    pub position: &'a Position,
}

impl Snapshot<'_> {
    /// Emits every row of every captured table; [`Flow::Stop`] when the task stopped meanwhile.
    pub async fn read(
        mut self,
        emitter: &mut Emitter,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Flow, SourceError> {
        let tables: Arc<[TableSchema]> = self.tables().await?.into();
        tracing::info!(tables = tables.len(), file = %self.position.file, pos = self.position.pos, "snapshot started");
        let records = SnapshotRecords {
            envelopes: self.envelopes,
            position: self.position,
            offset: offsets::snapshot_offset(self.position, false).into(),
            ts_ms: now_us().div_euclid(1000),
        };
        let (sender, mut reads) = mpsc::channel(CHUNKS_AHEAD);
        // Aborted when dropped, on every way out before its end.
        let mut reader = JoinSet::new();
        reader.spawn(read_tables(self.conn, Arc::clone(&tables), sender));
        let mut held: Option<Held> = None;
        let mut emitted_any = false;
        let mut source = SnapshotSourceBlock::default();
        while let Some(read) = reads.recv().await {
            let (index, rows) = match read? {
                Read::Rows(index, rows) => (index, rows),
                Read::TableDone(index, rows) => {
                    tracing::info!(table = %tables[index].qualified_name(), rows, "table read");
                    continue;
                }
            };
            for row in rows {
                let first_in_table = held.as_ref().is_none_or(|h| h.table != index);
                let next = Held { table: index, row, first_in_table, first_overall: !emitted_any };
                emitted_any = true;
                if let Some(previous) = held.replace(next) {
                    records.emit((&tables, &mut source), previous, Some(index), emitter)?;
                }
                if emitter.is_full() && send_batch(emitter, shutdown).await == Flow::Stop {
                    return Ok(Flow::Stop);
                }
            }
        }
        let mut conn = match reader.join_next().await {
            Some(Ok(Some(conn))) => conn,
            // The reader sent its failure, received above, or it panicked.
            _ => return Err(SourceError::Refused("the snapshot's reader stopped".to_owned())),
        };
        if let Some(last) = held.take() {
            records.emit((&tables, &mut source), last, None, emitter)?;
        }
        if !emitter.is_empty() && send_batch(emitter, shutdown).await == Flow::Stop {
            return Ok(Flow::Stop);
        }
        conn.query_drop("COMMIT").await?;
        if let Err(error) = conn.disconnect().await {
            tracing::debug!(error = %error, "closing the snapshot's connection");
        }
        tracing::info!("snapshot finished");
        Ok(Flow::Continue)
    }

    /// The captured tables' schemas, as of the snapshot.
    async fn tables(&mut self) -> Result<Vec<TableSchema>, SourceError> {
        let names: Vec<(String, String)> = self
            .conn
            .query(
                "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' \
                 ORDER BY TABLE_SCHEMA, TABLE_NAME",
            )
            .await?;
        let mut schemas = Vec::new();
        for (database, table) in names.into_iter().filter(|(d, t)| self.config.filter.includes(d, t)) {
            let (columns, primary_key) = load_table_columns(&mut self.conn, &database, &table).await?;
            schemas.push(build_table(self.envelopes, self.config, (&database, &table), columns, &primary_key)?);
        }
        Ok(schemas)
    }
}

/// Reads every table on `conn` in order, sending its rows in chunks and then [`Read::TableDone`]; the connection
/// back at the end, `None` after a failure (sent first) or when the receiver is gone.
async fn read_tables(
    mut conn: Conn,
    tables: Arc<[TableSchema]>,
    sender: mpsc::Sender<Result<Read, SourceError>>,
) -> Option<Conn> {
    for (index, table) in tables.iter().enumerate() {
        match read_table(&mut conn, index, table, &sender).await {
            Ok(true) => {}
            Ok(false) => return None,
            Err(error) => {
                let _ = sender.send(Err(error)).await;
                return None;
            }
        }
    }
    Some(conn)
}

/// Reads one table; `false` when the receiver went away.
async fn read_table(
    conn: &mut Conn,
    index: usize,
    table: &TableSchema,
    sender: &mpsc::Sender<Result<Read, SourceError>>,
) -> Result<bool, SourceError> {
    let mut result = conn.query_iter(select_statement(table)).await?;
    let mut chunk = Vec::with_capacity(CHUNK_ROWS);
    let mut rows = 0u64;
    while let Some(values) = result.next().await? {
        chunk.push(row(table, values)?);
        rows += 1;
        if chunk.len() == CHUNK_ROWS {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_ROWS));
            if sender.send(Ok(Read::Rows(index, full))).await.is_err() {
                return Ok(false);
            }
        }
    }
    if !chunk.is_empty() && sender.send(Ok(Read::Rows(index, chunk))).await.is_err() {
        return Ok(false);
    }
    Ok(sender.send(Ok(Read::TableDone(index, rows))).await.is_ok())
}

/// Turns read rows into snapshot records.
struct SnapshotRecords<'a> {
    envelopes: &'a Envelopes,
    position: &'a Position,
    /// The offset of every record but the last, built once and shared by them.
    offset: Arc<Json>,
    /// When the snapshot started (the records' `ts_ms`).
    ts_ms: i64,
}

impl SnapshotRecords<'_> {
    /// Emits a held row, now that the table of the next one (`None`: there is none) is known.
    fn emit(
        &self,
        (tables, source): (&[TableSchema], &mut SnapshotSourceBlock),
        held: Held,
        next_table: Option<usize>,
        emitter: &mut Emitter,
    ) -> Result<(), SourceError> {
        let last_in_table = next_table != Some(held.table);
        let marker = SnapshotMarker::of(held.first_overall, held.first_in_table, last_in_table, next_table.is_none());
        let table = &tables[held.table];
        let block = source.get(held.table, marker, || {
            self.envelopes.source(&SourceInfo {
                snapshot: marker,
                ts_ms: self.ts_ms,
                db: table.schema.clone(),
                table: table.table.clone(),
                server_id: 0,
                gtid: None,
                file: self.position.file.clone(),
                pos: self.position.pos,
                row: 0,
                thread: None,
            })
        })?;
        let record = change_event(table, Op::Read, None, Some(held.row), block)?;
        let offset = match marker {
            SnapshotMarker::Last => offsets::snapshot_offset(self.position, true).into(),
            _ => self.offset.clone(),
        };
        emitter.push(record, offset);
        Ok(())
    }
}

/// The row of a `SELECT` of the carried columns.
fn row(table: &TableSchema, values: MySqlRow) -> Result<Row, SourceError> {
    let values = values.unwrap();
    let values = values
        .iter()
        .zip(&table.columns)
        .enumerate()
        .map(|(index, (value, column))| {
            column.converter.text(value).map_err(|source| SourceError::from(table.column_error(index, source)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(table.row(values)?)
}

/// `SELECT `a`, `b` FROM `database`.`table`` of the carried columns, each as the converter reads it exactly (a table
/// with none selects a constant, so its rows still count).
fn select_statement(table: &TableSchema) -> String {
    let columns: Vec<String> = table.columns.iter().map(|c| c.converter.column().select_expression()).collect();
    let selected = if columns.is_empty() { "1".to_owned() } else { columns.join(", ") };
    format!("SELECT {selected} FROM {}.{}", quote_identifier(&table.schema), quote_identifier(&table.table))
}

/// A MySQL identifier in backquotes.
pub fn quote_identifier(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_identifier("or`ders"), "`or``ders`");
    }
}
