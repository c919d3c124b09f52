//! Tidemark's side of the database-source benchmarks (`pg`, `mysql`): a source connector watched through the
//! worker's `/metrics` until it has written the expected records durably.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::connect_api::ConnectApi;

/// Metric: records a source task wrote durably.
const SOURCE_WRITTEN: &str = "connect_source_records_written_total";
/// Metric: source batches (poll to durable), count and sum of seconds.
const BATCH_COUNT: &str = "connect_batch_seconds_count";
const BATCH_SECONDS: &str = "connect_batch_seconds_sum";
/// How often the metrics are scraped.
const WATCH_EVERY: Duration = Duration::from_millis(20);
/// How often the connector's status is checked for a failed task.
const STATUS_EVERY: Duration = Duration::from_secs(1);
/// Give up when nothing moves for this long.
const STALL_TIMEOUT: Duration = Duration::from_secs(120);

/// What one connector run measured, since its clock started (the connector's creation, or its resumption).
#[derive(Debug, Clone, Copy)]
pub struct Drained {
    /// Records expected.
    pub records: u64,
    /// When the metrics first showed every record written durably (scraped every 20 ms).
    pub elapsed: Duration,
    /// When the metrics first showed a record written.
    pub first_written: Option<Duration>,
    /// The worker's source batches (`connect_batch_seconds`: poll to durable) at the end: count and seconds.
    pub batches: (f64, f64),
}

impl Drained {
    /// Records per second over the whole run.
    pub fn records_per_s(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64()
    }

    /// The worker's batches: how many, mean records per batch, mean milliseconds from poll to durable.
    pub fn describe_batches(&self) -> String {
        let (count, seconds) = self.batches;
        format!(
            "{count:.0} worker batches of {:.0} records, {:.2} ms each from poll to durable",
            self.records as f64 / count.max(1.0),
            1000.0 * seconds / count.max(1.0)
        )
    }

    /// Records per second from the first record written to the last (the connector's start-up left out).
    pub fn streaming_per_s(&self) -> Option<f64> {
        let first = self.first_written?;
        let span = self.elapsed.checked_sub(first)?.as_secs_f64();
        (span > 0.0).then(|| self.records as f64 / span)
    }
}

/// The worker's source batches of connector `name` so far (`connect_batch_seconds`: poll to durable): count and
/// seconds.
pub fn batches(api: &ConnectApi, name: &str) -> Result<(f64, f64)> {
    let metrics = api.metrics()?;
    Ok((metrics.of(BATCH_COUNT, name), metrics.of(BATCH_SECONDS, name)))
}

/// Creates connector `name` with `config` and waits until it has written `records` records durably; leaves it
/// running. The clock starts right before the creation.
pub fn run_until_written(api: &ConnectApi, name: &str, config: &[(&str, String)], records: u64) -> Result<Drained> {
    let start = Instant::now();
    api.create(name, config)?;
    watch_until_written(api, name, records, start)
}

/// Waits until connector `name` has written `records` records durably, timing from `start`.
pub fn watch_until_written(api: &ConnectApi, name: &str, records: u64, start: Instant) -> Result<Drained> {
    let (mut first_written, mut progress, mut last_move, mut last_status) = (None, 0.0, start, start);
    loop {
        let metrics = api.metrics()?;
        let written = metrics.of(SOURCE_WRITTEN, name);
        let now = start.elapsed();
        if written > 0.0 && first_written.is_none() {
            first_written = Some(now);
        }
        if written >= records as f64 {
            let batches = (metrics.of(BATCH_COUNT, name), metrics.of(BATCH_SECONDS, name));
            return Ok(Drained { records, elapsed: now, first_written, batches });
        }
        if written > progress {
            (progress, last_move) = (written, Instant::now());
        } else if last_move.elapsed() > STALL_TIMEOUT {
            bail!("connector {name} stalled for {STALL_TIMEOUT:?} at {written} of {records} records written");
        }
        if last_status.elapsed() > STATUS_EVERY {
            api.check_not_failed(name)?;
            last_status = Instant::now();
        }
        std::thread::sleep(WATCH_EVERY);
    }
}
