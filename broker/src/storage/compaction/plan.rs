//! What a pass over one partition covers and whether it runs (Kafka's `LogCleanerManager` choices).
//!
//! The cleanable part of a log is its prefix of rolled segments that lie wholly below the high watermark and
//! whose newest record is at least `min.compaction.lag.ms` old; the active segment never is. Its segments from
//! the checkpoint's first dirty offset on are dirty. A pass runs when the dirty bytes reach
//! `min.cleanable.dirty.ratio` of the cleanable bytes, when the oldest dirty record is older than
//! `max.compaction.lag.ms`, or when the delete horizon of a tombstone left by an earlier pass has passed.

use std::fmt;
use std::ops::Range;

use super::checkpoint::CleanerCheckpoint;
use super::scan::SegmentView;
use crate::storage::{StorageError, TopicConfig};

/// Why a pass runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reason {
    /// The dirty part reached `min.cleanable.dirty.ratio`; the ratio.
    DirtyRatio(f64),
    /// The oldest dirty record is older than `max.compaction.lag.ms`.
    MaxLag,
    /// Tombstones kept by an earlier pass passed their delete horizon.
    TombstonesDue,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::DirtyRatio(ratio) => write!(f, "dirty ratio {ratio:.2}"),
            Reason::MaxLag => f.write_str("max.compaction.lag.ms"),
            Reason::TombstonesDue => f.write_str("tombstones past their delete horizon"),
        }
    }
}

/// The cleanable prefix of a snapshot's segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cleanable {
    /// Segments `[0, end)` may be cleaned.
    pub end: usize,
    /// Segments `[dirty_start, end)` were never cleaned.
    pub dirty_start: usize,
}

impl Cleanable {
    /// Finds the cleanable prefix of `segments` (the whole log, the active segment last).
    pub fn find(
        segments: &[SegmentView],
        high_watermark: i64,
        first_dirty_offset: i64,
        config: &TopicConfig,
        now_ms: i64,
    ) -> Self {
        let newest_allowed = now_ms.saturating_sub(config.min_compaction_lag_ms);
        let rolled = &segments[..segments.len().saturating_sub(1)];
        let end =
            rolled.iter().take_while(|s| s.next_offset <= high_watermark && s.max_timestamp <= newest_allowed).count();
        let dirty_start = segments[..end].iter().position(|s| s.next_offset > first_dirty_offset).unwrap_or(end);
        Cleanable { end, dirty_start }
    }

    /// Why a pass should run now, if it should (reads the first dirty batch's header to check the lag).
    pub fn reason(
        &self,
        segments: &[SegmentView],
        config: &TopicConfig,
        checkpoint: &CleanerCheckpoint,
        now_ms: i64,
    ) -> Result<Option<Reason>, StorageError> {
        if self.end == 0 {
            return Ok(None);
        }
        let bytes = |range: Range<usize>| segments[range].iter().map(|s| s.size).sum::<u64>();
        let (dirty, total) = (bytes(self.dirty_start..self.end), bytes(0..self.end));
        if dirty > 0 {
            let ratio = dirty as f64 / total as f64;
            if ratio >= config.min_cleanable_dirty_ratio {
                return Ok(Some(Reason::DirtyRatio(ratio)));
            }
            if config.max_compaction_lag_ms < i64::MAX {
                let oldest = segments[self.dirty_start].first_batch_timestamp()?;
                if oldest.is_some_and(|ts| ts < now_ms.saturating_sub(config.max_compaction_lag_ms)) {
                    return Ok(Some(Reason::MaxLag));
                }
            }
        }
        if checkpoint.tombstone_horizon_ms.is_some_and(|horizon| horizon <= now_ms) {
            return Ok(Some(Reason::TombstonesDue));
        }
        Ok(None)
    }
}

/// Consecutive segments merged into groups of at most `max_bytes` whose offsets fit one segment's 32-bit relative
/// offsets (Kafka's `groupSegmentsBySize`). Each group is rewritten as one segment named after its first.
pub fn group_by_size(segments: &[SegmentView], max_bytes: u64) -> Vec<Range<usize>> {
    let mut groups = Vec::new();
    let mut start = 0;
    while start < segments.len() {
        let first = &segments[start];
        let mut end = start + 1;
        let mut size = first.size;
        while let Some(next) = segments.get(end) {
            let fits_offsets = next.next_offset - first.base_offset <= i64::from(i32::MAX);
            if size + next.size > max_bytes || !fits_offsets {
                break;
            }
            size += next.size;
            end += 1;
        }
        groups.push(start..end);
        start = end;
    }
    groups
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::Write;
    use std::sync::Arc;

    use kafka_protocol::records::Compression;

    use super::*;
    use crate::storage::compaction::test_batches::{batch_of, Entry};

    fn view(base_offset: i64, next_offset: i64, size: u64, max_timestamp: i64) -> SegmentView {
        let file = Arc::new(tempfile::tempfile().expect("tempfile"));
        SegmentView { base_offset, next_offset, size, max_timestamp, file }
    }

    fn config(pairs: &[(&str, &str)]) -> TopicConfig {
        let overrides: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        TopicConfig::from_overrides(&overrides).expect("valid config")
    }

    /// Four rolled segments of 100 bytes and an active one.
    fn log() -> Vec<SegmentView> {
        (0..5).map(|i| view(i * 10, i * 10 + 10, 100, 1_000 + i)).collect()
    }

    #[test]
    fn compaction_plan_never_covers_the_active_segment_or_unflushed_data() {
        let segments = log();
        let compact = config(&[("cleanup.policy", "compact")]);
        assert_eq!(Cleanable::find(&segments, 50, 0, &compact, 5_000), Cleanable { end: 4, dirty_start: 0 });
        assert_eq!(Cleanable::find(&segments, 35, 0, &compact, 5_000).end, 3, "below the high watermark only");
        assert_eq!(Cleanable::find(&segments, 50, 20, &compact, 5_000), Cleanable { end: 4, dirty_start: 2 });
        assert_eq!(Cleanable::find(&segments, 50, 40, &compact, 5_000), Cleanable { end: 4, dirty_start: 4 });
        let lagging = config(&[("min.compaction.lag.ms", "3998")]);
        assert_eq!(Cleanable::find(&segments, 50, 0, &lagging, 5_000).end, 3, "newest record must be old enough");
        assert_eq!(Cleanable::find(&segments[4..], 50, 0, &compact, 5_000).end, 0, "one segment is the active one");
    }

    #[test]
    fn compaction_plan_runs_on_dirty_ratio_lag_or_due_tombstones() {
        let segments = log();
        let at = |dirty_start| Cleanable { end: 4, dirty_start };
        let none = CleanerCheckpoint::default();
        let half = config(&[]);
        let reason = |c: Cleanable, config: &TopicConfig, checkpoint: &CleanerCheckpoint| {
            c.reason(&segments, config, checkpoint, 10_000).expect("reason")
        };
        assert_eq!(reason(at(0), &half, &none), Some(Reason::DirtyRatio(1.0)));
        assert_eq!(reason(at(2), &half, &none), Some(Reason::DirtyRatio(0.5)));
        assert_eq!(reason(at(3), &half, &none), None, "a quarter dirty is below the default 0.5");
        assert_eq!(reason(at(4), &half, &none), None);
        let eager = config(&[("min.cleanable.dirty.ratio", "0.2")]);
        assert_eq!(reason(at(3), &eager, &none), Some(Reason::DirtyRatio(0.25)));
        // Segment 3 starts with a batch written at 1,000.
        let mut file = tempfile::tempfile().expect("tempfile");
        file.write_all(&batch_of(30, 1_000, &[Entry::put("k", "v")], Compression::None)).expect("write");
        let mut segments = log();
        segments[3].file = Arc::new(file);
        let lag = |max: &str| {
            let config = config(&[("max.compaction.lag.ms", max)]);
            at(3).reason(&segments, &config, &none, 10_000).expect("reason")
        };
        assert_eq!(lag("8999"), Some(Reason::MaxLag));
        assert_eq!(lag("9000"), None);
        let due = CleanerCheckpoint { first_dirty_offset: 40, tombstone_horizon_ms: Some(10_000) };
        assert_eq!(reason(at(4), &half, &due), Some(Reason::TombstonesDue));
        let later = CleanerCheckpoint { tombstone_horizon_ms: Some(10_001), ..due };
        assert_eq!(reason(at(4), &half, &later), None);
        assert_eq!(Cleanable { end: 0, dirty_start: 0 }.reason(&segments, &half, &due, 10_000).expect("r"), None);
    }

    #[test]
    fn compaction_plan_groups_segments_by_size() {
        let segments = log();
        let ranges = |max| group_by_size(&segments[..4], max);
        assert_eq!(ranges(100), vec![0..1, 1..2, 2..3, 3..4]);
        assert_eq!(ranges(250), vec![0..2, 2..4]);
        assert_eq!(ranges(1_000), vec![0..4]);
        assert_eq!(ranges(50), vec![0..1, 1..2, 2..3, 3..4], "an oversized segment is a group of its own");
        let wide = [view(0, 10, 1, 0), view(10, i64::from(i32::MAX) + 1, 1, 0)];
        assert_eq!(group_by_size(&wide, 1_000), vec![0..1, 1..2], "relative offsets must fit 32 bits");
    }
}
