//! The snapshot run of the `pg` benchmark: a frozen table read by `COPY (SELECT * FROM t) TO STDOUT (FORMAT binary)`
//! to nowhere (the reference, right before and right after Tidemark), and by a connector with
//! `snapshot.mode=initial_only`, timed from its creation until every row is written durably to the topic.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::cdc_drain::Drained;
use crate::pg::PgContext;
use crate::pg_drain::{self, PgConnector};
use crate::pg_workload;
use crate::run::{measured, progress, Cost};

/// A COPY of the whole table.
#[derive(Debug, Clone, Copy)]
pub struct Copied {
    /// Wall time from the statement to the last byte.
    pub elapsed: Duration,
    /// Bytes of binary COPY data.
    pub bytes: u64,
    /// Postgres's CPU seconds meanwhile.
    pub server_cpu: f64,
}

/// The snapshot run.
#[derive(Debug, Clone)]
pub struct SnapshotRun {
    /// Rows in the table.
    pub rows: u64,
    /// How long creating, filling and freezing the table took.
    pub fill_time: Duration,
    /// The table's size on disk (`pg_table_size`).
    pub table_bytes: u64,
    /// COPY right before Tidemark's snapshot.
    pub copy_before: Copied,
    /// COPY right after it.
    pub copy_after: Copied,
    /// Tidemark's snapshot.
    pub tidemark: Drained,
    /// Postgres's CPU seconds during Tidemark's snapshot.
    pub tidemark_server_cpu: f64,
    /// The phase cost of Tidemark's snapshot.
    pub tidemark_cost: Cost,
    /// Records in the topic afterwards.
    pub in_topic: i64,
}

impl SnapshotRun {
    /// The reference rate: rows per second of the mean of the two COPY times.
    pub fn copy_per_s(&self) -> f64 {
        let mean = (self.copy_before.elapsed + self.copy_after.elapsed).as_secs_f64() / 2.0;
        self.rows as f64 / mean
    }
}

/// Fills `table` with `rows` rows and reads it both ways, Tidemark with `threads` snapshot readers.
pub fn run(ctx: &PgContext<'_>, table: &str, rows: u64, threads: u64) -> Result<SnapshotRun> {
    let sql = ctx.sql;
    progress(&format!("{table}: filling {rows} rows and freezing them"));
    let started = Instant::now();
    pg_workload::fill_for_snapshot(sql, table, rows)?;
    let fill_time = started.elapsed();
    let table_bytes = sql.value(&format!("SELECT pg_table_size('{table}')"))?.and_then(|v| v.parse().ok()).unwrap_or(0);
    let connector = PgConnector {
        name: format!("bench-{table}"),
        prefix: format!("bench_{table}"),
        slot: format!("{table}_tm"),
        table: table.to_owned(),
        snapshot_mode: "initial_only",
        extra: vec![("snapshot.max.threads", threads.to_string())],
    };
    ctx.up.create_topic(&connector.topic())?;
    let copy = |when: &str| -> Result<Copied> {
        progress(&format!("{table}: COPY to nowhere ({when})"));
        let started = Instant::now();
        let statement = format!("COPY (SELECT * FROM {table}) TO STDOUT (FORMAT binary)");
        let (bytes, server_cpu) = ctx.server_cpu.during(|| sql.copy_to_nowhere(&statement))?;
        Ok(Copied { elapsed: started.elapsed(), bytes, server_cpu })
    };
    let copy_before = copy("before Tidemark")?;
    progress(&format!("{table}: Tidemark snapshots into {} with {threads} readers", connector.topic()));
    let ((tidemark, tidemark_cost), tidemark_server_cpu) = ctx.server_cpu.during(|| {
        ctx.up.profiled(&connector.name, || {
            measured(ctx.up.ticks, Some(ctx.up.pid), || {
                pg_drain::run_until_written(&ctx.up.api, ctx.server, &connector, rows)
            })
        })
    })?;
    ctx.up.api.delete(&connector.name)?;
    let copy_after = copy("after Tidemark")?;
    let in_topic = ctx.up.records_in(&connector.topic())?;
    if in_topic != rows as i64 {
        bail!("{}: {in_topic} records in the topic, {rows} expected", connector.topic());
    }
    Ok(SnapshotRun {
        rows,
        fill_time,
        table_bytes,
        copy_before,
        copy_after,
        tidemark,
        tidemark_server_cpu,
        tidemark_cost,
        in_topic,
    })
}
