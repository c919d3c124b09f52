//! The registry's state kept in step with `_schemas`: replayed at start-up, then followed by a reader task, so a
//! second registry on the same topic sees every change. A write produces records and returns only once this
//! registry has read them back (so the answer reflects the log, and the log has acknowledged them as durable).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use bytes::Bytes;
use thiserror::Error;
use tidemark_log_client::{LogClient, LogError, PartitionReader, ProducerRecord, TopicSpec};
use tokio::sync::{watch, Mutex, MutexGuard};

use crate::records::RecordKey;
use crate::state::State;

/// How long one read of the topic waits for records.
const READ_WAIT: Duration = Duration::from_millis(500);
/// How long a write waits to read its own records back.
const READ_BACK_TIMEOUT: Duration = Duration::from_secs(30);

/// The store could not read or write `_schemas`.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The log failed.
    #[error("the schemas topic: {0}")]
    Log(#[from] LogError),
    /// A write was acknowledged but not read back in time.
    #[error("a write to the schemas topic was not read back within {0:?}")]
    ReadBackTimeout(Duration),
    /// A record could not be encoded.
    #[error("encoding a record: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The state and the topic behind it.
pub struct Store {
    log: Arc<dyn LogClient>,
    topic: String,
    state: Arc<RwLock<State>>,
    /// The next offset to apply.
    applied: watch::Receiver<i64>,
    writes: Mutex<()>,
}

impl Store {
    /// Creates the topic if needed (one partition, compacted), replays it, and follows it from then on.
    pub async fn open(log: Arc<dyn LogClient>, topic: &str) -> Result<Arc<Self>, StoreError> {
        let configs = BTreeMap::from([("cleanup.policy".to_owned(), "compact".to_owned())]);
        let spec = TopicSpec { name: topic.to_owned(), partitions: 1, replication_factor: -1, configs };
        log.ensure_topic(&spec).await?;
        let end = log.end_offsets(topic).await?.first().copied().unwrap_or(0);
        let mut reader = log.reader(topic, 0, 0)?;
        let state = Arc::new(RwLock::new(State::default()));
        let (applied_tx, applied) = watch::channel(0);
        // Stop at the end offset, or earlier when nothing more arrives (compaction can leave the end offset past
        // the last record).
        while *applied_tx.borrow() < end {
            if apply_next(&mut *reader, &state, &applied_tx).await? == 0 {
                break;
            }
        }
        tracing::info!(topic, records = end, "schema registry state loaded");
        tokio::spawn(follow(reader, Arc::clone(&state), applied_tx));
        Ok(Arc::new(Store { log, topic: topic.to_owned(), state, applied, writes: Mutex::new(()) }))
    }

    /// The state as of the last record read.
    pub fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Serialises read-modify-write operations (new ids and versions) of this registry.
    pub async fn lock_writes(&self) -> MutexGuard<'_, ()> {
        self.writes.lock().await
    }

    /// Writes records (`None` values are tombstones) and waits until they are applied here.
    pub async fn write(&self, records: Vec<(RecordKey, Option<serde_json::Value>)>) -> Result<(), StoreError> {
        let mut encoded = Vec::with_capacity(records.len());
        for (key, value) in records {
            let key = Bytes::from(serde_json::to_vec(&key)?);
            let value = value.map(|v| serde_json::to_vec(&v)).transpose()?.map(Bytes::from);
            encoded.push(ProducerRecord { partition: Some(0), key: Some(key), value, headers: Vec::new() });
        }
        let positions = self.log.produce(&self.topic, encoded).await?;
        let Some(last) = positions.iter().map(|p| p.offset).max() else {
            return Ok(());
        };
        let mut applied = self.applied.clone();
        let read_back = tokio::time::timeout(READ_BACK_TIMEOUT, applied.wait_for(|next| *next > last)).await;
        match read_back {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) | Err(_) => Err(StoreError::ReadBackTimeout(READ_BACK_TIMEOUT)),
        }
    }
}

/// Applies the next records; returns how many there were.
async fn apply_next(
    reader: &mut dyn PartitionReader,
    state: &RwLock<State>,
    applied: &watch::Sender<i64>,
) -> Result<usize, StoreError> {
    let records = reader.next_records(READ_WAIT).await?;
    let Some(last) = records.last().map(|r| r.offset) else {
        return Ok(0);
    };
    {
        let mut state = state.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        for record in &records {
            if let Some(key) = &record.key {
                state.apply(key, record.value.as_deref());
            }
        }
    }
    applied.send_modify(|next| *next = (*next).max(last + 1));
    Ok(records.len())
}

/// Applies every later record, retrying after errors, until no write can wait for it any more.
async fn follow(mut reader: Box<dyn PartitionReader>, state: Arc<RwLock<State>>, applied: watch::Sender<i64>) {
    while !applied.is_closed() {
        if let Err(e) = apply_next(&mut *reader, &state, &applied).await {
            tracing::warn!(error = %e, "reading the schemas topic failed; retrying");
            tokio::time::sleep(READ_WAIT).await;
        }
    }
}
