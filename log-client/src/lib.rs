//! The log client interface (DESIGN.md §1): the one way the schema registry and the connect worker read and write
//! the log, with two implementations — in process (calls into a [`tidemark_broker::Broker`] in the same process)
//! and the Kafka protocol over TCP (librdkafka), so both run unchanged against a Tidemark cluster, Apache Kafka or
//! Redpanda.
//!
//! - [`InProcessLog`] (`in_process`): appends and reads through the broker's own partition logs.
//! - [`KafkaLog`] (`kafka`): an rdkafka admin client, one idempotent producer and a consumer per reader.
//! - [`GroupConsumer`] (`group`): reading topics as a member of a consumer group (classic protocol), as sink
//!   connectors do: partitions shared among the members, committed offsets kept by the group. In process it drives
//!   the broker's group coordinator directly; over the Kafka protocol it is a librdkafka consumer.
//!   [`LogClient::group_offsets`] and [`LogClient::alter_group_offsets`] read and change a group's committed
//!   offsets (Kafka Connect's KIP-875 offsets endpoints for sinks).
//! - [`Mirror`]: a topic replayed into memory and followed, with writes that wait to be read back.
//! - [`partition_for_key`]: Kafka's murmur2 partitioner, which both use for keyed records without a partition.
//!
//! Both pass the same contract suites (`tests/contract.rs`, `tests/group_contract.rs`).
#![forbid(unsafe_code)]

mod group;
mod in_process;
mod kafka;
mod mirror;
mod partitioner;

pub use group::{GroupConsumer, Subscription, TopicOffset, TopicRecord};
pub use in_process::InProcessLog;
pub use kafka::KafkaLog;
pub use mirror::{Apply, Mirror, MirrorError};
pub use partitioner::partition_for_key;

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use thiserror::Error;

/// A log operation failed.
#[derive(Debug, Error)]
pub enum LogError {
    /// The topic does not exist (and was not created), or has no such partition.
    #[error("unknown topic {0}")]
    UnknownTopic(String),
    /// The log refused or could not take the request; retrying may help.
    #[error("the log is unavailable: {0}")]
    Unavailable(String),
    /// The request was refused for good (invalid record, topic config, ...).
    #[error("the log refused the request: {0}")]
    Refused(String),
    /// A group consumer's commit was refused because the group rebalanced (or is rebalancing) since the consumer
    /// got its partitions: retrying cannot help, the records will be read again by the partitions' new owner.
    #[error("the consumer group rebalanced: {0}")]
    Rebalanced(String),
}

/// A topic a client needs, created with these settings when it is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    /// The topic.
    pub name: String,
    /// Partitions when created.
    pub partitions: i32,
    /// Replication factor when created (-1: the cluster's default).
    pub replication_factor: i16,
    /// Topic configs when created (e.g. `cleanup.policy=compact`).
    pub configs: BTreeMap<String, String>,
}

/// A record to write.
///
/// With `partition: None`, a keyed record goes to [`partition_for_key`] (Kafka's murmur2, as Java clients and
/// librdkafka's `murmur2_random` do), so a key always lands on the same partition whichever client wrote it. Keyless
/// records are spread: [`InProcessLog`] puts the keyless records of one call on one partition, chosen round-robin
/// from call to call; [`KafkaLog`] leaves them to librdkafka (a random partition each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerRecord {
    /// The partition, or `None` for Kafka's murmur2 partitioner over the key.
    pub partition: Option<i32>,
    /// The key.
    pub key: Option<Bytes>,
    /// The value (`None` is a tombstone).
    pub value: Option<Bytes>,
    /// Headers, in order. Keep keys unique: [`InProcessLog`] refuses a repeated key, because the broker's record
    /// model (kafka-protocol's) holds one value per key.
    pub headers: Vec<(String, Option<Bytes>)>,
    /// The timestamp (ms since the epoch), or `None` for the time it is written.
    pub timestamp: Option<i64>,
}

/// Where a written record landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The partition.
    pub partition: i32,
    /// The offset.
    pub offset: i64,
}

/// A record read from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// The partition.
    pub partition: i32,
    /// The offset.
    pub offset: i64,
    /// The record's timestamp (ms since the epoch).
    pub timestamp: i64,
    /// The key.
    pub key: Option<Bytes>,
    /// The value (`None` for a tombstone).
    pub value: Option<Bytes>,
    /// Headers, in order.
    pub headers: Vec<(String, Option<Bytes>)>,
}

/// Reading one partition in offset order.
pub trait PartitionReader: Send {
    /// The next records at or after the reader's position (advancing it), waiting up to `max_wait` when there
    /// are none yet; an empty answer means none arrived in time.
    fn next_records(&mut self, max_wait: Duration) -> BoxFuture<'_, Result<Vec<LogRecord>, LogError>>;
}

/// The log as the registry and the worker see it.
pub trait LogClient: Send + Sync {
    /// Makes sure `spec.name` exists, creating it as specified when missing.
    fn ensure_topic<'a>(&'a self, spec: &'a TopicSpec) -> BoxFuture<'a, Result<(), LogError>>;

    /// Writes the records of one call in order and resolves once the log acknowledged all of them as durable
    /// (`acks=all`), with their positions in the same order.
    fn produce<'a>(
        &'a self,
        topic: &'a str,
        records: Vec<ProducerRecord>,
    ) -> BoxFuture<'a, Result<Vec<Position>, LogError>>;

    /// The end offset (one past the last readable record) of every partition of `topic`, by partition.
    fn end_offsets<'a>(&'a self, topic: &'a str) -> BoxFuture<'a, Result<Vec<i64>, LogError>>;

    /// A reader of `partition` of `topic` from offset `from` (the earliest offset still in the log when `from`
    /// is before it).
    ///
    /// Offsets removed by compaction are skipped, and so are control records. A `from` past the end of the log is
    /// out of range and, as a Kafka consumer with `auto.offset.reset=earliest` does, reads from the earliest offset.
    fn reader(&self, topic: &str, partition: i32, from: i64) -> Result<Box<dyn PartitionReader>, LogError>;

    /// A new member of consumer group `group` reading `subscription`, handing out at most `max_poll_records`
    /// records per [`GroupConsumer::poll`]. It joins the group on its first poll. Refused when `group` is empty,
    /// `max_poll_records` is 0, the subscription names no topic or its pattern is not a valid regular expression.
    fn group_consumer(
        &self,
        group: &str,
        subscription: Subscription,
        max_poll_records: usize,
    ) -> Result<Box<dyn GroupConsumer>, LogError>;

    /// The committed offsets of `group` as (topic, partition, next offset to read), sorted; empty for a group
    /// that does not exist. Internal topics (`__...`) are left out.
    fn group_offsets<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Result<Vec<TopicOffset>, LogError>>;

    /// Sets (`Some(offset)`) or removes (`None`) committed offsets of `group`, which must have no active members
    /// (refused with [`LogError::Refused`] otherwise: a running consumer would overwrite them); resolves once the
    /// change is durable. A partition named twice takes its last entry.
    ///
    /// Removing every offset the group has deletes the group, as Kafka Connect does when a sink's offsets are
    /// reset. [`KafkaLog`] can only remove offsets that way: removing some of a group's offsets, or removing and
    /// setting in one call, is refused (rdkafka 0.39 has no OffsetDelete), while [`InProcessLog`] does both.
    fn alter_group_offsets<'a>(
        &'a self,
        group: &'a str,
        offsets: &'a [(String, i32, Option<i64>)],
    ) -> BoxFuture<'a, Result<(), LogError>>;
}
