//! Tidemark's side of the `sink` benchmark: a JDBC sink connector (`io.debezium.connector.jdbc.JdbcSinkConnector`,
//! `insert.mode=upsert`, `primary.key.mode=record_key`) created through the worker's REST API on a topic written
//! beforehand, timed from its creation until the target table shows the topic's last record, then deleted.
//!
//! When it is done: one task reads the topic's one partition in order and commits each `put` in one transaction
//! before the next (the sink's invariant), so once the row of the last record (the highest key) holds its revision,
//! every record before it is committed too. The benchmark polls that one row (an index lookup, every 20 ms) rather
//! than `count(*)`, whose scans of the growing table would compete with the sink for the two CPUs; the counts are
//! checked afterwards.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::cdc_drain::{self, Drained};
use crate::run::{measured, Cost};
use crate::sink::SinkContext;

/// The connector class under test (Debezium's name).
const JDBC_CLASS: &str = "io.debezium.connector.jdbc.JdbcSinkConnector";
/// Metric: records handed to sink tasks.
const SINK_PUT: &str = "connect_sink_records_put_total";
/// Metric: records that failed at any stage.
const RECORD_ERRORS: &str = "connect_record_errors_total";
/// How often the target row is looked at.
const WATCH_EVERY: Duration = Duration::from_millis(20);
/// How often the connector's status and metrics are read.
const STATUS_EVERY: Duration = Duration::from_secs(1);
/// Give up when no record is handed to the task for this long.
const STALL_TIMEOUT: Duration = Duration::from_secs(120);

/// One pass of the sink over a topic.
#[derive(Debug, Clone)]
pub struct SinkPass {
    /// The revision the pass writes.
    pub rev: i32,
    /// Records, time until the last row showed, time until the first row showed, and the task's `put`s
    /// (`connect_batch_seconds` of a sink: count and seconds inside `put`).
    pub drained: Drained,
    /// Postgres's CPU seconds meanwhile.
    pub server_cpu: f64,
    /// `tidemark up`'s CPU and I/O meanwhile.
    pub cost: Cost,
}

/// The connector's config: `topic` into `table` of the benchmark's Postgres, upserts keyed by the record key, the
/// worker's default converters (Avro through the bundled registry).
fn config(ctx: &SinkContext<'_>, topic: &str, table: &str) -> Vec<(&'static str, String)> {
    let server = ctx.server;
    let mut config = vec![
        ("connector.class", JDBC_CLASS.to_owned()),
        ("tasks.max", "1".to_owned()),
        ("topics", topic.to_owned()),
        ("connection.url", format!("jdbc:postgresql://{}:{}/{}", server.host, server.port, server.dbname)),
        ("connection.username", server.user.clone()),
        ("connection.password", server.password.clone()),
        ("insert.mode", "upsert".to_owned()),
        ("primary.key.mode", "record_key".to_owned()),
        ("schema.evolution", "basic".to_owned()),
        ("table.name.format", table.to_owned()),
    ];
    if let Some(records) = ctx.settings.max_poll {
        config.push(("consumer.override.max.poll.records", records.to_string()));
    }
    if let Some(rows) = ctx.settings.batch_size {
        config.push(("batch.size", rows.to_string()));
    }
    config
}

/// The revisions of the first and the last row (0 for a row not there yet).
fn ends(ctx: &SinkContext<'_>, table: &str, rows: u64) -> Result<(i32, i32)> {
    let sql = format!(
        "SELECT coalesce((SELECT rev FROM {table} WHERE id = 1), 0) || ',' || \
         coalesce((SELECT rev FROM {table} WHERE id = {rows}), 0)"
    );
    let text = ctx.sql.value(&sql)?.context("no answer")?;
    let (first, last) = text.split_once(',').context("malformed answer")?;
    Ok((first.parse()?, last.parse()?))
}

/// Runs connector `name` over `topic` (rows `1..=rows` at revision `rev`) into `table` until the table shows every
/// record (counted afterwards); deletes it then.
pub fn run(ctx: &SinkContext<'_>, name: &str, topic: &str, table: &str, (rows, rev): (u64, i32)) -> Result<SinkPass> {
    let api = &ctx.up.api;
    let config = config(ctx, topic, table);
    let ((drained, cost), server_cpu) = ctx.server_cpu.during(|| {
        ctx.up.profiled(name, || {
            measured(ctx.up.ticks, Some(ctx.up.pid), || {
                let start = Instant::now();
                api.create(name, &config)?;
                watch(ctx, name, table, (rows, rev), start)
            })
        })
    })?;
    let metrics = api.metrics()?;
    let errors = metrics.of(RECORD_ERRORS, name);
    let drained = Drained { batches: cdc_drain::batches(api, name)?, ..drained };
    api.delete(name)?;
    if errors > 0.0 {
        bail!("connector {name}: {errors} record errors");
    }
    let counts = ctx
        .sql
        .value(&format!("SELECT count(*) || ',' || count(*) FILTER (WHERE rev = {rev}) FROM {table}"))?
        .context("no count")?;
    let (all, current) = counts.split_once(',').context("malformed count")?;
    let counted: (u64, u64) = (all.parse()?, current.parse()?);
    if counted != (rows, rows) {
        bail!("{table} after {name}: {} rows, {} of them at revision {rev}; {rows} expected", counted.0, counted.1);
    }
    Ok(SinkPass { rev, drained, server_cpu, cost })
}

/// Waits until the last row of `table` holds revision `rev`, timing from `start`.
fn watch(ctx: &SinkContext<'_>, name: &str, table: &str, (rows, rev): (u64, i32), start: Instant) -> Result<Drained> {
    let api = &ctx.up.api;
    let (mut first_written, mut put, mut last_move, mut last_status) = (None, 0.0, start, start);
    loop {
        let (first, last) = ends(ctx, table, rows)?;
        let now = start.elapsed();
        if first == rev && first_written.is_none() {
            first_written = Some(now);
        }
        if last == rev {
            return Ok(Drained { records: rows, elapsed: now, first_written, batches: (0.0, 0.0) });
        }
        if last_status.elapsed() > STATUS_EVERY {
            api.check_not_failed(name)?;
            let handed = api.metrics()?.of(SINK_PUT, name);
            if handed > put {
                (put, last_move) = (handed, Instant::now());
            } else if last_move.elapsed() > STALL_TIMEOUT {
                bail!("connector {name} stalled for {STALL_TIMEOUT:?} at {handed} of {rows} records handed over");
            }
            last_status = Instant::now();
        }
        std::thread::sleep(WATCH_EVERY);
    }
}
