//! Runs one sink task under the sink contract ([`crate::connector`]): read the connector's topics as a member of
//! the consumer group `connect-<name>`, convert and transform each record, hand batches to the task, and every
//! `offset.flush.interval.ms` (and when stopping) flush the task and only then commit the group's offsets past the
//! flushed records. A record that fails conversion, a transform or the task's write is handled by
//! `errors.tolerance`: the task fails, or the record is skipped (dead-lettered first when configured), so a poison
//! record never stalls its partition.
//!
//! While the task writes one batch, the next poll's records (what is there, without waiting) are converted, so the
//! destination's work and the worker's overlap; a batch read but not handed over when the task stops is not
//! committed, and is read again next time.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tidemark_log_client::{GroupConsumer, LogClient, LogError, Subscription, TopicRecord};
use tokio::sync::watch;
use tokio::time::Instant;

use super::dead_letter::{FailedRecord, LogOrigin};
use super::errors::{Backoff, RecordFailure, Stage};
use super::pipeline::Pipeline;
use super::{log_failure, prepare};
use crate::connector::{SinkRecord, SinkTask, TaskError};
use crate::converters::{header_value, Converter};
use crate::record::{ConnectRecord, Header};

/// How long one poll of the group waits for records.
const POLL_WAIT: Duration = Duration::from_millis(500);

/// What a sink task runs with.
pub struct SinkTaskContext {
    /// The connector's name (its consumer group is `connect-<name>`).
    pub connector: String,
    /// The connector's class (named in dead-letter headers for the task's own failures).
    pub connector_class: String,
    /// The task's number.
    pub task: u32,
    /// The log records are read from.
    pub log: Arc<dyn LogClient>,
    /// The topics read (`topics` or `topics.regex`).
    pub subscription: Subscription,
    /// Most records handed over in one batch.
    pub max_poll_records: usize,
    /// How often the task is flushed and offsets committed.
    pub flush_interval: Duration,
    /// Conversion, transforms, error handling and metrics.
    pub pipeline: Pipeline,
}

/// The consumer group of a sink connector, as Kafka Connect names it.
pub fn sink_group(connector: &str) -> String {
    format!("connect-{connector}")
}

/// Runs `task` until `stop` turns true or the task fails; on a clean stop what was handed over is flushed and
/// committed first. The task is stopped and the group left either way.
pub async fn run_sink_task(
    mut task: Box<dyn SinkTask>,
    context: SinkTaskContext,
    mut stop: watch::Receiver<bool>,
) -> Result<(), TaskError> {
    let group = sink_group(&context.connector);
    let mut consumer = context
        .log
        .group_consumer(&group, context.subscription.clone(), context.max_poll_records)
        .map_err(log_failure)?;
    if let Err(e) = task.start().await {
        consumer.close().await;
        return Err(e);
    }
    let mut run = SinkRun { context: &context, task: &mut *task, pending: BTreeMap::new(), stop: stop.clone() };
    let mut last_commit = Instant::now();
    let mut poll_backoff: Option<Backoff> = None;
    // A batch read and converted, not yet handed to the task.
    let mut ready: Option<Prepared> = None;
    let outcome = loop {
        if *stop.borrow() {
            break Ok(());
        }
        let read = match ready.take() {
            // The batch is handed over while the next one is read (without waiting) and converted, so the
            // destination's work on one batch and the conversion of the next overlap.
            Some(prepared) => {
                let (handed, read) =
                    tokio::join!(run.hand_over(prepared), read(&context, &mut *consumer, Duration::ZERO));
                if let Err(e) = handed {
                    break Err(e);
                }
                read
            }
            None => {
                // A poll waits no longer than until the next flush is due, so the tail of a stream is not held back.
                let until_flush = context.flush_interval.saturating_sub(last_commit.elapsed());
                let wait = if run.pending.is_empty() { POLL_WAIT } else { POLL_WAIT.min(until_flush) };
                tokio::select! {
                    read = read(&context, &mut *consumer, wait) => read,
                    _ = stop.changed() => break Ok(()),
                }
            }
        };
        match read {
            Ok(prepared) => {
                poll_backoff = None;
                ready = prepared;
            }
            Err(ReadFailure::Log(LogError::Unavailable(message))) => {
                let delay_max = context.pipeline.dead_letters.policy().retry_delay_max;
                let backoff = poll_backoff.get_or_insert_with(|| Backoff::new(None, delay_max));
                tokio::select! {
                    _ = backoff.wait(&message) => continue,
                    _ = stop.changed() => break Ok(()),
                }
            }
            Err(ReadFailure::Log(e)) => break Err(log_failure(e)),
            Err(ReadFailure::Task(e)) => break Err(e),
        }
        if last_commit.elapsed() >= context.flush_interval && !run.pending.is_empty() {
            if let Err(e) = run.commit(&mut *consumer).await {
                break Err(e);
            }
            last_commit = Instant::now();
        }
    };
    // A batch read but not handed over is not committed: it is read again next time.
    let outcome = match outcome {
        Ok(()) => run.commit(&mut *consumer).await,
        // Stopped while retrying: nothing more is committed, the records are read again next time.
        Err(_) if *stop.borrow() => Ok(()),
        failed => failed,
    };
    task.stop().await;
    consumer.close().await;
    outcome
}

/// One run's state: the task and the offsets handed over but not yet committed.
struct SinkRun<'a> {
    context: &'a SinkTaskContext,
    task: &'a mut dyn SinkTask,
    /// The next offset to read of each partition whose records were handed over (or skipped) since the last commit.
    pending: BTreeMap<(String, i32), i64>,
    /// Turns true when the task must stop (ending retries).
    stop: watch::Receiver<bool>,
}

impl SinkRun<'_> {
    /// Waits before retrying after a transient failure; the failure itself when the task must stop meanwhile.
    async fn wait(&mut self, backoff: &mut Backoff, message: String) -> Result<(), TaskError> {
        if *self.stop.borrow() {
            return Err(TaskError::Transient(message));
        }
        tokio::select! {
            _ = backoff.wait(&message) => Ok(()),
            _ = self.stop.changed() => Err(TaskError::Transient(message)),
        }
    }

    /// Hands a prepared batch to the task, dead-letters what it rejects, and marks its records' offsets pending.
    async fn hand_over(&mut self, prepared: Prepared) -> Result<(), TaskError> {
        let Prepared { batch, originals, read_up_to } = prepared;
        if !batch.is_empty() {
            let started = std::time::Instant::now();
            self.context.pipeline.metrics.put(batch.len());
            let rejected = self.put(&batch).await?;
            self.context.pipeline.metrics.batch(started.elapsed().as_secs_f64());
            for rejection in rejected {
                let Some(original) = originals.get(rejection.index) else { continue };
                let failure = RecordFailure {
                    stage: Stage::TaskPut,
                    class_name: self.context.connector_class.clone(),
                    message: rejection.reason,
                };
                self.context.pipeline.dead_letters.report(failure, original.clone()).await?;
            }
        }
        self.pending.extend(read_up_to);
        Ok(())
    }

    /// Hands a batch to the task, again and again while it fails transiently (Kafka Connect retries a
    /// `RetriableException` from `put` the same way).
    async fn put(&mut self, batch: &[SinkRecord]) -> Result<Vec<crate::connector::Rejected>, TaskError> {
        let mut backoff = Backoff::new(None, self.context.pipeline.dead_letters.policy().retry_delay_max);
        loop {
            match self.task.put(batch).await {
                Err(TaskError::Transient(message)) => self.wait(&mut backoff, message).await?,
                outcome => return outcome,
            }
        }
    }

    /// Flushes the task, then commits the offsets past what it flushed (of the partitions still assigned).
    async fn commit(&mut self, consumer: &mut dyn GroupConsumer) -> Result<(), TaskError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut backoff = Backoff::new(None, self.context.pipeline.dead_letters.policy().retry_delay_max);
        loop {
            match self.task.flush().await {
                Err(TaskError::Transient(message)) => self.wait(&mut backoff, message).await?,
                outcome => break outcome?,
            }
        }
        let assigned = consumer.assignment();
        let offsets: Vec<(String, i32, i64)> = std::mem::take(&mut self.pending)
            .into_iter()
            .filter(|(partition, _)| assigned.contains(partition))
            .map(|((topic, partition), next)| (topic, partition, next))
            .collect();
        if offsets.is_empty() {
            return Ok(());
        }
        match consumer.commit(&offsets).await {
            Ok(()) => Ok(()),
            Err(e @ (LogError::Rebalanced(_) | LogError::Unavailable(_))) => {
                // The records stay flushed; whoever reads these partitions next sees them again (at least once).
                tracing::warn!(connector = self.context.connector, error = %e, "committing sink offsets failed");
                Ok(())
            }
            Err(e) => Err(log_failure(e)),
        }
    }
}

/// One poll's records converted and transformed, not yet handed to the task.
struct Prepared {
    /// The records for the task.
    batch: Vec<SinkRecord>,
    /// Each record of `batch` as read, for the dead-letter topic.
    originals: Vec<FailedRecord>,
    /// The next offset to read of each partition the poll read from, pending once the batch is handed over.
    read_up_to: Vec<((String, i32), i64)>,
}

/// Why reading the next batch failed.
enum ReadFailure {
    /// The poll failed.
    Log(LogError),
    /// A record failed and the failure ends the task (`errors.tolerance=none`, or the dead-letter topic failed).
    Task(TaskError),
}

/// Polls the group (waiting up to `wait` for records) and converts and transforms what it read, dead-lettering the
/// records that fail; `None` when the poll read nothing.
async fn read(
    context: &SinkTaskContext,
    consumer: &mut dyn GroupConsumer,
    wait: Duration,
) -> Result<Option<Prepared>, ReadFailure> {
    let records = consumer.poll(wait).await.map_err(ReadFailure::Log)?;
    if records.is_empty() {
        return Ok(None);
    }
    context.pipeline.metrics.read(records.len());
    let mut prepared = Prepared {
        batch: Vec::with_capacity(records.len()),
        originals: Vec::with_capacity(records.len()),
        read_up_to: Vec::new(),
    };
    for TopicRecord { topic, record } in records {
        let origin = LogOrigin { topic, partition: record.partition, offset: record.offset };
        let partition = (origin.topic.as_str(), origin.partition);
        match prepared.read_up_to.iter_mut().find(|((t, p), _)| (t.as_str(), *p) == partition) {
            Some((_, next)) => *next = origin.offset + 1,
            None => prepared.read_up_to.push(((origin.topic.clone(), origin.partition), origin.offset + 1)),
        }
        let failed =
            FailedRecord { origin: Some(origin), key: record.key, value: record.value, headers: record.headers };
        match to_sink_record(context, &failed, record.timestamp).await {
            Ok(Some(sink_record)) => {
                prepared.batch.push(sink_record);
                prepared.originals.push(failed);
            }
            Ok(None) => {}
            Err(failure) => context.pipeline.dead_letters.report(failure, failed).await.map_err(ReadFailure::Task)?,
        }
    }
    Ok(Some(prepared))
}

/// The record as the task sees it, `None` when a transform drops it.
async fn to_sink_record(
    context: &SinkTaskContext,
    read: &FailedRecord,
    timestamp: i64,
) -> Result<Option<SinkRecord>, RecordFailure> {
    let Some(origin) = &read.origin else { return Ok(None) };
    let topic = origin.topic.as_str();
    let (key_schema, key) = convert(
        &*context.pipeline.key.converter,
        topic,
        read.key.as_deref(),
        (Stage::KeyConverter, &context.pipeline.key.class),
        context,
    )
    .await?;
    let (value_schema, value) = convert(
        &*context.pipeline.value.converter,
        topic,
        read.value.as_deref(),
        (Stage::ValueConverter, &context.pipeline.value.class),
        context,
    )
    .await?;
    let headers = read
        .headers
        .iter()
        .map(|(key, value)| Header { key: key.clone(), schema: None, value: header_value(value.as_deref()) })
        .collect();
    let record = ConnectRecord {
        topic: topic.to_owned(),
        partition: Some(origin.partition),
        key_schema,
        key,
        value_schema,
        value,
        timestamp: Some(timestamp),
        headers,
    };
    let transformed = context.pipeline.transforms.apply(record).map_err(|e| RecordFailure::in_transform(&e))?;
    Ok(transformed.map(|record| SinkRecord { record, kafka_offset: origin.offset }))
}

/// Converts key or value bytes, fetching what the converter needs first (retried per `errors.retry.timeout`).
async fn convert(
    converter: &dyn Converter,
    topic: &str,
    bytes: Option<&[u8]>,
    (stage, class): (Stage, &str),
    context: &SinkTaskContext,
) -> Result<(Option<crate::data::SchemaRef>, crate::data::Value), RecordFailure> {
    let failure = |message: String| RecordFailure { stage, class_name: class.to_owned(), message };
    let policy = context.pipeline.dead_letters.policy();
    prepare(policy, || converter.prepare_read(topic, bytes)).await.map_err(|e| failure(e.to_string()))?;
    converter.to_connect(topic, bytes).map_err(|e| failure(e.to_string()))
}
