//! The worker's three topics, each a [`Mirror`]: what `connect-configs`, `connect-offsets` and `connect-status`
//! say, and writes that return once they are durable and applied here.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLockReadGuard};

use bytes::Bytes;
use serde_json::Value;
use thiserror::Error;
use tidemark_log_client::{LogClient, Mirror, MirrorError, TopicSpec};

use super::cluster::{ClusterConfig, SourceOffsets, Statuses};
use super::records::{offset_key, topic_status_key, ConfigRecord, Status, TargetState, TopicUsage, TopicUse};

/// The worker could not read or write its topics.
#[derive(Debug, Error)]
pub enum StateError {
    /// The log failed.
    #[error(transparent)]
    Log(#[from] MirrorError),
    /// A record could not be encoded.
    #[error("encoding a record: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Names and partition counts of the worker's topics (Kafka Connect's `config.storage.topic` and friends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateTopics {
    /// `config.storage.topic` (always one partition, so configs stay in order).
    pub configs: String,
    /// `offset.storage.topic`.
    pub offsets: String,
    /// `offset.storage.partitions`.
    pub offsets_partitions: i32,
    /// `status.storage.topic`.
    pub status: String,
    /// `status.storage.partitions`.
    pub status_partitions: i32,
}

impl Default for StateTopics {
    fn default() -> Self {
        StateTopics {
            configs: "connect-configs".into(),
            offsets: "connect-offsets".into(),
            offsets_partitions: 25,
            status: "connect-status".into(),
            status_partitions: 5,
        }
    }
}

fn compacted(name: &str, partitions: i32) -> TopicSpec {
    let configs = BTreeMap::from([("cleanup.policy".to_owned(), "compact".to_owned())]);
    TopicSpec { name: name.to_owned(), partitions, replication_factor: -1, configs }
}

/// The worker's state in the log.
pub struct WorkerState {
    configs: Mirror<ClusterConfig>,
    offsets: Mirror<SourceOffsets>,
    statuses: Mirror<Statuses>,
}

impl WorkerState {
    /// Creates the topics when missing and replays them.
    pub async fn open(log: Arc<dyn LogClient>, topics: &StateTopics) -> Result<Self, StateError> {
        let configs = Mirror::open(Arc::clone(&log), &compacted(&topics.configs, 1), ClusterConfig::default()).await?;
        let offsets_spec = compacted(&topics.offsets, topics.offsets_partitions);
        let offsets = Mirror::open(Arc::clone(&log), &offsets_spec, SourceOffsets::default()).await?;
        let status_spec = compacted(&topics.status, topics.status_partitions);
        let statuses = Mirror::open(log, &status_spec, Statuses::default()).await?;
        Ok(WorkerState { configs, offsets, statuses })
    }

    /// Connector and task configs.
    pub fn configs(&self) -> RwLockReadGuard<'_, ClusterConfig> {
        self.configs.read()
    }

    /// Committed source offsets.
    pub fn offsets(&self) -> RwLockReadGuard<'_, SourceOffsets> {
        self.offsets.read()
    }

    /// Statuses.
    pub fn statuses(&self) -> RwLockReadGuard<'_, Statuses> {
        self.statuses.read()
    }

    /// Writes config records in order.
    pub async fn write_configs(&self, records: &[ConfigRecord]) -> Result<(), StateError> {
        let mut encoded = Vec::with_capacity(records.len());
        for record in records {
            let (key, value) = record.encode();
            encoded.push((Bytes::from(key), value.map(|v| serde_json::to_vec(&v)).transpose()?.map(Bytes::from)));
        }
        Ok(self.configs.write(encoded).await?)
    }

    /// Stores a connector's config and task configs, and (for a new connector) its target state.
    pub async fn put_connector(
        &self,
        name: &str,
        properties: BTreeMap<String, String>,
        tasks: Vec<BTreeMap<String, String>>,
        target: Option<TargetState>,
    ) -> Result<(), StateError> {
        let mut records = vec![ConfigRecord::Connector { name: name.to_owned(), properties: Some(properties) }];
        if let Some(state) = target {
            records.push(ConfigRecord::TargetState { name: name.to_owned(), state });
        }
        let count = tasks.len() as u32;
        records.extend(tasks.into_iter().enumerate().map(|(task, properties)| ConfigRecord::Task {
            name: name.to_owned(),
            task: task as u32,
            properties,
        }));
        records.push(ConfigRecord::Commit { name: name.to_owned(), tasks: count });
        self.write_configs(&records).await
    }

    /// Stores committed source offsets of a connector (`None` deletes a partition's offset).
    pub async fn put_offsets(&self, connector: &str, offsets: &[(Value, Option<Value>)]) -> Result<(), StateError> {
        let mut encoded = Vec::with_capacity(offsets.len());
        for (partition, offset) in offsets {
            let value = offset.as_ref().map(serde_json::to_vec).transpose()?.map(Bytes::from);
            encoded.push((Bytes::from(offset_key(connector, partition)), value));
        }
        Ok(self.offsets.write(encoded).await?)
    }

    /// Records that a connector's task uses `topic` (KIP-558), unless already known.
    pub async fn put_topic_usage(&self, usage: &TopicUse) -> Result<(), StateError> {
        if self.statuses().topics(&usage.connector).contains(&usage.name) {
            return Ok(());
        }
        let key = topic_status_key(&usage.name, &usage.connector);
        let value = Bytes::from(serde_json::to_vec(&TopicUsage { topic: usage.clone() })?);
        Ok(self.statuses.write(vec![(Bytes::from(key), Some(value))]).await?)
    }

    /// Forgets the topics a connector has used (`PUT /connectors/{c}/topics/reset`).
    pub async fn reset_topic_usage(&self, connector: &str) -> Result<(), StateError> {
        let keys: Vec<(Bytes, Option<Bytes>)> = self
            .statuses()
            .topics(connector)
            .iter()
            .map(|topic| (Bytes::from(topic_status_key(topic, connector)), None))
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        Ok(self.statuses.write(keys).await?)
    }

    /// Stores a status under its key (`status-connector-<name>` or `status-task-<name>-<n>`).
    pub async fn put_status(&self, key: &str, status: &Status) -> Result<(), StateError> {
        let value = Bytes::from(serde_json::to_vec(status)?);
        Ok(self.statuses.write(vec![(Bytes::from(key.to_owned()), Some(value))]).await?)
    }
}
