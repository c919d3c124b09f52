//! The latency run of the `mysql` benchmark: single-row autocommit INSERTs at a fixed rate, paced by the
//! benchmark, through a running connector (JSON values without schemas, so the consumer reads them directly) to a
//! librdkafka consumer of the topic.
//!
//! The binlog stamps events in whole seconds, so the event's `source.ts_ms` cannot time a commit. The client's
//! clock does: each row carries the clock when its INSERT was sent (`sent_us`), and the pacer notes when the
//! INSERT's commit was acknowledged. Latency = when the consumer had the record, minus either: the commit lies
//! between the two, so "from the acknowledgement" is at most the true commit-to-readable time and "from the send"
//! at least it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};

use crate::cdc_drain;
use crate::cdc_latency::{self, now_us, Percentiles, Read, DRAIN_TIMEOUT, WARMUP};
use crate::mysql::MySqlContext;
use crate::mysql_drain::{self, MySqlConnector};
use crate::mysql_workload::{self, DATABASE};
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
    /// The commit's acknowledgement at the client to the consumer having the record.
    pub from_ack: Percentiles,
    /// The client's send (before the INSERT) to the consumer having the record.
    pub from_send: Percentiles,
    /// The commit's acknowledgement to the record's timestamp (stamped by the log when the worker produced it;
    /// milliseconds): the source's share of the latency.
    pub ack_to_append: Percentiles,
    /// The INSERT's round trip at the client (autocommit: the commit included).
    pub insert_round_trip: Percentiles,
    /// Binlog written during the run.
    pub binlog_bytes: u64,
    /// The worker's batches of the measured transactions (`connect_batch_seconds`: poll to durable): count and
    /// seconds.
    pub batches: (f64, f64),
    /// The phase cost.
    pub cost: Cost,
}

/// One measured record as the consumer saw it, in microseconds since the Unix epoch.
#[derive(Debug, Clone, Copy)]
struct Sample {
    id: i64,
    sent_us: i64,
    read_us: i64,
    append_us: i64,
}

/// Runs `rate` single-row transactions per second for `secs` seconds (after a warm-up) into a fresh `table`.
pub fn run(ctx: &MySqlContext<'_>, table: &str, rate: u64, secs: u64, server_id: u32) -> Result<LatencyRun> {
    let sql = ctx.sql;
    mysql_workload::create_latency_table(sql, table)?;
    let connector = MySqlConnector {
        name: format!("bench-{table}"),
        prefix: format!("bench_{table}"),
        table: table.to_owned(),
        server_id,
        snapshot_mode: "no_data",
        extra: vec![
            ("value.converter", "org.apache.kafka.connect.json.JsonConverter".to_owned()),
            ("value.converter.schemas.enable", "false".to_owned()),
        ],
    };
    let topic = connector.topic();
    ctx.up.create_topic(&topic)?;
    let readers = sql.binlog_readers()?;
    ctx.up.api.create(&connector.name, &connector.config(ctx.server))?;
    // no_data streams from where the binlog stands when the task's reader starts: wait for it before any row.
    mysql_drain::wait_new_binlog_reader(&ctx.up.api, sql, &connector.name, &readers)?;

    let total = WARMUP + rate * secs;
    progress(&format!("{table}: {total} single-row transactions at {rate}/s ({WARMUP} warm-up), consumer on {topic}"));
    let received = Arc::new(AtomicU64::new(0));
    let client_id = "tidemark-bench-mysql-latency";
    let consumer =
        cdc_latency::spawn_consumer(&ctx.up.bootstrap, &topic, client_id, total, Arc::clone(&received), sample)?;
    let start = sql.position()?;
    let insert = sql.prepare(&format!("INSERT INTO {DATABASE}.{table} VALUES (?, ?, 'latency probe')"))?;
    let send = |id: i64| sql.run(&insert, (id, now_us()));
    // The warm-up rows at the same rate, and every one of them read back, before the measured rows start.
    cdc_latency::pace(1..=WARMUP as i64, rate, send)?;
    cdc_latency::wait_received(&received, WARMUP).context("the warm-up records")?;
    let warmup_batches = cdc_drain::batches(&ctx.up.api, &connector.name)?;
    let (result, cost) = crate::run::measured(ctx.up.ticks, Some(ctx.up.pid), || {
        let paced = cdc_latency::pace(WARMUP as i64 + 1..=total as i64, rate, send)?;
        let samples = consumer.join().map_err(|_| anyhow::anyhow!("the consumer thread panicked"))??;
        Ok((paced, samples))
    })?;
    let (paced, samples) = result;
    let binlog_bytes = sql.bytes_between(&start, &sql.position()?)?;
    let all_batches = cdc_drain::batches(&ctx.up.api, &connector.name)?;
    let batches = (all_batches.0 - warmup_batches.0, all_batches.1 - warmup_batches.1);
    ctx.up.api.delete(&connector.name)?;
    let got = received.load(Ordering::Relaxed);
    if got < total {
        bail!("the consumer read {got} of {total} records within {DRAIN_TIMEOUT:?} of the last INSERT");
    }
    let acked = |s: &Sample| -> Result<i64> {
        let index = usize::try_from(s.id - WARMUP as i64 - 1).context("a measured id below the warm-up")?;
        paced.acked_us.get(index).copied().with_context(|| format!("no INSERT of id {}", s.id))
    };
    let (mut from_ack, mut from_send, mut ack_to_append) = (Vec::new(), Vec::new(), Vec::new());
    for s in &samples {
        let ack = acked(s)?;
        from_ack.push(s.read_us - ack);
        from_send.push(s.read_us - s.sent_us);
        ack_to_append.push(s.append_us - ack);
    }
    Ok(LatencyRun {
        rate,
        measured: total - WARMUP,
        achieved_rate: paced.achieved,
        from_ack: Percentiles::of(from_ack),
        from_send: Percentiles::of(from_send),
        ack_to_append: Percentiles::of(ack_to_append),
        insert_round_trip: Percentiles::of(paced.round_trips),
        binlog_bytes,
        batches,
        cost,
    })
}

/// The sample of a measured record; `None` for a warm-up row.
fn sample(read: Read<'_>) -> Result<Option<Sample>> {
    let after = &read.value["after"];
    let id = after["id"].as_i64().context("no after.id in the value")?;
    if id as u64 <= WARMUP {
        return Ok(None);
    }
    let sent_us = after["sent_us"].as_i64().context("no after.sent_us in the value")?;
    Ok(Some(Sample { id, sent_us, read_us: read.read_us, append_us: read.append_us }))
}
