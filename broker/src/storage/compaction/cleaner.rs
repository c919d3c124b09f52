//! One compaction pass over one partition: plan, map, rewrite, swap (see the module header of
//! [`crate::storage::compaction`]).

use std::path::Path;
use std::time::Instant;

use super::checkpoint::CleanerCheckpoint;
use super::offset_map::OffsetMap;
use super::plan::{group_by_size, Cleanable};
use super::producers::ProducerTails;
use super::records::records;
use super::rewrite::{clean_batch, Cleaned, RetentionRules};
use super::scan::SegmentView;
use super::{codec, swap, CleanerConfig, PassStats};
use crate::storage::batch::{BatchHeader, HEADER_LEN};
use crate::storage::segment::Segment;
use crate::storage::{PartitionLog, StorageError, TopicConfig};

/// Runs a pass over `log` if it needs one; returns what it did, or `None` when nothing was due or `stop` turned
/// true first (or the log is closed, or a truncation waits for the pass). Blocking: run it off the async runtime.
/// Retention skips the partition while the pass runs.
pub fn clean(
    log: &PartitionLog,
    config: &TopicConfig,
    cleaner: &CleanerConfig,
    now_ms: i64,
    stop: &dyn Fn() -> bool,
) -> Result<Option<PassStats>, StorageError> {
    if !config.cleanup_policy.compact {
        return Ok(None);
    }
    let started = Instant::now();
    let stop = &|| stop() || log.is_closed() || log.cleaning_aborted();
    let mut state = log.cleaner_state();
    let dir = log.dir();
    let checkpoint = state.checkpoint(dir);
    let (segments, high_watermark) = log.segment_views();
    let cleanable = Cleanable::find(&segments, high_watermark, checkpoint.first_dirty_offset, config, now_ms);
    let Some(reason) = cleanable.reason(&segments, config, &checkpoint, now_ms)? else {
        return Ok(None);
    };
    let Some((map, mapped)) = map_dirty(&segments[cleanable.dirty_start..cleanable.end], cleaner, stop)? else {
        return Ok(None);
    };
    let end = if mapped == 0 { cleanable.end } else { cleanable.dirty_start + mapped };
    let rules = RetentionRules { latest: &map, now_ms, delete_retention_ms: config.delete_retention_ms };
    let mut tails = ProducerTails::new(&segments);
    let mut stats = PassStats { reason: Some(reason), keys: map.len(), ..PassStats::default() };
    let mut tombstone_horizon: Option<i64> = None;
    for group in group_by_size(&segments[..end], config.segment_bytes) {
        let group = &segments[group];
        let base = group[0].base_offset;
        let written = write_cleaned(dir, group, &rules, &mut tails, cleaner, now_ms, stop)
            .inspect_err(|_| discard_quietly(dir, base))?;
        let Some(written) = written else {
            return Ok(None);
        };
        stats.segments_in += group.len();
        stats.segments_out += 1;
        stats.bytes_in += group.iter().map(|s| s.size).sum::<u64>();
        stats.bytes_out += written.segment.size();
        stats.records_removed += written.records_removed;
        tombstone_horizon = earliest(tombstone_horizon, written.tombstone_horizon);
        if written.changed || group.len() > 1 {
            let end = group.last().map_or(base, |s| s.next_offset);
            finish(written.segment, end).inspect_err(|_| discard_quietly(dir, base))?;
            let replaced: Vec<i64> = group.iter().map(|s| s.base_offset).collect();
            swap::commit(dir, base, &replaced)?;
            let (segment, _) = Segment::open_rolled(dir, base, now_ms)?;
            log.replace_segments(&replaced, segment);
        } else {
            drop(written.segment);
            swap::discard(dir, base)?;
        }
    }
    // The segment after the cleaned range exists: the active segment is never cleaned.
    let first_dirty_offset = segments.get(end).map_or(high_watermark, |s| s.base_offset);
    state.record(dir, CleanerCheckpoint { first_dirty_offset, tombstone_horizon_ms: tombstone_horizon })?;
    stats.elapsed = started.elapsed();
    Ok(Some(stats))
}

/// Makes a cleaned segment ready to swap in: it covers the offsets up to `end`, its indexes are sealed, and all
/// of it is on disk.
fn finish(mut segment: Segment, end: i64) -> Result<(), StorageError> {
    segment.cover_to(end);
    segment.seal()?;
    segment.log_file().sync_data()?;
    Ok(())
}

fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    a.into_iter().chain(b).min()
}

fn discard_quietly(dir: &Path, base: i64) {
    if let Err(e) = swap::discard(dir, base) {
        tracing::warn!(dir = %dir.display(), base, error = %e, "could not remove an abandoned cleaned segment");
    }
}

/// Maps the keys of the dirty segments to their latest offsets, whole segments at a time, until the map holds
/// `max_keys` (at least one segment is mapped). Returns the map and the number of segments it covers, or `None`
/// when `stop` turned true.
fn map_dirty(
    dirty: &[SegmentView],
    cleaner: &CleanerConfig,
    stop: &dyn Fn() -> bool,
) -> Result<Option<(OffsetMap, usize)>, StorageError> {
    let mut map = OffsetMap::default();
    for (mapped, segment) in dirty.iter().enumerate() {
        if mapped > 0 && map.len() >= cleaner.max_keys {
            return Ok(Some((map, mapped)));
        }
        let mut reader = segment.batches(cleaner.read_buffer_bytes);
        while let Some((header, stored)) = reader.next_batch()? {
            if stop() {
                return Ok(None);
            }
            if header.is_control() {
                continue;
            }
            let section = codec::decompress(header.compression(), &stored[HEADER_LEN..])?;
            for record in records(&section) {
                let record = record?;
                if let Some(key) = record.key {
                    map.insert(key, header.base_offset + i64::from(record.offset_delta));
                }
            }
        }
    }
    Ok(Some((map, dirty.len())))
}

/// What writing one group's cleaned segment produced.
struct Written {
    /// The cleaned segment, written but neither sealed nor synced.
    segment: Segment,
    /// Some batch was removed or rewritten.
    changed: bool,
    records_removed: usize,
    tombstone_horizon: Option<i64>,
}

/// Writes the cleaned segment `<base>.*.cleaned` of `group`; `None` when `stop` turned true (the files are
/// removed then).
fn write_cleaned(
    dir: &Path,
    group: &[SegmentView],
    rules: &RetentionRules<'_>,
    tails: &mut ProducerTails<'_>,
    cleaner: &CleanerConfig,
    now_ms: i64,
    stop: &dyn Fn() -> bool,
) -> Result<Option<Written>, StorageError> {
    let base = group[0].base_offset;
    // A pass that failed earlier may have left its files behind.
    swap::discard(dir, base)?;
    let out = Segment::create_with_suffix(dir, base, Some(swap::CLEANED), now_ms)?;
    let mut written = Written { segment: out, changed: false, records_removed: 0, tombstone_horizon: None };
    for segment in group {
        let mut reader = segment.batches(cleaner.read_buffer_bytes);
        while let Some((header, stored)) = reader.next_batch()? {
            if stop() {
                drop(written);
                swap::discard(dir, base)?;
                return Ok(None);
            }
            let outcome = clean_batch(&stored, &header, rules, || tails.is_last(&header))?;
            written.records_removed += outcome.records_removed;
            written.tombstone_horizon = earliest(written.tombstone_horizon, outcome.tombstone_horizon);
            match outcome.cleaned {
                Cleaned::Unchanged => written.segment.append(&stored, &header)?,
                Cleaned::Removed => written.changed = true,
                Cleaned::Rewritten(bytes) => {
                    written.segment.append(&bytes, &BatchHeader::parse(&bytes)?)?;
                    written.changed = true;
                }
            }
        }
    }
    Ok(Some(written))
}
