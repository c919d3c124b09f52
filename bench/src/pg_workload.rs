//! The tables and writes of the `pg` benchmark: one 8-column row shape (bigint key, int, text, numeric(12,2),
//! timestamptz, bool, varchar(32), jsonb) written as one big transaction, as many single-row transactions (a
//! procedure committing after each row, so the client is not the limit), or as a table to snapshot.

use anyhow::Result;

use crate::pg_sql::Sql;

/// The publication every streaming run reads (`FOR ALL TABLES`).
pub const PUBLICATION: &str = "bench_pub";

/// The columns of every benchmark table.
const COLUMNS: &str = "id bigint PRIMARY KEY, qty int NOT NULL, name text NOT NULL, price numeric(12,2) NOT NULL, \
                       created_at timestamptz NOT NULL, active bool NOT NULL, code varchar(32) NOT NULL, \
                       attrs jsonb NOT NULL";

/// The row numbered by the SQL expression `n` (a bigint), about 150 bytes of column data.
fn row(n: &str) -> String {
    format!(
        "{n}, ({n} % 1000)::int, 'customer-' || {n}, (({n} % 100000) / 100.0)::numeric(12,2), \
         timestamptz '2026-01-01 00:00:00+00' + {n} * interval '1 second', {n} % 2 = 0, 'code-' || ({n} % 997), \
         jsonb_build_object('tier', {n} % 10, 'region', 'eu-west', 'tags', jsonb_build_array('a', 'b'))"
    )
}

/// Creates the publication of all tables.
pub fn create_publication(sql: &Sql) -> Result<()> {
    sql.execute(&format!("CREATE PUBLICATION {PUBLICATION} FOR ALL TABLES"))
}

/// Table storage options: no autovacuum, whose passes over the freshly written rows would compete with the
/// readers for the two CPUs (the tables are only inserted into; the snapshot's table is frozen explicitly).
const NO_AUTOVACUUM: &str = "WITH (autovacuum_enabled = false)";

/// Creates an empty benchmark table.
pub fn create_table(sql: &Sql, table: &str) -> Result<()> {
    sql.execute(&format!("CREATE TABLE {table} ({COLUMNS}) {NO_AUTOVACUUM}"))
}

/// Inserts rows 1..=`rows` in one transaction (`INSERT ... SELECT generate_series`).
pub fn insert_in_one_transaction(sql: &Sql, table: &str, rows: u64) -> Result<()> {
    sql.execute(&format!("INSERT INTO {table} SELECT {} FROM generate_series(1, {rows}::bigint) AS g", row("g")))
}

/// Inserts rows 1..=`rows`, each in its own transaction: a PL/pgSQL procedure that commits after every row, called
/// once.
pub fn insert_one_row_per_transaction(sql: &Sql, table: &str, rows: u64) -> Result<()> {
    let procedure = format!("bench_fill_{table}");
    sql.execute(&format!(
        "CREATE PROCEDURE {procedure}(n bigint) LANGUAGE plpgsql AS $$\n\
         BEGIN\n\
           FOR i IN 1..n LOOP\n\
             INSERT INTO {table} VALUES ({});\n\
             COMMIT;\n\
           END LOOP;\n\
         END $$",
        row("i")
    ))?;
    sql.execute(&format!("CALL {procedure}({rows})"))
}

/// Creates and fills a table in one transaction, then freezes it, so that every later reader finds the same
/// clean pages (the first reader of fresh rows would otherwise pay for setting their hint bits).
pub fn fill_for_snapshot(sql: &Sql, table: &str, rows: u64) -> Result<()> {
    create_table(sql, table)?;
    insert_in_one_transaction(sql, table, rows)?;
    sql.execute(&format!("VACUUM (FREEZE, ANALYZE) {table}"))
}

/// The latency run's table: a key, the client's clock when it sent the row, and some text.
pub fn create_latency_table(sql: &Sql, table: &str) -> Result<()> {
    sql.execute(&format!(
        "CREATE TABLE {table} (id bigint PRIMARY KEY, sent_us bigint NOT NULL, note text NOT NULL) {NO_AUTOVACUUM}"
    ))
}
