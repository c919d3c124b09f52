//! Producer runs: the librdkafka producer, its delivery-report context, and the throughput run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::message::{DeliveryResult, Message};
use rdkafka::producer::{BaseRecord, Producer, ProducerContext, ThreadedProducer};
use rdkafka::statistics::Statistics;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientContext;

use crate::stats::{ClientStats, Collector, STATS_INTERVAL_MS};

/// The librdkafka producer every run uses.
pub type BenchProducer = ThreadedProducer<Deliveries>;

/// Counts delivery reports; optionally records each record's send and delivery times.
///
/// Each record's delivery opaque is its send time in nanoseconds since [`Deliveries::base`].
#[derive(Debug)]
pub struct Deliveries {
    base: Instant,
    ok: AtomicU64,
    failed: AtomicU64,
    first_failure: Mutex<Option<String>>,
    /// Nanoseconds since `base` of the latest delivery report.
    last_ns: AtomicU64,
    /// (sent, delivered) in nanoseconds since `base` of each successful delivery, when recording.
    times_ns: Option<Mutex<Vec<(u64, u64)>>>,
    collector: Collector,
}

impl Deliveries {
    /// A context; `record_times` keeps every delivered record's send and delivery times.
    pub fn new(record_times: bool) -> Self {
        Self {
            base: Instant::now(),
            ok: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            first_failure: Mutex::new(None),
            last_ns: AtomicU64::new(0),
            times_ns: record_times.then(|| Mutex::new(Vec::new())),
            collector: Collector::default(),
        }
    }

    /// Nanoseconds since `base`, the unit of delivery opaques.
    pub fn now_ns(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Delivery reports received so far (successful, failed).
    pub fn counts(&self) -> (u64, u64) {
        (self.ok.load(Ordering::Acquire), self.failed.load(Ordering::Acquire))
    }

    /// The first failed delivery, if any.
    pub fn first_failure(&self) -> Option<String> {
        self.first_failure.lock().ok().and_then(|f| f.clone())
    }

    /// When the latest delivery report arrived, in nanoseconds since `base`.
    pub fn last_delivery_ns(&self) -> u64 {
        self.last_ns.load(Ordering::Acquire)
    }

    /// Takes the recorded send → delivery latencies in nanoseconds, leaving an empty list.
    pub fn take_latencies(&self) -> Vec<u64> {
        match &self.times_ns {
            Some(list) => list
                .lock()
                .map(|mut l| l.drain(..).map(|(sent, delivered)| delivered.saturating_sub(sent)).collect())
                .unwrap_or_default(),
            None => Vec::new(),
        }
    }

    /// The earliest successful delivery report of a record sent at or after `sent_ns`, in nanoseconds since
    /// `base`; `None` while there is none (or when not recording).
    pub fn first_delivery_of_sent_since(&self, sent_ns: u64) -> Option<u64> {
        let list = self.times_ns.as_ref()?.lock().ok()?;
        list.iter().filter(|(sent, _)| *sent >= sent_ns).map(|(_, delivered)| *delivered).min()
    }

    /// Client statistics and errors.
    pub fn collector(&self) -> &Collector {
        &self.collector
    }
}

impl ClientContext for Deliveries {
    fn stats(&self, statistics: Statistics) {
        self.collector.on_stats(&statistics);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.collector.on_error(&error, reason);
    }
}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, sent_ns: usize) {
        let now = self.now_ns();
        match result {
            Ok(_) => {
                if let Some(list) = &self.times_ns {
                    if let Ok(mut list) = list.lock() {
                        list.push((sent_ns as u64, now));
                    }
                }
                self.last_ns.fetch_max(now, Ordering::AcqRel);
                self.ok.fetch_add(1, Ordering::AcqRel);
            }
            Err((error, message)) => {
                if let Ok(mut first) = self.first_failure.lock() {
                    first.get_or_insert_with(|| format!("{error} (topic {})", message.topic()));
                }
                self.failed.fetch_add(1, Ordering::AcqRel);
            }
        }
    }
}

/// Creates the benchmark producer: `acks=all`, `linger.ms=5`, no idempotence, no compression, the
/// librdkafka defaults for everything else; `record_times` keeps each record's send and delivery times.
pub fn producer(bootstrap: &str, record_times: bool) -> Result<BenchProducer> {
    producer_with(bootstrap, record_times, &[])
}

/// [`producer`] with the librdkafka properties `extra` set on top (e.g. `security.protocol` and the SASL and TLS
/// settings of a secured listener).
pub fn producer_with(bootstrap: &str, record_times: bool, extra: &[(&str, &str)]) -> Result<BenchProducer> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("client.id", "tidemark-bench")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("enable.idempotence", "false")
        .set("compression.type", "none")
        .set("statistics.interval.ms", STATS_INTERVAL_MS);
    for (key, value) in extra {
        config.set(*key, *value);
    }
    config.create_with_context(Deliveries::new(record_times)).context("creating the producer")
}

/// Waits until the topic's partition 0 has a leader (the first metadata request auto-creates it) and
/// returns the topic's partition count.
pub fn wait_for_topic(producer: &BenchProducer, topic: &str) -> Result<usize> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let metadata = producer.client().fetch_metadata(Some(topic), Duration::from_secs(5));
        if let Ok(metadata) = &metadata {
            if let Some(t) = metadata.topics().iter().find(|t| t.name() == topic) {
                if t.error().is_none() && t.partitions().first().is_some_and(|p| p.leader() >= 0) {
                    return Ok(t.partitions().len());
                }
            }
        }
        if Instant::now() > deadline {
            bail!("topic {topic} has no leader after 30 s (last metadata: {metadata:?})");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A record payload of `size` pseudo-random bytes.
pub fn payload(size: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..size)
        .map(|_| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 56) as u8
        })
        .collect()
}

/// Enqueues one record, waiting while the producer's queue is full; `sent_ns` is its delivery opaque.
pub fn send(producer: &BenchProducer, topic: &str, payload: &[u8], sent_ns: u64) -> Result<()> {
    enqueue(producer, BaseRecord::with_opaque_to(topic, sent_ns as usize).payload(payload))
}

/// Enqueues `record`, waiting while the producer's queue is full.
pub fn enqueue(producer: &BenchProducer, mut record: BaseRecord<'_, [u8], [u8], usize>) -> Result<()> {
    loop {
        match producer.send::<[u8], [u8]>(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                std::thread::sleep(Duration::from_micros(200));
            }
            Err((error, _)) => return Err(error).context("enqueueing a record"),
        }
    }
}

/// Flushes and waits until every one of `sent` records has a delivery report; fails on any failed one.
pub fn await_deliveries(producer: &BenchProducer, sent: u64) -> Result<()> {
    producer.flush(Duration::from_secs(300)).context("flushing the producer")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (ok, failed) = producer.context().counts();
        if failed > 0 {
            let first = producer.context().first_failure().unwrap_or_default();
            bail!("{failed} of {sent} records failed; first: {first}");
        }
        if ok >= sent {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("only {ok} of {sent} delivery reports 60 s after flush");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The outcome of a throughput run.
#[derive(Debug, Clone)]
pub struct Throughput {
    /// Records delivered.
    pub records: u64,
    /// Payload bytes delivered.
    pub bytes: u64,
    /// First send → last delivery report.
    pub elapsed: Duration,
    /// librdkafka statistics of the run.
    pub stats: ClientStats,
}

impl Throughput {
    /// Payload megabytes (10^6 bytes) per second.
    pub fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64()
    }

    /// Records per second.
    pub fn records_per_s(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64()
    }
}

/// Produces `records` records of `size` bytes to partition-agnostic `topic` as fast as the producer allows.
pub fn throughput(bootstrap: &str, topic: &str, size: usize, records: u64) -> Result<Throughput> {
    throughput_with(bootstrap, &[], topic, size, records)
}

/// [`throughput`] with a producer that has the librdkafka properties `extra` on top ([`producer_with`]).
pub fn throughput_with(
    bootstrap: &str,
    extra: &[(&str, &str)],
    topic: &str,
    size: usize,
    records: u64,
) -> Result<Throughput> {
    let producer = producer_with(bootstrap, false, extra)?;
    let partitions = wait_for_topic(&producer, topic)?;
    if partitions != 1 {
        bail!("topic {topic} has {partitions} partitions; the benchmark expects 1");
    }
    let payload = payload(size);
    let context = producer.context().clone();
    let start_ns = context.now_ns();
    for _ in 0..records {
        send(&producer, topic, &payload, 0)?;
    }
    await_deliveries(&producer, records)?;
    let elapsed = Duration::from_nanos(context.last_delivery_ns().saturating_sub(start_ns));
    if let (errors @ 1.., Some(first)) = context.collector().errors() {
        eprintln!("  note: {errors} client errors during the run; first: {first}");
    }
    Ok(Throughput { records, bytes: records * size as u64, elapsed, stats: context.collector().stats() })
}
