//! What the latency runs of the database-source benchmarks (`pg`, `mysql`) share: single-row transactions paced at
//! a fixed rate by the benchmark ([`pace`]), a librdkafka consumer of the table's topic on its own thread that
//! turns each record into a sample ([`spawn_consumer`]), and percentiles of the samples ([`Percentiles`]).

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

/// Rows sent before the measured ones (connections warm, first schemas cached), all read back by the consumer
/// before the measured rows start; not counted. Their ids are 1..=`WARMUP`.
pub const WARMUP: u64 = 200;
/// How long the consumer waits for the last records after the last transaction.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

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

/// Microseconds since the Unix epoch.
pub fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// What the pacer saw of the rows it sent, in the order of their ids.
#[derive(Debug, Clone, Default)]
pub struct Paced {
    /// Each transaction's round trip at the client (the commit included), microseconds.
    pub round_trips: Vec<i64>,
    /// When each transaction's commit was acknowledged to the client, microseconds since the Unix epoch.
    pub acked_us: Vec<i64>,
    /// Transactions per second achieved.
    pub achieved: f64,
}

/// Runs `send` for each of `ids` at `rate` per second (each due at a fixed time from the first; a late one goes
/// at once); `send` commits one transaction for the row with that id.
pub fn pace(ids: RangeInclusive<i64>, rate: u64, mut send: impl FnMut(i64) -> Result<()>) -> Result<Paced> {
    let first = *ids.start();
    let count = ids.clone().count();
    let mut paced =
        Paced { round_trips: Vec::with_capacity(count), acked_us: Vec::with_capacity(count), achieved: 0.0 };
    let start = Instant::now();
    for id in ids {
        let due = start + Duration::from_secs_f64((id - first) as f64 / rate as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let sent = Instant::now();
        send(id)?;
        paced.round_trips.push(sent.elapsed().as_micros() as i64);
        paced.acked_us.push(now_us());
    }
    paced.achieved = paced.round_trips.len() as f64 / start.elapsed().as_secs_f64();
    Ok(paced)
}

/// Waits until the consumer has read `count` records, or fails after [`DRAIN_TIMEOUT`].
pub fn wait_received(received: &AtomicU64, count: u64) -> Result<()> {
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    while received.load(Ordering::Relaxed) < count {
        if Instant::now() > deadline {
            bail!("the consumer read {} of {count} records within {DRAIN_TIMEOUT:?}", received.load(Ordering::Relaxed));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// One record as the latency consumer read it.
#[derive(Debug)]
pub struct Read<'a> {
    /// The record's value, parsed as JSON (the runs use the JSON converter without schemas for values).
    pub value: &'a Value,
    /// The consumer's clock when `poll` returned the record, microseconds since the Unix epoch.
    pub read_us: i64,
    /// The record's timestamp (stamped by the log when the worker produced it; millisecond resolution), in
    /// microseconds since the Unix epoch.
    pub append_us: i64,
}

/// A consumer of `topic` (assigned from its start, no group) on its own thread, until it has read `total`
/// records or [`DRAIN_TIMEOUT`] passes without a record; `received` counts the records read. Answers what `sample`
/// makes of each record (`None` leaves it out, e.g. a warm-up row).
pub fn spawn_consumer<S: Send + 'static>(
    bootstrap: &str,
    topic: &str,
    client_id: &str,
    total: u64,
    received: Arc<AtomicU64>,
    sample: impl Fn(Read<'_>) -> Result<Option<S>> + Send + 'static,
) -> Result<std::thread::JoinHandle<Result<Vec<S>>>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("client.id", client_id)
        .set("group.id", client_id)
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
            let append_us = message.timestamp().to_millis().unwrap_or(0) * 1000;
            if let Some(sample) = sample(Read { value: &value, read_us, append_us })? {
                samples.push(sample);
            }
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
