//! Producer ids for idempotent producers, unique across restarts.
//!
//! Ids are handed out from blocks of [`BLOCK_SIZE`], as Kafka's `ProducerIdManager` does. A block is claimed by
//! persisting its end in `DATA/meta/producer-ids.json` before the first id of the block is handed out, so a
//! restart (even after `kill -9`) continues after every id that may have been seen; ids of a block left unused are
//! skipped, never reused. In a cluster the controller quorum hands out the blocks instead
//! ([`ProducerIds::from_controller`]), each to one broker, so that two brokers never give a producer the same id.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::controller::image::MetadataCommand;
use crate::controller::Controller;
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
    source: BlockSource,
    allocator: Mutex<Allocator>,
    /// Serialises claiming blocks, so that two claims never read the same end.
    claiming: tokio::sync::Mutex<()>,
}

/// Where blocks of ids come from.
#[derive(Debug)]
enum BlockSource {
    /// A single node claims them in its own file.
    File(PathBuf),
    /// A cluster member claims them from the controller quorum, which hands each block to one broker.
    Controller { controller: Arc<Controller>, broker: i32 },
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
        Ok(Self::with_source(BlockSource::File(path), claimed_end))
    }

    /// Ids for broker `broker` of a cluster, in blocks claimed from `controller`.
    pub fn from_controller(controller: Arc<Controller>, broker: i32) -> Self {
        Self::with_source(BlockSource::Controller { controller, broker }, 0)
    }

    fn with_source(source: BlockSource, claimed_end: i64) -> Self {
        let exhausted = ProducerIdBlock { first: claimed_end, end: claimed_end };
        ProducerIds {
            source,
            allocator: Mutex::new(Allocator { current: exhausted, claimed_end }),
            claiming: tokio::sync::Mutex::new(()),
        }
    }

    /// A producer id no one was given before.
    pub async fn next_id(&self) -> io::Result<i64> {
        loop {
            if let Some(id) = self.take() {
                return Ok(id);
            }
            let _one_claim = self.claiming.lock().await;
            if let Some(id) = self.take() {
                return Ok(id);
            }
            let claimed_end = self.lock().claimed_end;
            let block = self.claim_block(claimed_end).await?;
            let mut allocator = self.lock();
            allocator.claimed_end = block.end;
            allocator.current = block;
        }
    }

    /// The next id of the current block, if any is left.
    fn take(&self) -> Option<i64> {
        let mut allocator = self.lock();
        (allocator.current.first < allocator.current.end).then(|| {
            allocator.current.first += 1;
            allocator.current.first - 1
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Allocator> {
        self.allocator.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `producer_id` may have been handed to a producer (so that a KIP-360 epoch bump may keep it).
    pub fn was_issued(&self, producer_id: i64) -> bool {
        match &self.source {
            BlockSource::File(_) => (0..self.lock().current.first).contains(&producer_id),
            // Any broker may have handed it out: every id below the controller's next block was claimed.
            BlockSource::Controller { controller, .. } => {
                (0..controller.image().next_producer_id).contains(&producer_id)
            }
        }
    }

    async fn claim_block(&self, claimed_end: i64) -> io::Result<ProducerIdBlock> {
        match &self.source {
            BlockSource::File(path) => {
                let end = claimed_end
                    .checked_add(BLOCK_SIZE)
                    .ok_or_else(|| io::Error::other("the producer id space is exhausted"))?;
                let json = serde_json::to_vec(&ClaimedIds { claimed_end: end }).map_err(io::Error::other)?;
                write_atomically(path, &json)?;
                Ok(ProducerIdBlock { first: claimed_end, end })
            }
            BlockSource::Controller { controller, broker } => {
                let claim = MetadataCommand::AllocateProducerIds { broker: *broker };
                let index = controller.propose(claim).await.map_err(io::Error::other)?;
                controller.wait_applied(index).await.map_err(io::Error::other)?;
                let first = controller.image().producer_id_blocks.get(broker).copied();
                let first =
                    first.ok_or_else(|| io::Error::other("the controller recorded no block for this broker"))?;
                Ok(ProducerIdBlock { first, end: first + BLOCK_SIZE })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ids_are_unique_across_reopens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ids = ProducerIds::open(dir.path()).expect("open");
        assert!(!ids.was_issued(0));
        let mut first = Vec::new();
        for _ in 0..1_500 {
            first.push(ids.next_id().await.expect("id"));
        }
        assert_eq!(first, (0..1_500).collect::<Vec<_>>());
        assert!(ids.was_issued(1_499) && !ids.was_issued(1_500) && !ids.was_issued(-1));
        drop(ids);

        let reopened = ProducerIds::open(dir.path()).expect("reopen");
        assert!(reopened.was_issued(1_999), "the rest of a claimed block counts as possibly issued");
        assert_eq!(reopened.next_id().await.expect("id"), 2 * BLOCK_SIZE, "a restart skips the rest of the block");
        assert_eq!(reopened.next_id().await.expect("id"), 2 * BLOCK_SIZE + 1);
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_reset() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("producer-ids.json"), b"{not json").expect("write");
        assert!(ProducerIds::open(dir.path()).is_err());
    }
}
