//! The registry's state kept in step with `_schemas` through a [`Mirror`]: replayed at start-up, then followed, so
//! a second registry on the same topic sees every change. A write returns only once this registry has read it back
//! (so the answer reflects the log, and the log has acknowledged the records as durable).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLockReadGuard};

use bytes::Bytes;
use thiserror::Error;
use tidemark_log_client::{Apply, LogClient, LogRecord, Mirror, MirrorError, TopicSpec};
use tokio::sync::MutexGuard;

use crate::records::RecordKey;
use crate::state::State;

/// The store could not read or write `_schemas`.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The log failed.
    #[error(transparent)]
    Log(#[from] MirrorError),
    /// A record could not be encoded.
    #[error("encoding a record: {0}")]
    Encode(#[from] serde_json::Error),
}

impl Apply for State {
    fn apply(&mut self, record: &LogRecord) {
        if let Some(key) = &record.key {
            State::apply(self, key, record.value.as_deref());
        }
    }
}

/// The state and the topic behind it.
pub struct Store {
    mirror: Mirror<State>,
}

impl Store {
    /// Creates the topic if needed (one partition, compacted), replays it, and follows it from then on.
    pub async fn open(log: Arc<dyn LogClient>, topic: &str) -> Result<Arc<Self>, StoreError> {
        let configs = BTreeMap::from([("cleanup.policy".to_owned(), "compact".to_owned())]);
        let spec = TopicSpec { name: topic.to_owned(), partitions: 1, replication_factor: -1, configs };
        let mirror = Mirror::open(log, &spec, State::default()).await?;
        Ok(Arc::new(Store { mirror }))
    }

    /// The state as of the last record read.
    pub fn read(&self) -> RwLockReadGuard<'_, State> {
        self.mirror.read()
    }

    /// Serialises read-modify-write operations (new ids and versions) of this registry.
    pub async fn lock_writes(&self) -> MutexGuard<'_, ()> {
        self.mirror.lock_writes().await
    }

    /// Writes records (`None` values are tombstones) and waits until they are applied here.
    pub async fn write(&self, records: Vec<(RecordKey, Option<serde_json::Value>)>) -> Result<(), StoreError> {
        let mut encoded = Vec::with_capacity(records.len());
        for (key, value) in records {
            let key = Bytes::from(serde_json::to_vec(&key)?);
            let value = value.map(|v| serde_json::to_vec(&v)).transpose()?.map(Bytes::from);
            encoded.push((key, value));
        }
        Ok(self.mirror.write(encoded).await?)
    }
}
