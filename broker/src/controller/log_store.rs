//! The metadata log on disk, as openraft's `RaftLogStorage`.
//!
//! Files under the controller's directory:
//! - `raft.log`: the entries, each framed as `[length u32][crc32c u32][entry as JSON]`, appended and fsynced before
//!   openraft is told they are durable. A torn or corrupt tail (a crash mid-append) is cut off at start-up; those
//!   entries were never acknowledged as flushed.
//! - `vote.json`: the last vote, replaced atomically.
//! - `purged.json`: the last purged log id (entries up to it are in a snapshot).
//!
//! Truncation and purging rewrite `raft.log` atomically. The metadata log is small (a few records per topic or
//! broker change) and both are rare, so a rewrite is cheaper to get right than a segmented log.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::ops::RangeBounds;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{ErrorSubject, ErrorVerb, OptionalSend, RaftLogReader, Vote};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::controller::raft_types::{storage_error, ControllerRaft, Entry, LogId, StorageError};
use crate::storage::atomic_file::write_atomically;

const LOG_FILE: &str = "raft.log";
const VOTE_FILE: &str = "vote.json";
const PURGED_FILE: &str = "purged.json";
/// Bytes before each entry: its length and its CRC-32C.
const FRAME_HEADER: usize = 8;

/// The controller's metadata log; clones share it (openraft reads through a clone while it appends).
#[derive(Debug, Clone)]
pub struct LogStore {
    inner: Arc<Mutex<LogFiles>>,
}

#[derive(Debug)]
struct LogFiles {
    dir: PathBuf,
    file: File,
    entries: BTreeMap<u64, Entry>,
    vote: Option<Vote<u64>>,
    last_purged: Option<LogId>,
}

impl LogStore {
    /// Opens (or creates) the log under `dir`, cutting off a torn tail.
    pub fn open(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(LOG_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let (entries, valid) = decode_entries(&bytes);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        if valid < bytes.len() {
            tracing::warn!(path = %path.display(), kept = valid, found = bytes.len(), "cutting off a torn metadata log tail");
            file.set_len(valid as u64)?;
            file.sync_all()?;
        }
        let files = LogFiles {
            dir: dir.to_owned(),
            file,
            entries,
            vote: read_json(&dir.join(VOTE_FILE))?,
            last_purged: read_json(&dir.join(PURGED_FILE))?,
        };
        Ok(LogStore { inner: Arc::new(Mutex::new(files)) })
    }

    fn files(&self) -> MutexGuard<'_, LogFiles> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl LogFiles {
    /// Replaces `raft.log` with the entries held in memory.
    fn rewrite(&mut self) -> io::Result<()> {
        let mut bytes = Vec::new();
        for entry in self.entries.values() {
            encode_entry(entry, &mut bytes)?;
        }
        let path = self.dir.join(LOG_FILE);
        write_atomically(&path, &bytes)?;
        self.file = OpenOptions::new().append(true).open(&path)?;
        Ok(())
    }
}

fn encode_entry(entry: &Entry, out: &mut Vec<u8>) -> io::Result<()> {
    let json = serde_json::to_vec(entry).map_err(io::Error::other)?;
    let length = u32::try_from(json.len()).map_err(io::Error::other)?;
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&crc32c::crc32c(&json).to_be_bytes());
    out.extend_from_slice(&json);
    Ok(())
}

/// The entries of a log file and the length of its valid prefix.
fn decode_entries(bytes: &[u8]) -> (BTreeMap<u64, Entry>, usize) {
    let mut entries = BTreeMap::new();
    let mut at = 0;
    while let Some(header) = bytes.get(at..at + FRAME_HEADER) {
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let crc = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
        let Some(json) = bytes.get(at + FRAME_HEADER..at + FRAME_HEADER + length) else { break };
        if crc32c::crc32c(json) != crc {
            break;
        }
        let Ok(entry) = serde_json::from_slice::<Entry>(json) else { break };
        entries.insert(entry.log_id.index, entry);
        at += FRAME_HEADER + length;
    }
    (entries, at)
}

fn read_json<T: DeserializeOwned>(path: &Path) -> io::Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes).map(Some).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    write_atomically(path, &serde_json::to_vec(value).map_err(io::Error::other)?)
}

impl RaftLogReader<ControllerRaft> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        Ok(self.files().entries.range(range).map(|(_, entry)| entry.clone()).collect())
    }
}

impl RaftLogStorage<ControllerRaft> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<ControllerRaft>, StorageError> {
        let files = self.files();
        let last_purged_log_id = files.last_purged;
        let last_log_id = files.entries.values().next_back().map(|entry| entry.log_id).or(last_purged_log_id);
        Ok(LogState { last_purged_log_id, last_log_id })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<u64>) -> Result<(), StorageError> {
        let mut files = self.files();
        write_json(&files.dir.join(VOTE_FILE), vote)
            .map_err(|e| storage_error(ErrorSubject::Vote, ErrorVerb::Write, e))?;
        files.vote = Some(*vote);
        Ok(())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<u64>>, StorageError> {
        Ok(self.files().vote)
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<ControllerRaft>) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut files = self.files();
        let mut bytes = Vec::new();
        let mut appended = Vec::new();
        for entry in entries {
            encode_entry(&entry, &mut bytes).map_err(|e| storage_error(ErrorSubject::Logs, ErrorVerb::Write, e))?;
            appended.push(entry);
        }
        let written = files.file.write_all(&bytes).and_then(|()| files.file.sync_data());
        let failed = written.as_ref().err().map(|e| io::Error::new(e.kind(), e.to_string()));
        for entry in appended {
            files.entries.insert(entry.log_id.index, entry);
        }
        callback.log_io_completed(written);
        match failed {
            Some(e) => Err(storage_error(ErrorSubject::Logs, ErrorVerb::Write, e)),
            None => Ok(()),
        }
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let mut files = self.files();
        files.entries.split_off(&log_id.index);
        files.rewrite().map_err(|e| storage_error(ErrorSubject::Logs, ErrorVerb::Delete, e))
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let mut files = self.files();
        let kept = files.entries.split_off(&(log_id.index + 1));
        files.entries = kept;
        write_json(&files.dir.join(PURGED_FILE), &log_id)
            .and_then(|()| files.rewrite())
            .map_err(|e| storage_error(ErrorSubject::Logs, ErrorVerb::Delete, e))?;
        files.last_purged = Some(log_id);
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use openraft::{CommittedLeaderId, EntryPayload};

    fn entry(term: u64, index: u64) -> Entry {
        Entry { log_id: LogId::new(CommittedLeaderId::new(term, 1), index), payload: EntryPayload::Blank }
    }

    fn write_entries(store: &LogStore, entries: &[Entry]) {
        let mut files = store.files();
        let mut bytes = Vec::new();
        for e in entries {
            encode_entry(e, &mut bytes).unwrap();
            files.entries.insert(e.log_id.index, e.clone());
        }
        files.file.write_all(&bytes).unwrap();
    }

    #[test]
    fn entries_survive_a_reopen_and_a_torn_tail_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path()).unwrap();
        write_entries(&store, &[entry(1, 1), entry(1, 2), entry(2, 3)]);
        drop(store);
        // A crash in the middle of the next append leaves half a frame.
        let mut file = OpenOptions::new().append(true).open(dir.path().join(LOG_FILE)).unwrap();
        file.write_all(&[0, 0, 0, 40, 1, 2]).unwrap();
        let store = LogStore::open(dir.path()).unwrap();
        let indexes: Vec<u64> = store.files().entries.keys().copied().collect();
        assert_eq!(indexes, [1, 2, 3]);
        // The tail is gone from the file too: a later append lands right after entry 3.
        write_entries(&store, &[entry(2, 4)]);
        drop(store);
        let store = LogStore::open(dir.path()).unwrap();
        assert_eq!(store.files().entries.keys().copied().collect::<Vec<_>>(), [1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn truncate_and_purge_rewrite_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = LogStore::open(dir.path()).unwrap();
        write_entries(&store, &[entry(1, 1), entry(1, 2), entry(1, 3), entry(1, 4)]);
        store.truncate(entry(1, 4).log_id).await.unwrap();
        store.purge(entry(1, 1).log_id).await.unwrap();
        store.save_vote(&Vote::new(3, 2)).await.unwrap();
        drop(store);
        let mut store = LogStore::open(dir.path()).unwrap();
        assert_eq!(store.files().entries.keys().copied().collect::<Vec<_>>(), [2, 3]);
        let state = store.get_log_state().await.unwrap();
        assert_eq!(state.last_purged_log_id, Some(entry(1, 1).log_id));
        assert_eq!(state.last_log_id, Some(entry(1, 3).log_id));
        assert_eq!(store.read_vote().await.unwrap(), Some(Vote::new(3, 2)));
    }
}
