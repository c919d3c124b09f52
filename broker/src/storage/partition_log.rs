//! The log of one partition: an ordered set of segments under `topics/<topic>-<partition>/`, appends with
//! group-committed fsyncs, reads below the high watermark, lookups by timestamp, and retention.
//!
//! Durability: appends write to the page cache under the partition lock and wake the partition's flusher task.
//! The flusher takes the log end offset, fsyncs every file written since its last round, and only then advances
//! the durable offset. Appends that arrive while an fsync runs are covered by the next round, so concurrent
//! producers share fsyncs (group commit).
//!
//! **Invariant**: the high watermark never exceeds the durable offset. Producers with `acks=1|all` are answered,
//! and consumers see records, only once they are on disk.
//!
//! Replication (see `replica.rs`) may cap the high watermark further with a limit: the offset every in-sync
//! replica holds on a leader, the leader's high watermark on a follower. Without a limit (a partition with one
//! replica) the high watermark is the durable offset.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError, Weak};

use bytes::{Bytes, BytesMut};
use kafka_protocol::records::RecordBatchDecoder;
use tokio::sync::{watch, Notify};

use super::batch::{self, BatchHeader};
use super::compaction::{self, CleanerState, SegmentView};
use super::epoch_checkpoint::LeaderEpochCache;
use super::producer_snapshot;
use super::producer_state::{AppendCheck, ProducerStates, PRODUCER_ID_EXPIRATION_MS};
use super::segment::Segment;
use super::topic_config::TopicConfig;
use super::{LogActivity, StorageError};

/// Where a successful append landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendInfo {
    /// Offset assigned to the first record.
    pub base_offset: i64,
    /// Offset of the last record.
    pub last_offset: i64,
    /// First offset still in the log.
    pub log_start_offset: i64,
    /// The batch was an idempotent producer's retry of a batch already written: the offsets are the original
    /// ones and nothing was written.
    pub duplicate: bool,
}

/// Records read from the log, with the offsets a fetch response reports.
#[derive(Debug, Clone)]
pub struct ReadResult {
    /// Whole record batches, as stored.
    pub records: Bytes,
    /// The high watermark at the time of the read.
    pub high_watermark: i64,
    /// First offset still in the log.
    pub log_start_offset: i64,
}

/// A record found by timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampedOffset {
    /// The record's timestamp.
    pub timestamp: i64,
    /// The record's offset.
    pub offset: i64,
}

/// What the flusher and replication publish to waiters: the durable offset, the high watermark and its limit.
#[derive(Debug, Clone, Copy)]
pub(super) struct Durable {
    /// One past the last fsynced offset.
    pub(super) offset: i64,
    /// An append or fsync failed: the partition is offline until restart.
    pub(super) failed: bool,
    /// The cap replication puts on the high watermark; `None` on a partition with one replica.
    pub(super) limit: Option<i64>,
    /// What readers see: the largest `min(offset, limit)` published so far (lowered only by a truncation).
    pub(super) high_watermark: i64,
}

impl Durable {
    fn at(offset: i64) -> Self {
        Durable { offset, failed: false, limit: None, high_watermark: offset }
    }

    /// Raises the high watermark to `min(offset, limit)` if that is higher; returns whether it moved.
    pub(super) fn publish(&mut self) -> bool {
        let target = self.limit.map_or(self.offset, |limit| limit.min(self.offset));
        let moved = target > self.high_watermark;
        self.high_watermark = self.high_watermark.max(target);
        moved
    }
}

#[derive(Debug)]
pub(super) struct LogState {
    pub(super) segments: BTreeMap<i64, Segment>,
    pub(super) log_end_offset: i64,
    pub(super) epochs: LeaderEpochCache,
    /// The idempotent producers, up to the log end offset.
    pub(super) producers: ProducerStates,
    /// Files written since the flusher's last round, other than the active segment's.
    unsynced: Vec<Arc<File>>,
    /// A segment file was created or deleted since the last directory fsync.
    directory_changed: bool,
    /// Truncations so far: a flusher round that began before one must not publish its (stale) end.
    pub(super) truncations: u64,
}

impl LogState {
    pub(super) fn active(&self) -> &Segment {
        self.segments.values().next_back().expect("a log always has an active segment")
    }

    pub(super) fn active_mut(&mut self) -> &mut Segment {
        self.segments.values_mut().next_back().expect("a log always has an active segment")
    }

    pub(super) fn log_start_offset(&self) -> i64 {
        self.segments.values().next().map_or(0, Segment::base_offset)
    }

    pub(super) fn roll(&mut self, dir: &Path, now_ms: i64) -> Result<(), StorageError> {
        let base = self.log_end_offset;
        self.roll_at(dir, base, now_ms)
    }

    /// Seals the active segment and starts a new one at `base` (the log end offset, or above it when a replicated
    /// batch starts after a gap too wide for the active segment's 32-bit relative offsets).
    pub(super) fn roll_at(&mut self, dir: &Path, base: i64, now_ms: i64) -> Result<(), StorageError> {
        let active = self.active_mut();
        active.seal()?;
        let file = active.log_file();
        self.unsynced.push(file);
        let segment = Segment::create(dir, base, now_ms)?;
        self.segments.insert(base, segment);
        self.directory_changed = true;
        write_producer_snapshot(dir, base, &self.producers, &self.unsynced);
        Ok(())
    }

    /// Reads whole batches from `offset` below `end_offset`, about `max_bytes` of them (at least one when
    /// `min_one`).
    pub(super) fn read_below(
        &self,
        offset: i64,
        end_offset: i64,
        max_bytes: usize,
        min_one: bool,
    ) -> Result<Bytes, StorageError> {
        let mut records = Bytes::new();
        if offset < end_offset {
            let log_start_offset = self.log_start_offset();
            let first = self.segments.range(..=offset).next_back().map_or(log_start_offset, |(&b, _)| b);
            for segment in self.segments.range(first..).map(|(_, s)| s) {
                records = segment.read(offset, end_offset, max_bytes, min_one)?;
                if !records.is_empty() || segment.next_offset() >= end_offset {
                    break;
                }
            }
        }
        Ok(records)
    }
}

/// Writes the producer snapshot at `offset`. The `unsynced` files it covers are synced first, so that it never
/// describes batches a crash could still take away. A snapshot that could not be written only makes the next
/// start-up read more batch headers.
fn write_producer_snapshot(dir: &Path, offset: i64, producers: &ProducerStates, unsynced: &[Arc<File>]) {
    let written = unsynced
        .iter()
        .try_for_each(|file| file.sync_data())
        .and_then(|()| producer_snapshot::write(dir, offset, producers));
    if let Err(e) = written {
        tracing::warn!(dir = %dir.display(), offset, error = %e, "could not write a producer snapshot");
    }
}

/// The log of one partition. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct PartitionLog {
    pub(super) dir: PathBuf,
    pub(super) state: Mutex<LogState>,
    pub(super) durable: watch::Sender<Durable>,
    pub(super) flush_requested: Notify,
    closed: AtomicBool,
    pub(super) activity: LogActivity,
    /// Held by a compaction pass for its whole run; retention skips the partition while it is taken.
    cleaner: Mutex<CleanerState>,
    /// Truncations waiting for the cleaner lock: a compaction pass stops at its next batch while this is not 0.
    pub(super) cleaning_aborts: AtomicUsize,
}

impl PartitionLog {
    /// Opens (creating if needed) the partition directory, recovers the active segment's tail and starts the
    /// partition's flusher task. Must be called inside a tokio runtime.
    pub fn open(dir: &Path, activity: LogActivity, now_ms: i64) -> Result<Arc<Self>, StorageError> {
        std::fs::create_dir_all(dir)?;
        compaction::recover_interrupted_swap(dir)?;
        let mut bases = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if let Some(base) = name.strip_suffix(".log").and_then(|b| b.parse::<i64>().ok()) {
                bases.push(base);
            }
        }
        bases.sort_unstable();
        let mut segments = BTreeMap::new();
        let mut producers = ProducerStates::default();
        if let Some((&last, rolled)) = bases.split_last() {
            // Producer state: the latest snapshot, then the batches after it. Normally the snapshot was written
            // when the active segment rolled in, and its batches are visited by the recovery scan.
            let (snapshot_offset, loaded) = producer_snapshot::load_latest(dir, last)?.unwrap_or_default();
            producers = loaded;
            for &base in rolled {
                let (segment, _) = Segment::open_rolled(dir, base, now_ms)?;
                producers.replay_segment(&segment, snapshot_offset, now_ms)?;
                segments.insert(base, segment);
            }
            if snapshot_offset < last && !rolled.is_empty() {
                // Rolled segments were read: spare the next start-up that work.
                let covered: Vec<Arc<File>> = segments.values().map(Segment::log_file).collect();
                write_producer_snapshot(dir, last, &producers, &covered);
            }
            let (active, recovery) = Segment::recover_visiting(dir, last, now_ms, |header| {
                if header.base_offset >= snapshot_offset {
                    producers.apply(header, now_ms);
                }
            })?;
            if recovery.truncated_bytes > 0 {
                tracing::warn!(dir = %dir.display(), bytes = recovery.truncated_bytes, "truncated a torn tail");
            }
            active.log_file().sync_data()?;
            segments.insert(last, active);
        } else {
            segments.insert(0, Segment::create(dir, 0, now_ms)?);
            File::open(dir)?.sync_all()?;
        }
        let log_end_offset = segments.values().next_back().map_or(0, Segment::next_offset);
        let mut epochs = LeaderEpochCache::open(dir)?;
        epochs.truncate_from(log_end_offset)?;
        epochs.assign(epochs.latest_epoch(), log_end_offset)?;
        let state = LogState {
            segments,
            log_end_offset,
            epochs,
            producers,
            unsynced: Vec::new(),
            directory_changed: false,
            truncations: 0,
        };
        let log = Arc::new(PartitionLog {
            dir: dir.to_owned(),
            state: Mutex::new(state),
            durable: watch::Sender::new(Durable::at(log_end_offset)),
            flush_requested: Notify::new(),
            closed: AtomicBool::new(false),
            activity,
            cleaner: Mutex::new(CleanerState::default()),
            cleaning_aborts: AtomicUsize::new(0),
        });
        tokio::spawn(run_flusher(Arc::downgrade(&log)));
        Ok(log)
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, LogState> {
        // A panic while holding the lock leaves the state as consistent as the files; keep serving.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Validates a producer's batch, checks an idempotent producer's epoch and sequence, assigns its offsets and
    /// appends it. The batch is durable once [`PartitionLog::wait_durable`] returns for `last_offset + 1`. A retry
    /// of one of an idempotent producer's last batches is not written again: its original offsets come back, with
    /// [`AppendInfo::duplicate`] set, and waiting for them works the same.
    pub fn append(&self, mut batch: BytesMut, config: &TopicConfig, now_ms: i64) -> Result<AppendInfo, StorageError> {
        if self.durable.borrow().failed || self.closed.load(Ordering::Acquire) {
            return Err(StorageError::Offline);
        }
        let header = batch::validate(&batch)?;
        header.check_producer_counts()?;
        if batch.len() != header.total_len() {
            return Err(StorageError::NotOneBatch);
        }
        if batch.len() > config.max_message_bytes {
            return Err(StorageError::RecordTooLarge { size: batch.len(), max: config.max_message_bytes });
        }
        if config.cleanup_policy.compact {
            compaction::require_keys(&batch, &header)?;
        }
        let mut state = self.lock();
        if let AppendCheck::Duplicate(original) = state.producers.check(&header)? {
            return Ok(AppendInfo {
                base_offset: original.first_offset,
                last_offset: original.last_offset,
                log_start_offset: state.log_start_offset(),
                duplicate: true,
            });
        }
        let base_offset = state.log_end_offset;
        let active = state.active();
        let too_big = active.size() + batch.len() as u64 > config.segment_bytes;
        let too_old = now_ms - active.created_ms() >= config.segment_ms;
        if active.size() > 0 && (too_big || too_old) {
            state.roll(&self.dir, now_ms)?;
        }
        let epoch = state.epochs.latest_epoch();
        batch::patch_offset_and_epoch(&mut batch, base_offset, epoch);
        let header = BatchHeader { base_offset, partition_leader_epoch: epoch, ..header };
        if let Err(e) = state.active_mut().append(&batch, &header) {
            // The file may hold a partial batch now; stop writing until recovery truncates it at restart.
            self.durable.send_modify(|d| d.failed = true);
            return Err(e.into());
        }
        state.log_end_offset = header.last_offset() + 1;
        state.producers.apply(&header, now_ms);
        let info = AppendInfo {
            base_offset,
            last_offset: header.last_offset(),
            log_start_offset: state.log_start_offset(),
            duplicate: false,
        };
        drop(state);
        self.flush_requested.notify_one();
        Ok(info)
    }

    /// Waits until every offset below `end_offset` is on disk.
    pub async fn wait_durable(&self, end_offset: i64) -> Result<(), StorageError> {
        let mut rx = self.durable.subscribe();
        let state = rx.wait_for(|d| d.offset >= end_offset || d.failed).await.map_err(|_| StorageError::Offline)?;
        if state.offset >= end_offset {
            Ok(())
        } else {
            Err(StorageError::Offline)
        }
    }

    /// The high watermark: one past the last offset consumers may read, `min(durable offset, limit)` (see
    /// [`PartitionLog::set_high_watermark_limit`]); it never moves backwards except when the log is truncated.
    pub fn high_watermark(&self) -> i64 {
        self.durable.borrow().high_watermark
    }

    /// The first offset still in the log.
    pub fn log_start_offset(&self) -> i64 {
        self.lock().log_start_offset()
    }

    /// The partition's current leader epoch.
    pub fn leader_epoch(&self) -> i32 {
        self.lock().epochs.latest_epoch()
    }

    /// Starts leader epoch `epoch` at the log end, as the controller elected this replica leader with it; an epoch
    /// not newer than the latest is ignored. Batches appended from now on carry it.
    pub fn become_leader(&self, epoch: i32) -> Result<(), StorageError> {
        let mut state = self.lock();
        let log_end_offset = state.log_end_offset;
        state.epochs.assign(epoch, log_end_offset)?;
        Ok(())
    }

    /// Reads whole batches from `offset` up to the high watermark, about `max_bytes` of them (at least one batch
    /// when `min_one`, so a consumer always progresses past a batch larger than its limit). As in Kafka, an offset
    /// is out of range below the log start or above the log end offset; between the high watermark and the log end
    /// (a replica whose high watermark lags behind the previous leader's) the read is empty.
    pub fn read(&self, offset: i64, max_bytes: usize, min_one: bool) -> Result<ReadResult, StorageError> {
        let state = self.lock();
        let high_watermark = self.high_watermark();
        let log_start_offset = state.log_start_offset();
        if offset < log_start_offset || offset > state.log_end_offset {
            return Err(StorageError::OffsetOutOfRange { offset, log_start_offset, high_watermark });
        }
        let records = state.read_below(offset, high_watermark, max_bytes, min_one)?;
        Ok(ReadResult { records, high_watermark, log_start_offset })
    }

    /// The first record whose timestamp is at least `timestamp`, below the high watermark.
    pub fn offset_for_timestamp(&self, timestamp: i64) -> Result<Option<TimestampedOffset>, StorageError> {
        let high_watermark = self.high_watermark();
        let state = self.lock();
        for segment in state.segments.values().filter(|s| s.max_timestamp() >= timestamp) {
            let mut position = segment.position_for_timestamp(timestamp);
            while let Some(header) = segment.header_at(position)? {
                if header.base_offset >= high_watermark {
                    return Ok(None);
                }
                // A batch emptied by compaction keeps its header's timestamps: look further then.
                if header.max_timestamp >= timestamp {
                    let bytes = segment.batch_at(position, &header)?;
                    if let Some(found) = first_record_matching(bytes, |ts| ts >= timestamp)? {
                        return Ok(Some(found));
                    }
                }
                position += header.total_len() as u64;
            }
        }
        Ok(None)
    }

    /// The record with the largest timestamp (the earliest of them on ties), below the high watermark.
    pub fn offset_of_max_timestamp(&self) -> Result<Option<TimestampedOffset>, StorageError> {
        let high_watermark = self.high_watermark();
        let state = self.lock();
        let Some(max) = state.segments.values().map(Segment::max_timestamp).max() else {
            return Ok(None);
        };
        if max < 0 {
            return Ok(None);
        }
        for segment in state.segments.values().filter(|s| s.max_timestamp() == max) {
            let mut position = 0;
            while let Some(header) = segment.header_at(position)? {
                if header.base_offset >= high_watermark {
                    return Ok(None);
                }
                if header.max_timestamp == max {
                    let bytes = segment.batch_at(position, &header)?;
                    if let Some(found) = first_record_matching(bytes, |ts| ts == max)? {
                        return Ok(Some(found));
                    }
                }
                position += header.total_len() as u64;
            }
        }
        Ok(None)
    }

    /// Deletes whole segments past `retention.ms` or beyond `retention.bytes`; never the active segment unless
    /// it has itself expired (it is rolled first), and never data above the high watermark. Returns the number
    /// of segments deleted. Whatever the cleanup policy, also forgets idempotent producers idle for
    /// [`PRODUCER_ID_EXPIRATION_MS`].
    pub fn enforce_retention(&self, config: &TopicConfig, now_ms: i64) -> Result<usize, StorageError> {
        let forgotten = self.lock().producers.expire(now_ms, PRODUCER_ID_EXPIRATION_MS);
        if forgotten > 0 {
            tracing::info!(dir = %self.dir.display(), producers = forgotten, "forgot idle producers");
        }
        if !config.cleanup_policy.delete {
            return Ok(0);
        }
        // A compaction pass owns the segments until it ends; retention comes back at its next interval.
        let _cleaner = match self.cleaner.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return Ok(0),
        };
        let high_watermark = self.high_watermark();
        let mut state = self.lock();
        let expired = |s: &Segment| config.retention_ms >= 0 && s.max_timestamp() < now_ms - config.retention_ms;
        let active = state.active();
        if active.size() > 0 && expired(active) && active.next_offset() <= high_watermark {
            state.roll(&self.dir, now_ms)?;
        }
        let mut total: u64 = state.segments.values().map(Segment::size).sum();
        let mut doomed = Vec::new();
        while state.segments.len() > 1 {
            let Some((_, oldest)) = state.segments.first_key_value() else {
                break;
            };
            let over_size = config.retention_bytes >= 0 && total - oldest.size() >= config.retention_bytes as u64;
            if !(expired(oldest) || over_size) || oldest.next_offset() > high_watermark {
                break;
            }
            total -= oldest.size();
            if let Some((_, segment)) = state.segments.pop_first() {
                doomed.push(segment);
            }
        }
        if !doomed.is_empty() {
            state.directory_changed = true;
        }
        let log_start_offset = state.log_start_offset();
        drop(state);
        let deleted = doomed.len();
        for segment in doomed {
            segment.delete()?;
        }
        if deleted > 0 {
            // Later snapshots carry the producers of the deleted segments on.
            producer_snapshot::delete_below(&self.dir, log_start_offset)?;
            self.flush_requested.notify_one();
        }
        Ok(deleted)
    }

    /// Stops the flusher and refuses further appends; used before the partition's files are deleted. Wakes
    /// [`PartitionLog::wait_high_watermark`] callers, which then fail.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.flush_requested.notify_one();
        self.durable.send_modify(|_| ());
    }

    /// Whether [`PartitionLog::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The cleaner's state, locked for a compaction pass (retention skips the partition meanwhile).
    pub(crate) fn cleaner_state(&self) -> MutexGuard<'_, CleanerState> {
        self.cleaner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A snapshot of every segment, the active one last, and the high watermark, for the cleaner to read
    /// outside the partition lock.
    pub(crate) fn segment_views(&self) -> (Vec<SegmentView>, i64) {
        let high_watermark = self.high_watermark();
        let state = self.lock();
        (state.segments.values().map(SegmentView::of).collect(), high_watermark)
    }

    /// Puts a cleaned segment, whose files were swapped in already, in place of the segments it replaces. Reads
    /// hold the partition lock, so they see either the old segments or the new one.
    pub(crate) fn replace_segments(&self, replaced: &[i64], cleaned: Segment) {
        let mut state = self.lock();
        for base in replaced {
            state.segments.remove(base);
        }
        state.segments.insert(cleaned.base_offset(), cleaned);
    }

    /// The partition's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// One flusher round: sync everything written so far, then publish the new durable offset (unless the log was
    /// truncated meanwhile: the next round covers what is left).
    async fn flush(&self) {
        let (target, files, directory_changed, truncations) = {
            let mut state = self.lock();
            let mut files = std::mem::take(&mut state.unsynced);
            files.push(state.active().log_file());
            (state.log_end_offset, files, std::mem::take(&mut state.directory_changed), state.truncations)
        };
        if target <= self.durable_offset() && files.len() == 1 && !directory_changed {
            return;
        }
        let dir = self.dir.clone();
        let synced = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            for file in &files {
                file.sync_data()?;
            }
            if directory_changed {
                File::open(&dir)?.sync_all()?;
            }
            Ok(())
        })
        .await;
        match synced {
            Ok(Ok(())) => {
                let state = self.lock();
                if state.truncations == truncations {
                    self.durable.send_modify(|d| {
                        d.offset = d.offset.max(target);
                        d.publish();
                    });
                }
                drop(state);
                self.activity.notify();
            }
            Ok(Err(e)) => self.fail(&e.to_string()),
            Err(e) => self.fail(&e.to_string()),
        }
    }

    fn fail(&self, reason: &str) {
        tracing::error!(dir = %self.dir.display(), reason, "fsync failed; partition is offline until restart");
        self.durable.send_modify(|d| d.failed = true);
    }
}

async fn run_flusher(log: Weak<PartitionLog>) {
    loop {
        let Some(log) = log.upgrade() else { return };
        log.flush_requested.notified().await;
        if log.closed.load(Ordering::Acquire) {
            return;
        }
        log.flush().await;
    }
}

fn first_record_matching(
    batch: Bytes,
    accept: impl Fn(i64) -> bool,
) -> Result<Option<TimestampedOffset>, StorageError> {
    let mut buf = batch;
    let set = RecordBatchDecoder::decode(&mut buf).map_err(|e| StorageError::Decode(e.to_string()))?;
    Ok(set
        .records
        .iter()
        .find(|r| accept(r.timestamp))
        .map(|r| TimestampedOffset { timestamp: r.timestamp, offset: r.offset }))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::Write;

    use kafka_protocol::records::Compression;

    use super::*;
    use crate::storage::batch::tests::encoded_batch;

    fn config(pairs: &[(&str, &str)]) -> TopicConfig {
        let overrides: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        TopicConfig::from_overrides(&overrides).expect("valid config")
    }

    async fn append_durably(log: &PartitionLog, count: usize, timestamp: i64, config: &TopicConfig) -> AppendInfo {
        let info = log.append(encoded_batch(count, timestamp, Compression::None), config, timestamp).expect("append");
        log.wait_durable(info.last_offset + 1).await.expect("durable");
        info
    }

    #[tokio::test]
    async fn appends_read_back_and_survive_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = config(&[("segment.bytes", "1024")]);
        let log = PartitionLog::open(dir.path(), LogActivity::default(), 0).expect("open");
        let mut offsets = Vec::new();
        for i in 0..20 {
            offsets.push(append_durably(&log, 3, 1_000 + i * 10, &config).await.base_offset);
        }
        assert_eq!(offsets, (0..20).map(|i| i * 3).collect::<Vec<i64>>());
        assert_eq!(log.high_watermark(), 60);
        let segments = std::fs::read_dir(dir.path())
            .expect("ls")
            .filter(|e| e.as_ref().is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".log")));
        assert!(segments.count() > 1, "small segment.bytes rolls segments");
        let read = log.read(31, 1_000_000, true).expect("read");
        let first = batch::validate(&read.records).expect("whole batch");
        assert_eq!(first.base_offset, 30, "reads start at the batch holding the offset");
        log.close();
        drop(log);

        let reopened = PartitionLog::open(dir.path(), LogActivity::default(), 0).expect("reopen");
        assert_eq!(reopened.high_watermark(), 60);
        // Fetch like a consumer: each read returns whole batches from one segment.
        let mut expected = 0;
        while expected < 60 {
            let chunk = reopened.read(expected, usize::MAX, true).expect("read").records;
            assert!(!chunk.is_empty());
            let mut position = 0;
            while position < chunk.len() {
                let header = batch::validate(&chunk[position..]).expect("valid");
                assert_eq!(header.base_offset, expected);
                expected = header.last_offset() + 1;
                position += header.total_len();
            }
        }
        assert_eq!(expected, 60);
        let info = append_durably(&reopened, 1, 5_000, &config).await;
        assert_eq!(info.base_offset, 60);
    }

    #[tokio::test]
    async fn recovery_truncates_a_torn_tail() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = TopicConfig::default();
        let log = PartitionLog::open(dir.path(), LogActivity::default(), 0).expect("open");
        append_durably(&log, 2, 100, &config).await;
        append_durably(&log, 2, 200, &config).await;
        log.close();
        drop(log);
        let segment = dir.path().join("00000000000000000000.log");
        let whole = std::fs::read(&segment).expect("read");
        let half_batch = encoded_batch(4, 300, Compression::None);
        let mut file = std::fs::OpenOptions::new().append(true).open(&segment).expect("open");
        file.write_all(&half_batch[..half_batch.len() / 2]).expect("torn write");
        drop(file);

        let log = PartitionLog::open(dir.path(), LogActivity::default(), 0).expect("recover");
        assert_eq!(log.high_watermark(), 4);
        assert_eq!(std::fs::read(&segment).expect("read").len(), whole.len(), "torn bytes removed");
        assert_eq!(append_durably(&log, 1, 400, &config).await.base_offset, 4);
    }

    #[tokio::test]
    async fn refuses_corrupt_and_oversized_batches() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = PartitionLog::open(dir.path(), LogActivity::default(), 0).expect("open");
        let mut corrupt = encoded_batch(2, 0, Compression::None);
        let last = corrupt.len() - 1;
        corrupt[last] ^= 1;
        let err = log.append(corrupt, &TopicConfig::default(), 0).expect_err("crc");
        assert!(matches!(err, StorageError::InvalidBatch(batch::BatchError::CrcMismatch { .. })));
        let small = config(&[("max.message.bytes", "10")]);
        let err = log.append(encoded_batch(2, 0, Compression::None), &small, 0).expect_err("too large");
        assert!(matches!(err, StorageError::RecordTooLarge { .. }));
        let mut two = encoded_batch(1, 0, Compression::None);
        two.extend_from_slice(&encoded_batch(1, 0, Compression::None));
        assert!(matches!(log.append(two, &TopicConfig::default(), 0), Err(StorageError::NotOneBatch)));
        assert_eq!(log.high_watermark(), 0, "nothing was written");
    }

    #[tokio::test]
    async fn retention_deletes_whole_old_segments() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sized = config(&[("segment.bytes", "1024"), ("retention.bytes", "2048")]);
        let log = PartitionLog::open(dir.path(), LogActivity::default(), 0).expect("open");
        for i in 0..40 {
            append_durably(&log, 2, 1_000 + i, &sized).await;
        }
        let deleted = log.enforce_retention(&sized, 2_000).expect("retention");
        assert!(deleted > 0);
        let start = log.log_start_offset();
        assert!(start > 0 && start < 80);
        assert!(matches!(log.read(0, 1000, true), Err(StorageError::OffsetOutOfRange { .. })));
        assert_eq!(
            batch::validate(&log.read(start, 1000, true).expect("read").records).expect("batch").base_offset,
            start
        );

        let timed = config(&[("segment.bytes", "1024"), ("retention.ms", "100")]);
        let deleted = log.enforce_retention(&timed, 1_000_000).expect("time retention");
        assert!(deleted > 0);
        assert_eq!(log.log_start_offset(), 80, "expired active segment is rolled and deleted");
        assert_eq!(append_durably(&log, 1, 1_000_000, &timed).await.base_offset, 80, "offsets stay monotonic");
    }

    #[tokio::test]
    async fn finds_offsets_by_timestamp() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = config(&[("segment.bytes", "1024")]);
        let log = PartitionLog::open(dir.path(), LogActivity::default(), 0).expect("open");
        for i in 0..30 {
            // Batch i holds records with timestamps 1000 + 100 i, +1, +2 at offsets 3i, 3i+1, 3i+2.
            append_durably(&log, 3, 1_000 + i * 100, &config).await;
        }
        let found = log.offset_for_timestamp(1_501).expect("lookup").expect("found");
        assert_eq!(found, TimestampedOffset { timestamp: 1_501, offset: 16 });
        let found = log.offset_for_timestamp(1_503).expect("lookup").expect("found");
        assert_eq!(found, TimestampedOffset { timestamp: 1_600, offset: 18 });
        assert_eq!(log.offset_for_timestamp(0).expect("lookup").map(|f| f.offset), Some(0));
        assert_eq!(log.offset_for_timestamp(10_000).expect("lookup"), None);
        let max = log.offset_of_max_timestamp().expect("max").expect("found");
        assert_eq!(max, TimestampedOffset { timestamp: 3_902, offset: 89 });
    }
}
