//! The MySQL source: `io.debezium.connector.mysql.MySqlConnector` (aliases `mysql` and
//! `io.debezium.connector.mariadb.MariaDbConnector`), Debezium's MySQL connector with its property names, topics,
//! events and offsets, for MySQL 8 and MariaDB.
//!
//! # How it works
//! 1. **Start** (`pump.rs`): the task looks at its stored offset and `snapshot.mode` and decides whether to take a
//!    snapshot and where the binlog is read from; a stored position the server no longer has re-snapshots under
//!    `when_needed` and fails the task otherwise. A snapshot taken while a position is stored (an interrupted
//!    snapshot, `always`) is followed by streaming from that older position, so the changes made in between, deletes
//!    above all, come after it.
//! 2. **Snapshot** (`snapshot.rs`): a consistent-snapshot transaction and the binlog position it corresponds to
//!    (MariaDB reports it lock-free; MySQL holds a global read lock only while reading it), then every captured table
//!    (`config.rs` filters) read in that transaction as `op: "r"` events.
//! 3. **Streaming** (`stream.rs`): the binlog from that position (by GTID set when the server has GTIDs, else file
//!    and offset), transaction by transaction, each table's schemas built from its table map (`schema.rs`, column
//!    types through [`crate::types`]) and rebuilt when a table map shows the table changed.
//! 4. **Positions** (`offsets.rs`): a record's offset is the end of the last transaction whose records all come at
//!    or before it, so a restart from any durable record repeats at most one transaction's records and loses none.
//!
//! The reading runs in a background task (`pump.rs`) that hands batches to `poll` (`task.rs`) through a bounded
//! channel. `validate.rs` checks the server when a config is stored.

mod config;
mod connect;
mod ddl;
mod emit;
mod envelope;
mod error;
mod offsets;
mod pump;
mod schema;
mod schema_change;
mod snapshot;
mod stream;
mod task;
mod unsupported;
mod validate;

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use tidemark_connect::config::{ConfigDef, FieldError};
use tidemark_connect::connector::{Connector, SourceConnector, SourceTask, TaskError};

pub use task::MySqlSourceTask;

/// The class name `connector.class` gives (Debezium's).
pub const MYSQL_CLASS: &str = "io.debezium.connector.mysql.MySqlConnector";
/// Debezium's MariaDB connector class, served by the same connector.
pub const MARIADB_CLASS: &str = "io.debezium.connector.mariadb.MariaDbConnector";
/// The short alias.
pub const MYSQL_ALIAS: &str = "mysql";

/// The MySQL source connector.
#[derive(Debug, Default)]
pub struct MySqlConnector;

impl Connector for MySqlConnector {
    fn config_def(&self) -> ConfigDef {
        config::config_def()
    }

    fn validate<'a>(&'a self, props: &'a BTreeMap<String, String>) -> BoxFuture<'a, Vec<FieldError>> {
        Box::pin(validate::validate(props))
    }

    /// One task: the binlog is one ordered stream (Debezium's MySQL connector has one task too).
    fn task_configs(&self, props: &BTreeMap<String, String>, _max_tasks: usize) -> Vec<BTreeMap<String, String>> {
        vec![props.clone()]
    }
}

impl SourceConnector for MySqlConnector {
    fn create_task(&self, task_config: &BTreeMap<String, String>) -> Result<Box<dyn SourceTask>, TaskError> {
        Ok(Box::new(MySqlSourceTask::new(task_config)?))
    }
}
