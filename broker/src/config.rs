//! The broker's own settings (the topic-level ones live in [`crate::storage::TopicConfig`]).

use std::path::PathBuf;
use std::time::Duration;

use crate::security::authorizer::AuthorizerSettings;
use crate::security::listener::{ListenerAddress, SecurityProtocol};
use crate::security::sasl::SaslMechanism;
use crate::storage::compaction::CleanerConfig;

/// Settings of one broker process.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// Root of the broker's files (`topics/`, `meta/`, `meta.properties`).
    pub data_dir: PathBuf,
    /// This broker's id in the cluster.
    pub node_id: i32,
    /// The endpoints clients are told to connect to, one per listener (a listener is named by its security
    /// protocol, and a client is told the endpoints of the listener it connected to). The first is also where
    /// other brokers reach this one.
    pub advertised_listeners: Vec<ListenerAddress>,
    /// The SASL mechanisms offered on SASL listeners (Kafka's `sasl.enabled.mechanisms`).
    pub sasl_mechanisms: Vec<SaslMechanism>,
    /// Whether requests are authorized with ACLs, and who may do everything.
    pub authorizer: AuthorizerSettings,
    /// Create unknown topics on Metadata and Produce requests (Kafka's `auto.create.topics.enable`).
    pub auto_create_topics: bool,
    /// Partitions of a topic created without a count (Kafka's `num.partitions`).
    pub default_partitions: i32,
    /// Replicas of a topic created without a replication factor (Kafka's `default.replication.factor`).
    pub default_replication_factor: i16,
    /// The broker's defaults for every topic's config, under each topic's overrides (Kafka's static broker
    /// configs, e.g. `min.insync.replicas`).
    pub topic_defaults: std::collections::BTreeMap<String, String>,
    /// Largest request frame accepted; larger frames close the connection (`socket.request.max.bytes`).
    pub max_request_bytes: usize,
    /// How often retention runs (`log.retention.check.interval.ms`).
    pub retention_check_interval: Duration,
    /// The log cleaner's settings (compaction of `cleanup.policy=compact` topics).
    pub cleaner: CleanerConfig,
    /// The group coordinator's settings.
    pub groups: GroupConfig,
}

/// Settings of the group coordinator (Kafka's `group.*` and `offsets.*` broker configs).
#[derive(Debug, Clone)]
pub struct GroupConfig {
    /// How long the first rebalance of an empty group waits for more members (`group.initial.rebalance.delay.ms`).
    pub initial_rebalance_delay: Duration,
    /// Shortest session timeout a member may ask for (`group.min.session.timeout.ms`).
    pub min_session_timeout: Duration,
    /// Longest session timeout a member may ask for (`group.max.session.timeout.ms`).
    pub max_session_timeout: Duration,
    /// Partitions of `__consumer_offsets` when it is created (`offsets.topic.num.partitions`).
    pub offsets_topic_partitions: i32,
    /// Largest metadata string a commit may carry (`offset.metadata.max.bytes`).
    pub offset_metadata_max_bytes: usize,
}

impl Default for GroupConfig {
    fn default() -> Self {
        GroupConfig {
            initial_rebalance_delay: Duration::from_secs(3),
            min_session_timeout: Duration::from_secs(6),
            max_session_timeout: Duration::from_secs(30 * 60),
            offsets_topic_partitions: 50,
            offset_metadata_max_bytes: 4096,
        }
    }
}

impl BrokerConfig {
    /// Defaults for a single node storing under `data_dir` and reachable at `host:port` (PLAINTEXT).
    pub fn new(data_dir: PathBuf, advertised_host: String, advertised_port: u16) -> Self {
        let listener =
            ListenerAddress { protocol: SecurityProtocol::Plaintext, host: advertised_host, port: advertised_port };
        Self::with_listeners(data_dir, vec![listener])
    }

    /// Defaults for a single node storing under `data_dir` with these listeners' advertised endpoints (at least
    /// one).
    pub fn with_listeners(data_dir: PathBuf, advertised_listeners: Vec<ListenerAddress>) -> Self {
        BrokerConfig {
            data_dir,
            node_id: 1,
            advertised_listeners,
            sasl_mechanisms: SaslMechanism::ALL.to_vec(),
            authorizer: AuthorizerSettings::default(),
            auto_create_topics: true,
            default_partitions: 1,
            default_replication_factor: 1,
            topic_defaults: std::collections::BTreeMap::new(),
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            retention_check_interval: Duration::from_secs(300),
            cleaner: CleanerConfig::default(),
            groups: GroupConfig::default(),
        }
    }

    /// The endpoint advertised for listener `protocol`, if this broker has that listener.
    pub fn advertised(&self, protocol: SecurityProtocol) -> Option<&ListenerAddress> {
        self.advertised_listeners.iter().find(|listener| listener.protocol == protocol)
    }
}

/// Default for [`BrokerConfig::max_request_bytes`]: 100 MiB, as Kafka's `socket.request.max.bytes`.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 100 * 1024 * 1024;
