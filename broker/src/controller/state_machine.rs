//! The metadata state machine, as openraft's `RaftStateMachine`: the [`ClusterImage`] every applied command changes,
//! published on a watch channel for the broker, with snapshots kept in `snapshot.json`.
//!
//! The image itself lives in memory. At start-up it is restored from the last snapshot and openraft re-applies the
//! committed entries after it from the log.

use std::io::{self, Cursor};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    BasicNode, EntryPayload, ErrorSubject, ErrorVerb, OptionalSend, RaftSnapshotBuilder, SnapshotMeta, StoredMembership,
};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::controller::image::{ClusterImage, MetadataError};
use crate::controller::raft_types::{storage_error, ControllerRaft, Entry, LogId, StorageError};
use crate::storage::atomic_file::write_atomically;

const SNAPSHOT_FILE: &str = "snapshot.json";

/// What a snapshot holds: the image and the log position and membership it reflects.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Applied {
    last_applied: Option<LogId>,
    membership: StoredMembership<u64, BasicNode>,
    image: ClusterImage,
}

/// A snapshot on disk: its metadata and the serialized [`Applied`].
#[derive(Debug, Serialize, Deserialize)]
struct StoredSnapshot {
    meta: SnapshotMeta<u64, BasicNode>,
    data: Vec<u8>,
}

/// The controller's state machine; clones share it (openraft builds snapshots through a clone).
#[derive(Debug, Clone)]
pub struct StateMachine {
    dir: PathBuf,
    applied: Arc<tokio::sync::Mutex<Applied>>,
    published: watch::Sender<Arc<ClusterImage>>,
}

impl StateMachine {
    /// Restores the state machine from the snapshot under `dir`, if any. The image is published on the returned
    /// receiver after every change.
    pub fn open(dir: &Path) -> io::Result<(Self, watch::Receiver<Arc<ClusterImage>>)> {
        std::fs::create_dir_all(dir)?;
        let applied = match read_snapshot(dir)? {
            Some(stored) => decode_applied(&stored.data)?,
            None => Applied::default(),
        };
        let (published, receiver) = watch::channel(Arc::new(applied.image.clone()));
        let machine =
            StateMachine { dir: dir.to_owned(), applied: Arc::new(tokio::sync::Mutex::new(applied)), published };
        Ok((machine, receiver))
    }
}

fn read_snapshot(dir: &Path) -> io::Result<Option<StoredSnapshot>> {
    match std::fs::read(dir.join(SNAPSHOT_FILE)) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes).map(Some).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn decode_applied(data: &[u8]) -> io::Result<Applied> {
    serde_json::from_slice(data).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

fn snapshot_error(e: io::Error) -> StorageError {
    storage_error(ErrorSubject::Snapshot(None), ErrorVerb::Write, e)
}

impl RaftSnapshotBuilder<ControllerRaft> for StateMachine {
    async fn build_snapshot(&mut self) -> Result<Snapshot<ControllerRaft>, StorageError> {
        let applied = self.applied.lock().await;
        let data = serde_json::to_vec(&*applied).map_err(|e| snapshot_error(io::Error::other(e)))?;
        let snapshot_id = match applied.last_applied {
            Some(log_id) => format!("{}-{}", log_id.leader_id, log_id.index),
            None => "empty".to_owned(),
        };
        let meta = SnapshotMeta {
            last_log_id: applied.last_applied,
            last_membership: applied.membership.clone(),
            snapshot_id,
        };
        let stored = StoredSnapshot { meta: meta.clone(), data };
        let bytes = serde_json::to_vec(&stored).map_err(|e| snapshot_error(io::Error::other(e)))?;
        write_atomically(&self.dir.join(SNAPSHOT_FILE), &bytes).map_err(snapshot_error)?;
        Ok(Snapshot { meta, snapshot: Box::new(Cursor::new(stored.data)) })
    }
}

impl RaftStateMachine<ControllerRaft> for StateMachine {
    type SnapshotBuilder = StateMachine;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership<u64, BasicNode>), StorageError> {
        let applied = self.applied.lock().await;
        Ok((applied.last_applied, applied.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Result<(), MetadataError>>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut applied = self.applied.lock().await;
        let mut outcomes = Vec::new();
        let mut changed = false;
        for entry in entries {
            applied.last_applied = Some(entry.log_id);
            match entry.payload {
                EntryPayload::Blank => outcomes.push(Ok(())),
                EntryPayload::Normal(command) => {
                    let outcome = applied.image.apply(&command);
                    changed |= outcome.is_ok();
                    outcomes.push(outcome);
                }
                EntryPayload::Membership(membership) => {
                    applied.membership = StoredMembership::new(Some(entry.log_id), membership);
                    outcomes.push(Ok(()));
                }
            }
        }
        if changed {
            self.published.send_replace(Arc::new(applied.image.clone()));
        }
        Ok(outcomes)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<u64, BasicNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let data = snapshot.into_inner();
        let installed = decode_applied(&data).map_err(snapshot_error)?;
        let stored = StoredSnapshot { meta: meta.clone(), data };
        let bytes = serde_json::to_vec(&stored).map_err(|e| snapshot_error(io::Error::other(e)))?;
        write_atomically(&self.dir.join(SNAPSHOT_FILE), &bytes).map_err(snapshot_error)?;
        let mut applied = self.applied.lock().await;
        *applied = installed;
        self.published.send_replace(Arc::new(applied.image.clone()));
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<ControllerRaft>>, StorageError> {
        let stored = read_snapshot(&self.dir).map_err(snapshot_error)?;
        Ok(stored.map(|stored| Snapshot { meta: stored.meta, snapshot: Box::new(Cursor::new(stored.data)) }))
    }
}
