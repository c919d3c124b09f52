//! Many rows into Postgres at once through COPY, which the server parses and plans once per statement instead of
//! once per row (a multi-row `INSERT ... VALUES` of 500 rows costs it about five times what COPY does per row).
//!
//! - Inserts: `COPY t (...) FROM STDIN`.
//! - Upserts: the rows are first copied straight into the table. When none of their keys exists yet (an initial
//!   load, new rows) that is the whole upsert, at the cost of a plain COPY. A key that exists fails that COPY
//!   (unique violation), which aborts the transaction: the caller rolls it back and writes the batch again, and
//!   this time the table's rows go as `INSERT ... ON CONFLICT` (COPY into a staging table and a merge measured no
//!   faster at the default batch size: `docs/benchmarks.md`). After such a failure the table's next upserts skip
//!   the attempt for a while (1, 2, 4, ... up to 128 statements), so a stream of updates pays for it rarely. No
//!   savepoint guards the attempt: one would make every row a subtransaction's, paid by every batch, where a miss
//!   costs one batch written twice.
//!
//! The COPY goes out with the transaction control its place in the transaction asks for ([`Bracket`]): `START
//! TRANSACTION` with its start, `COMMIT` right after its end. Rows are written into the COPY in chunks as they go
//! out, so the server parses one chunk while the next is written.

use std::collections::HashMap;

use bytes::Bytes;
use futures::SinkExt;
use tokio_postgres::error::SqlState;

use super::{classify, control, PgSession};
use crate::db::{Bracket, DbError};
use crate::dialect::Dialect;

pub use super::copy_text::CopyText;

/// About how many bytes of rows go out at once.
const CHUNK: usize = 64 * 1024;

/// The most upsert statements of a table that skip the direct attempt after it met an existing key.
const MAX_SKIPPED: u32 = 128;

/// Per table whose last direct COPY of upserted rows met an existing key: the upserts still to skip the attempt,
/// and the next wait.
#[derive(Default)]
pub struct BulkState {
    skipping: HashMap<String, Skip>,
}

struct Skip {
    left: u32,
    next: u32,
}

/// The rows of a COPY: row `i` of `count` is written by `write(i, ...)`.
pub struct Rows<'a> {
    /// How many rows.
    pub count: usize,
    /// Writes one row.
    pub write: &'a (dyn Fn(usize, &mut CopyText) + Send + Sync),
}

/// What became of upserted rows offered to [`PgSession::copy_new_rows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectCopy {
    /// They were copied, none of their keys existing.
    Copied,
    /// The attempt is not due: nothing was sent, the transaction stands, the rows are the caller's to upsert.
    NotDue,
    /// A key exists: the transaction is aborted (ended, when the bracket committed it). The caller rolls it back and
    /// writes the batch again; the table's next attempts are skipped.
    KeyExists,
}

impl PgSession {
    /// Inserts `rows` into `columns` of `table` with COPY, bracketed as `bracket` says; answers how many.
    pub async fn copy_insert(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &Rows<'_>,
        bracket: Bracket,
    ) -> Result<u64, DbError> {
        let sql = Dialect::Postgres.copy_from_stdin(table, columns);
        self.copy(&sql, rows, bracket).await.map_err(classify)
    }

    /// Inserts `rows` (one per key, to be upserted) into `columns` of `table` with COPY, bracketed as `bracket` says,
    /// when the attempt is due; see [`DirectCopy`] for what the caller does next.
    pub async fn copy_new_rows(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &Rows<'_>,
        bracket: Bracket,
    ) -> Result<DirectCopy, DbError> {
        if !self.direct_attempt_due(table) {
            return Ok(DirectCopy::NotDue);
        }
        let sql = Dialect::Postgres.copy_from_stdin(table, columns);
        match self.copy(&sql, rows, bracket).await {
            Ok(_) => {
                self.bulk.skipping.remove(table);
                Ok(DirectCopy::Copied)
            }
            Err(error) if error.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                self.skip_direct_attempts(table);
                Ok(DirectCopy::KeyExists)
            }
            Err(error) => Err(classify(error)),
        }
    }

    /// Whether the next upsert of `table` tries a direct COPY (counting one skipped when not).
    fn direct_attempt_due(&mut self, table: &str) -> bool {
        match self.bulk.skipping.get_mut(table) {
            Some(skip) if skip.left > 0 => {
                skip.left -= 1;
                false
            }
            _ => true,
        }
    }

    /// After a direct COPY met an existing key: skip the next attempts, twice as many as last time.
    fn skip_direct_attempts(&mut self, table: &str) {
        let skip = self.bulk.skipping.entry(table.to_owned()).or_insert(Skip { left: 0, next: 1 });
        skip.left = skip.next;
        skip.next = (skip.next * 2).min(MAX_SKIPPED);
    }

    /// Runs a `COPY ... FROM STDIN` statement (prepared once per connection) with `rows`, with `START TRANSACTION`
    /// sent together with its start and `COMMIT` with its end when `bracket` asks for them.
    async fn copy(&mut self, sql: &str, rows: &Rows<'_>, bracket: Bracket) -> Result<u64, tokio_postgres::Error> {
        let statement = self.statement(sql).await?;
        let client = &self.client;
        let (begun, started) =
            tokio::join!(control(client, bracket.begin, "START TRANSACTION"), client.copy_in::<_, Bytes>(&statement));
        // A sink dropped unfinished aborts its COPY.
        let copied = match begun.and(started) {
            Ok(sink) => {
                futures::pin_mut!(sink);
                match send_rows(rows, &mut sink).await {
                    Ok(()) => {
                        let (copied, committed) =
                            tokio::join!(sink.as_mut().finish(), control(client, bracket.commit, "COMMIT"));
                        copied.and_then(|written| committed.map(|()| written))
                    }
                    Err(error) => Err(error),
                }
            }
            Err(error) => Err(error),
        };
        if copied.is_err() {
            self.forget_statement(sql);
        }
        copied
    }
}

/// Writes `rows` into `sink` in chunks of about [`CHUNK`] bytes.
async fn send_rows<S>(rows: &Rows<'_>, sink: &mut S) -> Result<(), tokio_postgres::Error>
where
    S: futures::Sink<Bytes, Error = tokio_postgres::Error> + Unpin,
{
    let mut text = CopyText::with_capacity(CHUNK + CHUNK / 4);
    for i in 0..rows.count {
        (rows.write)(i, &mut text);
        if text.len() >= CHUNK || i + 1 == rows.count {
            sink.send(text.take()).await?;
        }
    }
    Ok(())
}
