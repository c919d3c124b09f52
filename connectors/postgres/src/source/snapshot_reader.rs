//! The snapshot's readers: each a connection of its own in a repeatable-read transaction on the snapshot's exported
//! snapshot, taking pieces ([`super::pieces`]) from a shared queue and sending each piece's rows, decoded, through
//! the piece's own channel, then [`Read::Done`]. The snapshot hands out pieces in order and empties their channels
//! in that order, so events come out as if one connection read every table in turn, while the readers decode the
//! pieces ahead in parallel.

use std::sync::Arc;

use futures::StreamExt;
use tidemark_connect::data::Value;
use tokio::sync::{mpsc, Mutex};
use tokio_postgres::Client;

use super::catalog;
use super::config::SourceConfig;
use super::connect;
use super::copy::{CopyReader, CopyRow};
use super::error::SourceError;
use super::pieces::{copy_statement, Piece};
use super::schema::{Row, TableSchema};

/// Rows sent in one message.
const CHUNK_ROWS: usize = 1024;

/// What a reader sends about its piece.
pub enum Read {
    /// The next rows.
    Rows(Vec<Row>),
    /// The piece was read to its end.
    Done,
}

/// A piece to read, and where its rows go.
pub struct Work {
    /// The piece.
    pub piece: Piece,
    /// Its rows, then [`Read::Done`]; or the failure that ended it.
    pub rows: mpsc::Sender<Result<Read, SourceError>>,
}

/// The queue the readers take pieces from.
pub type WorkQueue = Arc<Mutex<mpsc::Receiver<Work>>>;

/// A connection inside the snapshot `snapshot` (as `pg_export_snapshot()` named it).
pub async fn open(config: &SourceConfig, snapshot: &str) -> Result<Client, SourceError> {
    let client = connect::sql(config).await?;
    catalog::begin_snapshot(&client, Some(snapshot)).await?;
    Ok(client)
}

/// Reads pieces from `queue` until it closes or a piece's receiver is gone (the snapshot stopped); a failure is
/// sent on the piece's channel and ends the reader.
pub async fn run(client: Client, tables: Arc<[Arc<TableSchema>]>, queue: WorkQueue) {
    loop {
        let Some(work) = queue.lock().await.recv().await else { return };
        let table = &tables[work.piece.table];
        match read_piece(&client, table, work.piece, &work.rows).await {
            Ok(true) => {
                if work.rows.send(Ok(Read::Done)).await.is_err() {
                    return;
                }
            }
            Ok(false) => return,
            Err(error) => {
                let _ = work.rows.send(Err(error)).await;
                return;
            }
        }
    }
}

/// Reads one piece into `rows`; `false` when the receiver went away before the end.
async fn read_piece(
    client: &Client,
    table: &TableSchema,
    piece: Piece,
    rows: &mpsc::Sender<Result<Read, SourceError>>,
) -> Result<bool, SourceError> {
    let copy = client.copy_out(&copy_statement(table, piece.pages)).await?;
    let mut copy = Box::pin(copy);
    let mut reader = CopyReader::new();
    let mut chunk = Vec::with_capacity(CHUNK_ROWS);
    while let Some(data) = copy.next().await {
        reader.push(data?);
        while let Some(values) = reader.next_row().map_err(|why| copy_error(table, why))? {
            chunk.push(row(table, values)?);
            if chunk.len() == CHUNK_ROWS {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_ROWS));
                if rows.send(Ok(Read::Rows(full))).await.is_err() {
                    return Ok(false);
                }
            }
        }
    }
    reader.finish().map_err(|why| copy_error(table, why))?;
    if !chunk.is_empty() && rows.send(Ok(Read::Rows(chunk))).await.is_err() {
        return Ok(false);
    }
    Ok(true)
}

/// The row of COPY values.
fn row(table: &TableSchema, values: CopyRow) -> Result<Row, SourceError> {
    if values.len() != table.columns.len() {
        let why = format!("{} values for {} columns", values.len(), table.columns.len());
        return Err(copy_error(table, why));
    }
    // Filled in a loop rather than collected: a collect through `Result` cannot size the vector up front.
    let mut row = Vec::with_capacity(table.columns.len());
    for (index, (value, column)) in values.values().zip(&table.columns).enumerate() {
        let value = match value {
            None => Ok(Value::Null),
            Some(bytes) if column.converter.has_binary_form() => column.converter.binary(bytes),
            // Read as text (see `copy_statement`).
            Some(bytes) => column.converter.text(bytes),
        };
        row.push(value.map_err(|source| table.column_error(index, source))?);
    }
    Ok(table.row(row)?)
}

/// A malformed COPY stream of `table`.
pub fn copy_error(table: &TableSchema, why: String) -> SourceError {
    SourceError::Copy { table: table.qualified_name(), why }
}
