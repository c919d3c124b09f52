//! Runs one source task under the source contract ([`crate::connector`]): poll, convert, write in order, wait for
//! the log's acknowledgement, store the last offset of each source partition in `connect-offsets`, and only then
//! tell the task its positions are durable.

use std::sync::Arc;

use serde_json::Value as Json;
use tidemark_log_client::{LogClient, LogError, ProducerRecord};
use tokio::sync::watch;

use crate::connector::{SourceRecord, SourceTask, TaskError};
use crate::converters::header_bytes;
use crate::converters::Converter;
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
    /// Converts keys.
    pub key_converter: Arc<dyn Converter>,
    /// Converts values.
    pub value_converter: Arc<dyn Converter>,
}

/// Runs `task` until `stop` turns true or the task fails; the task is stopped either way.
pub async fn run_source_task(
    mut task: Box<dyn SourceTask>,
    context: SourceTaskContext,
    mut stop: watch::Receiver<bool>,
) -> Result<(), TaskError> {
    let offsets = context.state.offsets().of(&context.connector);
    task.start(offsets).await?;
    let outcome = loop {
        if *stop.borrow() {
            break Ok(());
        }
        let polled = tokio::select! {
            polled = task.poll() => polled,
            _ = stop.changed() => break Ok(()),
        };
        match polled {
            Ok(records) if records.is_empty() => {}
            Ok(records) => {
                if let Err(e) = deliver(&context, &mut *task, records).await {
                    break Err(e);
                }
            }
            Err(e) => break Err(e),
        }
    };
    task.stop().await;
    outcome
}

/// Writes one poll's records and commits their positions once durable.
async fn deliver(
    context: &SourceTaskContext,
    task: &mut dyn SourceTask,
    records: Vec<SourceRecord>,
) -> Result<(), TaskError> {
    let mut batches: Vec<(String, Vec<ProducerRecord>)> = Vec::new();
    let mut positions: Vec<(Json, Json)> = Vec::new();
    for SourceRecord { source_partition, source_offset, record } in records {
        let produced = to_producer_record(context, &record)?;
        match batches.last_mut() {
            Some((topic, batch)) if *topic == record.topic => batch.push(produced),
            _ => batches.push((record.topic, vec![produced])),
        }
        match positions.iter_mut().find(|(partition, _)| *partition == source_partition) {
            Some((_, offset)) => *offset = source_offset,
            None => positions.push((source_partition, source_offset)),
        }
    }
    // Batches go out one after another, so the log holds them in the order the task gave.
    for (topic, batch) in batches {
        context.log.produce(&topic, batch).await.map_err(log_failure)?;
        let usage = TopicUse {
            name: topic,
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
    let stored: Vec<(Json, Option<Json>)> = positions.iter().map(|(p, o)| (p.clone(), Some(o.clone()))).collect();
    context
        .state
        .put_offsets(&context.connector, &stored)
        .await
        .map_err(|e| TaskError::Transient(format!("storing source offsets: {e}")))?;
    task.commit(&positions).await
}

/// The bytes of a record's key, value and headers.
fn to_producer_record(context: &SourceTaskContext, record: &ConnectRecord) -> Result<ProducerRecord, TaskError> {
    let topic = &record.topic;
    let key = context.key_converter.to_bytes(topic, record.key_schema.as_ref(), &record.key);
    let value = context.value_converter.to_bytes(topic, record.value_schema.as_ref(), &record.value);
    let headers = record
        .headers
        .iter()
        .map(|h| Ok((h.key.clone(), header_bytes(&h.value)?)))
        .collect::<Result<_, String>>()
        .map_err(|e| TaskError::Definite(format!("converting a header for {topic}: {e}")))?;
    Ok(ProducerRecord {
        partition: record.partition,
        key: key.map_err(|e| TaskError::Definite(format!("converting a key for {topic}: {e}")))?,
        value: value.map_err(|e| TaskError::Definite(format!("converting a value for {topic}: {e}")))?,
        headers,
        timestamp: record.timestamp,
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn log_failure(error: LogError) -> TaskError {
    match error {
        LogError::Unavailable(_) => TaskError::Transient(error.to_string()),
        LogError::UnknownTopic(_) | LogError::Refused(_) | LogError::Rebalanced(_) => {
            TaskError::Definite(error.to_string())
        }
    }
}
