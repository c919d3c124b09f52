//! The dead-letter reporter: what happens to a record that failed when `errors.tolerance=all` — a log line when
//! `errors.log.enable`, and a copy in the dead-letter topic (with the `__connect.errors.*` headers of Kafka Connect's
//! `DeadLetterQueueReporter` when `errors.deadletterqueue.context.headers.enable`). A dead letter is durable before
//! the runtime moves past its record, so skipping a record never loses it.

use std::sync::Arc;

use bytes::Bytes;
use tidemark_log_client::{LogClient, ProducerRecord, TopicSpec};
use tokio::sync::OnceCell;

use super::errors::{retry_transient, ErrorPolicy, RecordFailure};
use super::log_failure;
use crate::connector::TaskError;
use crate::metrics::TaskMetrics;

/// How long a dead letter is retried while the log is unavailable before the task fails instead (as a producer's
/// `delivery.timeout.ms` bounds a send).
const DEAD_LETTER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// The prefix of the error context headers.
pub const ERROR_HEADER_PREFIX: &str = "__connect.errors.";

/// Where a failed record came from in the log (sink records only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOrigin {
    /// Its topic.
    pub topic: String,
    /// Its partition.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
}

/// A failed record as it goes to the dead-letter topic: for a sink, its bytes as read; for a source, its bytes in
/// the connector's format when they could be made, else its JSON rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRecord {
    /// Where it was read from, for a sink.
    pub origin: Option<LogOrigin>,
    /// The key bytes.
    pub key: Option<Bytes>,
    /// The value bytes.
    pub value: Option<Bytes>,
    /// Its headers.
    pub headers: Vec<(String, Option<Bytes>)>,
}

/// Reports the failed records of one task.
pub struct DeadLetters {
    policy: ErrorPolicy,
    metrics: TaskMetrics,
    connector: String,
    task: u32,
    log: Arc<dyn LogClient>,
    topic_ready: OnceCell<()>,
}

impl DeadLetters {
    /// The reporter of task `task` of `connector`, counting failures in `metrics`.
    pub fn new(policy: ErrorPolicy, connector: &str, task: u32, log: Arc<dyn LogClient>, metrics: TaskMetrics) -> Self {
        DeadLetters { policy, metrics, connector: connector.to_owned(), task, log, topic_ready: OnceCell::new() }
    }

    /// The connector's error policy.
    pub fn policy(&self) -> &ErrorPolicy {
        &self.policy
    }

    /// Handles a failed record: `Err` (the task fails) unless `errors.tolerance=all`; otherwise logs it and writes
    /// it to the dead-letter topic as configured, retrying for up to two minutes while the log is unavailable.
    pub async fn report(&self, failure: RecordFailure, record: FailedRecord) -> Result<(), TaskError> {
        self.metrics.error(failure.stage);
        if !self.policy.tolerate_all {
            return Err(failure.into_task_error());
        }
        if self.policy.log {
            let origin = record.origin.as_ref().filter(|_| self.policy.log_messages);
            tracing::error!(
                connector = self.connector,
                task = self.task,
                stage = failure.stage.as_str(),
                class = failure.class_name,
                topic = origin.map(|o| o.topic.as_str()),
                partition = origin.map(|o| o.partition),
                offset = origin.map(|o| o.offset),
                error = failure.message,
                "skipping a record that failed"
            );
        }
        let Some(settings) = &self.policy.dead_letter else { return Ok(()) };
        let spec = TopicSpec {
            name: settings.topic.clone(),
            partitions: 1,
            replication_factor: settings.replication_factor,
            configs: Default::default(),
        };
        let produced = self.dead_letter(&failure, record, settings.context_headers);
        retry_transient(Some(DEAD_LETTER_TIMEOUT), self.policy.retry_delay_max, || async {
            self.topic_ready.get_or_try_init(|| self.log.ensure_topic(&spec)).await.map_err(log_failure)?;
            self.log.produce(&spec.name, vec![produced.clone()]).await.map(drop).map_err(log_failure)
        })
        .await?;
        self.metrics.dead_letter();
        Ok(())
    }

    fn dead_letter(&self, failure: &RecordFailure, record: FailedRecord, context: bool) -> ProducerRecord {
        let mut headers: Vec<(String, Option<Bytes>)> =
            record.headers.into_iter().filter(|(k, _)| !k.starts_with(ERROR_HEADER_PREFIX)).collect();
        if context {
            let mut add = |name: &str, value: String| {
                headers.push((format!("{ERROR_HEADER_PREFIX}{name}"), Some(Bytes::from(value))));
            };
            if let Some(origin) = &record.origin {
                add("topic", origin.topic.clone());
                add("partition", origin.partition.to_string());
                add("offset", origin.offset.to_string());
            }
            add("connector.name", self.connector.clone());
            add("task.id", self.task.to_string());
            add("stage", failure.stage.as_str().to_owned());
            add("class.name", failure.class_name.clone());
            add("exception.class.name", "io.tidemark.connect.RecordFailure".to_owned());
            add("exception.message", failure.message.clone());
            add("exception.stacktrace", failure.message.clone());
        }
        ProducerRecord { partition: None, key: record.key, value: record.value, headers, timestamp: None }
    }
}
