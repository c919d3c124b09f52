//! The replication side of a partition log (Kafka's replica model): appending the batches a leader sent as they
//! are, reading for followers up to the durable offset, the high watermark limit and acks=all waits, truncation
//! to where a follower agrees with its leader (KIP-101) and the end offsets of leader epochs (KIP-279).
//!
//! The high watermark is `min(durable offset, limit)`, published as a monotonic maximum: replication sets the
//! limit (the offset every in-sync replica holds on a leader, the leader's high watermark on a follower) and the
//! flusher the durable offset; only a truncation lowers it.

use std::fs::File;
use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::MutexGuard;
use std::time::{SystemTime, UNIX_EPOCH};

use super::batch::{self, BatchError, BatchHeader};
use super::compaction::CleanerState;
use super::partition_log::{LogState, PartitionLog, ReadResult};
use super::producer_snapshot;
use super::producer_state::ProducerStates;
use super::segment::Segment;
use super::topic_config::TopicConfig;
use super::StorageError;

/// Offsets a segment can span: relative offsets are 32-bit, and Kafka keeps them below `i32::MAX`.
const MAX_SEGMENT_SPAN: i64 = i32::MAX as i64;

impl PartitionLog {
    /// Appends whole batches a leader sent (a follower's fetch response), keeping their offsets, leader epochs and
    /// bytes. `records` holds zero or more complete RecordBatch v2 as Fetch returns them; a trailing partial batch
    /// is ignored. Every batch is validated (CRC included) before any is written. As Kafka's follower append,
    /// the first batch may not start below the log end offset ([`StorageError::OffsetMismatch`]) but may start
    /// above it, and each batch must start after the previous one ends: a compacted leader log has offset gaps.
    /// Segments roll as in [`PartitionLog::append`]; the leader epoch cache takes each newer epoch at the batch
    /// that starts it; the producer state records every batch without checks (the leader made them). Wakes the
    /// flusher. Returns the new log end offset.
    pub fn append_replicated(&self, records: &[u8], config: &TopicConfig, now_ms: i64) -> Result<i64, StorageError> {
        if self.is_offline() {
            return Err(StorageError::Offline);
        }
        let batches = split_batches(records)?;
        let mut state = self.lock();
        let mut expected = state.log_end_offset;
        for (_, header) in &batches {
            if header.base_offset < expected {
                return Err(StorageError::OffsetMismatch { expected, found: header.base_offset });
            }
            expected = header.last_offset() + 1;
        }
        for (range, header) in batches {
            let bytes = &records[range];
            let active = state.active();
            let too_big = active.size() + bytes.len() as u64 > config.segment_bytes;
            let too_old = now_ms - active.created_ms() >= config.segment_ms;
            if active.size() > 0 && (too_big || too_old) {
                state.roll(&self.dir, now_ms)?;
            }
            if header.last_offset() - state.active().base_offset() > MAX_SEGMENT_SPAN {
                state.roll_at(&self.dir, header.base_offset, now_ms)?;
            }
            // Before the write: a crash may leave an epoch starting past the log end, which opening truncates.
            if header.partition_leader_epoch >= 0 {
                state.epochs.assign(header.partition_leader_epoch, header.base_offset)?;
            }
            if let Err(e) = state.active_mut().append(bytes, &header) {
                self.durable.send_modify(|d| d.failed = true);
                return Err(e.into());
            }
            state.log_end_offset = header.last_offset() + 1;
            state.producers.apply(&header, now_ms);
        }
        let log_end_offset = state.log_end_offset;
        drop(state);
        self.flush_requested.notify_one();
        Ok(log_end_offset)
    }

    /// The log end offset: the next offset to be written, durable or not.
    pub fn log_end_offset(&self) -> i64 {
        self.lock().log_end_offset
    }

    /// The durable offset: one past the last fsynced offset (the high watermark of a partition with one replica).
    pub fn durable_offset(&self) -> i64 {
        self.durable.borrow().offset
    }

    /// Caps the high watermark at `limit`: a leader sets the offset all its in-sync replicas hold, a follower the
    /// leader's high watermark. `None` (the default) leaves the durable offset as the high watermark, as for a
    /// partition with one replica. The high watermark is `min(durable offset, limit)` but never moves backwards
    /// (a lower limit holds it where it is until the limit passes it again). The limit should be a batch boundary
    /// (follower log end offsets and a leader's high watermark are): a consumer read includes a batch that
    /// starts below the high watermark whole.
    pub fn set_high_watermark_limit(&self, limit: Option<i64>) {
        let mut moved = false;
        self.durable.send_if_modified(|d| {
            d.limit = limit;
            moved = d.publish();
            moved
        });
        if moved {
            self.activity.notify();
        }
    }

    /// Waits until the high watermark reaches `end_offset` (a produce with `acks=all`). Fails with
    /// [`StorageError::Offline`] when the log failed or is closed. Waiting does not notice a truncation: the
    /// caller must fail its waits when the replica stops leading.
    pub async fn wait_high_watermark(&self, end_offset: i64) -> Result<(), StorageError> {
        let mut rx = self.durable.subscribe();
        let reached = rx
            .wait_for(|d| d.high_watermark >= end_offset || d.failed || self.is_closed())
            .await
            .map_err(|_| StorageError::Offline)?;
        if reached.high_watermark >= end_offset {
            Ok(())
        } else {
            Err(StorageError::Offline)
        }
    }

    /// Reads whole batches from `offset` up to the durable offset (not the high watermark): what a follower
    /// fetches. About `max_bytes` of them, but at least one batch when `max_bytes` is not 0, so a follower gets
    /// past a batch larger than its fetch size. Out of range below the log start or above the log end offset;
    /// empty between the durable offset and the log end. [`ReadResult::high_watermark`] is the high watermark.
    pub fn read_for_replica(&self, offset: i64, max_bytes: usize) -> Result<ReadResult, StorageError> {
        let state = self.lock();
        let (durable, high_watermark) = {
            let durable = self.durable.borrow();
            (durable.offset, durable.high_watermark)
        };
        let log_start_offset = state.log_start_offset();
        if offset < log_start_offset || offset > state.log_end_offset {
            return Err(StorageError::OffsetOutOfRange { offset, log_start_offset, high_watermark });
        }
        let records = state.read_below(offset, durable, max_bytes, max_bytes > 0)?;
        Ok(ReadResult { records, high_watermark, log_start_offset })
    }

    /// KIP-101/279: the largest leader epoch at or below `epoch` this log knows, and the end offset of that epoch
    /// (the start offset of the next epoch, or the log end offset for the latest), by Kafka's
    /// `LeaderEpochFileCache.endOffsetFor`. An epoch older than every epoch known answers itself and the start
    /// offset of the first known epoch (Kafka 2.0+: what preceded it was deleted). `None` (UNDEFINED_EPOCH -1,
    /// UNDEFINED_EPOCH_OFFSET -1 on the wire) for a negative epoch or one newer than the latest. A log whose epoch
    /// cache is empty (truncated below its first epoch) is in epoch 0, the epoch its appends carry.
    pub fn end_offset_for_epoch(&self, epoch: i32) -> Option<(i32, i64)> {
        let state = self.lock();
        state.epochs.end_offset_for(epoch, state.log_end_offset)
    }

    /// Truncates the log to `offset` (KIP-101: a follower drops what the new leader does not have): everything at
    /// or above `offset` goes, and a batch holding `offset` goes whole (the new end is its base offset). Segments
    /// above are deleted from the top down, the one holding the new end is cut (log file and both indexes), the
    /// epoch cache forgets epochs starting at or after the new end, the producer state is rebuilt from the latest
    /// producer snapshot at or below it and the batch headers after it, the cleaner's first dirty offset is
    /// lowered to it, and the durable offset and the high watermark are lowered to at most it. An `offset` below
    /// the log start empties the log, as [`PartitionLog::truncate_fully_and_start_at`]. No-op when `offset` is at
    /// or past the log end.
    ///
    /// The cut is on disk when this returns (log file and directory synced). A crash midway leaves a log that
    /// opens: the top segments that are left are whole, and the epoch cache and the producer snapshots are cut
    /// after the segments, which opening does for them anyway. Blocking: it waits for a compaction pass of the
    /// partition to stop, and reads batch headers to rebuild the producer state. An I/O error takes the partition
    /// offline until restart.
    pub fn truncate_to(&self, offset: i64) -> Result<(), StorageError> {
        if self.is_offline() {
            return Err(StorageError::Offline);
        }
        let mut cleaner = self.pause_cleaning();
        let mut state = self.lock();
        if offset >= state.log_end_offset {
            return Ok(());
        }
        if offset < state.log_start_offset() {
            drop(state);
            return self.truncate_fully_locked(offset.max(0), &mut cleaner);
        }
        let truncated = self.truncate_locked(&mut state, offset);
        let end = match truncated {
            Ok(end) => end,
            Err(e) => {
                self.go_offline("truncating the log", &e);
                return Err(e);
            }
        };
        drop(state);
        self.flush_requested.notify_one();
        self.truncate_cleaner_checkpoint(&mut cleaner, end);
        tracing::info!(dir = %self.dir.display(), offset, end, "truncated the log");
        Ok(())
    }

    /// Empties the log and starts it again at `offset` (Kafka's `truncateFullyAndStartAt`): what a follower does
    /// when its log end lies below the leader's log start, or the leader's log and its own share nothing. Every
    /// segment, the epoch cache entries and the producer state and snapshots go; the log start, log end, durable
    /// offset and high watermark become `offset` (the high watermark limit stays). A crash midway leaves the
    /// segments not yet deleted (below or above the new empty one), which the log opens with; the replica
    /// fetcher truncates again then.
    pub fn truncate_fully_and_start_at(&self, offset: i64) -> Result<(), StorageError> {
        if self.is_offline() {
            return Err(StorageError::Offline);
        }
        let mut cleaner = self.pause_cleaning();
        self.truncate_fully_locked(offset.max(0), &mut cleaner)
    }

    /// Whether a truncation waits for the cleaner: a compaction pass stops at its next batch then.
    pub(crate) fn cleaning_aborted(&self) -> bool {
        self.cleaning_aborts.load(Ordering::Acquire) > 0
    }

    fn go_offline(&self, what: &str, error: &StorageError) {
        tracing::error!(dir = %self.dir.display(), what, %error, "partition is offline until restart");
        self.durable.send_modify(|d| d.failed = true);
    }

    /// Lowers the cleaner's first dirty offset after a truncation. Failing to only leaves the batches written
    /// again below the old one uncleaned until they are rewritten with a later pass's groups.
    fn truncate_cleaner_checkpoint(&self, cleaner: &mut CleanerState, end: i64) {
        if let Err(e) = cleaner.truncate_to(&self.dir, end) {
            tracing::warn!(dir = %self.dir.display(), end, error = %e, "could not lower the cleaner checkpoint");
        }
    }

    fn is_offline(&self) -> bool {
        self.durable.borrow().failed || self.is_closed()
    }

    /// Takes the cleaner lock, stopping a running compaction pass first (Kafka's `abortAndPauseCleaning`).
    fn pause_cleaning(&self) -> MutexGuard<'_, CleanerState> {
        self.cleaning_aborts.fetch_add(1, Ordering::AcqRel);
        let cleaner = self.cleaner_state();
        self.cleaning_aborts.fetch_sub(1, Ordering::AcqRel);
        cleaner
    }

    /// Truncates at `offset`, which lies within the log (`log_start <= offset < log_end`); returns the new end.
    fn truncate_locked(&self, state: &mut LogState, offset: i64) -> Result<i64, StorageError> {
        let holding = state.segments.range(..=offset).next_back().map_or(offset, |(&base, _)| base);
        let mut deleted = false;
        while let Some(entry) = state.segments.last_entry() {
            if *entry.key() <= holding {
                break;
            }
            entry.remove().delete()?;
            deleted = true;
        }
        let end = state.active_mut().truncate_to(offset)?;
        state.log_end_offset = end;
        self.lower_offsets(state, end);
        if deleted {
            File::open(&self.dir)?.sync_all()?;
        }
        state.epochs.truncate_from(end)?;
        state.producers = rebuild_producers(&self.dir, state, end)?;
        Ok(end)
    }

    fn truncate_fully_locked(&self, offset: i64, cleaner: &mut CleanerState) -> Result<(), StorageError> {
        let mut state = self.lock();
        let emptied = (|| -> Result<(), StorageError> {
            // From the top down; the last segment is emptied in place, or replaced once its successor exists, so
            // that the log always has an active segment.
            while state.segments.len() > 1 {
                if let Some((_, segment)) = state.segments.pop_last() {
                    segment.delete()?;
                }
            }
            if state.log_start_offset() == offset {
                state.active_mut().truncate_to(offset)?;
            } else {
                let fresh = Segment::create(&self.dir, offset, wall_clock_ms())?;
                let old = std::mem::replace(&mut state.segments, [(offset, fresh)].into());
                for (_, segment) in old {
                    segment.delete()?;
                }
            }
            File::open(&self.dir)?.sync_all()?;
            state.log_end_offset = offset;
            state.epochs.truncate_from(i64::MIN)?;
            producer_snapshot::delete_below(&self.dir, i64::MAX)?;
            state.producers = ProducerStates::default();
            Ok(())
        })();
        if let Err(e) = emptied {
            self.go_offline("emptying the log", &e);
            return Err(e);
        }
        state.truncations += 1;
        self.durable.send_modify(|d| {
            d.offset = offset;
            d.high_watermark = offset;
            d.publish();
        });
        drop(state);
        self.flush_requested.notify_one();
        self.truncate_cleaner_checkpoint(cleaner, offset);
        tracing::info!(dir = %self.dir.display(), offset, "emptied the log");
        Ok(())
    }

    /// Lowers the durable offset and the high watermark to at most `end`, under the partition lock so that a
    /// flusher round that began before the truncation does not publish its end afterwards.
    fn lower_offsets(&self, state: &mut LogState, end: i64) {
        state.truncations += 1;
        self.durable.send_modify(|d| {
            d.offset = d.offset.min(end);
            d.high_watermark = d.high_watermark.min(end);
            d.publish();
        });
    }
}

/// The producer state at `end`: the latest snapshot at or below it (later ones are deleted) and the batch
/// headers from there on, as opening the log does.
fn rebuild_producers(dir: &std::path::Path, state: &LogState, end: i64) -> Result<ProducerStates, StorageError> {
    let (snapshot_offset, mut producers) = producer_snapshot::load_latest(dir, end)?.unwrap_or_default();
    let now_ms = wall_clock_ms();
    for segment in state.segments.values() {
        producers.replay_segment(segment, snapshot_offset, now_ms)?;
    }
    Ok(producers)
}

/// The whole, validated batches of `records` (a trailing partial batch is left out) with their headers.
fn split_batches(records: &[u8]) -> Result<Vec<(Range<usize>, BatchHeader)>, StorageError> {
    let mut batches = Vec::new();
    let mut position = 0;
    while records.len() - position >= batch::HEADER_LEN {
        let rest = &records[position..];
        let header = BatchHeader::parse(rest)?;
        if rest.len() < header.total_len() {
            break;
        }
        let header = batch::validate(rest)?;
        if header.last_offset_delta < 0 || header.base_offset < 0 {
            return Err(BatchError::BadRecordCount {
                count: header.record_count,
                last_offset_delta: header.last_offset_delta,
            }
            .into());
        }
        batches.push((position..position + header.total_len(), header));
        position += header.total_len();
    }
    Ok(batches)
}

fn wall_clock_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
