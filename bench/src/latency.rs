//! Produce latency at a fixed rate: send → delivery report, per record.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use rdkafka::producer::Producer;

use crate::produce::{await_deliveries, payload, producer, send, wait_for_topic};
use crate::stats::ClientStats;

/// Records sent and flushed before measuring, to open connections and learn the partition leader.
const WARMUP_RECORDS: u64 = 100;

/// The outcome of a latency run.
#[derive(Debug, Clone)]
pub struct Latency {
    /// Records measured.
    pub records: u64,
    /// Achieved send rate, records per second.
    pub achieved_rate: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Largest latency.
    pub max: Duration,
    /// librdkafka statistics of the run.
    pub stats: ClientStats,
}

/// Sends `rate` records of `size` bytes per second for `secs` seconds, each at its scheduled time, and
/// measures every record's send → delivery-report latency.
pub fn fixed_rate(bootstrap: &str, topic: &str, size: usize, rate: u64, secs: u64) -> Result<Latency> {
    let producer = producer(bootstrap, true)?;
    wait_for_topic(&producer, topic)?;
    let payload = payload(size);
    let context = producer.context().clone();
    for _ in 0..WARMUP_RECORDS {
        send(&producer, topic, &payload, context.now_ns())?;
    }
    await_deliveries(&producer, WARMUP_RECORDS)?;
    context.take_latencies();

    let total = rate * secs;
    let interval = Duration::from_secs(1).div_f64(rate as f64);
    let start = Instant::now();
    for i in 0..total {
        let due = start + interval.mul_f64(i as f64);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        send(&producer, topic, &payload, context.now_ns())?;
    }
    let send_secs = start.elapsed().as_secs_f64();
    await_deliveries(&producer, WARMUP_RECORDS + total)?;
    let mut latencies = context.take_latencies();
    if latencies.len() as u64 != total {
        bail!("recorded {} latencies for {total} records", latencies.len());
    }
    latencies.sort_unstable();
    let at = |q: f64| Duration::from_nanos(latencies[((latencies.len() - 1) as f64 * q).round() as usize]);
    Ok(Latency {
        records: total,
        achieved_rate: total as f64 / send_secs,
        p50: at(0.50),
        p99: at(0.99),
        max: at(1.0),
        stats: context.collector().stats(),
    })
}
