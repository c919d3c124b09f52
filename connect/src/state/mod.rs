//! The worker's state in the log: the record layouts of `connect-configs`, `connect-offsets` and
//! `connect-status` (Kafka Connect's own, [`records`]), what they add up to ([`cluster`]), and the three topics
//! mirrored into memory ([`store`]).

pub mod cluster;
pub mod records;
pub mod store;

pub use cluster::{ClusterConfig, ConnectorConfig, SourceOffsets, Statuses};
pub use records::{ConfigRecord, RunState, Status, TargetState, TopicUse};
pub use store::{StateError, StateTopics, WorkerState};
