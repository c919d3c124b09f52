//! The sink task ([`JdbcSinkTask`]): each `put` is written and committed before it returns, so `flush` has nothing
//! left to do and the runtime commits consumer offsets only past rows the database has.
//!
//! Replays: the task remembers the highest offset it has written of each partition, and skips records at or below
//! it. Within a partition records arrive in log order, so such a record is older than what its row already holds:
//! a partition handed back to the task after a rebalance (from a committed offset behind what was written) never
//! moves a row back to an older state. The memory lasts as long as the task; after a restart the committed offsets
//! are where reading resumes, and upserts make the records seen again harmless.
//!
//! A lost connection is transient: the runtime retries the batch, and the next `put` connects again. A failure to
//! connect at `start` that may pass is left to `put` too (the runtime does not retry `start`).

use std::collections::{BTreeMap, HashMap};

use futures::future::BoxFuture;
use tidemark_connect::config::invalid_config_message;
use tidemark_connect::connector::{Rejected, SinkRecord, SinkTask, TaskError};
use tidemark_connect::worker::sink_def;

use crate::change::{Change, Reader};
use crate::config::{config_def, SinkConfig, UNSUPPORTED};
use crate::db::{DbError, Session};
use crate::tables::{TableError, Tables};
use crate::tls::SinkTls;
use crate::writer::write;

/// One running sink task.
pub struct JdbcSinkTask {
    config: SinkConfig,
    /// The connector's name, for logs.
    connector: String,
    warnings: Vec<String>,
    session: Option<Session>,
    tables: Tables,
    /// The highest offset written, by topic and partition.
    written: HashMap<String, HashMap<i32, i64>>,
}

impl JdbcSinkTask {
    /// A task for a connector config (config providers resolved).
    pub fn new(props: &BTreeMap<String, String>) -> Result<Self, TaskError> {
        let config = SinkConfig::from_props(props).map_err(|e| TaskError::Definite(invalid_config_message(&e)))?;
        Ok(JdbcSinkTask {
            tables: Tables::new(config.url.dialect, config.schema_evolution),
            config,
            connector: props.get("name").cloned().unwrap_or_default(),
            warnings: tidemark_debezium::warnings(&config_def().merged(&sink_def()), props, UNSUPPORTED),
            session: None,
            written: HashMap::new(),
        })
    }

    /// Whether the record is at or below the highest offset written of its partition.
    fn is_replay(&self, record: &SinkRecord) -> bool {
        let r = &record.record;
        self.written
            .get(r.topic.as_str())
            .and_then(|partitions| partitions.get(&r.partition.unwrap_or(-1)))
            .is_some_and(|&written| record.kafka_offset <= written)
    }

    /// Remembers the records as written.
    fn remember(&mut self, records: &[SinkRecord]) {
        for record in records {
            let r = &record.record;
            let partitions = match self.written.get_mut(r.topic.as_str()) {
                Some(partitions) => partitions,
                None => self.written.entry(r.topic.clone()).or_default(),
            };
            let written = partitions.entry(r.partition.unwrap_or(-1)).or_insert(record.kafka_offset);
            *written = (*written).max(record.kafka_offset);
        }
    }

    async fn write(&mut self, records: &[SinkRecord]) -> Result<Vec<Rejected>, TaskError> {
        let mut rejected = Vec::new();
        let mut steps = Vec::new();
        let mut changes = Vec::new();
        let mut reader = Reader::new(&self.config);
        for (index, record) in records.iter().enumerate() {
            if self.is_replay(record) {
                continue;
            }
            if let Some(table) = reader.truncated_table(record) {
                // What came before is written first: a truncate empties the table as it is at that point.
                steps.push(Step::Write(std::mem::take(&mut changes)));
                steps.push(Step::Truncate(table));
                continue;
            }
            match reader.read(index, record) {
                Ok(Some(change)) => changes.push(change),
                Ok(None) => {}
                Err(reason) => rejected.push(Rejected { index, reason }),
            }
        }
        steps.push(Step::Write(changes));
        for step in steps {
            match step {
                Step::Write(changes) if changes.is_empty() => {}
                Step::Write(changes) => rejected.extend(self.write_changes(&changes).await?),
                Step::Truncate(table) => self.truncate(&table).await?,
            }
        }
        self.remember(records);
        rejected.sort_by_key(|r| r.index);
        Ok(rejected)
    }

    /// Connects when there is no open session.
    async fn ensure_session(&mut self) -> Result<(), TaskError> {
        if self.session.is_none() {
            self.session = Some(Session::connect(&self.config).await.map_err(|e| self.failure(e))?);
        }
        Ok(())
    }

    /// Writes `changes` in one transaction; answers the changes the database refused.
    async fn write_changes(&mut self, changes: &[Change]) -> Result<Vec<Rejected>, TaskError> {
        self.ensure_session().await?;
        let Some(session) = self.session.as_mut() else {
            return Err(TaskError::Transient("no connection to the database".to_owned()));
        };
        let written = match self.tables.prepare(session, changes).await {
            Ok(absent) => {
                let dialect = self.config.url.dialect;
                write(session, dialect, &self.tables, &absent, changes, self.config.batch_size)
                    .await
                    .map_err(TableError::Db)
            }
            Err(error) => Err(error),
        };
        written.map_err(|error| self.table_failure(error))
    }

    /// Empties `table` (`truncate.enabled`); a table that does not exist has nothing to empty.
    async fn truncate(&mut self, table: &str) -> Result<(), TaskError> {
        self.ensure_session().await?;
        let Some(session) = self.session.as_mut() else {
            return Err(TaskError::Transient("no connection to the database".to_owned()));
        };
        let truncated = match self.tables.exists(session, table).await {
            Ok(true) => session.run(&self.config.url.dialect.truncate(table)).await.map_err(TableError::Db),
            Ok(false) => {
                tracing::debug!(connector = self.connector, table, "a truncate event for a table that does not exist");
                Ok(())
            }
            Err(error) => Err(error),
        };
        truncated.map_err(|error| self.table_failure(error))
    }

    /// The task error of a failed write or truncate; the tables are read again next time.
    fn table_failure(&mut self, error: TableError) -> TaskError {
        self.tables.forget();
        match error {
            TableError::Db(error) => self.failure(error),
            missing => TaskError::Definite(missing.to_string()),
        }
    }

    /// The task error of a database failure; a connection that may have broken is dropped, to open anew.
    fn failure(&mut self, error: DbError) -> TaskError {
        let message = format!("{} sink at {}: {error}", self.config.url.dialect, self.config.url.address());
        match error {
            DbError::Unavailable(_) => {
                self.session = None;
                TaskError::Transient(message)
            }
            _ => TaskError::Definite(message),
        }
    }
}

/// One step of a batch: its changes up to a truncate, or the truncate.
enum Step {
    /// Write these changes in one transaction.
    Write(Vec<Change>),
    /// Empty this table.
    Truncate(String),
}

impl SinkTask for JdbcSinkTask {
    fn start(&mut self) -> BoxFuture<'_, Result<(), TaskError>> {
        Box::pin(async move {
            for warning in &self.warnings {
                tracing::warn!(connector = self.connector, "{warning}");
            }
            for (name, _) in self.config.url.params.iter().filter(|(name, _)| !SinkTls::reads(name)) {
                tracing::warn!(connector = self.connector, "the connection.url parameter {name} is ignored");
            }
            match Session::connect(&self.config).await {
                Ok(session) => self.session = Some(session),
                Err(DbError::Unavailable(message)) => {
                    tracing::warn!(connector = self.connector, %message, "the database is not reachable yet");
                }
                Err(error) => return Err(self.failure(error)),
            }
            Ok(())
        })
    }

    fn put<'a>(&'a mut self, records: &'a [SinkRecord]) -> BoxFuture<'a, Result<Vec<Rejected>, TaskError>> {
        Box::pin(self.write(records))
    }

    fn flush(&mut self) -> BoxFuture<'_, Result<(), TaskError>> {
        // Every put committed its transaction before returning.
        Box::pin(async { Ok(()) })
    }

    fn stop(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Some(session) = self.session.take() {
                session.close().await;
            }
        })
    }
}
