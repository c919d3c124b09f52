//! A topic mirrored into memory: replayed from the start when opened, then followed by one reader task per
//! partition, so several processes on the same topic see each other's writes. A write produces records and returns
//! only once this process has read them back, so the caller's next read reflects them and the log has
//! acknowledged them as durable. The schema registry keeps `_schemas` this way, the connect worker its three topics.

use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use bytes::Bytes;
use thiserror::Error;
use tokio::sync::{watch, Mutex, MutexGuard};

use crate::{LogClient, LogError, LogRecord, PartitionReader, ProducerRecord, TopicSpec};

/// How long one read of a partition waits for records.
const READ_WAIT: Duration = Duration::from_millis(500);
/// How long a write waits to read its own records back.
const READ_BACK_TIMEOUT: Duration = Duration::from_secs(30);

/// What a mirror keeps: state built by applying records in offset order (per partition).
pub trait Apply: Send + Sync + 'static {
    /// Applies one record.
    fn apply(&mut self, record: &LogRecord);
}

/// A mirrored topic could not be read or written.
#[derive(Debug, Error)]
pub enum MirrorError {
    /// The log failed.
    #[error("topic {topic}: {source}")]
    Log {
        /// The topic.
        topic: String,
        /// What failed.
        source: LogError,
    },
    /// A write was acknowledged but not read back in time.
    #[error("topic {0}: a write was not read back within {READ_BACK_TIMEOUT:?}")]
    ReadBackTimeout(String),
}

/// A topic mirrored into an `S`.
pub struct Mirror<S> {
    log: Arc<dyn LogClient>,
    topic: String,
    state: Arc<RwLock<S>>,
    /// Per partition, the next offset to apply.
    applied: Vec<watch::Receiver<i64>>,
    writes: Mutex<()>,
}

impl<S: Apply> Mirror<S> {
    /// Creates the topic if needed, replays it into `state`, and follows it from then on.
    pub async fn open(log: Arc<dyn LogClient>, spec: &TopicSpec, state: S) -> Result<Self, MirrorError> {
        let topic = spec.name.clone();
        let failed = |source| MirrorError::Log { topic: topic.clone(), source };
        log.ensure_topic(spec).await.map_err(failed)?;
        let ends = log.end_offsets(&topic).await.map_err(failed)?;
        let state = Arc::new(RwLock::new(state));
        let mut applied = Vec::with_capacity(ends.len());
        for (partition, end) in ends.into_iter().enumerate() {
            let mut reader = log.reader(&topic, partition as i32, 0).map_err(failed)?;
            let (tx, rx) = watch::channel(0);
            // Up to the end offset, or until nothing more arrives (compaction can leave the end offset past the
            // last record).
            while *tx.borrow() < end {
                if apply_next(&mut *reader, &state, &tx).await.map_err(failed)? == 0 {
                    break;
                }
            }
            tokio::spawn(follow(reader, Arc::clone(&state), tx, topic.clone()));
            applied.push(rx);
        }
        tracing::info!(topic, partitions = applied.len(), "topic mirrored");
        Ok(Mirror { log, topic, state, applied, writes: Mutex::new(()) })
    }

    /// The state as of the last records read.
    pub fn read(&self) -> RwLockReadGuard<'_, S> {
        self.state.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Serialises this process's read-modify-write operations on the topic.
    pub async fn lock_writes(&self) -> MutexGuard<'_, ()> {
        self.writes.lock().await
    }

    /// Writes keyed records (`None` values are tombstones; partitioned by key) and waits until they are applied.
    pub async fn write(&self, records: Vec<(Bytes, Option<Bytes>)>) -> Result<(), MirrorError> {
        let records = records
            .into_iter()
            .map(|(key, value)| ProducerRecord {
                partition: None,
                key: Some(key),
                value,
                headers: Vec::new(),
                timestamp: None,
            })
            .collect();
        let positions = self
            .log
            .produce(&self.topic, records)
            .await
            .map_err(|source| MirrorError::Log { topic: self.topic.clone(), source })?;
        for position in positions {
            let Some(applied) = self.applied.get(position.partition as usize) else { continue };
            let mut applied = applied.clone();
            let read_back =
                tokio::time::timeout(READ_BACK_TIMEOUT, applied.wait_for(|next| *next > position.offset)).await;
            if !matches!(read_back, Ok(Ok(_))) {
                return Err(MirrorError::ReadBackTimeout(self.topic.clone()));
            }
        }
        Ok(())
    }
}

/// Applies the next records of one partition; returns how many there were.
async fn apply_next<S: Apply>(
    reader: &mut dyn PartitionReader,
    state: &RwLock<S>,
    applied: &watch::Sender<i64>,
) -> Result<usize, LogError> {
    let records = reader.next_records(READ_WAIT).await?;
    let Some(last) = records.last().map(|r| r.offset) else {
        return Ok(0);
    };
    {
        let mut state = state.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        for record in &records {
            state.apply(record);
        }
    }
    applied.send_modify(|next| *next = (*next).max(last + 1));
    Ok(records.len())
}

/// Applies every later record of a partition, retrying after errors, until the mirror is dropped.
async fn follow<S: Apply>(
    mut reader: Box<dyn PartitionReader>,
    state: Arc<RwLock<S>>,
    applied: watch::Sender<i64>,
    topic: String,
) {
    while !applied.is_closed() {
        if let Err(e) = apply_next(&mut *reader, &state, &applied).await {
            tracing::warn!(topic, error = %e, "reading a mirrored topic failed; retrying");
            tokio::time::sleep(READ_WAIT).await;
        }
    }
}
