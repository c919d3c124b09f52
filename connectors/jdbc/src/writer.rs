//! A batch's changes written in one transaction ([`write`]): the planned multi-row statements, the first sent with
//! `START TRANSACTION` and the last with `COMMIT` ([`Bracket`]), so that on Postgres a batch of one statement costs
//! two round trips (the statement's start, its end) where it would cost four.
//!
//! When the database refuses a row (a constraint, a value the column cannot hold) a multi-row statement cannot say
//! which: the transaction is rolled back and the changes written again one by one, each in a savepoint, in one new
//! transaction. A refused change is rolled back to its savepoint and answered as rejected with the database's
//! message; the others are committed. Any other failure rolls the transaction back and is the caller's: nothing of
//! the batch is written.
//!
//! Postgres gets the rows of a multi-row insert through COPY, and those of a multi-row upsert too while none of their
//! keys exists yet (`crate::db::postgres::bulk`); when one does, the transaction is rolled back and the batch
//! written again, the upsert going as `INSERT ... SELECT * FROM unnest(...) ON CONFLICT` this time: one array
//! parameter per column, so the statement is the same whatever the number of rows and stays prepared (a multi-row
//! `VALUES` is planned afresh for every new number of rows). Tables with array columns keep the `VALUES` form.

use std::collections::HashSet;

use tidemark_connect::connector::Rejected;

use crate::change::{Change, Operation};
use crate::db::postgres::bulk::{CopyText, DirectCopy, Rows};
use crate::db::text::write_array;
use crate::db::{Bracket, DbError, Session};
use crate::dialect::Dialect;
use crate::plan::{plan, Statement};
use crate::tables::Tables;
use crate::value::SqlValue;

/// The savepoint each change is written under when written one by one.
const SAVEPOINT: &str = "tidemark_row";

/// Writes `changes` (skipping those of the `absent` tables) in one transaction, `batch_size` rows per statement at
/// most; answers the changes the database refused.
pub async fn write(
    session: &mut Session,
    dialect: Dialect,
    tables: &Tables,
    absent: &HashSet<String>,
    changes: &[Change],
    batch_size: usize,
) -> Result<Vec<Rejected>, DbError> {
    let statements: Vec<Statement<'_>> =
        plan(changes, batch_size).into_iter().filter(|s| !absent.contains(&s.layout.table)).collect();
    if statements.is_empty() {
        return Ok(Vec::new());
    }
    let writer = Writer { dialect, tables };
    let written = match writer.all_at_once(session, &statements, DirectCopies::Allowed).await {
        Ok(Written::AgainWithoutDirectCopy) => writer.all_at_once(session, &statements, DirectCopies::None).await,
        written => written,
    };
    match written {
        Ok(_) => Ok(Vec::new()),
        Err(DbError::Refused(reason)) => {
            tracing::debug!(%reason, "the database refused a row; writing the batch record by record");
            let changes = changes.iter().filter(|c| !absent.contains(&c.layout.table));
            writer.one_by_one(session, changes).await
        }
        Err(other) => Err(other),
    }
}

/// Whether upserts may try a direct COPY (`crate::db::postgres::bulk`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum DirectCopies {
    /// When due.
    Allowed,
    /// Never (writing a batch again after one met an existing key).
    None,
}

/// What became of a batch written all at once.
enum Written {
    /// Every statement ran and the transaction committed.
    All,
    /// A direct COPY met an existing key and the transaction was rolled back: write the batch again.
    AgainWithoutDirectCopy,
}

/// What a statement did.
enum Executed {
    /// It ran.
    Ran,
    /// Its direct COPY met an existing key: the transaction is aborted.
    KeyExists,
}

/// What the statements are written with.
struct Writer<'a> {
    dialect: Dialect,
    tables: &'a Tables,
}

impl Writer<'_> {
    /// Writes the statements in one transaction, started with the first and committed with the last.
    async fn all_at_once(
        &self,
        session: &mut Session,
        statements: &[Statement<'_>],
        direct: DirectCopies,
    ) -> Result<Written, DbError> {
        let last = statements.len().saturating_sub(1);
        for (i, statement) in statements.iter().enumerate() {
            let bracket = Bracket { begin: i == 0, commit: i == last };
            let failed = match self.execute(session, statement, bracket, direct).await {
                Ok(Executed::Ran) => continue,
                Ok(Executed::KeyExists) => Ok(Written::AgainWithoutDirectCopy),
                Err(error) => Err(error),
            };
            // Committed with a failed statement, the transaction ended as a rollback; this one is then a no-op.
            rollback(session).await;
            return failed;
        }
        Ok(Written::All)
    }

    async fn one_by_one<'c>(
        &self,
        session: &mut Session,
        changes: impl Iterator<Item = &'c Change>,
    ) -> Result<Vec<Rejected>, DbError> {
        session.run("START TRANSACTION").await?;
        let mut rejected = Vec::new();
        for change in changes {
            if change.operation == Operation::Update && change.layout.values.is_empty() {
                continue;
            }
            let statement = Statement { operation: change.operation, layout: &change.layout, rows: vec![change] };
            if let Err(error) = self.savepoint(session, &statement, &mut rejected).await {
                rollback(session).await;
                return Err(error);
            }
        }
        match session.run("COMMIT").await {
            // A deferred constraint checked at commit cannot be told to a record.
            Err(DbError::Refused(message)) => Err(DbError::Failed(message)),
            outcome => outcome.map(|()| rejected),
        }
    }

    /// Writes one change under a savepoint; a refusal rolls back to it and is recorded.
    async fn savepoint(
        &self,
        session: &mut Session,
        statement: &Statement<'_>,
        rejected: &mut Vec<Rejected>,
    ) -> Result<(), DbError> {
        session.run(&format!("SAVEPOINT {SAVEPOINT}")).await?;
        match self.execute(session, statement, Bracket::INSIDE, DirectCopies::None).await {
            Ok(_) => session.run(&format!("RELEASE SAVEPOINT {SAVEPOINT}")).await,
            Err(DbError::Refused(reason)) => {
                session.run(&format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}")).await?;
                let index = statement.rows.first().map_or(0, |c| c.index);
                rejected.push(Rejected { index, reason });
                Ok(())
            }
            Err(other) => Err(other),
        }
    }

    async fn execute(
        &self,
        session: &mut Session,
        statement: &Statement<'_>,
        bracket: Bracket,
        direct: DirectCopies,
    ) -> Result<Executed, DbError> {
        let layout = statement.layout;
        let (key, values) = (layout.key_names(), layout.value_names());
        let rows = statement.rows.len();
        let columns: Vec<&str> = key.iter().chain(&values).copied().collect();
        if let Session::Postgres(pg) = session {
            if is_bulk(statement) && matches!(statement.operation, Operation::Insert | Operation::Upsert) {
                let write = |i: usize, out: &mut CopyText| {
                    let change = statement.rows[i];
                    out.row(change.key.iter().chain(&change.values));
                };
                let rows = Rows { count: rows, write: &write };
                if statement.operation == Operation::Insert {
                    return pg.copy_insert(&layout.table, &columns, &rows, bracket).await.map(|_| Executed::Ran);
                }
                if direct == DirectCopies::Allowed {
                    match pg.copy_new_rows(&layout.table, &columns, &rows, bracket).await? {
                        DirectCopy::Copied => return Ok(Executed::Ran),
                        DirectCopy::KeyExists => return Ok(Executed::KeyExists),
                        DirectCopy::NotDue => {}
                    }
                }
            }
            if is_bulk(statement) && statement.operation == Operation::Upsert {
                if let Some(casts) = self.tables.element_types(&layout.table, &columns) {
                    let casts: Vec<&str> = casts.iter().map(String::as_str).collect();
                    let sql = self.dialect.upsert_columns(&layout.table, &key, &values, &casts);
                    let arrays: Vec<SqlValue> = (0..columns.len()).map(|c| column_array(statement, c)).collect();
                    let params: Vec<&SqlValue> = arrays.iter().collect();
                    return pg.execute(&sql, &params, bracket).await.map(|_| Executed::Ran);
                }
            }
        }
        let sql = match statement.operation {
            Operation::Insert => self.dialect.insert(&layout.table, &columns, rows),
            Operation::Upsert => self.dialect.upsert(&layout.table, &key, &values, rows),
            Operation::Update => {
                let casts = match self.dialect {
                    Dialect::Postgres => self.tables.column_types(&layout.table, &columns),
                    Dialect::MySql => Vec::new(),
                };
                let casts: Vec<&str> = casts.iter().map(String::as_str).collect();
                self.dialect.update(&layout.table, &key, &values, rows, &casts)
            }
            Operation::Delete => self.dialect.delete(&layout.table, &key, rows),
        };
        // A delete's change has no values: its layout has none.
        let params: Vec<&SqlValue> =
            statement.rows.iter().flat_map(|change| change.key.iter().chain(&change.values)).collect();
        session.execute(&sql, &params, bracket).await.map(|_| Executed::Ran)
    }
}

/// Column `column` (counting the key's columns first) of every row of `statement`, as the text of a Postgres array.
fn column_array(statement: &Statement<'_>, column: usize) -> SqlValue {
    let values = statement.rows.iter().map(|change| {
        let key = change.key.len();
        if column < key {
            &change.key[column]
        } else {
            &change.values[column - key]
        }
    });
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = write_array(&mut text, values);
    SqlValue::Text(text)
}

/// Whether a statement writes many rows, which Postgres gets through COPY (inserts, and upserts of new keys) or
/// as arrays of columns (other upserts).
fn is_bulk(statement: &Statement<'_>) -> bool {
    statement.rows.len() > 1
}

/// Rolls the transaction back; a failure is logged, since the failure that led here is what the caller reports.
async fn rollback(session: &mut Session) {
    if let Err(error) = session.run("ROLLBACK").await {
        tracing::debug!(%error, "rolling back");
    }
}
