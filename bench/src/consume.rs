//! Consumer runs: a `BaseConsumer` assigned to partition 0 with an explicit offset, no group protocol.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::stats::{ClientStats, ConsumerStats, STATS_INTERVAL_MS};

/// Give up when no record arrives for this long.
const STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// How the consumer covers the requested volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Read the partition once, from its low watermark to its high watermark.
    Once,
    /// Read from the low to the high watermark, seek back to the low watermark, and repeat until the
    /// requested number of records was read. For the mock cluster, which keeps only the last ~5 MB of a
    /// partition.
    Rewind,
}

/// The outcome of a consumer run.
#[derive(Debug, Clone)]
pub struct Consumed {
    /// Records read.
    pub records: u64,
    /// Payload bytes read.
    pub bytes: u64,
    /// Assign → last record.
    pub wall: Duration,
    /// Time spent streaming: for each pass over the partition, its first record → its last record.
    pub streaming: Duration,
    /// Payload bytes read during `streaming` (all but the first record of each pass).
    pub streaming_bytes: u64,
    /// Records in the partition (high − low watermark).
    pub window_records: u64,
    /// Seeks back to the low watermark ([`Mode::Rewind`]).
    pub rewinds: u64,
    /// librdkafka statistics of the run.
    pub stats: ClientStats,
}

impl Consumed {
    /// Streaming rate: payload megabytes (10^6 bytes) per second within passes, so that the gaps after
    /// seeks of [`Mode::Rewind`] do not count against the mock cluster.
    pub fn mb_per_s(&self) -> f64 {
        self.streaming_bytes as f64 / 1e6 / self.streaming.as_secs_f64()
    }

    /// Records per second while streaming (first record to last record of each pass).
    pub fn records_per_s(&self) -> f64 {
        self.records as f64 / self.streaming.as_secs_f64()
    }
}

/// Reads partition 0 of `topic`: once in [`Mode::Once`] (`records` is then the expected count), or
/// `records` records in [`Mode::Rewind`].
pub fn consume(bootstrap: &str, topic: &str, records: u64, mode: Mode) -> Result<Consumed> {
    consume_with(bootstrap, &[], topic, records, mode)
}

/// [`consume`] with a consumer that has the librdkafka properties `extra` set on top (e.g. `security.protocol` and
/// the SASL and TLS settings of a secured listener).
pub fn consume_with(
    bootstrap: &str,
    extra: &[(&str, &str)],
    topic: &str,
    records: u64,
    mode: Mode,
) -> Result<Consumed> {
    let mut config = ClientConfig::new();
    if mode == Mode::Rewind {
        // After each pass the fetcher sits in a fetch at the high watermark that the broker holds for
        // fetch.wait.max.ms (default 500 ms) before the seek can take effect. Those gaps are excluded from
        // the streaming time anyway; a short wait only keeps the wall time down.
        config.set("fetch.wait.max.ms", "10");
    }
    config
        .set("bootstrap.servers", bootstrap)
        .set("client.id", "tidemark-bench")
        // librdkafka wants a group id for assign(); nothing is committed and no group protocol runs.
        .set("group.id", "tidemark-bench")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        .set("statistics.interval.ms", STATS_INTERVAL_MS);
    for (key, value) in extra {
        config.set(*key, *value);
    }
    let consumer: BaseConsumer<ConsumerStats> =
        config.create_with_context(ConsumerStats::default()).context("creating the consumer")?;
    // Also opens the connection, so the timed part starts with a connected client.
    let (low, high) = consumer.fetch_watermarks(topic, 0, Duration::from_secs(10)).context("fetching watermarks")?;
    let window_records = u64::try_from(high - low).unwrap_or(0);
    if window_records == 0 {
        bail!("{topic}[0] is empty (low {low}, high {high})");
    }
    if mode == Mode::Once && window_records != records {
        bail!("{topic}[0] holds {window_records} records (low {low}, high {high}); {records} were produced");
    }

    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(topic, 0, Offset::Offset(low)).context("building the assignment")?;
    let start = Instant::now();
    consumer.assign(&assignment).context("assigning")?;
    let (mut count, mut bytes, mut rewinds) = (0u64, 0u64, 0u64);
    let (mut streaming, mut streaming_bytes) = (Duration::ZERO, 0u64);
    let mut pass_start: Option<Instant> = None;
    let mut last_record = Instant::now();
    let mut next_offset = low;
    while count < records {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => {
                if message.offset() != next_offset {
                    bail!("expected offset {next_offset}, got {}", message.offset());
                }
                let now = Instant::now();
                let size = message.payload_len() as u64;
                count += 1;
                bytes += size;
                last_record = now;
                next_offset = message.offset() + 1;
                match pass_start {
                    None => pass_start = Some(now),
                    Some(_) => streaming_bytes += size,
                }
                let pass_done = next_offset == high || count == records;
                if pass_done {
                    if let Some(started) = pass_start.take() {
                        streaming += now - started;
                    }
                }
                if pass_done && mode == Mode::Rewind && count < records {
                    consumer
                        .seek(topic, 0, Offset::Offset(low), Duration::from_secs(10))
                        .context("seeking back to the low watermark")?;
                    next_offset = low;
                    rewinds += 1;
                }
            }
            Some(Err(error)) => return Err(error).context("consuming"),
            None if last_record.elapsed() > STALL_TIMEOUT => {
                bail!("no record for {STALL_TIMEOUT:?} after {count} of {records} (next offset {next_offset})")
            }
            None => {}
        }
    }
    Ok(Consumed {
        records: count,
        bytes,
        wall: start.elapsed(),
        streaming,
        streaming_bytes,
        window_records,
        rewinds,
        stats: consumer.context().collector.stats(),
    })
}
