//! The streaming runs of the `mysql` benchmark: the same binlog read by `mariadb-binlog --read-from-remote-server`
//! and by Tidemark's MySQL source, one after the other.
//!
//! Method: the binlog is rotated (`FLUSH BINARY LOGS`) so the workload starts a fresh file, the workload is written
//! (one big transaction, or one transaction per row) and the binlog is rotated again, so the workload's events are
//! exactly the files between the two rotations. Only then does each reader start, alone: `mariadb-binlog -v
//! --base64-output=decode-rows` over those files, from the position before the workload, to /dev/null, timed from
//! its start to its exit; then a connector whose stored offset is that position ([`crate::mysql_drain`]), timed
//! from its resumption to the moment the worker's metrics show every row written durably to the table's topic as
//! Avro; then `mariadb-binlog` again. The reference is the mean of its two runs. Both clocks include connecting;
//! both readers get the same binlog, already written and in the page cache, from the server's dump thread.

use std::time::Duration;

use anyhow::{bail, Result};

use crate::cdc_drain::Drained;
use crate::mysql::MySqlContext;
use crate::mysql_drain::{self, MySqlConnector};
use crate::mysql_workload;
use crate::run::{measured, progress, Cost};

/// How the rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `INSERT ... SELECT` from a sequence: one transaction.
    OneTransaction,
    /// A stored procedure committing after each row.
    RowPerTransaction,
}

/// One read of the binlog by `mariadb-binlog`.
#[derive(Debug, Clone)]
pub struct BinlogRead {
    /// Its wall time.
    pub elapsed: Duration,
    /// Its CPU seconds.
    pub cpu: f64,
    /// MariaDB's CPU seconds meanwhile (its binlog dump thread).
    pub server_cpu: f64,
    /// The phase cost (Tidemark idle).
    pub cost: Cost,
}

/// A streaming run: the workload and the reads.
#[derive(Debug, Clone)]
pub struct StreamRun {
    /// How the rows were written.
    pub shape: Shape,
    /// Rows written (and records expected).
    pub rows: u64,
    /// How long writing the workload took.
    pub write_time: Duration,
    /// Binlog written by the workload.
    pub binlog_bytes: u64,
    /// The binlog files the workload went to.
    pub files: Vec<String>,
    /// `mariadb-binlog` right before Tidemark.
    pub reference_before: BinlogRead,
    /// `mariadb-binlog` right after Tidemark.
    pub reference_after: BinlogRead,
    /// Tidemark's drain.
    pub tidemark: Drained,
    /// MariaDB's CPU seconds while Tidemark drained.
    pub tidemark_server_cpu: f64,
    /// The phase cost of Tidemark's drain (`tidemark up`'s CPU, storage writes).
    pub tidemark_cost: Cost,
    /// Records in the topic afterwards (its high watermark).
    pub in_topic: i64,
}

impl StreamRun {
    /// The reference: rows per second of the mean of `mariadb-binlog`'s two times.
    pub fn reference_per_s(&self) -> f64 {
        let mean = (self.reference_before.elapsed + self.reference_after.elapsed).as_secs_f64() / 2.0;
        self.rows as f64 / mean
    }
}

/// Writes `rows` rows shaped as `shape` into a fresh `table`, then reads them with both readers.
pub fn run(ctx: &MySqlContext<'_>, shape: Shape, table: &str, rows: u64, server_id: u32) -> Result<StreamRun> {
    let sql = ctx.sql;
    mysql_workload::create_table(sql, table)?;
    let connector = MySqlConnector {
        name: format!("bench-{table}"),
        prefix: format!("bench_{table}"),
        table: table.to_owned(),
        server_id,
        snapshot_mode: "no_data",
        extra: Vec::new(),
    };
    ctx.up.create_topic(&connector.topic())?;

    progress(&format!("{table}: writing {rows} rows ({shape:?}) into a fresh binlog file, no reader"));
    sql.flush_binary_logs()?;
    let start = sql.position()?;
    let started = std::time::Instant::now();
    match shape {
        Shape::OneTransaction => mysql_workload::insert_in_one_transaction(sql, table, rows)?,
        Shape::RowPerTransaction => mysql_workload::insert_one_row_per_transaction(sql, table, rows)?,
    }
    let write_time = started.elapsed();
    let written = sql.position()?;
    sql.flush_binary_logs()?;
    let end = sql.position()?;
    let binlog_bytes = sql.bytes_between(&start, &written)?;
    let files = sql.files_between(&start, &end)?;
    let decoded = mysql_drain::count_binlog_inserts(ctx.mariadb_binlog, ctx.server, &files, start.pos)?;
    if decoded != rows {
        bail!("mariadb-binlog decodes {decoded} inserted rows from {files:?}, {rows} expected");
    }
    connector.prepare_at(&ctx.up.api, ctx.server, sql, &start)?;

    let reference_before = reference(ctx, table, &files, start.pos)?;
    progress(&format!(
        "{table}: Tidemark reads the binlog from {} {} (GTID {}) into {}",
        start.file,
        start.pos,
        start.gtids,
        connector.topic()
    ));
    let ((tidemark, tidemark_cost), tidemark_server_cpu) = ctx.server_cpu.during(|| {
        ctx.up.profiled(&connector.name, || {
            measured(ctx.up.ticks, Some(ctx.up.pid), || connector.drain(&ctx.up.api, rows))
        })
    })?;
    ctx.up.api.delete(&connector.name)?;
    let reference_after = reference(ctx, table, &files, start.pos)?;
    let in_topic = ctx.up.records_in(&connector.topic())?;
    if in_topic != rows as i64 {
        bail!("{}: {in_topic} records in the topic, {rows} expected", connector.topic());
    }
    Ok(StreamRun {
        shape,
        rows,
        write_time,
        binlog_bytes,
        files,
        reference_before,
        reference_after,
        tidemark,
        tidemark_server_cpu,
        tidemark_cost,
        in_topic,
    })
}

/// Reads `files` from `start` with `mariadb-binlog`.
fn reference(ctx: &MySqlContext<'_>, table: &str, files: &[String], start: u64) -> Result<BinlogRead> {
    progress(&format!("{table}: mariadb-binlog reads {files:?} from {start}"));
    let children_before = crate::server_cpu::reaped_children_secs(ctx.up.ticks)?;
    let ((elapsed, cost), server_cpu) = ctx.server_cpu.during(|| {
        measured(ctx.up.ticks, Some(ctx.up.pid), || {
            mysql_drain::read_binlog(ctx.mariadb_binlog, ctx.server, files, start)
        })
    })?;
    let cpu = crate::server_cpu::reaped_children_secs(ctx.up.ticks)? - children_before;
    Ok(BinlogRead { elapsed, cpu, server_cpu, cost })
}
