//! The contracts between the runtime and connectors (DESIGN.md §1, delivery at least once end to end).
//!
//! **Source contract.** A task hands over records, each with its *source partition* (what stream of the source it
//! came from, e.g. `{"server": "pg1"}`) and *source offset* (its position there, e.g. `{"lsn": 4242}`). The runtime
//! converts and writes them in the order given and waits until the log has acknowledged every one as durable; then
//! it stores the last offset of each source partition in `connect-offsets`; only then does it call
//! [`SourceTask::commit`] with those positions. A task must not confirm a position to its database (a Postgres
//! slot's flush LSN, ...) before that call. After a crash the task restarts from the stored positions, so records
//! after them may be written again (at least once), never lost.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde_json::Value as Json;
use thiserror::Error;

use crate::config::{ConfigDef, FieldError};
use crate::data::{SchemaRef, Value};

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

/// A record a source task produces.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    /// The stream of the source it belongs to (Kafka Connect's `sourcePartition`).
    pub source_partition: Json,
    /// Its position in that stream (Kafka Connect's `sourceOffset`).
    pub source_offset: Json,
    /// The topic to write to.
    pub topic: String,
    /// The partition, or `None` for Kafka's partitioner over the key bytes.
    pub partition: Option<i32>,
    /// The key's schema.
    pub key_schema: Option<SchemaRef>,
    /// The key.
    pub key: Value,
    /// The value's schema.
    pub value_schema: Option<SchemaRef>,
    /// The value (null for a tombstone).
    pub value: Value,
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
}

/// A source connector: its settings, how it splits work into tasks, and its tasks.
pub trait SourceConnector: Send + Sync {
    /// The settings it declares (on top of the runtime's own).
    fn config_def(&self) -> ConfigDef;

    /// Checks beyond the declared settings, e.g. that the database answers; the default has none.
    fn validate<'a>(&'a self, _props: &'a BTreeMap<String, String>) -> BoxFuture<'a, Vec<FieldError>> {
        Box::pin(async { Vec::new() })
    }

    /// The config of each task, at most `max_tasks` of them.
    fn task_configs(&self, props: &BTreeMap<String, String>, max_tasks: usize) -> Vec<BTreeMap<String, String>>;

    /// A task for one of the configs [`SourceConnector::task_configs`] made (config providers resolved).
    fn create_task(&self, task_config: &BTreeMap<String, String>) -> Result<Box<dyn SourceTask>, TaskError>;
}
