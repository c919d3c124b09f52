//! The topics this broker hosts: their metadata on disk (`meta/topics/<name>.json`), their partition logs, and
//! the operations the admin APIs need (create, delete, add partitions, change configs, enforce retention).
//!
//! Creation writes the partition directories first and the metadata file last; deletion removes the metadata file
//! first. The metadata file is the commit point: at start-up, partition directories without one are leftovers of
//! an interrupted create or delete and are removed.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

use crate::storage::atomic_file::write_atomically;
use crate::storage::compaction::{self, CleanerConfig};
use crate::storage::{ConfigError, LogActivity, PartitionLog, StorageError, TopicConfig};

/// Longest topic name Kafka allows.
const MAX_TOPIC_NAME_LEN: usize = 249;

/// A topic operation was refused.
#[derive(Debug, Error)]
pub enum TopicError {
    /// No such topic.
    #[error("topic '{0}' does not exist")]
    Unknown(String),
    /// The topic exists already.
    #[error("topic '{0}' already exists")]
    AlreadyExists(String),
    /// The name breaks Kafka's naming rules.
    #[error("invalid topic name '{0}': 1 to 249 characters of [a-zA-Z0-9._-], not '.' or '..'")]
    InvalidName(String),
    /// The partition count is not acceptable.
    #[error("invalid partition count: {0}")]
    InvalidPartitions(String),
    /// The replication factor cannot be met.
    #[error("invalid replication factor: {0}")]
    InvalidReplicationFactor(String),
    /// Explicit replica assignments were refused.
    #[error("invalid replica assignment: {0}")]
    InvalidReplicaAssignment(String),
    /// The cluster's controller did not answer.
    #[error("the cluster's controller is not available: {0}")]
    ControllerUnavailable(String),
    /// The topics of a cluster change only through its controller; this broker follows the controller's image.
    #[error("topic '{0}' can change only through the cluster's controller")]
    ControllerManaged(String),
    /// A topic config was refused.
    #[error(transparent)]
    InvalidConfig(#[from] ConfigError),
    /// The disk failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<std::io::Error> for TopicError {
    fn from(e: std::io::Error) -> Self {
        TopicError::Storage(StorageError::Io(e))
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct TopicMetadata {
    id: Uuid,
    partitions: i32,
    configs: BTreeMap<String, String>,
}

/// A topic: its identity, effective config and partition logs.
#[derive(Debug)]
pub struct Topic {
    name: String,
    id: Uuid,
    config: RwLock<Arc<TopicConfig>>,
    partitions: RwLock<Vec<Arc<PartitionLog>>>,
}

impl Topic {
    /// The topic's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The topic's id (Kafka's topic UUID).
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The effective config.
    pub fn config(&self) -> Arc<TopicConfig> {
        Arc::clone(&self.config.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// One partition's log.
    pub fn partition(&self, index: i32) -> Option<Arc<PartitionLog>> {
        let partitions = self.partitions.read().unwrap_or_else(|p| p.into_inner());
        usize::try_from(index).ok().and_then(|i| partitions.get(i)).cloned()
    }

    /// All partition logs, by index.
    pub fn partitions(&self) -> Vec<Arc<PartitionLog>> {
        self.partitions.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Number of partitions.
    pub fn partition_count(&self) -> i32 {
        self.partitions.read().unwrap_or_else(|p| p.into_inner()).len() as i32
    }

    fn metadata(&self) -> TopicMetadata {
        TopicMetadata { id: self.id, partitions: self.partition_count(), configs: self.config().overrides.clone() }
    }
}

/// Every topic on this broker.
#[derive(Debug)]
pub struct TopicManager {
    data_dir: PathBuf,
    topics: RwLock<HashMap<String, Arc<Topic>>>,
    /// Serialises metadata changes so that two creates of one name cannot interleave.
    admin: tokio::sync::Mutex<()>,
    activity: LogActivity,
    /// Set in a cluster: topics change only as the controller's image says.
    managed: std::sync::atomic::AtomicBool,
    /// The broker's defaults for every topic's config (under each topic's overrides).
    broker_defaults: BTreeMap<String, String>,
}

impl TopicManager {
    /// Opens every topic under `data_dir`, recovering each partition's log; `broker_defaults` are the broker's
    /// topic config defaults, under each topic's overrides.
    pub async fn open(
        data_dir: &Path,
        activity: LogActivity,
        broker_defaults: BTreeMap<String, String>,
        now_ms: i64,
    ) -> Result<Self, TopicError> {
        TopicConfig::from_layers(&broker_defaults, &BTreeMap::new())?;
        let meta_dir = data_dir.join("meta").join("topics");
        let logs_dir = data_dir.join("topics");
        std::fs::create_dir_all(&meta_dir)?;
        std::fs::create_dir_all(&logs_dir)?;
        let mut topics = HashMap::new();
        for entry in std::fs::read_dir(&meta_dir)? {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            let metadata: TopicMetadata = serde_json::from_slice(&std::fs::read(&path)?).map_err(|e| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))
            })?;
            let config = TopicConfig::from_layers(&broker_defaults, &metadata.configs)?;
            let mut partitions = Vec::new();
            for p in 0..metadata.partitions {
                partitions.push(PartitionLog::open(&partition_dir(data_dir, name, p), activity.clone(), now_ms)?);
            }
            let topic = Topic {
                name: name.to_owned(),
                id: metadata.id,
                config: RwLock::new(Arc::new(config)),
                partitions: RwLock::new(partitions),
            };
            topics.insert(name.to_owned(), Arc::new(topic));
        }
        remove_orphaned_partitions(&logs_dir, &topics)?;
        tracing::info!(topics = topics.len(), dir = %data_dir.display(), "opened the log");
        Ok(TopicManager {
            data_dir: data_dir.to_owned(),
            topics: RwLock::new(topics),
            admin: tokio::sync::Mutex::new(()),
            activity,
            managed: std::sync::atomic::AtomicBool::new(false),
            broker_defaults,
        })
    }

    /// A topic by name.
    pub fn get(&self, name: &str) -> Option<Arc<Topic>> {
        self.topics.read().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }

    /// A topic by id.
    pub fn get_by_id(&self, id: Uuid) -> Option<Arc<Topic>> {
        self.topics.read().unwrap_or_else(|p| p.into_inner()).values().find(|t| t.id == id).cloned()
    }

    /// All topics, sorted by name.
    pub fn list(&self) -> Vec<Arc<Topic>> {
        let mut topics: Vec<_> = self.topics.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        topics
    }

    /// The activity signal shared by every partition.
    pub fn activity(&self) -> &LogActivity {
        &self.activity
    }

    /// Creates a topic. With `validate_only`, checks everything and creates nothing.
    pub async fn create(
        &self,
        name: &str,
        partitions: i32,
        replication_factor: i16,
        overrides: BTreeMap<String, String>,
        validate_only: bool,
        now_ms: i64,
    ) -> Result<Arc<Topic>, TopicError> {
        validate_name(name)?;
        if partitions < 1 {
            return Err(TopicError::InvalidPartitions(format!("{partitions} (must be at least 1)")));
        }
        if replication_factor != 1 {
            return Err(TopicError::InvalidReplicationFactor(format!(
                "{replication_factor} is larger than the 1 broker available"
            )));
        }
        if !validate_only {
            self.refuse_if_managed(name)?;
        }
        let _admin = self.admin.lock().await;
        if self.get(name).is_some() {
            return Err(TopicError::AlreadyExists(name.to_owned()));
        }
        self.insert(name, Uuid::new_v4(), partitions, &overrides, validate_only, now_ms)
    }

    /// Makes the local topic `name` what the cluster's controller says it is: created with the controller's id
    /// when missing (or recreated when the local one has another id: the topic was deleted and created again while
    /// this broker was away), grown to `partitions`, with `overrides` as its config.
    pub async fn follow(
        &self,
        name: &str,
        id: Uuid,
        partitions: i32,
        overrides: &BTreeMap<String, String>,
        now_ms: i64,
    ) -> Result<Arc<Topic>, TopicError> {
        let _admin = self.admin.lock().await;
        if let Some(existing) = self.get(name) {
            if existing.id == id {
                let current = existing.partition_count();
                if partitions > current {
                    self.grow(&existing, current, partitions, now_ms)?;
                }
                if existing.config().overrides != *overrides {
                    self.replace_overrides(&existing, overrides)?;
                }
                return Ok(existing);
            }
            self.remove(&existing)?;
        }
        self.insert(name, id, partitions, overrides, false, now_ms)
    }

    /// Deletes every local topic the controller's image no longer holds (`kept` answers for a name and id).
    pub async fn forget_unless(&self, kept: impl Fn(&str, Uuid) -> bool) -> Result<(), TopicError> {
        let _admin = self.admin.lock().await;
        for topic in self.list() {
            if !kept(&topic.name, topic.id) {
                self.remove(&topic)?;
            }
        }
        Ok(())
    }

    /// From now on topics change only through [`TopicManager::follow`] and [`TopicManager::forget_unless`]: this
    /// broker is a member of a cluster.
    pub fn hand_to_controller(&self) {
        self.managed.store(true, std::sync::atomic::Ordering::Release);
    }

    fn refuse_if_managed(&self, name: &str) -> Result<(), TopicError> {
        match self.managed.load(std::sync::atomic::Ordering::Acquire) {
            true => Err(TopicError::ControllerManaged(name.to_owned())),
            false => Ok(()),
        }
    }

    fn insert(
        &self,
        name: &str,
        id: Uuid,
        partitions: i32,
        overrides: &BTreeMap<String, String>,
        validate_only: bool,
        now_ms: i64,
    ) -> Result<Arc<Topic>, TopicError> {
        let config = TopicConfig::from_layers(&self.broker_defaults, overrides)?;
        let topic = Topic {
            name: name.to_owned(),
            id,
            config: RwLock::new(Arc::new(config)),
            partitions: RwLock::new(Vec::new()),
        };
        if validate_only {
            return Ok(Arc::new(topic));
        }
        let mut logs = Vec::new();
        for p in 0..partitions {
            logs.push(PartitionLog::open(&partition_dir(&self.data_dir, name, p), self.activity.clone(), now_ms)?);
        }
        *topic.partitions.write().unwrap_or_else(|p| p.into_inner()) = logs;
        self.persist(&topic)?;
        let topic = Arc::new(topic);
        self.topics.write().unwrap_or_else(|p| p.into_inner()).insert(name.to_owned(), Arc::clone(&topic));
        tracing::info!(topic = name, partitions, "created topic");
        Ok(topic)
    }

    /// Deletes a topic and its data.
    pub async fn delete(&self, name: &str) -> Result<Uuid, TopicError> {
        self.refuse_if_managed(name)?;
        let _admin = self.admin.lock().await;
        let topic = self.get(name).ok_or_else(|| TopicError::Unknown(name.to_owned()))?;
        self.remove(&topic)?;
        Ok(topic.id)
    }

    fn remove(&self, topic: &Topic) -> Result<(), TopicError> {
        std::fs::remove_file(self.meta_path(&topic.name))?;
        self.topics.write().unwrap_or_else(|p| p.into_inner()).remove(&topic.name);
        for log in topic.partitions() {
            log.close();
            // A compaction pass sees the close at its next batch and lets go of the directory.
            drop(log.cleaner_state());
            std::fs::remove_dir_all(log.dir())?;
        }
        tracing::info!(topic = topic.name, "deleted topic");
        Ok(())
    }

    /// Grows a topic to `count` partitions.
    pub async fn add_partitions(
        &self,
        name: &str,
        count: i32,
        validate_only: bool,
        now_ms: i64,
    ) -> Result<(), TopicError> {
        self.refuse_if_managed(name)?;
        let _admin = self.admin.lock().await;
        let topic = self.get(name).ok_or_else(|| TopicError::Unknown(name.to_owned()))?;
        let current = topic.partition_count();
        if count <= current {
            return Err(TopicError::InvalidPartitions(format!(
                "topic '{name}' has {current} partitions; the new count {count} must be larger"
            )));
        }
        if validate_only {
            return Ok(());
        }
        self.grow(&topic, current, count, now_ms)
    }

    fn grow(&self, topic: &Topic, current: i32, count: i32, now_ms: i64) -> Result<(), TopicError> {
        let mut added = Vec::new();
        for p in current..count {
            added.push(PartitionLog::open(
                &partition_dir(&self.data_dir, &topic.name, p),
                self.activity.clone(),
                now_ms,
            )?);
        }
        topic.partitions.write().unwrap_or_else(|p| p.into_inner()).extend(added);
        self.persist(topic)?;
        tracing::info!(topic = topic.name, from = current, to = count, "added partitions");
        Ok(())
    }

    /// Replaces a topic's config overrides.
    pub async fn set_overrides(
        &self,
        name: &str,
        overrides: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<(), TopicError> {
        self.refuse_if_managed(name)?;
        let _admin = self.admin.lock().await;
        let topic = self.get(name).ok_or_else(|| TopicError::Unknown(name.to_owned()))?;
        TopicConfig::from_layers(&self.broker_defaults, &overrides)?;
        if validate_only {
            return Ok(());
        }
        self.replace_overrides(&topic, &overrides)
    }

    fn replace_overrides(&self, topic: &Topic, overrides: &BTreeMap<String, String>) -> Result<(), TopicError> {
        let config = TopicConfig::from_layers(&self.broker_defaults, overrides)?;
        *topic.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
        self.persist(topic)?;
        tracing::info!(topic = topic.name, ?overrides, "changed topic config");
        Ok(())
    }

    /// Applies retention to every partition; returns the number of segments deleted.
    pub fn enforce_retention(&self, now_ms: i64) -> usize {
        let mut deleted = 0;
        for topic in self.list() {
            let config = topic.config();
            for (p, log) in topic.partitions().iter().enumerate() {
                match log.enforce_retention(&config, now_ms) {
                    Ok(n) => deleted += n,
                    Err(e) => {
                        tracing::error!(topic = topic.name, partition = p, error = %e, "retention failed")
                    }
                }
            }
        }
        deleted
    }

    /// Runs a compaction pass over every partition of the compacted topics that needs one, until `stop` turns
    /// true; returns the number of partitions cleaned. Blocking: call it off the async runtime.
    pub fn compact(&self, cleaner: &CleanerConfig, now_ms: i64, stop: &dyn Fn() -> bool) -> usize {
        let mut cleaned = 0;
        for topic in self.list() {
            let config = topic.config();
            if !config.cleanup_policy.compact {
                continue;
            }
            for (p, log) in topic.partitions().iter().enumerate() {
                if stop() {
                    return cleaned;
                }
                match compaction::clean(log, &config, cleaner, now_ms, stop) {
                    Ok(Some(pass)) => {
                        cleaned += 1;
                        tracing::info!(
                            topic = topic.name,
                            partition = p,
                            reason = pass.reason.map(|r| r.to_string()),
                            segments_in = pass.segments_in,
                            segments_out = pass.segments_out,
                            bytes_in = pass.bytes_in,
                            bytes_out = pass.bytes_out,
                            records_removed = pass.records_removed,
                            ms = pass.elapsed.as_millis() as u64,
                            "compacted"
                        );
                    }
                    Ok(None) => {}
                    Err(e) => tracing::error!(topic = topic.name, partition = p, error = %e, "compaction failed"),
                }
            }
        }
        cleaned
    }

    fn meta_path(&self, name: &str) -> PathBuf {
        self.data_dir.join("meta").join("topics").join(format!("{name}.json"))
    }

    fn persist(&self, topic: &Topic) -> Result<(), TopicError> {
        let json = serde_json::to_vec_pretty(&topic.metadata()).map_err(std::io::Error::other)?;
        write_atomically(&self.meta_path(&topic.name), &json)?;
        Ok(())
    }
}

fn partition_dir(data_dir: &Path, topic: &str, partition: i32) -> PathBuf {
    data_dir.join("topics").join(format!("{topic}-{partition}"))
}

/// Checks Kafka's topic naming rules.
pub fn validate_name(name: &str) -> Result<(), TopicError> {
    let legal = name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if name.is_empty() || name.len() > MAX_TOPIC_NAME_LEN || !legal || name == "." || name == ".." {
        return Err(TopicError::InvalidName(name.to_owned()));
    }
    Ok(())
}

fn remove_orphaned_partitions(logs_dir: &Path, topics: &HashMap<String, Arc<Topic>>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(logs_dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let owned = name.rsplit_once('-').is_some_and(|(topic, partition)| {
            let index = partition.parse::<i32>().ok();
            topics.get(topic).zip(index).is_some_and(|(t, i)| i < t.partition_count())
        });
        if !owned {
            tracing::warn!(dir = name, "removing a partition directory no topic owns");
            std::fs::remove_dir_all(entry.path())?;
        }
    }
    Ok(())
}
