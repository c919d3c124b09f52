//! The commit log: segmented partition logs on disk (see DESIGN.md §1 and ARCHITECTURE.md).

pub mod atomic_file;
pub mod batch;
pub mod compaction;
pub mod decode;
pub mod encode;
pub mod epoch_checkpoint;
#[cfg(test)]
mod idempotence_tests;
pub mod index;
pub mod partition_log;
pub mod producer_snapshot;
pub mod producer_state;
mod replica;
#[cfg(test)]
mod replication_tests;
pub mod segment;
pub mod topic_config;

use std::sync::Arc;

use thiserror::Error;
use tokio::sync::watch;

pub use partition_log::{AppendInfo, PartitionLog, ReadResult, TimestampedOffset};
pub use producer_state::ProducerStateError;
pub use topic_config::{ConfigError, ConfigOrigin, TopicConfig};

/// A storage operation failed.
#[derive(Debug, Error)]
pub enum StorageError {
    /// The disk refused a read or write.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A produced batch is malformed or corrupt.
    #[error("invalid record batch: {0}")]
    InvalidBatch(#[from] batch::BatchError),
    /// A produce request carried more or less than exactly one batch for a partition.
    #[error("a produce request must carry exactly one record batch per partition")]
    NotOneBatch,
    /// A batch is larger than the topic's `max.message.bytes`.
    #[error("record batch of {size} bytes exceeds max.message.bytes {max}")]
    RecordTooLarge {
        /// Batch size.
        size: usize,
        /// The topic's limit.
        max: usize,
    },
    /// A read asked for an offset outside the log.
    #[error("offset {offset} is outside the log [{log_start_offset}, {high_watermark}]")]
    OffsetOutOfRange {
        /// Requested offset.
        offset: i64,
        /// First offset in the log.
        log_start_offset: i64,
        /// High watermark.
        high_watermark: i64,
    },
    /// A stored batch could not be decoded while searching records.
    #[error("stored batch could not be decoded: {0}")]
    Decode(String),
    /// Records could not be encoded into a batch.
    #[error("records could not be encoded: {0}")]
    Encode(String),
    /// A produced record has no key but the topic is compacted (Kafka's message, word for word).
    #[error("Compacted topic cannot accept message without key")]
    KeylessRecord,
    /// The records inside a batch are malformed.
    #[error("malformed records: {0}")]
    Records(#[from] compaction::RecordsError),
    /// An idempotent producer's batch breaks its sequence or epoch; nothing was written.
    #[error(transparent)]
    Producer(#[from] ProducerStateError),
    /// Replicated batches do not continue the log: the first starts below the log end offset, or one starts
    /// before the previous one ends.
    #[error("replicated batch starts at offset {found}, expected at least {expected}")]
    OffsetMismatch {
        /// The lowest offset the batch could start at.
        expected: i64,
        /// Base offset of the batch.
        found: i64,
    },
    /// An earlier write or fsync failed; the partition accepts nothing until restart.
    #[error("the partition's log is offline after an I/O failure")]
    Offline,
}

/// A broker-wide signal raised whenever any partition's high watermark advances; long-polling fetches wait on it.
#[derive(Debug, Clone)]
pub struct LogActivity(Arc<watch::Sender<u64>>);

impl Default for LogActivity {
    fn default() -> Self {
        LogActivity(Arc::new(watch::Sender::new(0)))
    }
}

impl LogActivity {
    /// Announces new durable data.
    pub fn notify(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that sees every later announcement.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }
}
