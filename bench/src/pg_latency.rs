//! The latency run of the `pg` benchmark: single-row transactions at a fixed rate, paced by the benchmark, through a
//! running connector (JSON values without schemas, so the consumer reads them directly) to a librdkafka consumer
//! of the topic. Each row carries the client's clock when the INSERT was sent; each event carries the
//! transaction's commit time (`source.ts_us`, Postgres's clock, the same machine). Latency = when the consumer
//! had the record, minus either.

use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use serde_json::Value;
use tokio_postgres::Statement;

use crate::pg::PgContext;
use crate::pg_drain::{self, PgConnector};
use crate::pg_sql::Sql;
use crate::pg_workload;
use crate::run::{progress, Cost};

/// Rows sent before the measured ones (connections warm, first schemas cached), all read back by the consumer
/// before the measured rows start; not counted.
const WARMUP: u64 = 200;
/// How long the consumer waits for the last records after the last INSERT.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Latency percentiles of one measure.
#[derive(Debug, Clone, Copy, Default)]
pub struct Percentiles {
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Largest.
    pub max: Duration,
}

impl Percentiles {
    /// Percentiles of microsecond samples (sorted here); negative samples count as zero.
    pub fn of(mut samples: Vec<i64>) -> Self {
        samples.sort_unstable();
        let at = |q: f64| -> Duration {
            let index = ((samples.len() as f64 * q).ceil() as usize).saturating_sub(1);
            Duration::from_micros(samples.get(index).copied().unwrap_or(0).max(0) as u64)
        };
        Self { p50: at(0.50), p99: at(0.99), max: at(1.0) }
    }
}

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

/// Microseconds since the Unix epoch.
fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
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
    ctx.create_topic(&topic)?;
    ctx.api.create(&connector.name, &connector.config(ctx.server))?;
    pg_drain::wait_streaming(ctx.api, sql, &connector)?;

    let total = WARMUP + rate * secs;
    progress(&format!("{table}: {total} single-row transactions at {rate}/s ({WARMUP} warm-up), consumer on {topic}"));
    let received = Arc::new(AtomicU64::new(0));
    let consumer = spawn_consumer(&ctx.bootstrap, &topic, total, Arc::clone(&received))?;
    let start_lsn = sql.current_lsn()?;
    let insert = sql.prepare(&format!("INSERT INTO {table} VALUES ($1, $2, 'latency probe')"))?;
    // The warm-up rows at the same rate, and every one of them read back, before the measured rows start.
    pace(sql, &insert, 1..=WARMUP as i64, rate)?;
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    while received.load(Ordering::Relaxed) < WARMUP {
        if Instant::now() > deadline {
            bail!("the consumer did not read the {WARMUP} warm-up records within {DRAIN_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let (result, cost) = crate::run::measured(ctx.ticks, Some(ctx.up_pid), || {
        let (round_trips, achieved_rate) = pace(sql, &insert, WARMUP as i64 + 1..=total as i64, rate)?;
        let samples = consumer.join().map_err(|_| anyhow::anyhow!("the consumer thread panicked"))??;
        Ok((round_trips, achieved_rate, samples))
    })?;
    let (round_trips, achieved_rate, samples) = result;
    let wal_bytes = sql.wal_bytes(&start_lsn, &sql.current_lsn()?)?;
    ctx.api.delete(&connector.name)?;
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
        achieved_rate,
        from_commit: Percentiles::of(from_commit),
        from_send: Percentiles::of(from_send),
        commit_to_append: Percentiles::of(commit_to_append),
        insert_round_trip: Percentiles::of(round_trips),
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

/// Inserts the rows `ids` at `rate` per second (each due at a fixed time from the first; a late one goes at once);
/// answers each INSERT's round trip in microseconds and the rate achieved.
fn pace(sql: &Sql, insert: &Statement, ids: RangeInclusive<i64>, rate: u64) -> Result<(Vec<i64>, f64)> {
    let first = *ids.start();
    let mut round_trips = Vec::with_capacity(ids.clone().count());
    let start = Instant::now();
    for id in ids {
        let due = start + Duration::from_secs_f64((id - first) as f64 / rate as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let sent = Instant::now();
        sql.run(insert, &[&id, &now_us()])?;
        round_trips.push(sent.elapsed().as_micros() as i64);
    }
    let achieved = round_trips.len() as f64 / start.elapsed().as_secs_f64();
    Ok((round_trips, achieved))
}

/// A consumer of `topic` (assigned from its start, no group) on its own thread, until it has read `total`
/// records or [`DRAIN_TIMEOUT`] passes without a record; answers a [`Sample`] for each measured record.
fn spawn_consumer(
    bootstrap: &str,
    topic: &str,
    total: u64,
    received: Arc<AtomicU64>,
) -> Result<std::thread::JoinHandle<Result<Vec<Sample>>>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("client.id", "tidemark-bench-pg-latency")
        .set("group.id", "tidemark-bench-pg-latency")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .set("fetch.wait.max.ms", "100")
        .set("fetch.queue.backoff.ms", "0")
        .create()
        .context("creating the latency consumer")?;
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(topic, 0, Offset::Beginning).context("building the assignment")?;
    consumer.assign(&assignment).context("assigning the topic")?;
    Ok(std::thread::spawn(move || {
        let mut samples = Vec::with_capacity(total as usize);
        let mut last_record = Instant::now();
        while received.load(Ordering::Relaxed) < total {
            let Some(message) = consumer.poll(Duration::from_millis(100)) else {
                if last_record.elapsed() > DRAIN_TIMEOUT {
                    break;
                }
                continue;
            };
            let read_us = now_us();
            let message = message.context("consuming")?;
            last_record = Instant::now();
            received.fetch_add(1, Ordering::Relaxed);
            let value: Value = serde_json::from_slice(message.payload().unwrap_or_default())
                .context("the record's value is not JSON")?;
            let id = value["after"]["id"].as_i64().context("no after.id in the value")?;
            if id as u64 <= WARMUP {
                continue;
            }
            let sent_us = value["after"]["sent_us"].as_i64().context("no after.sent_us in the value")?;
            let commit_us = value["source"]["ts_us"].as_i64().context("no source.ts_us in the value")?;
            let append_us = message.timestamp().to_millis().unwrap_or(0) * 1000;
            samples.push(Sample {
                from_commit: read_us - commit_us,
                from_send: read_us - sent_us,
                commit_to_append: append_us - commit_us,
            });
        }
        Ok(samples)
    }))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Percentiles;

    #[test]
    fn percentiles_by_rank() {
        let p = Percentiles::of((1..=100).rev().collect());
        assert_eq!(p.p50, Duration::from_micros(50));
        assert_eq!(p.p99, Duration::from_micros(99));
        assert_eq!(p.max, Duration::from_micros(100));
        let p = Percentiles::of(vec![-5, 3]);
        assert_eq!((p.p50, p.max), (Duration::ZERO, Duration::from_micros(3)));
        assert_eq!(Percentiles::of(Vec::new()).max, Duration::ZERO);
    }
}
