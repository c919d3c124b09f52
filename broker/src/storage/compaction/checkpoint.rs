//! `cleaner-checkpoint.json` in a partition directory: where the dirty part of the log starts (Kafka's cleaner
//! offset checkpoint) and the earliest delete horizon of the tombstones left in the clean part, so that a restarted
//! broker neither cleans a clean log again nor forgets tombstones that are due to go.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::storage::atomic_file::write_atomically;

const FILE_NAME: &str = "cleaner-checkpoint.json";

/// Where cleaning left a partition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CleanerCheckpoint {
    /// Offsets from here on were never cleaned.
    pub first_dirty_offset: i64,
    /// The earliest delete horizon (ms since the epoch) of the tombstones the cleaned part still holds.
    pub tombstone_horizon_ms: Option<i64>,
}

/// The cleaner's state of one partition: its checkpoint, read from disk on first use. The partition holds it
/// behind the lock that keeps compaction and retention apart.
#[derive(Debug, Default)]
pub struct CleanerState {
    checkpoint: Option<CleanerCheckpoint>,
}

impl CleanerState {
    /// The checkpoint of the partition in `dir`; a missing or unreadable file means nothing was cleaned yet.
    pub fn checkpoint(&mut self, dir: &Path) -> CleanerCheckpoint {
        *self.checkpoint.get_or_insert_with(|| load(dir))
    }

    /// Lowers the first dirty offset to `end_offset` when the log was truncated below it (Kafka's
    /// `maybeTruncateCheckpoint`), so that batches written again there are cleaned.
    pub fn truncate_to(&mut self, dir: &Path, end_offset: i64) -> io::Result<()> {
        let checkpoint = self.checkpoint(dir);
        if checkpoint.first_dirty_offset > end_offset {
            self.record(dir, CleanerCheckpoint { first_dirty_offset: end_offset, ..checkpoint })?;
        }
        Ok(())
    }

    /// Persists a new checkpoint.
    pub fn record(&mut self, dir: &Path, checkpoint: CleanerCheckpoint) -> io::Result<()> {
        let json = serde_json::to_vec(&checkpoint).map_err(io::Error::other)?;
        write_atomically(&dir.join(FILE_NAME), &json)?;
        self.checkpoint = Some(checkpoint);
        Ok(())
    }
}

fn load(dir: &Path) -> CleanerCheckpoint {
    let path = dir.join(FILE_NAME);
    let parsed = std::fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| serde_json::from_slice::<CleanerCheckpoint>(&bytes).map_err(|e| e.to_string()));
    match parsed {
        Ok(checkpoint) => checkpoint,
        Err(reason) => {
            if path.exists() {
                // Cleaning everything again is always safe; it only costs time.
                tracing::warn!(path = %path.display(), reason, "ignoring an unreadable cleaner checkpoint");
            }
            CleanerCheckpoint::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compaction_checkpoint_round_trips_and_tolerates_garbage() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(CleanerState::default().checkpoint(dir.path()), CleanerCheckpoint::default());
        let saved = CleanerCheckpoint { first_dirty_offset: 42, tombstone_horizon_ms: Some(7) };
        CleanerState::default().record(dir.path(), saved).expect("save");
        assert_eq!(CleanerState::default().checkpoint(dir.path()), saved);
        std::fs::write(dir.path().join(FILE_NAME), b"{not json").expect("corrupt");
        assert_eq!(CleanerState::default().checkpoint(dir.path()), CleanerCheckpoint::default());
    }
}
