//! Tidemark's broker: a partitioned commit log that speaks the Kafka wire protocol.
//!
//! - [`storage`]: segmented partition logs, indexes, recovery, retention, group-committed fsync.
//! - [`group`]: consumer groups and their committed offsets.
//! - [`producer_ids`]: ids for idempotent producers, unique across restarts.
//! - [`topics`]: the topics on this broker and their metadata on disk.
//! - [`controller`]: the controller quorum (openraft) that holds a cluster's metadata.
//! - [`cluster`]: a broker as a member of a cluster: registration, heartbeats, topics following the metadata.
//! - [`protocol`]: one handler per Kafka API, free of I/O.
//! - [`server`]: the TCP listener and per-connection framing.
//! - [`metrics`]: the broker's Prometheus metrics.
//!
//! Start a broker with [`Broker::open`] and serve it with [`server::run`] on a bound listener.
#![forbid(unsafe_code)]

pub mod broker;
pub mod client;
pub mod cluster;
pub mod config;
pub mod controller;
pub mod group;
pub mod metrics;
pub mod producer_ids;
pub mod protocol;
pub mod replication;
pub mod security;
pub mod server;
pub mod storage;
pub mod topics;

pub use broker::{now_ms, Broker, BrokerError, ClusterConfig};
pub use config::BrokerConfig;
