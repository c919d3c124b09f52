//! The streaming runs of the `pg` benchmark: the same WAL drained by `pg_recvlogical` and by Tidemark's Postgres
//! source, one after the other.
//!
//! Method: three pgoutput slots are created on an empty table, the workload is written (one big transaction, or
//! one transaction per row), and only then does each reader start, alone: `pg_recvlogical` to the WAL position
//! after the workload (`--endpos`), timed from its start to its exit; then a connector on the second slot
//! (`snapshot.mode=no_data`: it streams from the slot's position), timed from its creation to the moment the
//! worker's metrics show every row written durably to the table's topic as Avro; then `pg_recvlogical` again on
//! the third slot. The reference is the mean of its two runs, so that drift of the machine during the run shows.
//! Both clocks include connecting; all readers decode the same WAL, already written and in the page cache.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::cdc_drain::Drained;
use crate::pg::PgContext;
use crate::pg_drain::{self, PgConnector};
use crate::pg_recv;
use crate::pg_workload::{self, PUBLICATION};
use crate::run::{measured, progress, Cost};

/// How the rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `INSERT ... SELECT generate_series`: one transaction.
    OneTransaction,
    /// A procedure committing after each row.
    RowPerTransaction,
}

/// One drain by `pg_recvlogical`.
#[derive(Debug, Clone)]
pub struct RecvRun {
    /// Its wall time.
    pub elapsed: Duration,
    /// Its CPU seconds.
    pub cpu: f64,
    /// Postgres's CPU seconds meanwhile (its walsender: decoding).
    pub server_cpu: f64,
    /// The phase cost (Tidemark idle).
    pub cost: Cost,
}

/// A streaming run: the workload and the drains.
#[derive(Debug, Clone)]
pub struct StreamRun {
    /// How the rows were written.
    pub shape: Shape,
    /// Rows written (and records expected).
    pub rows: u64,
    /// How long writing the workload took.
    pub write_time: Duration,
    /// WAL written by the workload.
    pub wal_bytes: u64,
    /// `pg_recvlogical` right before Tidemark.
    pub reference_before: RecvRun,
    /// `pg_recvlogical` right after Tidemark.
    pub reference_after: RecvRun,
    /// Tidemark's drain.
    pub tidemark: Drained,
    /// Postgres's CPU seconds while Tidemark drained.
    pub tidemark_server_cpu: f64,
    /// The phase cost of Tidemark's drain (`tidemark up`'s CPU, storage writes).
    pub tidemark_cost: Cost,
    /// Records in the topic afterwards (its high watermark).
    pub in_topic: i64,
}

impl StreamRun {
    /// The reference: rows per second of the mean of `pg_recvlogical`'s two times.
    pub fn reference_per_s(&self) -> f64 {
        let mean = (self.reference_before.elapsed + self.reference_after.elapsed).as_secs_f64() / 2.0;
        self.rows as f64 / mean
    }
}

/// Writes `rows` rows shaped as `shape` into a fresh `table`, then drains them with both readers.
pub fn run(ctx: &PgContext<'_>, shape: Shape, table: &str, rows: u64) -> Result<StreamRun> {
    let sql = ctx.sql;
    let (before_slot, tidemark_slot, after_slot) =
        (format!("{table}_ref1"), format!("{table}_tm"), format!("{table}_ref2"));
    let slots = [&before_slot, &tidemark_slot, &after_slot];
    pg_workload::create_table(sql, table)?;
    for slot in slots {
        sql.create_slot(slot)?;
    }
    let connector = PgConnector {
        name: format!("bench-{table}"),
        prefix: format!("bench_{table}"),
        slot: tidemark_slot.clone(),
        table: table.to_owned(),
        snapshot_mode: "no_data",
        extra: Vec::new(),
    };
    ctx.up.create_topic(&connector.topic())?;

    progress(&format!("{table}: writing {rows} rows ({shape:?}), the slots exist, no reader"));
    let start_lsn = sql.current_lsn()?;
    let started = Instant::now();
    match shape {
        Shape::OneTransaction => pg_workload::insert_in_one_transaction(sql, table, rows)?,
        Shape::RowPerTransaction => pg_workload::insert_one_row_per_transaction(sql, table, rows)?,
    }
    let write_time = started.elapsed();
    let end_lsn = sql.current_lsn()?;
    let wal_bytes = sql.wal_bytes(&start_lsn, &end_lsn)?;
    sql.execute("CHECKPOINT")?;

    let reference_before = recv(ctx, table, &before_slot, &end_lsn)?;

    progress(&format!("{table}: Tidemark drains slot {tidemark_slot} into {}", connector.topic()));
    let ((tidemark, tidemark_cost), tidemark_server_cpu) = ctx.server_cpu.during(|| {
        ctx.up.profiled(&connector.name, || {
            measured(ctx.up.ticks, Some(ctx.up.pid), || {
                pg_drain::run_until_written(&ctx.up.api, ctx.server, &connector, rows)
            })
        })
    })?;
    ctx.up.api.delete(&connector.name)?;
    let reference_after = recv(ctx, table, &after_slot, &end_lsn)?;
    for slot in slots {
        sql.drop_slot(slot)?;
    }
    let in_topic = ctx.up.records_in(&connector.topic())?;
    if in_topic != rows as i64 {
        bail!("{}: {in_topic} records in the topic, {rows} expected", connector.topic());
    }
    Ok(StreamRun {
        shape,
        rows,
        write_time,
        wal_bytes,
        reference_before,
        reference_after,
        tidemark,
        tidemark_server_cpu,
        tidemark_cost,
        in_topic,
    })
}

/// Drains `slot` of `table`'s workload with `pg_recvlogical` to `end_lsn`.
fn recv(ctx: &PgContext<'_>, table: &str, slot: &str, end_lsn: &str) -> Result<RecvRun> {
    progress(&format!("{table}: pg_recvlogical drains slot {slot} to {end_lsn}"));
    let children_before = crate::server_cpu::reaped_children_secs(ctx.up.ticks)?;
    let ((elapsed, cost), server_cpu) = ctx.server_cpu.during(|| {
        measured(ctx.up.ticks, Some(ctx.up.pid), || {
            pg_recv::drain(ctx.pg_recvlogical, ctx.server, slot, PUBLICATION, end_lsn)
        })
    })?;
    let cpu = crate::server_cpu::reaped_children_secs(ctx.up.ticks)? - children_before;
    Ok(RecvRun { elapsed, cpu, server_cpu, cost })
}
