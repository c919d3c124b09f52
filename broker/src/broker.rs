//! The broker's shared state: its config, cluster identity and topics.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use thiserror::Error;
use tokio::sync::watch;

use crate::config::BrokerConfig;
use crate::group::GroupCoordinator;
use crate::producer_ids::ProducerIds;
use crate::storage::atomic_file::write_atomically;
use crate::storage::LogActivity;
use crate::topics::{Topic, TopicError, TopicManager};

/// The broker could not start.
#[derive(Debug, Error)]
pub enum BrokerError {
    /// The topics could not be opened.
    #[error("opening the log failed: {0}")]
    Topics(#[from] TopicError),
    /// `meta.properties` is unreadable or belongs to another node.
    #[error("{0}")]
    MetaProperties(String),
    /// The data directory is unusable.
    #[error("data directory: {0}")]
    Io(#[from] std::io::Error),
    /// Another process holds the data directory.
    #[error("data directory {0} is in use by another tidemark process")]
    InUse(String),
}

/// One broker: shared by every connection.
#[derive(Debug)]
pub struct Broker {
    config: BrokerConfig,
    cluster_id: String,
    topics: TopicManager,
    groups: GroupCoordinator,
    producer_ids: ProducerIds,
    /// Held for the broker's lifetime: an exclusive lock on `DATA/.lock`.
    _lock: std::fs::File,
}

/// How often group sessions and rebalance deadlines are checked.
const GROUP_TICK: std::time::Duration = std::time::Duration::from_millis(50);

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

impl Broker {
    /// Opens the data directory, recovering every partition. Must run inside a tokio runtime.
    pub async fn open(config: BrokerConfig) -> Result<Arc<Self>, BrokerError> {
        std::fs::create_dir_all(&config.data_dir)?;
        let lock = std::fs::File::create(config.data_dir.join(".lock"))?;
        if lock.try_lock().is_err() {
            return Err(BrokerError::InUse(config.data_dir.display().to_string()));
        }
        let cluster_id = load_or_create_identity(&config)?;
        let topics = TopicManager::open(&config.data_dir, LogActivity::default(), now_ms()).await?;
        let groups = GroupCoordinator::load(config.groups.clone(), &topics).map_err(TopicError::Storage)?;
        let producer_ids = ProducerIds::open(&config.data_dir.join("meta"))?;
        Ok(Arc::new(Broker { config, cluster_id, topics, groups, producer_ids, _lock: lock }))
    }

    /// The broker's settings.
    pub fn config(&self) -> &BrokerConfig {
        &self.config
    }

    /// The cluster id recorded in `meta.properties`.
    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }

    /// The topics.
    pub fn topics(&self) -> &TopicManager {
        &self.topics
    }

    /// The group coordinator.
    pub fn groups(&self) -> &GroupCoordinator {
        &self.groups
    }

    /// The producer ids handed to idempotent producers.
    pub fn producer_ids(&self) -> &ProducerIds {
        &self.producer_ids
    }

    /// A topic, created with the broker's defaults when it is missing and `allow_create` and the broker's
    /// auto-creation setting both permit it.
    pub async fn topic_or_create(&self, name: &str, allow_create: bool) -> Result<Arc<Topic>, TopicError> {
        if let Some(topic) = self.topics.get(name) {
            return Ok(topic);
        }
        if !(allow_create && self.config.auto_create_topics) {
            return Err(TopicError::Unknown(name.to_owned()));
        }
        let created =
            self.topics.create(name, self.config.default_partitions, 1, BTreeMap::new(), false, now_ms()).await;
        match created {
            Err(TopicError::AlreadyExists(_)) => self.topics.get(name).ok_or_else(|| TopicError::Unknown(name.into())),
            other => other,
        }
    }

    /// Expires group members and completes rebalances on time, until the broker is dropped by everyone else.
    pub async fn run_group_timers(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(GROUP_TICK);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            self.groups.tick();
        }
    }

    /// Runs retention every `retention_check_interval` until the broker is dropped by everyone else.
    pub async fn run_retention(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(self.config.retention_check_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let deleted = self.topics.enforce_retention(now_ms());
            if deleted > 0 {
                tracing::info!(segments = deleted, "retention deleted segments");
            }
        }
    }

    /// Runs the log cleaner until `stop` turns true: passes over the compacted partitions that need one, one after
    /// the other, and a sleep of `cleaner.backoff` whenever a round found nothing to clean. A pass in progress
    /// stops early when `stop` turns true; what it swapped in stays, the rest is left as it was.
    pub async fn run_cleaner(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        loop {
            let (broker, stopped) = (Arc::clone(&self), stop.clone());
            let round = tokio::task::spawn_blocking(move || {
                broker.topics.compact(&broker.config.cleaner, now_ms(), &|| *stopped.borrow())
            });
            let cleaned = match round.await {
                Ok(cleaned) => cleaned,
                Err(e) => {
                    tracing::error!(error = %e, "a compaction round failed");
                    0
                }
            };
            if *stop.borrow() {
                return;
            }
            if cleaned == 0 {
                tokio::select! {
                    () = tokio::time::sleep(self.config.cleaner.backoff) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    }
}

/// Reads `meta.properties` (Kafka's layout) or writes it with a new cluster id on first start.
fn load_or_create_identity(config: &BrokerConfig) -> Result<String, BrokerError> {
    let path = config.data_dir.join("meta.properties");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let field = |key: &str| {
                text.lines().find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix('='))).map(str::trim)
            };
            let node: Option<i32> = field("node.id").and_then(|v| v.parse().ok());
            if node != Some(config.node_id) {
                return Err(BrokerError::MetaProperties(format!(
                    "{} belongs to node {node:?}, not node {}",
                    path.display(),
                    config.node_id
                )));
            }
            field("cluster.id")
                .map(str::to_owned)
                .ok_or_else(|| BrokerError::MetaProperties(format!("{} has no cluster.id", path.display())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let cluster_id = uuid::Uuid::new_v4().simple().to_string();
            let text = format!("version=1\ncluster.id={cluster_id}\nnode.id={}\n", config.node_id);
            write_atomically(&path, text.as_bytes())?;
            Ok(cluster_id)
        }
        Err(e) => Err(e.into()),
    }
}
