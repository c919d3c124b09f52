//! Many rows into Postgres at once through COPY, which the server parses and plans once per statement instead of
//! once per row (a multi-row `INSERT ... VALUES` of 500 rows costs it about five times what COPY does per row).
//!
//! - Inserts: `COPY t (...) FROM STDIN`.
//! - Upserts: the rows are first copied straight into the table under a savepoint (sent with the COPY, and never
//!   released: the commit ends it). When none of their keys exists yet (an initial load, new rows) that is the whole
//!   upsert, at the cost of a plain COPY. A key that exists fails that COPY (unique violation): it is rolled back
//!   to the savepoint and the caller writes the rows with `INSERT ... ON CONFLICT` instead (COPY into a staging
//!   table and a merge measured no faster at the default batch size: `docs/benchmarks.md`). After such a failure
//!   the table's next upserts skip the attempt for a while (1, 2, 4, ... up to 128 statements), so a stream of
//!   updates pays for it rarely.
//!
//! Rows are written into the COPY in chunks as they go out, so the server parses one chunk while the next is
//! written.

use std::collections::HashMap;

use bytes::Bytes;
use futures::SinkExt;
use tokio_postgres::error::SqlState;

use super::{classify, PgSession};
use crate::db::DbError;
use crate::dialect::Dialect;

pub use super::copy_text::CopyText;

/// The savepoint a direct COPY of upserted rows runs under.
const SAVEPOINT: &str = "tidemark_copy";

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

impl PgSession {
    /// Inserts `rows` into `columns` of `table` with COPY; answers how many.
    pub async fn copy_insert(&mut self, table: &str, columns: &[&str], rows: &Rows<'_>) -> Result<u64, DbError> {
        let sql = Dialect::Postgres.copy_from_stdin(table, columns);
        self.copy(&sql, rows, None).await.map_err(classify)
    }

    /// Inserts `rows` (one per key, to be upserted) into `columns` of `table` with COPY when none of their keys
    /// exists, inside a transaction; answers how many, or `None` when a key exists or the attempt is not due: the
    /// caller upserts them another way then.
    pub async fn copy_new_rows(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &Rows<'_>,
    ) -> Result<Option<u64>, DbError> {
        if !self.direct_attempt_due(table) {
            return Ok(None);
        }
        let sql = Dialect::Postgres.copy_from_stdin(table, columns);
        match self.copy(&sql, rows, Some(&format!("SAVEPOINT {SAVEPOINT}"))).await {
            Ok(written) => {
                self.bulk.skipping.remove(table);
                Ok(Some(written))
            }
            Err(error) if error.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                self.run(&format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}")).await?;
                self.skip_direct_attempts(table);
                Ok(None)
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

    /// Runs a `COPY ... FROM STDIN` statement (prepared once per connection) with `rows`, after the simple
    /// statement `first` when given, sent together with it (pipelined: one round trip less).
    async fn copy(&mut self, sql: &str, rows: &Rows<'_>, first: Option<&str>) -> Result<u64, tokio_postgres::Error> {
        let statement = self.statement(sql).await?;
        let started = match first {
            Some(first) => {
                let (ran, sink) =
                    tokio::join!(self.client.batch_execute(first), self.client.copy_in::<_, Bytes>(&statement));
                // A sink dropped unfinished aborts its COPY.
                ran.and(sink)
            }
            None => self.client.copy_in::<_, Bytes>(&statement).await,
        };
        let copied = match started {
            Ok(sink) => {
                futures::pin_mut!(sink);
                match send_rows(rows, &mut sink).await {
                    Ok(()) => sink.as_mut().finish().await,
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
