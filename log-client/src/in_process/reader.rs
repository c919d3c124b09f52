//! Reading one partition in process: whole batches from the partition log below the high watermark, decoded into
//! records from a [`Cursor`]'s position on; an [`InProcessReader`] waits on the broker's log activity when there is
//! nothing new. The group consumer reads its partitions through cursors too.
//!
//! A read takes about a megabyte of batches from the log and decodes them whole. When the caller wants fewer
//! records than that (a sink's `max.poll.records`), the cursor keeps the rest decoded ([`Ahead`]) and hands them
//! out from memory next time, instead of reading and decoding the same batches again for every poll.

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

/// A position in one partition of a broker in this process, and the reads from it. Cloning is cheap: the records
/// decoded ahead are shared.
#[derive(Debug, Clone)]
pub struct Cursor {
    topic: String,
    partition: i32,
    log: Arc<PartitionLog>,
    /// The next offset to hand out.
    position: i64,
    /// Records decoded by the last read and not handed out yet.
    ahead: Option<Arc<Ahead>>,
}

/// Records read and decoded from the log past what a read handed out.
#[derive(Debug)]
struct Ahead {
    /// In offset order (with gaps where compaction removed records or control batches were skipped).
    records: Vec<LogRecord>,
    /// The position they were kept at (right after the records handed out with them), which may lie in a gap
    /// before the first of them.
    start: i64,
    /// The position after them: the next offset the log is read from once they are handed out.
    end: i64,
}

impl Ahead {
    /// The records at or after `position`, when `position` is within them (from `start` to `end`).
    fn from(&self, position: i64) -> Option<&[LogRecord]> {
        if position < self.start || position >= self.end {
            return None;
        }
        let start = self.records.partition_point(|r| r.offset < position);
        Some(&self.records[start..])
    }
}

impl Cursor {
    /// A cursor on `log` (partition `partition` of `topic`) at offset `from`.
    pub fn new(topic: &str, partition: i32, log: Arc<PartitionLog>, from: i64) -> Self {
        Cursor { topic: topic.to_owned(), partition, log, position: from.max(0), ahead: None }
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The partition.
    pub fn partition(&self) -> i32 {
        self.partition
    }

    /// Whether the partition's topic was deleted.
    pub fn is_closed(&self) -> bool {
        self.log.is_closed()
    }

    /// The error of reading a partition whose topic was deleted.
    pub fn closed_error(&self) -> LogError {
        LogError::UnknownTopic(format!("{} partition {}", self.topic, self.partition))
    }

    /// Whether a read may find something: the position is not at the high watermark. Checked before reading, since
    /// the broker wakes every reader whenever any partition advances.
    pub fn has_news(&self) -> bool {
        self.position != self.log.high_watermark()
    }

    /// Up to `limit` of the records available at the position, moving past them (blocking: reads files unless the
    /// records were decoded ahead).
    pub fn read(&mut self, limit: usize) -> Result<Vec<LogRecord>, LogError> {
        if let Some(records) = self.read_ahead(limit) {
            return Ok(records);
        }
        if !self.has_news() {
            return Ok(Vec::new());
        }
        let (mut records, next) = read_from(&self.log, &self.topic, self.partition, self.position)?;
        if records.len() > limit {
            let rest = records.split_off(limit);
            self.position = records.last().map_or(self.position, |r| r.offset + 1);
            self.ahead = Some(Arc::new(Ahead { records: rest, start: self.position, end: next }));
        } else {
            self.position = next;
        }
        Ok(records)
    }

    /// Up to `limit` of the records decoded ahead, from the position on; `None` when the position is not among them
    /// (they are dropped then).
    fn read_ahead(&mut self, limit: usize) -> Option<Vec<LogRecord>> {
        let ahead = self.ahead.take()?;
        let available = ahead.from(self.position)?;
        let handed: Vec<LogRecord> = available.iter().take(limit).cloned().collect();
        if handed.len() == available.len() {
            self.position = ahead.end;
        } else {
            self.position = handed.last().map_or(self.position, |r| r.offset + 1);
            self.ahead = Some(ahead);
        }
        (!handed.is_empty()).then_some(handed)
    }
}

/// A reader of one partition of a broker in this process.
#[derive(Debug)]
pub struct InProcessReader {
    cursor: Cursor,
    /// Raised whenever a high watermark advances anywhere on the broker.
    activity: watch::Receiver<u64>,
}

impl InProcessReader {
    /// A reader of `log` (partition `partition` of `topic`) from offset `from`.
    pub fn new(topic: &str, partition: i32, log: Arc<PartitionLog>, activity: watch::Receiver<u64>, from: i64) -> Self {
        InProcessReader { cursor: Cursor::new(topic, partition, log, from), activity }
    }

    async fn next(&mut self, max_wait: Duration) -> Result<Vec<LogRecord>, LogError> {
        let deadline = Instant::now() + max_wait;
        loop {
            if self.cursor.is_closed() {
                return Err(self.cursor.closed_error());
            }
            // Marked seen before reading, so that data arriving during the read wakes the wait below.
            self.activity.borrow_and_update();
            if !self.cursor.has_news() {
                match tokio::time::timeout_at(deadline, self.activity.changed()).await {
                    Ok(Ok(())) => continue,
                    Ok(Err(_)) => return Err(LogError::Unavailable("the broker has shut down".into())),
                    Err(_) => return Ok(Vec::new()),
                }
            }
            let mut cursor = self.cursor.clone();
            let read = tokio::task::spawn_blocking(move || cursor.read(usize::MAX).map(|records| (records, cursor)))
                .await
                .map_err(|e| LogError::Unavailable(format!("the read task failed: {e}")))?;
            // The position moves only here, so a call dropped while reading loses nothing.
            let (records, cursor) = read?;
            self.cursor = cursor;
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

/// The records of the batches available from `position` (about [`READ_BYTES`] of them), and the position after
/// them. Batches emptied by compaction are skipped
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
