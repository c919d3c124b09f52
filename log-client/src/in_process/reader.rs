//! Reading one partition in process: whole batches from the partition log below the high watermark, decoded into
//! records from the reader's position on, waiting on the broker's log activity when there is nothing new.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::FutureExt;
use tidemark_broker::storage::decode::records_from;
use tidemark_broker::storage::{PartitionLog, StorageError};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::{LogError, LogRecord, PartitionReader};

/// About how many bytes of batches one read takes from the log.
const READ_BYTES: usize = 1 << 20;

/// A reader of one partition of a broker in this process.
#[derive(Debug)]
pub struct InProcessReader {
    topic: String,
    partition: i32,
    log: Arc<PartitionLog>,
    /// Raised whenever a high watermark advances anywhere on the broker.
    activity: watch::Receiver<u64>,
    /// The next offset to hand out.
    position: i64,
}

impl InProcessReader {
    /// A reader of `log` (partition `partition` of `topic`) from offset `from`.
    pub fn new(topic: &str, partition: i32, log: Arc<PartitionLog>, activity: watch::Receiver<u64>, from: i64) -> Self {
        InProcessReader { topic: topic.to_owned(), partition, log, activity, position: from.max(0) }
    }

    async fn next(&mut self, max_wait: Duration) -> Result<Vec<LogRecord>, LogError> {
        let deadline = Instant::now() + max_wait;
        loop {
            if self.log.is_closed() {
                return Err(LogError::UnknownTopic(format!("{} partition {}", self.topic, self.partition)));
            }
            // Marked seen before reading, so that data arriving during the read wakes the wait below.
            self.activity.borrow_and_update();
            let (log, topic, partition, position) =
                (Arc::clone(&self.log), self.topic.clone(), self.partition, self.position);
            let read = tokio::task::spawn_blocking(move || read_from(&log, &topic, partition, position))
                .await
                .map_err(|e| LogError::Unavailable(format!("the read task failed: {e}")))?;
            // The position moves only here, so a call dropped while reading loses nothing.
            let (records, next) = read?;
            self.position = next;
            if !records.is_empty() || Instant::now() >= deadline {
                return Ok(records);
            }
            match tokio::time::timeout_at(deadline, self.activity.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Err(LogError::Unavailable("the broker has shut down".into())),
                Err(_) => return Ok(Vec::new()),
            }
        }
    }
}

impl PartitionReader for InProcessReader {
    fn next_records(&mut self, max_wait: Duration) -> BoxFuture<'_, Result<Vec<LogRecord>, LogError>> {
        self.next(max_wait).boxed()
    }
}

/// The records available from `position`, and the position after them. Batches emptied by compaction are skipped
/// until records turn up or the high watermark is reached; a position outside the log moves to its start.
fn read_from(
    log: &PartitionLog,
    topic: &str,
    partition: i32,
    mut position: i64,
) -> Result<(Vec<LogRecord>, i64), LogError> {
    loop {
        let read = match log.read(position, READ_BYTES, true) {
            Ok(read) => read,
            Err(StorageError::OffsetOutOfRange { log_start_offset, high_watermark, .. })
                if position != log_start_offset =>
            {
                if position > high_watermark {
                    tracing::warn!(
                        topic,
                        partition,
                        position,
                        high_watermark,
                        "reader is past the end of the log; reading from its start"
                    );
                }
                position = log_start_offset;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if read.records.is_empty() {
            return Ok((Vec::new(), position));
        }
        let records = decode(&read.records, partition, &mut position)?;
        if !records.is_empty() || position >= read.high_watermark {
            return Ok((records, position));
        }
    }
}

/// Decodes whole stored batches into the records at or after `position`, skipping control batches, and moves
/// `position` past every batch.
fn decode(chunk: &Bytes, partition: i32, position: &mut i64) -> Result<Vec<LogRecord>, LogError> {
    let records = records_from(chunk, position)?;
    Ok(records
        .into_iter()
        .map(|r| LogRecord {
            partition,
            offset: r.offset,
            timestamp: r.timestamp,
            key: r.key,
            value: r.value,
            headers: r.headers.into_iter().map(|(k, v)| (k.as_str().to_owned(), v)).collect(),
        })
        .collect())
}
