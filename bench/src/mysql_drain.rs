//! Both readers of the `mysql` benchmark's binlog: `mariadb-binlog --read-from-remote-server` (the reference) and
//! Tidemark's MySQL source, a connector created through the worker's REST API.
//!
//! The binlog has no slots: a connector streams from its stored offset, or from where the binlog stands when it
//! starts. To have it drain binlog that was written before it ran, as `pg_recvlogical` drains a slot, the
//! benchmark creates it (`snapshot.mode=no_data`, so it reads from the end and finds nothing), waits until its task
//! runs, stops it, sets its offset (KIP-875, `PATCH /connectors/<name>/offsets`) to the position before the
//! workload, and times it from `PUT /connectors/<name>/resume` until every record is durable.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::json;
use tidemark_tests::mariadb::MariaDbServer;

use crate::cdc_drain::{self, Drained};
use crate::connect_api::ConnectApi;
use crate::mysql_sql::{BinlogPosition, MySql};
use crate::mysql_workload::DATABASE;

/// The connector class under test (Debezium's name).
const MYSQL_CLASS: &str = "io.debezium.connector.mysql.MySqlConnector";
/// How long a connector may take to reach a state.
const STATE_TIMEOUT: Duration = Duration::from_secs(60);

/// A MySQL source connector to create.
#[derive(Debug, Clone)]
pub struct MySqlConnector {
    /// The connector's name (metrics are per name: one name per run).
    pub name: String,
    /// `topic.prefix`; the table's topic is `<prefix>.bench.<table>`.
    pub prefix: String,
    /// The one table captured (`table.include.list=bench.<table>`).
    pub table: String,
    /// `database.server.id`: unique per connector, as replicas' ids must be.
    pub server_id: u32,
    /// `snapshot.mode`.
    pub snapshot_mode: &'static str,
    /// Further settings (converters).
    pub extra: Vec<(&'static str, String)>,
}

impl MySqlConnector {
    /// The topic the table's events go to.
    pub fn topic(&self) -> String {
        format!("{}.{DATABASE}.{}", self.prefix, self.table)
    }

    /// The connector's config against `server` (as the harness's replication user), converters left to the
    /// worker's defaults (Avro through the bundled registry in `tidemark up`) unless `extra` names them.
    pub fn config(&self, server: &MariaDbServer) -> Vec<(&'static str, String)> {
        let mut config = vec![
            ("connector.class", MYSQL_CLASS.to_owned()),
            ("tasks.max", "1".to_owned()),
            ("database.hostname", server.host.clone()),
            ("database.port", server.port.to_string()),
            ("database.user", server.user.clone()),
            ("database.password", server.password.clone()),
            ("database.server.id", self.server_id.to_string()),
            ("topic.prefix", self.prefix.clone()),
            ("database.include.list", DATABASE.to_owned()),
            ("table.include.list", format!("{DATABASE}.{}", self.table)),
            ("snapshot.mode", self.snapshot_mode.to_owned()),
        ];
        config.extend(self.extra.iter().cloned());
        config
    }

    /// Creates the connector, waits until it reads the binlog (from its end: `snapshot.mode=no_data`), stops it and
    /// sets its stored offset to `position`; the next [`MySqlConnector::drain`] streams from there.
    pub fn prepare_at(
        &self,
        api: &ConnectApi,
        server: &MariaDbServer,
        sql: &MySql,
        position: &BinlogPosition,
    ) -> Result<()> {
        let readers = sql.binlog_readers()?;
        api.create(&self.name, &self.config(server))?;
        wait_new_binlog_reader(api, sql, &self.name, &readers)?;
        api.stop(&self.name)?;
        wait_task_state(api, &self.name, "STOPPED")?;
        api.alter_offset(&self.name, &json!({ "server": self.prefix }), &position.offset())
    }

    /// Resumes the prepared connector and waits until it has written `records` records durably, timed from the
    /// resumption.
    pub fn drain(&self, api: &ConnectApi, records: u64) -> Result<Drained> {
        let start = Instant::now();
        api.resume(&self.name)?;
        cdc_drain::watch_until_written(api, &self.name, records, start)
    }
}

/// Waits until a connection reads the binlog that is not among `before` (the ids of [`MySql::binlog_readers`]
/// before connector `name` was created: a running connector's task opens its stream at its first poll, so RUNNING
/// alone does not mean it reads); fails early when the connector has failed.
pub fn wait_new_binlog_reader(api: &ConnectApi, sql: &MySql, name: &str, before: &[u64]) -> Result<()> {
    let deadline = Instant::now() + STATE_TIMEOUT;
    loop {
        if sql.binlog_readers()?.iter().any(|id| !before.contains(id)) {
            return Ok(());
        }
        api.check_not_failed(name)?;
        if Instant::now() > deadline {
            bail!("connector {name} did not start reading the binlog within {STATE_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until every task of connector `name` is in `state`.
fn wait_task_state(api: &ConnectApi, name: &str, state: &str) -> Result<()> {
    let deadline = Instant::now() + STATE_TIMEOUT;
    loop {
        let status = api.status(name)?;
        let tasks = status["tasks"].as_array().cloned().unwrap_or_default();
        if !tasks.is_empty() && tasks.iter().all(|t| t["state"] == state) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("connector {name}'s tasks not {state} after {STATE_TIMEOUT:?}: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `mariadb-binlog --read-from-remote-server -v --base64-output=decode-rows` over `files` of `server` (as the
/// harness's replication user), the first file from `start`; it exits at the end of the last file.
fn binlog_command(program: &Path, server: &MariaDbServer, files: &[String], start: u64) -> Command {
    let mut command = Command::new(program);
    command
        .arg("--no-defaults")
        .arg("--read-from-remote-server")
        .arg(format!("--host={}", server.host))
        .arg(format!("--port={}", server.port))
        .arg(format!("--user={}", server.user))
        .arg(format!("--password={}", server.password))
        .args(["-v", "--base64-output=decode-rows"])
        .arg(format!("--start-position={start}"))
        .args(files)
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Runs [`binlog_command`] writing to /dev/null; answers its wall time.
pub fn read_binlog(program: &Path, server: &MariaDbServer, files: &[String], start: u64) -> Result<Duration> {
    let mut command = binlog_command(program, server, files, start);
    command.stdout(Stdio::null());
    let started = Instant::now();
    let output = command.output().with_context(|| format!("running {}", program.display()))?;
    let elapsed = started.elapsed();
    if !output.status.success() {
        bail!("{command:?} failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr));
    }
    Ok(elapsed)
}

/// Counts the rows [`binlog_command`] decodes (its `### INSERT INTO` lines), reading its output as it comes:
/// checks that the reference reads what the workload wrote. Not timed.
pub fn count_binlog_inserts(program: &Path, server: &MariaDbServer, files: &[String], start: u64) -> Result<u64> {
    let mut child = binlog_command(program, server, files, start)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("running {}", program.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut inserts = 0u64;
    for line in BufReader::with_capacity(1 << 20, stdout).split(b'\n') {
        if line.context("reading mariadb-binlog's output")?.starts_with(b"### INSERT INTO") {
            inserts += 1;
        }
    }
    let status = child.wait().context("waiting for mariadb-binlog")?;
    if !status.success() {
        bail!("{} failed ({status})", program.display());
    }
    Ok(inserts)
}
