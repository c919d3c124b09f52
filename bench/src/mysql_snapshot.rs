//! The snapshot run of the `mysql` benchmark: a table read by `mariadb -e "SELECT * FROM t" > /dev/null` (the
//! reference, right before and right after Tidemark), and by a connector with `snapshot.mode=initial_only`, timed
//! from its creation until every row is written durably to the topic.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tidemark_tests::mariadb::MariaDbServer;

use crate::cdc_drain::{self, Drained};
use crate::mysql::MySqlContext;
use crate::mysql_drain::MySqlConnector;
use crate::mysql_workload::{self, DATABASE};
use crate::run::{measured, progress, Cost};

/// A `SELECT *` of the whole table by the `mariadb` client.
#[derive(Debug, Clone, Copy)]
pub struct Selected {
    /// Wall time from the client's start to its exit.
    pub elapsed: Duration,
    /// The client's CPU seconds.
    pub cpu: f64,
    /// MariaDB's CPU seconds meanwhile.
    pub server_cpu: f64,
}

/// The snapshot run.
#[derive(Debug, Clone)]
pub struct SnapshotRun {
    /// Rows in the table.
    pub rows: u64,
    /// How long creating and filling the table took.
    pub fill_time: Duration,
    /// The table's size on disk (`DATA_LENGTH + INDEX_LENGTH` of `information_schema.TABLES`).
    pub table_bytes: u64,
    /// The `mariadb` client right before Tidemark's snapshot.
    pub select_before: Selected,
    /// Right after it.
    pub select_after: Selected,
    /// Tidemark's snapshot.
    pub tidemark: Drained,
    /// MariaDB's CPU seconds during Tidemark's snapshot.
    pub tidemark_server_cpu: f64,
    /// The phase cost of Tidemark's snapshot.
    pub tidemark_cost: Cost,
    /// Records in the topic afterwards.
    pub in_topic: i64,
}

impl SnapshotRun {
    /// The reference rate: rows per second of the mean of the two `SELECT` times.
    pub fn select_per_s(&self) -> f64 {
        let mean = (self.select_before.elapsed + self.select_after.elapsed).as_secs_f64() / 2.0;
        self.rows as f64 / mean
    }
}

/// Fills `table` with `rows` rows and reads it both ways.
pub fn run(ctx: &MySqlContext<'_>, table: &str, rows: u64, server_id: u32) -> Result<SnapshotRun> {
    let sql = ctx.sql;
    progress(&format!("{table}: filling {rows} rows"));
    let started = Instant::now();
    mysql_workload::fill_for_snapshot(sql, table, rows)?;
    let fill_time = started.elapsed();
    let table_bytes = sql
        .value(&format!(
            "SELECT DATA_LENGTH + INDEX_LENGTH FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = '{DATABASE}' AND TABLE_NAME = '{table}'"
        ))?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let connector = MySqlConnector {
        name: format!("bench-{table}"),
        prefix: format!("bench_{table}"),
        table: table.to_owned(),
        server_id,
        snapshot_mode: "initial_only",
        extra: Vec::new(),
    };
    ctx.up.create_topic(&connector.topic())?;
    let select = |when: &str| -> Result<Selected> {
        progress(&format!("{table}: mariadb -e \"SELECT * FROM {DATABASE}.{table}\" > /dev/null ({when})"));
        let children_before = crate::server_cpu::reaped_children_secs(ctx.up.ticks)?;
        let (elapsed, server_cpu) =
            ctx.server_cpu.during(|| select_to_nowhere(ctx.mariadb, ctx.server, &format!("{DATABASE}.{table}")))?;
        let cpu = crate::server_cpu::reaped_children_secs(ctx.up.ticks)? - children_before;
        Ok(Selected { elapsed, cpu, server_cpu })
    };
    let select_before = select("before Tidemark")?;
    progress(&format!("{table}: Tidemark snapshots into {}", connector.topic()));
    let config = connector.config(ctx.server);
    let ((tidemark, tidemark_cost), tidemark_server_cpu) = ctx.server_cpu.during(|| {
        ctx.up.profiled(&connector.name, || {
            measured(ctx.up.ticks, Some(ctx.up.pid), || {
                cdc_drain::run_until_written(&ctx.up.api, &connector.name, &config, rows)
            })
        })
    })?;
    ctx.up.api.delete(&connector.name)?;
    let select_after = select("after Tidemark")?;
    let in_topic = ctx.up.records_in(&connector.topic())?;
    if in_topic != rows as i64 {
        bail!("{}: {in_topic} records in the topic, {rows} expected", connector.topic());
    }
    Ok(SnapshotRun {
        rows,
        fill_time,
        table_bytes,
        select_before,
        select_after,
        tidemark,
        tidemark_server_cpu,
        tidemark_cost,
        in_topic,
    })
}

/// `mariadb -e "SELECT * FROM <table>" > /dev/null` over TCP as the harness's user (the connector's); answers its
/// wall time.
fn select_to_nowhere(program: &Path, server: &MariaDbServer, table: &str) -> Result<Duration> {
    let mut command = Command::new(program);
    command
        .arg("--no-defaults")
        .arg(format!("--host={}", server.host))
        .arg(format!("--port={}", server.port))
        .arg(format!("--user={}", server.user))
        .arg(format!("--password={}", server.password))
        .arg("-e")
        .arg(format!("SELECT * FROM {table}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let output = command.output().with_context(|| format!("running {}", program.display()))?;
    let elapsed = started.elapsed();
    if !output.status.success() {
        bail!("{command:?} failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr));
    }
    Ok(elapsed)
}
