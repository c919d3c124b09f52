//! The latency run of the `pg` benchmark: single-row transactions at a fixed rate, paced by the benchmark, through a
//! running connector (JSON values without schemas, so the consumer reads them directly) to a librdkafka consumer
//! of the topic. Each row carries the client's clock when the INSERT was sent; each event carries the
//! transaction's commit time (`source.ts_us`, Postgres's clock, the same machine). Latency = when the consumer
//! had the record, minus either.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};

use crate::cdc_latency::{self, now_us, Percentiles, Read, DRAIN_TIMEOUT, WARMUP};
use crate::pg::PgContext;
use crate::pg_drain::{self, PgConnector};
use crate::pg_workload;
use crate::run::{progress, Cost};

/// The latency run.
#[derive(Debug, Clone)]
pub struct LatencyRun {
    /// Transactions per second asked for.
    pub rate: u64,
    /// Measured transactions (after the warm-up).
    pub measured: u64,
    /// Transactions per second achieved by the pacer over the measured ones.
    pub achieved_rate: f64,
    /// Commit (`source.ts_us`) to the consumer having the record.
    pub from_commit: Percentiles,
    /// The client's send (before the INSERT) to the consumer having the record.
    pub from_send: Percentiles,
    /// Commit to the record's timestamp (stamped by the log when the worker produced it; milliseconds): the
    /// source's share of the latency.
    pub commit_to_append: Percentiles,
    /// The INSERT's round trip at the client (autocommit: the commit included).
    pub insert_round_trip: Percentiles,
    /// WAL written during the run.
    pub wal_bytes: u64,
    /// The phase cost.
    pub cost: Cost,
}

/// Runs `rate` single-row transactions per second for `secs` seconds (after a warm-up) into a fresh `table`.
pub fn run(ctx: &PgContext<'_>, table: &str, rate: u64, secs: u64) -> Result<LatencyRun> {
    let sql = ctx.sql;
    pg_workload::create_latency_table(sql, table)?;
    let connector = PgConnector {
        name: format!("bench-{table}"),
        prefix: format!("bench_{table}"),
        slot: format!("{table}_tm"),
        table: table.to_owned(),
        snapshot_mode: "no_data",
        extra: vec![
            ("value.converter", "org.apache.kafka.connect.json.JsonConverter".to_owned()),
            ("value.converter.schemas.enable", "false".to_owned()),
        ],
    };
    let topic = connector.topic();
    ctx.up.create_topic(&topic)?;
    ctx.up.api.create(&connector.name, &connector.config(ctx.server))?;
    pg_drain::wait_streaming(&ctx.up.api, sql, &connector)?;

    let total = WARMUP + rate * secs;
    progress(&format!("{table}: {total} single-row transactions at {rate}/s ({WARMUP} warm-up), consumer on {topic}"));
    let received = Arc::new(AtomicU64::new(0));
    let client_id = "tidemark-bench-pg-latency";
    let consumer =
        cdc_latency::spawn_consumer(&ctx.up.bootstrap, &topic, client_id, total, Arc::clone(&received), sample)?;
    let start_lsn = sql.current_lsn()?;
    let insert = sql.prepare(&format!("INSERT INTO {table} VALUES ($1, $2, 'latency probe')"))?;
    let send = |id: i64| sql.run(&insert, &[&id, &now_us()]).map(drop);
    // The warm-up rows at the same rate, and every one of them read back, before the measured rows start.
    cdc_latency::pace(1..=WARMUP as i64, rate, send)?;
    cdc_latency::wait_received(&received, WARMUP).context("the warm-up records")?;
    let (result, cost) = crate::run::measured(ctx.up.ticks, Some(ctx.up.pid), || {
        let paced = cdc_latency::pace(WARMUP as i64 + 1..=total as i64, rate, send)?;
        let samples = consumer.join().map_err(|_| anyhow::anyhow!("the consumer thread panicked"))??;
        Ok((paced, samples))
    })?;
    let (paced, samples) = result;
    let wal_bytes = sql.wal_bytes(&start_lsn, &sql.current_lsn()?)?;
    ctx.up.api.delete(&connector.name)?;
    sql.drop_slot(&connector.slot)?;
    let got = received.load(Ordering::Relaxed);
    if got < total {
        bail!("the consumer read {got} of {total} records within {DRAIN_TIMEOUT:?} of the last INSERT");
    }
    let from_commit = samples.iter().map(|s| s.from_commit).collect();
    let from_send = samples.iter().map(|s| s.from_send).collect();
    let commit_to_append = samples.iter().map(|s| s.commit_to_append).collect();
    Ok(LatencyRun {
        rate,
        measured: total - WARMUP,
        achieved_rate: paced.achieved,
        from_commit: Percentiles::of(from_commit),
        from_send: Percentiles::of(from_send),
        commit_to_append: Percentiles::of(commit_to_append),
        insert_round_trip: Percentiles::of(paced.round_trips),
        wal_bytes,
        cost,
    })
}

/// One measured record, in microseconds.
#[derive(Debug, Clone, Copy)]
struct Sample {
    from_commit: i64,
    from_send: i64,
    commit_to_append: i64,
}

/// The sample of a measured record: the event's commit time (`source.ts_us`, Postgres's clock) and the client's
/// clock before the INSERT (`after.sent_us`) against the consumer's clock; `None` for a warm-up row.
fn sample(read: Read<'_>) -> Result<Option<Sample>> {
    let value = read.value;
    let id = value["after"]["id"].as_i64().context("no after.id in the value")?;
    if id as u64 <= WARMUP {
        return Ok(None);
    }
    let sent_us = value["after"]["sent_us"].as_i64().context("no after.sent_us in the value")?;
    let commit_us = value["source"]["ts_us"].as_i64().context("no source.ts_us in the value")?;
    Ok(Some(Sample {
        from_commit: read.read_us - commit_us,
        from_send: read.read_us - sent_us,
        commit_to_append: read.append_us - commit_us,
    }))
}
