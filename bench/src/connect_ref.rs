//! The `connect` benchmark's reference: librdkafka producing records of the datagen records' size to the same
//! broker with the settings of the worker's librdkafka producer (`KafkaLog`: `acks=all`, `enable.idempotence=true`,
//! other settings librdkafka's defaults), then a librdkafka consumer reading them all back ([`read_partition`], which
//! also measures the datagen records' sizes).

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

use crate::produce::{self, BenchProducer, Deliveries, Throughput};
use crate::stats::{ClientStats, ConsumerStats, STATS_INTERVAL_MS};

/// Give up reading a topic when no record arrives for this long.
const STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The sizes of the records of a topic, as stored (key and value bytes, headers aside).
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordSizes {
    /// Records read.
    pub records: u64,
    /// Key bytes, all records.
    pub key_bytes: u64,
    /// Value bytes, all records.
    pub value_bytes: u64,
    /// Records whose value starts with Confluent's Avro framing (magic byte 0 and a schema id).
    pub avro_values: u64,
    /// The schema id of the first record's value.
    pub first_schema_id: Option<u32>,
}

impl RecordSizes {
    /// Mean key size in bytes.
    pub fn mean_key(&self) -> f64 {
        self.key_bytes as f64 / self.records.max(1) as f64
    }

    /// Mean value size in bytes.
    pub fn mean_value(&self) -> f64 {
        self.value_bytes as f64 / self.records.max(1) as f64
    }

    /// Mean key + value size in bytes.
    pub fn mean_record(&self) -> f64 {
        self.mean_key() + self.mean_value()
    }
}

/// How long librdkafka's fetcher pauses once its queue holds `queued.min.messages` records (default 1000 ms). The
/// default stalls a consumer of small records for a second at a time whenever a few fetches fill the queue; the
/// reference consumer would then measure the pauses rather than the broker.
const FETCH_QUEUE_BACKOFF_MS: &str = "10";

/// A read of a whole partition.
#[derive(Debug, Clone)]
pub struct PartitionRead {
    /// The sizes of the records read.
    pub sizes: RecordSizes,
    /// Assign → last record.
    pub wall: Duration,
    /// librdkafka statistics of the read.
    pub stats: ClientStats,
}

impl PartitionRead {
    /// Records per second, assign → last record.
    pub fn records_per_s(&self) -> f64 {
        self.sizes.records as f64 / self.wall.as_secs_f64()
    }
}

/// Reads the first `records` records of partition 0 of `topic` with a consumer assigned to it (no group protocol,
/// `fetch.queue.backoff.ms=10`, other settings librdkafka's defaults), adding up their sizes.
pub fn read_partition(bootstrap: &str, topic: &str, records: u64) -> Result<PartitionRead> {
    let consumer: BaseConsumer<ConsumerStats> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("client.id", "tidemark-bench-connect-ref")
        // librdkafka wants a group id for assign(); nothing is committed and no group protocol runs.
        .set("group.id", "tidemark-bench")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        .set("fetch.queue.backoff.ms", FETCH_QUEUE_BACKOFF_MS)
        .set("statistics.interval.ms", STATS_INTERVAL_MS)
        .create_with_context(ConsumerStats::default())
        .context("creating the consumer")?;
    // Also opens the connection, so the timed part starts with a connected client.
    let (low, high) = consumer.fetch_watermarks(topic, 0, Duration::from_secs(10)).context("fetching watermarks")?;
    if u64::try_from(high - low).unwrap_or(0) < records {
        bail!("{topic}[0] holds {} records (low {low}, high {high}); expected {records}", high - low);
    }
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(topic, 0, Offset::Offset(low)).context("building the assignment")?;
    let start = Instant::now();
    consumer.assign(&assignment).context("assigning")?;
    let mut sizes = RecordSizes::default();
    let mut last_record = Instant::now();
    while sizes.records < records {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => {
                last_record = Instant::now();
                sizes.records += 1;
                sizes.key_bytes += message.key_len() as u64;
                let value = message.payload().unwrap_or_default();
                sizes.value_bytes += value.len() as u64;
                if let [0, a, b, c, d, ..] = *value {
                    sizes.avro_values += 1;
                    sizes.first_schema_id.get_or_insert(u32::from_be_bytes([a, b, c, d]));
                }
            }
            Some(Err(error)) => return Err(error).with_context(|| format!("reading {topic}")),
            None if last_record.elapsed() > STALL_TIMEOUT => {
                bail!("no record for {STALL_TIMEOUT:?} after {} of {records} in {topic}", sizes.records)
            }
            None => {}
        }
    }
    Ok(PartitionRead { sizes, wall: last_record - start, stats: consumer.context().collector.stats() })
}

/// The reference: produce, then consume, each timed alone.
#[derive(Debug, Clone)]
pub struct Reference {
    /// The produce run: first send → last delivery report.
    pub produce: Throughput,
    /// The consume run.
    pub consume: PartitionRead,
    /// Key size of every record.
    pub key_size: usize,
    /// Value size of every record.
    pub value_size: usize,
}

impl Reference {
    /// Records per second of produce and consume one after the other: records ÷ (produce time + consume time).
    pub fn records_per_s(&self) -> f64 {
        self.produce.records as f64 / (self.produce.elapsed + self.consume.wall).as_secs_f64()
    }

    /// Produce alone, records per second.
    pub fn produce_per_s(&self) -> f64 {
        self.produce.records_per_s()
    }

    /// Consume alone (assign → last record), records per second.
    pub fn consume_per_s(&self) -> f64 {
        self.consume.records_per_s()
    }
}

/// The producer of the worker's `KafkaLog`: `acks=all`, `enable.idempotence=true`, compression none (librdkafka's
/// default, as every other setting).
fn worker_like_producer(bootstrap: &str) -> Result<BenchProducer> {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("client.id", "tidemark-bench-connect-ref")
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("statistics.interval.ms", STATS_INTERVAL_MS)
        .create_with_context(Deliveries::new(false))
        .context("creating the reference producer")
}

/// Produces `records` records with a key of `key_size` and a value of `value_size` bytes to `topic` (one
/// partition), then reads them all back from offset 0 with [`read_partition`].
pub fn run(bootstrap: &str, topic: &str, records: u64, key_size: usize, value_size: usize) -> Result<Reference> {
    let producer = worker_like_producer(bootstrap)?;
    let partitions = produce::wait_for_topic(&producer, topic)?;
    if partitions != 1 {
        bail!("topic {topic} has {partitions} partitions; the benchmark expects 1");
    }
    let key = produce::payload(key_size);
    let value = produce::payload(value_size);
    let context = producer.context().clone();
    let start_ns = context.now_ns();
    for _ in 0..records {
        produce::enqueue(&producer, BaseRecord::with_opaque_to(topic, 0).key(&key[..]).payload(&value[..]))?;
    }
    produce::await_deliveries(&producer, records)?;
    let elapsed = Duration::from_nanos(context.last_delivery_ns().saturating_sub(start_ns));
    if let (errors @ 1.., Some(first)) = context.collector().errors() {
        eprintln!("  note: {errors} client errors during the reference produce run; first: {first}");
    }
    let bytes = records * (key_size + value_size) as u64;
    let produced = Throughput { records, bytes, elapsed, stats: context.collector().stats() };
    drop(producer);
    let consumed = read_partition(bootstrap, topic, records)?;
    Ok(Reference { produce: produced, consume: consumed, key_size, value_size })
}
