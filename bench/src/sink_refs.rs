//! The `sink` benchmark's references, all on the benchmark's own connection to the same server:
//!
//! - [`copy_into_empty`]: `COPY t FROM STDIN` (text format) of the rows into an empty table of the target's
//!   definition, primary key included: the reference for both ratios;
//! - [`copy_then_upsert`]: the database-side upsert, `COPY` into a temporary table and then `INSERT ... SELECT ...
//!   ON CONFLICT (id) DO UPDATE` from it into a table that holds every key already;
//! - [`sink_statements`]: the statements the JDBC sink sends (`START TRANSACTION`, a multi-row `INSERT ... ON CONFLICT
//!   DO UPDATE` prepared afresh and run with every value bound as text, `COMMIT`), sent by the benchmark without the
//!   worker, timed inside the database calls only: what the connector's way of writing costs the database alone;
//!   and, in the same transactions, two other ways the sink could write ([`Method`]).

use std::collections::hash_map::{Entry, HashMap};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use bytes::Bytes;

use crate::pg_sql::Sql;
use crate::server_cpu::ServerCpu;
use crate::sink_rows::{Row, COLUMNS, TABLE_DEFINITION};

/// A reference run.
#[derive(Debug, Clone, Copy)]
pub struct Timed {
    /// Wall time on the clock.
    pub elapsed: Duration,
    /// Postgres's CPU seconds meanwhile.
    pub server_cpu: f64,
}

/// The database-side upsert.
#[derive(Debug, Clone, Copy)]
pub struct CopyUpsert {
    /// The whole transaction (temporary table, COPY, INSERT ... ON CONFLICT, COMMIT).
    pub total: Timed,
    /// Its COPY into the temporary table.
    pub copy: Duration,
    /// Its `INSERT ... SELECT ... ON CONFLICT DO UPDATE`.
    pub upsert: Duration,
}

/// The sink's statements sent by the benchmark.
#[derive(Debug, Clone, Copy)]
pub struct Statements {
    /// The time inside the database calls, summed, and Postgres's CPU over the whole run.
    pub timed: Timed,
    /// Wall time including the benchmark's own work between the calls (generating the values' text).
    pub wall: Duration,
    /// Transactions committed.
    pub transactions: u64,
    /// Statements run.
    pub statements: u64,
}

/// `CREATE TABLE <table>` with the target's definition, autovacuum off (as on the target).
pub fn create_table(sql: &Sql, table: &str) -> Result<()> {
    sql.execute(&format!("CREATE TABLE {table} {TABLE_DEFINITION} WITH (autovacuum_enabled = off)"))
}

/// The column list, comma-separated.
fn column_list() -> String {
    COLUMNS.join(", ")
}

/// Creates the empty `table` and copies `text` (COPY text of `rows` rows) into it, timed from the statement to its
/// completion.
pub fn copy_into_empty(sql: &Sql, cpu: &ServerCpu, table: &str, text: &Bytes, rows: u64) -> Result<Timed> {
    create_table(sql, table)?;
    let copy = format!("COPY {table} ({}) FROM STDIN", column_list());
    let started = Instant::now();
    let (copied, server_cpu) = cpu.during(|| sql.copy_in(&copy, text))?;
    let elapsed = started.elapsed();
    if copied != rows {
        bail!("COPY into {table} wrote {copied} rows, {rows} expected");
    }
    Ok(Timed { elapsed, server_cpu })
}

/// `SET c = EXCLUDED.c, ...` for every column but the key.
fn excluded_sets(quote: bool) -> String {
    let q = |c: &str| if quote { format!("\"{c}\"") } else { c.to_owned() };
    COLUMNS[1..].iter().map(|c| format!("{0} = EXCLUDED.{0}", q(c))).collect::<Vec<_>>().join(", ")
}

/// In one transaction: `text` (COPY text of `rows` rows, every key already in `table`) copied into a temporary
/// table, then upserted from it into `table`.
pub fn copy_then_upsert(sql: &Sql, cpu: &ServerCpu, table: &str, text: &Bytes, rows: u64) -> Result<CopyUpsert> {
    let copy = format!("COPY stage ({}) FROM STDIN", column_list());
    let upsert = format!(
        "INSERT INTO {table} ({0}) SELECT {0} FROM stage ON CONFLICT (id) DO UPDATE SET {1}",
        column_list(),
        excluded_sets(false)
    );
    let started = Instant::now();
    let ((copy_time, upsert_time), server_cpu) = cpu.during(|| {
        sql.execute(&format!("BEGIN; CREATE TEMPORARY TABLE stage (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"))?;
        let copy_started = Instant::now();
        let copied = sql.copy_in(&copy, text)?;
        let copy_time = copy_started.elapsed();
        let upsert_started = Instant::now();
        sql.execute(&upsert)?;
        let upsert_time = upsert_started.elapsed();
        sql.execute("COMMIT")?;
        if copied != rows {
            bail!("COPY into the temporary table wrote {copied} rows, {rows} expected");
        }
        Ok((copy_time, upsert_time))
    })?;
    Ok(CopyUpsert { total: Timed { elapsed: started.elapsed(), server_cpu }, copy: copy_time, upsert: upsert_time })
}

/// The JDBC sink's upsert of `rows` rows into `table`, as its Postgres dialect writes it: quoted names, `$n`
/// placeholders row after row, key first.
fn upsert_statement(table: &str, rows: usize) -> String {
    let quoted: Vec<String> = COLUMNS.iter().map(|c| format!("\"{c}\"")).collect();
    let mut sql = format!("INSERT INTO \"{table}\" ({}) VALUES ", quoted.join(", "));
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        let placeholders: Vec<String> = (1..=COLUMNS.len()).map(|c| format!("${}", row * COLUMNS.len() + c)).collect();
        sql.push('(');
        sql.push_str(&placeholders.join(", "));
        sql.push(')');
    }
    sql + &format!(" ON CONFLICT (\"id\") DO UPDATE SET {}", excluded_sets(true))
}

/// How the benchmark writes a transaction's rows in [`sink_statements`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// As the sink does: multi-row `INSERT ... ON CONFLICT DO UPDATE` statements, each prepared afresh (Postgres
    /// parses, analyses and plans every one), every value a text parameter.
    SinksWay,
    /// The same statements, each shape prepared once on the connection and run again and again (after five runs
    /// Postgres plans it once, generically).
    PreparedOnce,
    /// The transaction's rows as COPY text into a temporary table (`ON COMMIT DELETE ROWS`), then `INSERT ... SELECT
    /// ... ON CONFLICT DO UPDATE` from it.
    CopyMerge,
}

impl Method {
    /// How the report names it.
    pub fn describe(self) -> &'static str {
        match self {
            Method::SinksWay => "the sink's statements (each prepared afresh)",
            Method::PreparedOnce => "the same statements prepared once per shape",
            Method::CopyMerge => "COPY into a temporary table + INSERT ... SELECT ... ON CONFLICT DO UPDATE",
        }
    }
}

/// The temporary table of [`Method::CopyMerge`].
const MERGE_STAGE: &str = "merge_stage";

/// Writes rows `1..=rows` at revision `rev` into `table` the way `method` says, in transactions of
/// `per_transaction` rows (what one `put` gets: `max.poll.records`), statements of `per_statement` rows
/// (`batch.size`), each transaction `START TRANSACTION` ... `COMMIT` as the sink does.
pub fn sink_statements(
    sql: &Sql,
    cpu: &ServerCpu,
    (table, method): (&str, Method),
    (rows, rev): (u64, i32),
    (per_transaction, per_statement): (usize, usize),
) -> Result<Statements> {
    let per_statement = per_statement.min(per_transaction).min(65_535 / COLUMNS.len()).max(1);
    let full = upsert_statement(table, per_statement);
    let copy = format!("COPY {MERGE_STAGE} ({}) FROM STDIN", column_list());
    let merge = format!(
        "INSERT INTO {table} ({0}) SELECT {0} FROM {MERGE_STAGE} ON CONFLICT (id) DO UPDATE SET {1}",
        column_list(),
        excluded_sets(false)
    );
    if method == Method::CopyMerge {
        sql.execute(&format!(
            "DROP TABLE IF EXISTS {MERGE_STAGE}; \
             CREATE TEMPORARY TABLE {MERGE_STAGE} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        ))?;
    }
    let mut prepared: HashMap<usize, tokio_postgres::Statement> = HashMap::new();
    let started = Instant::now();
    let ((inside, transactions, statements), server_cpu) = cpu.during(|| {
        let (mut inside, mut transactions, mut statements) = (Duration::ZERO, 0u64, 0u64);
        let mut timed = |f: &mut dyn FnMut() -> Result<()>| -> Result<()> {
            let call = Instant::now();
            f()?;
            inside += call.elapsed();
            Ok(())
        };
        let mut next = 1i64;
        while next <= rows as i64 {
            let end = (next + per_transaction as i64 - 1).min(rows as i64);
            timed(&mut || sql.execute("START TRANSACTION"))?;
            if method == Method::CopyMerge {
                let mut text = String::with_capacity((end - next + 1) as usize * 110);
                (next..=end).for_each(|id| Row::new(id, rev).copy_line(&mut text));
                let text = Bytes::from(text.into_bytes());
                timed(&mut || sql.copy_in(&copy, &text).map(drop))?;
                timed(&mut || sql.execute(&merge))?;
                statements += 2;
            }
            let mut first = next;
            while first <= end && method != Method::CopyMerge {
                let last = (first + per_statement as i64 - 1).min(end);
                let count = (last - first + 1) as usize;
                let texts: Vec<[String; 7]> = (first..=last).map(|id| Row::new(id, rev).texts()).collect();
                let params: Vec<&str> = texts.iter().flat_map(|t| t.iter().map(String::as_str)).collect();
                let partial;
                let statement = if count == per_statement {
                    &full
                } else {
                    partial = upsert_statement(table, count);
                    &partial
                };
                match method {
                    Method::PreparedOnce => timed(&mut || {
                        let statement = match prepared.entry(count) {
                            Entry::Occupied(known) => known.into_mut(),
                            Entry::Vacant(new) => new.insert(sql.prepare(statement)?),
                        };
                        sql.run_text(statement, &params).map(drop)
                    })?,
                    _ => timed(&mut || sql.execute_text(statement, &params).map(drop))?,
                }
                statements += 1;
                first = last + 1;
            }
            timed(&mut || sql.execute("COMMIT"))?;
            transactions += 1;
            next = end + 1;
        }
        Ok((inside, transactions, statements))
    })?;
    Ok(Statements { timed: Timed { elapsed: inside, server_cpu }, wall: started.elapsed(), transactions, statements })
}

#[cfg(test)]
mod tests {
    use super::upsert_statement;

    #[test]
    fn the_sinks_upsert() {
        assert_eq!(
            upsert_statement("t", 2),
            "INSERT INTO \"t\" (\"id\", \"rev\", \"name\", \"price\", \"updated_at\", \"active\", \"note\") VALUES \
             ($1, $2, $3, $4, $5, $6, $7), ($8, $9, $10, $11, $12, $13, $14) ON CONFLICT (\"id\") DO UPDATE SET \
             \"rev\" = EXCLUDED.\"rev\", \"name\" = EXCLUDED.\"name\", \"price\" = EXCLUDED.\"price\", \
             \"updated_at\" = EXCLUDED.\"updated_at\", \"active\" = EXCLUDED.\"active\", \"note\" = EXCLUDED.\"note\""
        );
    }
}
