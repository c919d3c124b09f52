//! The contracts between the runtime and connectors (DESIGN.md §1, delivery at least once end to end).
//!
//! **Source contract.** A task hands over records, each with its *source partition* (what stream of the source it
//! came from, e.g. `{"server": "pg1"}`) and *source offset* (its position there, e.g. `{"lsn": 4242}`). The runtime
//! converts and writes them in the order given and waits until the log has acknowledged every one as durable; then
//! it stores the last offset of each source partition in `connect-offsets`; only then does it call
//! [`SourceTask::commit`] with those positions. A task must not confirm a position to its database (a Postgres
//! slot's flush LSN, ...) before that call. After a crash the task restarts from the stored positions, so records
//! after them may be written again (at least once), never lost.
//!
//! **Sink contract.** The runtime reads the connector's topics as a member of the consumer group `connect-<name>`,
//! converts and transforms the records, and hands them to [`SinkTask::put`] in batches, in log order within each
//! partition. Every `offset.flush.interval.ms`, and before it gives partitions up or stops, it calls
//! [`SinkTask::flush`]; only once that returns does it commit the group's offsets past the flushed records. After a
//! crash the group resumes from its committed offsets, so a sink sees records again from there (at least once) and
//! must write idempotently where its destination allows.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value as Json;
use thiserror::Error;

use crate::config::{ConfigDef, FieldError};
use crate::record::ConnectRecord;

/// A task failed. Transient failures are retried with backoff; definite ones fail the task (shown in `/status`)
/// until a user restarts it.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TaskError {
    /// Retrying may help (a connection dropped, the log is unavailable).
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help (bad data, a refused schema, a config the source rejects).
    #[error("{0}")]
    Definite(String),
}

/// A record a source task produces: a [`ConnectRecord`] and its position in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    /// The stream of the source it belongs to (Kafka Connect's `sourcePartition`). Shared: a source's records
    /// mostly carry the same one, which the runtime then compares by address.
    pub source_partition: Arc<Json>,
    /// Its position in that stream (Kafka Connect's `sourceOffset`); shared where records have the same one (a
    /// snapshot's).
    pub source_offset: Arc<Json>,
    /// The record.
    pub record: ConnectRecord,
}

/// How far a source task is behind its database, as the task last measured it; `None` where it cannot tell (yet).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SourceLag {
    /// Change log the database holds that the task has not had acknowledged yet, in bytes (a Postgres slot's WAL
    /// between the server's current position and its confirmed flush position).
    pub bytes: Option<u64>,
    /// How long ago the latest change the task read was written, in seconds, when it read it (Debezium's
    /// `MilliSecondsBehindSource`).
    pub seconds: Option<f64>,
}

/// One running source task (see the module docs for the delivery contract).
pub trait SourceTask: Send {
    /// Starts from the last durable position of each source partition: (source partition, source offset) pairs,
    /// empty on the very first start.
    fn start(&mut self, offsets: Vec<(Json, Json)>) -> BoxFuture<'_, Result<(), TaskError>>;

    /// The next records, in the order they must be written; may wait briefly; empty when there are none yet.
    fn poll(&mut self) -> BoxFuture<'_, Result<Vec<SourceRecord>, TaskError>>;

    /// Every record up to and including these (source partition, source offset) positions is durable in the log
    /// and the positions are stored: the task may now confirm them to its source.
    fn commit<'a>(&'a mut self, durable: &'a [(Json, Json)]) -> BoxFuture<'a, Result<(), TaskError>>;

    /// Stops, releasing what the task holds.
    fn stop(&mut self) -> BoxFuture<'_, ()>;

    /// Its lag behind its source, read by the runtime after every poll for the worker's metrics: a cheap read of
    /// what the task measured (the default knows nothing).
    fn lag(&self) -> SourceLag {
        SourceLag::default()
    }
}

/// What every connector declares: its settings, its checks, and how it splits work into tasks.
pub trait Connector: Send + Sync {
    /// The settings it declares (on top of the runtime's own).
    fn config_def(&self) -> ConfigDef;

    /// Checks beyond the declared settings, e.g. that the database answers; the default has none.
    fn validate<'a>(&'a self, _props: &'a BTreeMap<String, String>) -> BoxFuture<'a, Vec<FieldError>> {
        Box::pin(async { Vec::new() })
    }

    /// The config of each task, at most `max_tasks` of them.
    fn task_configs(&self, props: &BTreeMap<String, String>, max_tasks: usize) -> Vec<BTreeMap<String, String>>;
}

/// A source connector.
pub trait SourceConnector: Connector {
    /// A task for one of the configs [`Connector::task_configs`] made (config providers resolved).
    fn create_task(&self, task_config: &BTreeMap<String, String>) -> Result<Box<dyn SourceTask>, TaskError>;
}

/// A record handed to a sink task: a [`ConnectRecord`] (its `partition` always set) and its offset in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkRecord {
    /// The record, after the connector's transforms.
    pub record: ConnectRecord,
    /// Its offset in its partition of the log.
    pub kafka_offset: i64,
}

/// A record a sink task could not write and never will (a constraint it violates, a value the destination cannot
/// hold, an HTTP 4xx): the runtime sends it to the dead-letter topic or fails the task, as `errors.tolerance` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Its index in the batch given to [`SinkTask::put`].
    pub index: usize,
    /// Why, in the destination's words.
    pub reason: String,
}

/// One running sink task (see the module docs for the delivery contract).
pub trait SinkTask: Send {
    /// Starts (connects to the destination).
    fn start(&mut self) -> BoxFuture<'_, Result<(), TaskError>>;

    /// Writes or buffers a batch, in log order within each partition, and answers the records it rejects. A
    /// transient error means nothing of the batch may be assumed written: the runtime retries the whole batch.
    fn put<'a>(&'a mut self, records: &'a [SinkRecord]) -> BoxFuture<'a, Result<Vec<Rejected>, TaskError>>;

    /// Makes everything put so far durable in the destination. Only after this succeeds does the runtime commit
    /// the consumer offsets past those records.
    fn flush(&mut self) -> BoxFuture<'_, Result<(), TaskError>>;

    /// Stops, releasing what the task holds (without flushing: the runtime flushes first when it can).
    fn stop(&mut self) -> BoxFuture<'_, ()>;
}

/// A sink connector.
pub trait SinkConnector: Connector {
    /// A task for one of the configs [`Connector::task_configs`] made (config providers resolved).
    fn create_task(&self, task_config: &BTreeMap<String, String>) -> Result<Box<dyn SinkTask>, TaskError>;
}
