//! The broker's own settings (the topic-level ones live in [`crate::storage::TopicConfig`]).

use std::path::PathBuf;
use std::time::Duration;

/// Settings of one broker process.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// Root of the broker's files (`topics/`, `meta/`, `meta.properties`).
    pub data_dir: PathBuf,
    /// This broker's id in the cluster.
    pub node_id: i32,
    /// Host clients are told to connect to.
    pub advertised_host: String,
    /// Port clients are told to connect to.
    pub advertised_port: u16,
    /// Create unknown topics on Metadata and Produce requests (Kafka's `auto.create.topics.enable`).
    pub auto_create_topics: bool,
    /// Partitions of a topic created without a count (Kafka's `num.partitions`).
    pub default_partitions: i32,
    /// Largest request frame accepted; larger frames close the connection (`socket.request.max.bytes`).
    pub max_request_bytes: usize,
    /// How often retention runs (`log.retention.check.interval.ms`).
    pub retention_check_interval: Duration,
}

impl BrokerConfig {
    /// Defaults for a single node storing under `data_dir` and reachable at `host:port`.
    pub fn new(data_dir: PathBuf, advertised_host: String, advertised_port: u16) -> Self {
        BrokerConfig {
            data_dir,
            node_id: 1,
            advertised_host,
            advertised_port,
            auto_create_topics: true,
            default_partitions: 1,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            retention_check_interval: Duration::from_secs(300),
        }
    }
}

/// Default for [`BrokerConfig::max_request_bytes`]: 100 MiB, as Kafka's `socket.request.max.bytes`.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 100 * 1024 * 1024;
