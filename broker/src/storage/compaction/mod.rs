//! Log compaction (`cleanup.policy=compact`): the cleaner keeps the latest record of every key, removes tombstones
//! once their delete horizon has passed, and never changes an offset.
//!
//! A pass over one partition ([`clean`]) works like Kafka's log cleaner:
//!
//! 1. **Plan** ([`plan`]): the cleanable part is the prefix of rolled segments below the high watermark and older
//!    than `min.compaction.lag.ms`; the active segment is never touched. The pass runs when the never-cleaned
//!    (dirty) part reaches `min.cleanable.dirty.ratio`, when dirty data is older than `max.compaction.lag.ms`, or
//!    when tombstones kept by an earlier pass are due. Where cleaning stopped last time is in the partition's
//!    [`checkpoint`].
//! 2. **Map** ([`offset_map`]): the dirty segments are read once to map every key to its latest offset.
//! 3. **Rewrite** ([`rewrite`]): the cleanable segments, in groups up to `segment.bytes` ([`plan::group_by_size`]),
//!    are rewritten batch by batch into one `.cleaned` segment per group named after the group's first segment.
//!    Superseded records go; tombstones get a delete horizon of `now + delete.retention.ms` the first time they
//!    are cleaned and go in the first pass after it (KIP-534). Kept records keep their offsets; batches keep their
//!    base offset and producer fields; compressed batches are recompressed with their codec ([`codec`]); an
//!    idempotent producer's last batch stays, empty if need be ([`producers`]).
//! 4. **Swap** ([`swap`]): the synced cleaned files are renamed to `.swap` (the commit point), the old segments
//!    retired, the swap renamed in, and the partition's segment map updated under the partition lock, so readers
//!    see either the old segments or the new one. [`recover_interrupted_swap`] completes or undoes a swap a crash
//!    cut short when the partition opens.
//!
//! The partition's cleaner lock is held for the whole pass; retention skips a partition while it is taken.
//!
//! **Invariant: compaction never changes an offset.** It only removes records; what stays keeps its offset, and
//! the log start offset and the high watermark do not move.

pub mod checkpoint;
pub mod codec;
pub mod keys;
pub mod offset_map;
pub mod plan;
pub mod producers;
pub mod records;
pub mod rewrite;
pub mod scan;
pub mod swap;

mod cleaner;
#[cfg(test)]
mod test_batches;
#[cfg(test)]
mod tests;

use std::time::Duration;

pub use checkpoint::CleanerState;
pub use cleaner::clean;
pub use keys::require_keys;
pub use plan::Reason;
pub use records::RecordsError;
pub use scan::SegmentView;
pub use swap::recover as recover_interrupted_swap;

/// The log cleaner's settings (Kafka's `log.cleaner.*` broker configs).
#[derive(Debug, Clone)]
pub struct CleanerConfig {
    /// How long the cleaner sleeps when no partition needed cleaning (`log.cleaner.backoff.ms`).
    pub backoff: Duration,
    /// Most distinct keys one pass maps (Kafka bounds this with `log.cleaner.dedupe.buffer.size`); a dirty part
    /// with more keys is cleaned over several passes, a segment at a time.
    pub max_keys: usize,
    /// Bytes read at a time from a segment (`log.cleaner.io.buffer.size`).
    pub read_buffer_bytes: usize,
}

impl Default for CleanerConfig {
    fn default() -> Self {
        CleanerConfig { backoff: Duration::from_secs(15), max_keys: 2_000_000, read_buffer_bytes: 1 << 20 }
    }
}

/// What one pass over a partition did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PassStats {
    /// Why it ran.
    pub reason: Option<Reason>,
    /// Segments read and rewritten.
    pub segments_in: usize,
    /// Segments they became.
    pub segments_out: usize,
    /// Bytes of the segments read.
    pub bytes_in: u64,
    /// Bytes of the segments written in their place (unchanged segments count as their own size).
    pub bytes_out: u64,
    /// Records removed.
    pub records_removed: usize,
    /// Distinct keys of the dirty part that were mapped.
    pub keys: usize,
    /// Wall time of the pass.
    pub elapsed: Duration,
}
