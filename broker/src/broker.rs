//! The broker's shared state: its config, cluster identity and topics.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use thiserror::Error;
use tokio::sync::watch;

use crate::cluster::{Cluster, Leadership};
use crate::config::BrokerConfig;
use crate::controller::image::{Endpoint, MetadataCommand};
use crate::controller::{Controller, ControllerConfig, ControllerError};
use crate::group::GroupCoordinator;
use crate::metrics::BrokerMetrics;
use crate::producer_ids::ProducerIds;
use crate::security::authorizer::Authorizer;
use crate::security::cluster_secret::{ClusterSecret, INTER_BROKER_USER};
use crate::security::inter_broker::{inter_broker_security, InterBrokerError};
use crate::security::listener::SecurityProtocol;
use crate::security::principal::Principal;
use crate::security::users::Users;
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
    /// The controller quorum member could not start.
    #[error(transparent)]
    Controller(#[from] ControllerError),
    /// Another process holds the data directory.
    #[error("data directory {0} is in use by another tidemark process")]
    InUse(String),
    /// Brokers could not authenticate to each other as configured.
    #[error(transparent)]
    InterBroker(#[from] InterBrokerError),
}

/// How a broker joins a cluster (`--voters`).
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// The controller voters: node id to controller listener.
    pub voters: BTreeMap<i32, String>,
    /// This node's controller listener as the other nodes reach it.
    pub advertised_controller: String,
    /// A broker silent this long is fenced (`broker.session.timeout.ms`).
    pub session_timeout: std::time::Duration,
    /// How often the broker heartbeats to the active controller (`broker.heartbeat.interval.ms`).
    pub heartbeat_interval: std::time::Duration,
    /// An ISR member not caught up for this long leaves the ISR (`replica.lag.time.max.ms`).
    pub replica_max_lag: std::time::Duration,
    /// How often the active controller moves leaderships back to preferred replicas; `None` never
    /// (`auto.leader.rebalance.enable`, `leader.imbalance.check.interval.seconds`).
    pub leader_rebalance_interval: Option<std::time::Duration>,
    /// The secret every node shares: when set, controller traffic is signed and brokers authenticate to each
    /// other's inter-broker listener with it (see [`crate::security::inter_broker`]).
    pub secret: Option<ClusterSecret>,
    /// The CA that signed the other brokers' certificates, for a SASL_SSL inter-broker listener.
    pub inter_broker_tls: Option<Arc<rustls::ClientConfig>>,
}

/// One broker: shared by every connection.
#[derive(Debug)]
pub struct Broker {
    config: BrokerConfig,
    cluster_id: String,
    topics: TopicManager,
    groups: GroupCoordinator,
    producer_ids: ProducerIds,
    /// Set when this broker is a member of a cluster (`--voters`); `None` for a single node.
    cluster: Option<Cluster>,
    metrics: BrokerMetrics,
    users: Users,
    authorizer: Authorizer,
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
    /// Opens the data directory of a single node, recovering every partition. Must run inside a tokio runtime.
    pub async fn open(config: BrokerConfig) -> Result<Arc<Self>, BrokerError> {
        Self::open_with(config, None).await
    }

    /// Opens the data directory of a cluster member: starts its controller quorum member (`DATA/controller`) on
    /// `controller_listener`, and opens the topics, which from then on follow the controller's metadata once
    /// [`Broker::run_cluster_membership`] runs.
    pub async fn open_in_cluster(
        config: BrokerConfig,
        cluster: ClusterConfig,
        controller_listener: tokio::net::TcpListener,
    ) -> Result<Arc<Self>, BrokerError> {
        Self::open_with(config, Some((cluster, controller_listener))).await
    }

    async fn open_with(
        config: BrokerConfig,
        cluster: Option<(ClusterConfig, tokio::net::TcpListener)>,
    ) -> Result<Arc<Self>, BrokerError> {
        std::fs::create_dir_all(&config.data_dir)?;
        let lock = std::fs::File::create(config.data_dir.join(".lock"))?;
        if lock.try_lock().is_err() {
            return Err(BrokerError::InUse(config.data_dir.display().to_string()));
        }
        let cluster_id = load_or_create_identity(&config)?;
        let secret = cluster.as_ref().and_then(|(settings, _)| settings.secret.clone());
        let cluster = match cluster {
            Some((settings, listener)) => {
                let first = config.advertised_listeners.first().map_or(SecurityProtocol::Plaintext, |l| l.protocol);
                let inter_broker = inter_broker_security(
                    first,
                    &config.sasl_mechanisms,
                    settings.secret.as_ref(),
                    settings.inter_broker_tls.clone(),
                )?;
                let controller_config = ControllerConfig {
                    node_id: config.node_id,
                    dir: config.data_dir.join("controller"),
                    advertised: settings.advertised_controller,
                    voters: settings.voters,
                    session_timeout: settings.session_timeout,
                    leader_rebalance_interval: settings.leader_rebalance_interval,
                    secret: settings.secret.clone(),
                };
                let controller = Controller::start(controller_config, listener).await?;
                let (heartbeat, max_lag) = (settings.heartbeat_interval, settings.replica_max_lag);
                Some(Cluster::new(controller, config.node_id, heartbeat, max_lag, inter_broker))
            }
            None => None,
        };
        let topics =
            TopicManager::open(&config.data_dir, LogActivity::default(), config.topic_defaults.clone(), now_ms());
        let topics = topics.await?;
        if cluster.is_some() {
            topics.hand_to_controller();
        }
        let groups = GroupCoordinator::load(config.groups.clone(), &topics).map_err(TopicError::Storage)?;
        let producer_ids = match &cluster {
            Some(cluster) => ProducerIds::from_controller(Arc::clone(cluster.controller()), config.node_id),
            None => ProducerIds::open(&config.data_dir.join("meta"))?,
        };
        let metrics = BrokerMetrics::new(config.node_id, cluster.as_ref());
        let (users, authorizer) = match &cluster {
            Some(cluster) => {
                let controller = cluster.controller();
                let mut settings = config.authorizer.clone();
                settings.inter_broker_principal = secret.as_ref().map(|_| Principal::user(INTER_BROKER_USER));
                let authorizer = Authorizer::from_controller(Arc::clone(controller), settings);
                (Users::from_controller(Arc::clone(controller), secret), authorizer)
            }
            None => {
                let meta = config.data_dir.join("meta");
                (Users::open(&meta)?, Authorizer::open(&meta, config.authorizer.clone())?)
            }
        };
        let broker = Broker {
            config,
            cluster_id,
            topics,
            groups,
            producer_ids,
            cluster,
            metrics,
            users,
            authorizer,
            _lock: lock,
        };
        Ok(Arc::new(broker))
    }

    /// The broker's settings.
    pub fn config(&self) -> &BrokerConfig {
        &self.config
    }

    /// The cluster id: a cluster's as its controller quorum agreed it (once this broker has seen it), else the
    /// one recorded in `meta.properties`.
    pub fn cluster_id(&self) -> String {
        let agreed = self.cluster.as_ref().and_then(|c| c.image().cluster_id.clone());
        agreed.unwrap_or_else(|| self.cluster_id.clone())
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

    /// The cluster this broker is a member of; `None` for a single node.
    pub fn cluster(&self) -> Option<&Cluster> {
        self.cluster.as_ref()
    }

    /// The users SASL listeners authenticate.
    pub fn users(&self) -> &Users {
        &self.users
    }

    /// What connections may do.
    pub fn authorizer(&self) -> &Authorizer {
        &self.authorizer
    }

    /// The broker's Prometheus metrics.
    pub fn metrics(&self) -> &BrokerMetrics {
        &self.metrics
    }

    /// Whether this broker may answer for `partition` of `topic` (a single node leads everything; in a cluster,
    /// only the partition's current leader does): `None` when it may, else the error a client gets.
    pub fn leadership_error(&self, topic: &str, partition: i32) -> Option<kafka_protocol::ResponseError> {
        match self.cluster.as_ref()?.leadership(topic, partition) {
            Leadership::Here(_) => None,
            Leadership::Elsewhere => Some(kafka_protocol::ResponseError::NotLeaderOrFollower),
            Leadership::Unknown => Some(kafka_protocol::ResponseError::UnknownTopicOrPartition),
        }
    }

    /// The replication factor `__consumer_offsets` is created with: Kafka's `offsets.topic.replication.factor`
    /// of 3, or every live broker of a smaller cluster; 1 on a single node.
    pub fn offsets_topic_replication_factor(&self) -> i16 {
        match &self.cluster {
            Some(cluster) => cluster.image().live_brokers().count().clamp(1, 3) as i16,
            None => 1,
        }
    }

    /// How many replicas of `partition` of `topic` are in sync: its ISR in a cluster, 1 on a single node.
    pub fn in_sync_replicas(&self, topic: &str, partition: i32) -> usize {
        match &self.cluster {
            Some(cluster) => cluster.image().partition(topic, partition).map_or(0, |p| p.isr.len()),
            None => 1,
        }
    }

    /// The leader epoch this broker leads `partition` of `topic` in, `None` when it does not lead it. A single node
    /// leads everything in no particular epoch (`Some(-1)`).
    pub fn leader_epoch_here(&self, topic: &str, partition: i32) -> Option<i32> {
        match &self.cluster {
            None => Some(-1),
            Some(cluster) => match cluster.leadership(topic, partition) {
                Leadership::Here(epoch) => Some(epoch),
                Leadership::Elsewhere | Leadership::Unknown => None,
            },
        }
    }

    /// Completes once this broker no longer leads `partition` of `topic` in `leader_epoch`; never on a single node.
    pub async fn leadership_lost(&self, topic: &str, partition: i32, leader_epoch: Option<i32>) {
        let Some(cluster) = &self.cluster else { return std::future::pending().await };
        let mut image = cluster.controller().watch();
        while self.leader_epoch_here(topic, partition) == leader_epoch {
            if image.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }

    /// Registers with the controller quorum, heartbeats and follows its metadata, until the process ends; returns
    /// at once on a single node.
    pub async fn run_cluster_membership(self: Arc<Self>) {
        if let Some(cluster) = &self.cluster {
            let listeners = self.config.advertised_listeners.iter();
            let endpoints = listeners
                .map(|l| Endpoint { listener: l.protocol.name().to_owned(), host: l.host.clone(), port: l.port })
                .collect();
            cluster.run(endpoints, self.cluster_id.clone(), &self.topics, &self.groups).await;
        }
    }

    /// Creates a topic: on a single node directly, in a cluster through the controller. `assignments` lists the
    /// replicas of each partition when the client chose them.
    pub async fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        replication_factor: i16,
        assignments: Option<Vec<Vec<i32>>>,
        overrides: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<Arc<Topic>, TopicError> {
        let Some(cluster) = &self.cluster else {
            return self.topics.create(name, partitions, replication_factor, overrides, validate_only, now_ms()).await;
        };
        crate::topics::validate_name(name)?;
        crate::storage::TopicConfig::from_overrides(&overrides)?;
        if validate_only {
            cluster.check_create_topic(name, partitions, replication_factor, assignments, overrides.clone())?;
            return self.topics.create(name, partitions, 1, overrides, true, now_ms()).await;
        }
        cluster
            .create_topic((&self.topics, &self.groups), name, partitions, replication_factor, assignments, overrides)
            .await
    }

    /// Deletes a topic and its data: on a single node directly, in a cluster through the controller.
    pub async fn delete_topic(&self, name: &str) -> Result<uuid::Uuid, TopicError> {
        let Some(cluster) = &self.cluster else { return self.topics.delete(name).await };
        let id = cluster.image().topics.get(name).map(|t| t.id).ok_or_else(|| TopicError::Unknown(name.to_owned()))?;
        cluster.write(MetadataCommand::DeleteTopic { name: name.to_owned() }, &self.topics, &self.groups).await?;
        Ok(id)
    }

    /// Grows a topic to `count` partitions: on a single node directly, in a cluster through the controller (with
    /// `assignments` for the new partitions when the client chose them).
    pub async fn add_partitions(
        &self,
        name: &str,
        count: i32,
        assignments: Option<Vec<Vec<i32>>>,
        validate_only: bool,
    ) -> Result<(), TopicError> {
        let Some(cluster) = &self.cluster else {
            return self.topics.add_partitions(name, count, validate_only, now_ms()).await;
        };
        if validate_only {
            let current = cluster.image().topics.get(name).map(|t| t.partitions.len() as i32);
            return match current {
                None => Err(TopicError::Unknown(name.to_owned())),
                Some(current) if count <= current => Err(TopicError::InvalidPartitions(format!(
                    "topic '{name}' has {current} partitions; the new count {count} must be larger"
                ))),
                Some(_) => Ok(()),
            };
        }
        let command = MetadataCommand::CreatePartitions { name: name.to_owned(), count, assignments };
        cluster.write(command, &self.topics, &self.groups).await
    }

    /// Replaces a topic's config overrides: on a single node directly, in a cluster through the controller.
    pub async fn set_topic_overrides(
        &self,
        name: &str,
        overrides: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<(), TopicError> {
        let Some(cluster) = &self.cluster else {
            return self.topics.set_overrides(name, overrides, validate_only).await;
        };
        crate::storage::TopicConfig::from_overrides(&overrides)?;
        if validate_only {
            return Ok(());
        }
        let command = MetadataCommand::AlterTopicConfigs { name: name.to_owned(), configs: overrides };
        cluster.write(command, &self.topics, &self.groups).await
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
        let (partitions, replication_factor) = (self.config.default_partitions, self.config.default_replication_factor);
        let created = self.create_topic(name, partitions, replication_factor, None, BTreeMap::new(), false).await;
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
