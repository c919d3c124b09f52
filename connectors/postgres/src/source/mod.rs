//! The Postgres source: `io.debezium.connector.postgresql.PostgresConnector` (alias `postgres`), Debezium's
//! Postgres connector with its property names, topics, events and offsets.
//!
//! # How it works
//! 1. **Start** (`launch.rs`): the task looks at its stored offset and the replication slot and decides
//!    (`plan.rs`) whether to take a snapshot and where streaming starts. The publication is made to exist first
//!    (`publication.rs`), then the slot is created with an exported snapshot, which an ordinary connection adopts
//!    at once (`SET TRANSACTION SNAPSHOT`).
//! 2. **Snapshot** (`snapshot.rs`): every captured table (`filters.rs`) is read inside that snapshot with binary
//!    COPY (`copy.rs`) as `op: "r"` events, by `snapshot.max.threads` readers sharing it (`snapshot_reader.rs`;
//!    large tables in ranges of pages when there are several, `pieces.rs`). The snapshot shows exactly the
//!    transactions committed before the slot's consistent point, so streaming from that point neither misses nor
//!    repeats a change.
//! 3. **Streaming** (`stream.rs`, `changes.rs`): pgoutput protocol 2 with streamed large transactions (held until
//!    they commit, in a temporary file past `streamed.transaction.spill.bytes`, dropped when they or their
//!    subtransactions abort: `streamed.rs`) and logical decoding messages, turned into Debezium's events
//!    (`schema.rs`, `envelope.rs`, column types through `columns.rs`), with transaction metadata when asked
//!    (`transaction.rs`).
//!
//! A table's schemas (`schema.rs`) carry the columns `column.include.list` / `column.exclude.list` keep
//! (`column_filter.rs`) and are keyed by its primary key or the columns `message.key.columns` names
//! (`message_key.rs`), the same in the snapshot and the stream.
//! 4. **Positions** (`offsets.rs`): a record's offset is the end of the last transaction whose records all come at
//!    or before it, so a restart from any durable record repeats at most one transaction's records and loses
//!    none. The runtime's `commit` hands back the durable positions and only those reach the slot.
//!
//! The reading runs in a background task (`pump.rs`) that hands batches to `poll` (`task.rs`) through a bounded
//! channel. `validate.rs` checks the database when a config is stored.
//!
//! **Invariant: no LSN is confirmed to Postgres before the log acknowledged every record up to it** (the slot's
//! flush position moves only on `SourceTask::commit`, `stream.rs`).

mod catalog;
mod changes;
mod columns;
mod config;
mod connect;
mod copy;
mod emit;
mod envelope;
mod error;
mod launch;
mod offsets;
mod pieces;
mod plan;
mod publication;
mod pump;
mod schema;
mod snapshot;
mod snapshot_reader;
mod stream;
mod streamed;
mod task;
mod transaction;
mod unsupported;
mod validate;

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use tidemark_connect::config::{ConfigDef, FieldError};
use tidemark_connect::connector::{Connector, SourceConnector, SourceTask, TaskError};

pub use task::PostgresSourceTask;

/// The class name `connector.class` gives (Debezium's).
pub const POSTGRES_CLASS: &str = "io.debezium.connector.postgresql.PostgresConnector";
/// The short alias.
pub const POSTGRES_ALIAS: &str = "postgres";

/// The Postgres source connector.
#[derive(Debug, Default)]
pub struct PostgresConnector;

impl Connector for PostgresConnector {
    fn config_def(&self) -> ConfigDef {
        config::config_def()
    }

    fn validate<'a>(&'a self, props: &'a BTreeMap<String, String>) -> BoxFuture<'a, Vec<FieldError>> {
        Box::pin(validate::validate(props))
    }

    /// One task: a slot streams to one reader (Debezium's Postgres connector has one task too).
    fn task_configs(&self, props: &BTreeMap<String, String>, _max_tasks: usize) -> Vec<BTreeMap<String, String>> {
        vec![props.clone()]
    }
}

impl SourceConnector for PostgresConnector {
    fn create_task(&self, task_config: &BTreeMap<String, String>) -> Result<Box<dyn SourceTask>, TaskError> {
        Ok(Box::new(PostgresSourceTask::new(task_config)?))
    }
}
