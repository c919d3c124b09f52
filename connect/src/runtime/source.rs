//! Runs one source task under the source contract ([`crate::connector`]): poll, transform, convert, write in order,
//! wait for the log's acknowledgement; then, every `offset.flush.interval.ms` (and whenever the task has nothing
//! new, and when it stops), store the last offset of each source partition in `connect-offsets`, and only then tell
//! the task its positions are durable. Storing positions per interval rather than per poll keeps one fsync off
//! every batch, as Kafka Connect does; a crash repeats at most the records written since (at least once). While
//! one poll's records are written, the next poll is taken and converted, so the worker's conversion and the log's
//! work overlap; a poll converted but not written when the task stops is read again next time.
//!
//! A record that fails a transform or its conversion is handled by `errors.tolerance`: the task fails, or the
//! record is skipped — dead-lettered first when configured (beyond Kafka Connect, which has dead letters only for
//! sinks). A source dead letter holds the record rendered by the JSON converter with its schema, since the
//! connector's own converter may be what failed. Transient failures (the log unavailable, a poll that may pass)
//! are retried with backoff without end, as Kafka Connect retries a `RetriableException`.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use serde_json::Value as Json;
use tidemark_log_client::{LogClient, ProducerRecord};
use tokio::sync::watch;

use super::dead_letter::FailedRecord;
use super::errors::{retry_transient, Backoff, RecordFailure, Stage};
use super::pipeline::Pipeline;
use super::{log_failure, now_ms, prepare};
use crate::connector::{SourceRecord, SourceTask, TaskError};
use crate::converters::{header_bytes, Converter, ConverterType, JsonConverter, JsonConverterConfig};
use crate::data::SchemaRef;
use crate::record::ConnectRecord;
use crate::state::{TopicUse, WorkerState};

/// What a source task runs with.
pub struct SourceTaskContext {
    /// The connector's name (the `connect-offsets` key's first element).
    pub connector: String,
    /// The task's number.
    pub task: u32,
    /// The log records are written to.
    pub log: Arc<dyn LogClient>,
    /// The worker's state topics.
    pub state: Arc<WorkerState>,
    /// Conversion, transforms, error handling and metrics.
    pub pipeline: Pipeline,
    /// How often positions are stored (and committed to the task) while records flow; they are also stored
    /// whenever the task has nothing new, and when it stops.
    pub offset_flush_interval: Duration,
}

/// The last position of each source partition written: `(partition, offset)`.
type Positions = Vec<(Json, Json)>;

/// The size of the blocks a poll's keys and values are written into ([`Converter::to_bytes_in`]).
const ARENA_BYTES: usize = 64 * 1024;

/// One poll's records, converted: the batches to write in order, the last position of each source partition, and
/// when the conversion started (the batch's time runs from there to durable).
struct Converted {
    batches: Vec<(String, Vec<ProducerRecord>)>,
    positions: Positions,
    started: std::time::Instant,
}

/// Runs `task` until `stop` turns true or the task fails; the task is stopped either way, after the positions of
/// what was written are stored and committed.
pub async fn run_source_task(
    mut task: Box<dyn SourceTask>,
    context: SourceTaskContext,
    mut stop: watch::Receiver<bool>,
) -> Result<(), TaskError> {
    // Shared with the task that writes one poll while this one converts the next.
    let context = Arc::new(context);
    let offsets = context.state.offsets().of(&context.connector);
    task.start(offsets).await?;
    let delay_max = context.pipeline.dead_letters.policy().retry_delay_max;
    let mut poll_backoff: Option<Backoff> = None;
    // Positions of records written since the offsets were last stored.
    let mut unstored: Positions = Vec::new();
    let mut last_stored = Instant::now();
    // A poll converted, not yet written.
    let mut ready: Option<Converted> = None;
    let outcome = 'run: loop {
        if *stop.borrow() {
            break Ok(());
        }
        let polled = match ready.take() {
            // The batch is written while the next poll is converted, so the log's work (and its durable write) on
            // one batch and the conversion of the next overlap; batches are still written in order, one at a time.
            // The write runs on a task of its own, so that its CPU work (encoding the batches, appending them) and
            // the conversion's can use two cores.
            Some(converted) => {
                let writing = Writing::spawn(&context, converted, &stop);
                let polled = poll_and_convert(&mut *task, &context, &mut stop.clone()).await;
                match writing.finish().await {
                    Ok(Some(positions)) => merge_positions(&mut unstored, positions),
                    Ok(None) => break 'run Ok(()),
                    Err(e) => break 'run Err(e),
                }
                polled
            }
            None => poll_and_convert(&mut *task, &context, &mut stop).await,
        };
        let idle = match polled {
            Ok(Polled::Records(converted)) => {
                poll_backoff = None;
                ready = Some(converted);
                false
            }
            Ok(Polled::Nothing) => {
                poll_backoff = None;
                true
            }
            Ok(Polled::Stopped) => break Ok(()),
            Err(TaskError::Transient(message)) => {
                let backoff = poll_backoff.get_or_insert_with(|| Backoff::new(None, delay_max));
                tokio::select! {
                    _ = backoff.wait(&message) => continue,
                    _ = stop.changed() => break Ok(()),
                }
            }
            Err(e) => break Err(e),
        };
        let due = idle || last_stored.elapsed() >= context.offset_flush_interval;
        if due && !unstored.is_empty() {
            if let Err(e) = store_and_commit(&context, &mut *task, &mut unstored).await {
                break Err(e);
            }
            last_stored = Instant::now();
        }
    };
    // Whatever was written is durable: its positions are stored and confirmed even when stopping. A poll converted
    // but not written is not: the task reads it again from the stored positions next time.
    let outcome = match outcome {
        Ok(()) => store_and_commit(&context, &mut *task, &mut unstored).await,
        failed => failed,
    };
    task.stop().await;
    outcome
}

/// What a poll gave.
enum Polled {
    /// Records, converted.
    Records(Converted),
    /// Nothing new.
    Nothing,
    /// The task must stop.
    Stopped,
}

/// Polls the task (until `stop` turns true) and converts what it gives.
async fn poll_and_convert(
    task: &mut dyn SourceTask,
    context: &SourceTaskContext,
    stop: &mut watch::Receiver<bool>,
) -> Result<Polled, TaskError> {
    let records = tokio::select! {
        polled = task.poll() => polled?,
        _ = stop.changed() => return Ok(Polled::Stopped),
    };
    context.pipeline.metrics.source_lag(task.lag());
    if records.is_empty() {
        return Ok(Polled::Nothing);
    }
    let started = std::time::Instant::now();
    context.pipeline.metrics.polled(records.len());
    Ok(Polled::Records(convert(context, records, started).await?))
}

/// Writes a converted poll, retrying while the log is unavailable; its positions once written, `None` when the
/// task must stop first.
async fn write_converted(
    context: &SourceTaskContext,
    converted: Converted,
    stop: &mut watch::Receiver<bool>,
) -> Result<Option<Positions>, TaskError> {
    let mut backoff = Backoff::new(None, context.pipeline.dead_letters.policy().retry_delay_max);
    loop {
        match write(context, &converted.batches).await {
            Ok(()) => break,
            Err(TaskError::Transient(message)) => tokio::select! {
                _ = backoff.wait(&message) => {}
                _ = stop.changed() => return Ok(None),
            },
            Err(e) => return Err(e),
        }
    }
    context.pipeline.metrics.written(converted.batches.iter().map(|(_, batch)| batch.len()).sum());
    context.pipeline.metrics.batch(converted.started.elapsed().as_secs_f64());
    Ok(Some(converted.positions))
}

/// A converted poll being written on a task of its own ([`write_converted`]); dropping it (the source task was
/// cancelled) aborts the write, so that no write of a task outlives it and races its successor's.
struct Writing(tokio::task::JoinHandle<Result<Option<Positions>, TaskError>>);

impl Writing {
    fn spawn(context: &Arc<SourceTaskContext>, converted: Converted, stop: &watch::Receiver<bool>) -> Self {
        let (context, mut stop) = (Arc::clone(context), stop.clone());
        Writing(tokio::spawn(async move { write_converted(&context, converted, &mut stop).await }))
    }

    /// What [`write_converted`] returned; a panic in it fails the task.
    async fn finish(mut self) -> Result<Option<Positions>, TaskError> {
        (&mut self.0).await.map_err(|e| TaskError::Definite(format!("writing a batch of records failed: {e}")))?
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Moves each source partition's position to the later one in `newer`.
fn merge_positions(positions: &mut Positions, newer: Positions) {
    for (partition, offset) in newer {
        match positions.iter_mut().find(|(p, _)| *p == partition) {
            Some((_, stored)) => *stored = offset,
            None => positions.push((partition, offset)),
        }
    }
}

/// Stores the positions of written records in `connect-offsets`, then tells the task they are durable.
async fn store_and_commit(
    context: &SourceTaskContext,
    task: &mut dyn SourceTask,
    positions: &mut Positions,
) -> Result<(), TaskError> {
    if positions.is_empty() {
        return Ok(());
    }
    let stored: Vec<(Json, Option<Json>)> = positions.iter().map(|(p, o)| (p.clone(), Some(o.clone()))).collect();
    let delay_max = context.pipeline.dead_letters.policy().retry_delay_max;
    retry_transient(None, delay_max, || async {
        context
            .state
            .put_offsets(&context.connector, &stored)
            .await
            .map_err(|e| TaskError::Transient(format!("storing source offsets: {e}")))
    })
    .await?;
    task.commit(positions).await?;
    positions.clear();
    Ok(())
}

/// Transforms and converts one poll's records, handing failed ones to the dead-letter reporter.
async fn convert(
    context: &SourceTaskContext,
    records: Vec<SourceRecord>,
    started: std::time::Instant,
) -> Result<Converted, TaskError> {
    let mut batches: Vec<(String, Vec<ProducerRecord>)> = Vec::new();
    // Compared first by address (`Arc`'s equality does), which is all it takes while they are the same partition.
    let mut positions: Vec<(Arc<Json>, Arc<Json>)> = Vec::new();
    let mut prepared = Prepared::default();
    // The poll's keys and values are written into shared blocks rather than an allocation each.
    let mut arena = BytesMut::with_capacity(ARENA_BYTES);
    for SourceRecord { source_partition, source_offset, record } in records {
        match positions.iter_mut().find(|(partition, _)| *partition == source_partition) {
            Some((_, offset)) => *offset = source_offset,
            None => positions.push((source_partition, source_offset)),
        }
        let transformed = match transform(context, record) {
            Ok(Some(transformed)) => transformed,
            Ok(None) => continue,
            Err(failed) => {
                let (failure, original) = *failed;
                context.pipeline.dead_letters.report(failure, as_json(&original)).await?;
                continue;
            }
        };
        let produced = match to_producer_record(context, &transformed, (&mut prepared, &mut arena)).await {
            Ok(produced) => produced,
            Err(failure) => {
                context.pipeline.dead_letters.report(failure, as_json(&transformed)).await?;
                continue;
            }
        };
        match batches.last_mut() {
            Some((topic, batch)) if *topic == transformed.topic => batch.push(produced),
            _ => batches.push((transformed.topic, vec![produced])),
        }
    }
    let positions = positions
        .into_iter()
        .map(|(partition, offset)| (Arc::unwrap_or_clone(partition), Arc::unwrap_or_clone(offset)));
    Ok(Converted { batches, positions: positions.collect(), started })
}

/// The record after the connector's transforms (`None`: dropped); on failure, why and the record as it was.
fn transform(
    context: &SourceTaskContext,
    record: ConnectRecord,
) -> Result<Option<ConnectRecord>, Box<(RecordFailure, ConnectRecord)>> {
    if context.pipeline.transforms.is_empty() {
        return Ok(Some(record));
    }
    context.pipeline.transforms.apply(record.clone()).map_err(|e| Box::new((RecordFailure::in_transform(&e), record)))
}

/// Writes the batches one after another (so the log holds them in the order the task gave). Retried whole on a
/// transient failure: records already written may be written again (at least once).
async fn write(context: &SourceTaskContext, batches: &[(String, Vec<ProducerRecord>)]) -> Result<(), TaskError> {
    for (topic, batch) in batches {
        context.log.produce(topic, batch.clone()).await.map_err(log_failure)?;
        let usage = TopicUse {
            name: topic.clone(),
            connector: context.connector.clone(),
            task: context.task,
            discover_timestamp: now_ms(),
        };
        context
            .state
            .put_topic_usage(&usage)
            .await
            .map_err(|e| TaskError::Transient(format!("recording a topic in use: {e}")))?;
    }
    Ok(())
}

/// The schema and topic each converter of a poll was last prepared for: a poll's records mostly share them (one
/// table's), and asking the converter again for each record costs lookups in its caches. A converter's caches only
/// change (and may start over) when it prepares another schema, and the key and value converters are distinct
/// instances, so what a converter was last prepared for stays prepared until it is asked for another schema or topic.
#[derive(Default)]
struct Prepared {
    key: Option<(SchemaRef, String)>,
    value: Option<(SchemaRef, String)>,
}

/// The bytes of a record's key, value and headers.
async fn to_producer_record(
    context: &SourceTaskContext,
    record: &ConnectRecord,
    (prepared, arena): (&mut Prepared, &mut BytesMut),
) -> Result<ProducerRecord, RecordFailure> {
    let topic = &record.topic;
    let key = convert_one(
        &*context.pipeline.key.converter,
        record,
        (record.key_schema.as_ref(), &record.key),
        (Stage::KeyConverter, &context.pipeline.key.class),
        (context, &mut prepared.key, arena),
    )
    .await?;
    let value = convert_one(
        &*context.pipeline.value.converter,
        record,
        (record.value_schema.as_ref(), &record.value),
        (Stage::ValueConverter, &context.pipeline.value.class),
        (context, &mut prepared.value, arena),
    )
    .await?;
    let headers = record
        .headers
        .iter()
        .map(|h| Ok((h.key.clone(), header_bytes(&h.value)?)))
        .collect::<Result<_, String>>()
        .map_err(|message| RecordFailure {
            stage: Stage::HeaderConverter,
            class_name: "org.apache.kafka.connect.storage.SimpleHeaderConverter".into(),
            message: format!("converting a header for {topic}: {message}"),
        })?;
    Ok(ProducerRecord { partition: record.partition, key, value, headers, timestamp: record.timestamp })
}

/// Converts a key or a value, registering what the converter needs first (retried per `errors.retry.timeout`)
/// unless it was last prepared for this schema and topic (`last`).
async fn convert_one(
    converter: &dyn Converter,
    record: &ConnectRecord,
    (schema, value): (Option<&SchemaRef>, &crate::data::Value),
    (stage, class): (Stage, &str),
    (context, last, arena): (&SourceTaskContext, &mut Option<(SchemaRef, String)>, &mut BytesMut),
) -> Result<Option<bytes::Bytes>, RecordFailure> {
    let topic = record.topic.as_str();
    // The topic names the table of a database source's event, so a refused schema change says whose it is.
    let failure = |message: String| RecordFailure {
        stage,
        class_name: class.to_owned(),
        message: format!("converting a record for topic {topic}: {message}"),
    };
    let ready = match (&*last, schema) {
        (Some((prepared, prepared_topic)), Some(schema)) => Arc::ptr_eq(prepared, schema) && prepared_topic == topic,
        _ => false,
    };
    if !ready {
        let policy = context.pipeline.dead_letters.policy();
        prepare(policy, || converter.prepare_write(topic, schema)).await.map_err(|e| failure(e.to_string()))?;
        *last = schema.map(|schema| (schema.clone(), topic.to_owned()));
    }
    converter.to_bytes_in(topic, schema, value, arena).map_err(|e| failure(e.to_string()))
}

/// A source record as a dead letter: key and value by the JSON converter with their schemas.
fn as_json(record: &ConnectRecord) -> FailedRecord {
    static KEYS: LazyLock<JsonConverter> =
        LazyLock::new(|| JsonConverter::new(JsonConverterConfig::new(ConverterType::Key)));
    static VALUES: LazyLock<JsonConverter> =
        LazyLock::new(|| JsonConverter::new(JsonConverterConfig::new(ConverterType::Value)));
    let rendered = |converter: &JsonConverter, schema, value| {
        converter.to_bytes(&record.topic, schema, value).unwrap_or_else(|e| Some(bytes::Bytes::from(e.to_string())))
    };
    FailedRecord {
        origin: None,
        key: rendered(&KEYS, record.key_schema.as_ref(), &record.key),
        value: rendered(&VALUES, record.value_schema.as_ref(), &record.value),
        headers: record.headers.iter().map(|h| (h.key.clone(), header_bytes(&h.value).ok().flatten())).collect(),
    }
}
