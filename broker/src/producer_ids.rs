//! Producer ids for idempotent producers, unique across restarts.
//!
//! Ids are handed out from blocks of [`BLOCK_SIZE`], as Kafka's `ProducerIdManager` does. A block is claimed by
//! persisting its end in `DATA/meta/producer-ids.json` before the first id of the block is handed out, so a
//! restart (even after `kill -9`) continues after every id that may have been seen; ids of a block left unused are
//! skipped, never reused. [`ProducerIds::claim_block`] is the one place that decides where blocks come from:
//! with a controller quorum (issue 9) it will ask the controller for the next block instead of writing the file.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::storage::atomic_file::write_atomically;

/// Ids claimed at a time (Kafka's `PRODUCER_ID_BLOCK_SIZE`).
pub const BLOCK_SIZE: i64 = 1000;

/// A range of producer ids claimed for this broker: `first..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerIdBlock {
    /// The first id of the block.
    pub first: i64,
    /// One past the last id of the block.
    pub end: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct ClaimedIds {
    /// Every id below this one belongs to a block claimed earlier.
    claimed_end: i64,
}

#[derive(Debug)]
struct Allocator {
    /// Ids still to hand out from the current block.
    current: ProducerIdBlock,
    /// End of the last claimed block: ids below it may have been handed out.
    claimed_end: i64,
}

/// Hands out producer ids; shared by every connection.
#[derive(Debug)]
pub struct ProducerIds {
    path: PathBuf,
    allocator: Mutex<Allocator>,
}

impl ProducerIds {
    /// Reads which ids were claimed before, from `meta_dir/producer-ids.json`; a missing file means none.
    pub fn open(meta_dir: &Path) -> io::Result<Self> {
        let path = meta_dir.join("producer-ids.json");
        let claimed_end = match std::fs::read(&path) {
            Ok(bytes) => {
                let claimed: ClaimedIds = serde_json::from_slice(&bytes)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display())))?;
                claimed.claimed_end
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
            Err(e) => return Err(e),
        };
        let exhausted = ProducerIdBlock { first: claimed_end, end: claimed_end };
        Ok(ProducerIds { path, allocator: Mutex::new(Allocator { current: exhausted, claimed_end }) })
    }

    /// A producer id no one was given before.
    pub fn next_id(&self) -> io::Result<i64> {
        let mut allocator = self.allocator.lock().unwrap_or_else(|p| p.into_inner());
        if allocator.current.first == allocator.current.end {
            let block = self.claim_block(allocator.claimed_end)?;
            allocator.claimed_end = block.end;
            allocator.current = block;
        }
        let id = allocator.current.first;
        allocator.current.first += 1;
        Ok(id)
    }

    /// Whether `producer_id` may have been handed out by this cluster.
    pub fn was_issued(&self, producer_id: i64) -> bool {
        let allocator = self.allocator.lock().unwrap_or_else(|p| p.into_inner());
        (0..allocator.current.first).contains(&producer_id)
    }

    /// Claims the block after `claimed_end` and persists the claim before any of its ids is used.
    fn claim_block(&self, claimed_end: i64) -> io::Result<ProducerIdBlock> {
        let end = claimed_end
            .checked_add(BLOCK_SIZE)
            .ok_or_else(|| io::Error::other("the producer id space is exhausted"))?;
        let json = serde_json::to_vec(&ClaimedIds { claimed_end: end }).map_err(io::Error::other)?;
        write_atomically(&self.path, &json)?;
        Ok(ProducerIdBlock { first: claimed_end, end })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_across_reopens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ids = ProducerIds::open(dir.path()).expect("open");
        assert!(!ids.was_issued(0));
        let first: Vec<i64> = (0..1_500).map(|_| ids.next_id().expect("id")).collect();
        assert_eq!(first, (0..1_500).collect::<Vec<_>>());
        assert!(ids.was_issued(1_499) && !ids.was_issued(1_500) && !ids.was_issued(-1));
        drop(ids);

        let reopened = ProducerIds::open(dir.path()).expect("reopen");
        assert!(reopened.was_issued(1_999), "the rest of a claimed block counts as possibly issued");
        assert_eq!(reopened.next_id().expect("id"), 2 * BLOCK_SIZE, "a restart skips the rest of the block");
        assert_eq!(reopened.next_id().expect("id"), 2 * BLOCK_SIZE + 1);
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_reset() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("producer-ids.json"), b"{not json").expect("write");
        assert!(ProducerIds::open(dir.path()).is_err());
    }
}
