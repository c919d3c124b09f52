//! A blocking MySQL client for the `mysql` benchmark (mysql_async on a runtime of its own, as [`crate::pg_sql`] does
//! for Postgres), and the few statements the benchmark needs: binary log positions and files, the server's binlog
//! dump threads and its process id.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Params, Row, Statement};
use serde_json::{json, Value};

use anyhow::{Context, Result};

/// A position in the server's binary log, as `SHOW MASTER STATUS` and `@@gtid_binlog_pos` give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinlogPosition {
    /// The binlog file.
    pub file: String,
    /// The offset in it.
    pub pos: u64,
    /// MariaDB's GTID position there (`domain-server-sequence`, comma-separated per domain); empty before the
    /// first transaction.
    pub gtids: String,
}

impl BinlogPosition {
    /// The source offset the MySQL source (and Debezium's) stores for this position: streaming resumes here.
    pub fn offset(&self) -> Value {
        let mut offset = json!({ "file": self.file, "pos": self.pos, "ts_sec": 0, "server_id": 0 });
        if !self.gtids.is_empty() {
            offset["gtids"] = Value::from(self.gtids.as_str());
        }
        offset
    }
}

/// One connection to the benchmark's MariaDB, over TCP.
pub struct MySql {
    runtime: tokio::runtime::Runtime,
    conn: tokio::sync::Mutex<Conn>,
}

impl MySql {
    /// Connects to `host:port` as `user`, in database `database` when given.
    pub fn connect(host: &str, port: u16, user: &str, password: &str, database: Option<&str>) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("creating the SQL client's runtime")?;
        let opts = OptsBuilder::default()
            .ip_or_hostname(host)
            .tcp_port(port)
            .user(Some(user))
            .pass(Some(password))
            .db_name(database)
            .prefer_socket(false);
        let conn =
            runtime.block_on(Conn::new(opts)).with_context(|| format!("connecting to MariaDB at {host}:{port}"))?;
        Ok(Self { runtime, conn: tokio::sync::Mutex::new(conn) })
    }

    /// Runs statements (text protocol, results dropped).
    pub fn execute(&self, sql: &str) -> Result<()> {
        self.runtime
            .block_on(async { self.conn.lock().await.query_drop(sql).await })
            .with_context(|| format!("running {sql:?}"))
    }

    /// The rows of `sql` (text protocol).
    pub fn rows(&self, sql: &str) -> Result<Vec<Row>> {
        self.runtime
            .block_on(async { self.conn.lock().await.query::<Row, _>(sql).await })
            .with_context(|| format!("running {sql:?}"))
    }

    /// The first column of the first row of `sql`, as text; `None` for no row or NULL.
    pub fn value(&self, sql: &str) -> Result<Option<String>> {
        let row = self
            .runtime
            .block_on(async { self.conn.lock().await.query_first::<Row, _>(sql).await })
            .with_context(|| format!("running {sql:?}"))?;
        Ok(row.and_then(|row| text(&row, 0)))
    }

    /// Prepares a statement for [`MySql::run`].
    pub fn prepare(&self, sql: &str) -> Result<Statement> {
        self.runtime
            .block_on(async { self.conn.lock().await.prep(sql).await })
            .with_context(|| format!("preparing {sql:?}"))
    }

    /// Runs a prepared statement (autocommit: one transaction).
    pub fn run(&self, statement: &Statement, params: impl Into<Params> + Send) -> Result<()> {
        self.runtime
            .block_on(async { self.conn.lock().await.exec_drop(statement, params).await })
            .context("running a prepared statement")
    }

    /// Where the binary log stands now.
    pub fn position(&self) -> Result<BinlogPosition> {
        let rows = self.rows("SHOW MASTER STATUS")?;
        let row = rows.first().context("SHOW MASTER STATUS: no row (is the binary log on?)")?;
        let file = text(row, 0).context("SHOW MASTER STATUS: no file")?;
        let pos = text(row, 1).and_then(|p| p.parse().ok()).context("SHOW MASTER STATUS: no position")?;
        let gtids = self.value("SELECT @@gtid_binlog_pos")?.unwrap_or_default();
        Ok(BinlogPosition { file, pos, gtids })
    }

    /// Closes the current binlog file and starts the next (`FLUSH BINARY LOGS`).
    pub fn flush_binary_logs(&self) -> Result<()> {
        self.execute("FLUSH BINARY LOGS")
    }

    /// The binlog files (`SHOW BINARY LOGS`), in order, with their sizes.
    fn binlog_files(&self) -> Result<Vec<(String, u64)>> {
        Ok(self
            .rows("SHOW BINARY LOGS")?
            .iter()
            .filter_map(|row| Some((text(row, 0)?, text(row, 1)?.parse().ok()?)))
            .collect())
    }

    /// The binlog files from `from`'s up to (not including) `until`'s, in order.
    pub fn files_between(&self, from: &BinlogPosition, until: &BinlogPosition) -> Result<Vec<String>> {
        let names: Vec<String> = self.binlog_files()?.into_iter().map(|(name, _)| name).collect();
        let first = names.iter().position(|n| *n == from.file).with_context(|| format!("no binlog {}", from.file))?;
        let end = names.iter().position(|n| *n == until.file).with_context(|| format!("no binlog {}", until.file))?;
        Ok(names[first..end].to_vec())
    }

    /// Bytes of binlog between two positions (`from` before `until`).
    pub fn bytes_between(&self, from: &BinlogPosition, until: &BinlogPosition) -> Result<u64> {
        let files = self.binlog_files()?;
        let first =
            files.iter().position(|(n, _)| *n == from.file).with_context(|| format!("no binlog {}", from.file))?;
        let last =
            files.iter().position(|(n, _)| *n == until.file).with_context(|| format!("no binlog {}", until.file))?;
        let whole: u64 = files[first..last].iter().map(|(_, size)| size).sum();
        Ok((whole + until.pos).saturating_sub(from.pos))
    }

    /// The connections reading the binary log now (`Binlog Dump` threads), by id. A reader that went away while
    /// its dump thread waited for new events stays listed until the next event (or a reader with its server id)
    /// comes.
    pub fn binlog_readers(&self) -> Result<Vec<u64>> {
        let sql = "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'";
        Ok(self.rows(sql)?.iter().filter_map(|row| text(row, 0)?.parse().ok()).collect())
    }

    /// The server's process id (read from its `pid_file`).
    pub fn server_pid(&self) -> Result<u32> {
        let path = self.value("SELECT @@pid_file")?.context("no pid_file")?;
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        text.trim().parse().with_context(|| format!("not a process id in {path}: {text:?}"))
    }
}

/// Column `index` of `row` as text; `None` for NULL or a missing column.
fn text(row: &Row, index: usize) -> Option<String> {
    row.get_opt::<Option<String>, usize>(index).and_then(Result::ok).flatten()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::BinlogPosition;

    #[test]
    fn offsets_in_the_sources_shape() {
        let position = BinlogPosition { file: "binlog.000002".into(), pos: 379, gtids: "0-1-6".into() };
        assert_eq!(
            position.offset(),
            json!({"file": "binlog.000002", "pos": 379, "gtids": "0-1-6", "ts_sec": 0, "server_id": 0})
        );
        let fresh = BinlogPosition { gtids: String::new(), ..position };
        assert!(fresh.offset().get("gtids").is_none());
    }
}
