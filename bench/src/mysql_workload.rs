//! The tables and writes of the `mysql` benchmark: the `pg` benchmark's 8-column row shape in MariaDB's types
//! (BIGINT key, INT, TEXT, DECIMAL(12,2), TIMESTAMP(6), BOOL, VARCHAR(32), JSON; about 150 bytes of column data),
//! written as one big transaction, as many single-row transactions (a stored procedure committing after each row,
//! so the client is not the limit), or as a table to snapshot. Rows are numbered by MariaDB's `seq_1_to_<n>`
//! tables (the Sequence engine).

use anyhow::Result;

use crate::mysql_sql::MySql;

/// The database every benchmark table is in.
pub const DATABASE: &str = "bench";

/// The columns of every benchmark table.
const COLUMNS: &str = "id BIGINT PRIMARY KEY, qty INT NOT NULL, name TEXT NOT NULL, price DECIMAL(12,2) NOT NULL, \
                       created_at TIMESTAMP(6) NOT NULL, active BOOL NOT NULL, code VARCHAR(32) NOT NULL, \
                       attrs JSON NOT NULL";

/// Rows per INSERT when a table is filled for the snapshot (each its own transaction).
const FILL_CHUNK: u64 = 250_000;

/// The row numbered by the SQL expression `n` (a BIGINT), about 150 bytes of column data.
fn row(n: &str) -> String {
    format!(
        "{n}, {n} % 1000, CONCAT('customer-', {n}), ({n} % 100000) / 100.0, \
         TIMESTAMP'2026-01-01 00:00:00' + INTERVAL {n} SECOND, {n} % 2 = 0, CONCAT('code-', {n} % 997), \
         JSON_OBJECT('tier', {n} % 10, 'region', 'eu-west', 'tags', JSON_ARRAY('a', 'b'))"
    )
}

/// Creates an empty benchmark table (InnoDB).
pub fn create_table(sql: &MySql, table: &str) -> Result<()> {
    sql.execute(&format!("CREATE TABLE {DATABASE}.{table} ({COLUMNS}) ENGINE=InnoDB"))
}

/// Inserts rows `first..first + rows` in one transaction (`INSERT ... SELECT` from a sequence).
fn insert_range(sql: &MySql, table: &str, first: u64, rows: u64) -> Result<()> {
    let last = first + rows - 1;
    sql.execute(&format!("INSERT INTO {DATABASE}.{table} SELECT {} FROM seq_{first}_to_{last}", row("seq")))
}

/// Inserts rows 1..=`rows` in one transaction.
pub fn insert_in_one_transaction(sql: &MySql, table: &str, rows: u64) -> Result<()> {
    insert_range(sql, table, 1, rows)
}

/// Inserts rows 1..=`rows`, each in its own transaction: a stored procedure that commits after every row, called
/// once.
pub fn insert_one_row_per_transaction(sql: &MySql, table: &str, rows: u64) -> Result<()> {
    let procedure = format!("{DATABASE}.bench_fill_{table}");
    sql.execute(&format!(
        "CREATE PROCEDURE {procedure}(n BIGINT)\n\
         BEGIN\n\
           DECLARE i BIGINT DEFAULT 1;\n\
           WHILE i <= n DO\n\
             START TRANSACTION;\n\
             INSERT INTO {DATABASE}.{table} VALUES ({});\n\
             COMMIT;\n\
             SET i = i + 1;\n\
           END WHILE;\n\
         END",
        row("i")
    ))?;
    sql.execute(&format!("CALL {procedure}({rows})"))
}

/// Creates and fills a table in transactions of [`FILL_CHUNK`] rows, then analyzes it.
pub fn fill_for_snapshot(sql: &MySql, table: &str, rows: u64) -> Result<()> {
    create_table(sql, table)?;
    let mut first = 1;
    while first <= rows {
        let chunk = FILL_CHUNK.min(rows - first + 1);
        insert_range(sql, table, first, chunk)?;
        first += chunk;
    }
    sql.execute(&format!("ANALYZE TABLE {DATABASE}.{table}"))
}

/// The latency run's table: a key, the client's clock when it sent the row, and some text.
pub fn create_latency_table(sql: &MySql, table: &str) -> Result<()> {
    sql.execute(&format!(
        "CREATE TABLE {DATABASE}.{table} (id BIGINT PRIMARY KEY, sent_us BIGINT NOT NULL, note VARCHAR(64) NOT NULL) \
         ENGINE=InnoDB"
    ))
}
