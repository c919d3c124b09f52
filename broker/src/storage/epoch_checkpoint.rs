//! The leader-epoch checkpoint (`leader-epoch-checkpoint`, Kafka's text format): for each leader epoch the first
//! offset written in it. Replication uses it to truncate a returning follower (KIP-101, KIP-279); a single node
//! keeps epoch 0 and stamps it into every batch it appends.
//!
//! A partition opens with at least one entry (epoch 0 at the log end when the file had none); a cache emptied by a
//! truncation below its first epoch acts as epoch 0, the epoch appends stamp then, until a newer one is assigned.

use std::io;
use std::path::{Path, PathBuf};

use super::atomic_file::write_atomically;

const FILE_NAME: &str = "leader-epoch-checkpoint";
const FORMAT_VERSION: u32 = 0;

/// Leader epochs and their start offsets, persisted on every change.
#[derive(Debug)]
pub struct LeaderEpochCache {
    path: PathBuf,
    entries: Vec<(i32, i64)>,
}

impl LeaderEpochCache {
    /// Loads the checkpoint in `dir`, or starts empty when there is none.
    pub fn open(dir: &Path) -> io::Result<Self> {
        let path = dir.join(FILE_NAME);
        let entries = match std::fs::read_to_string(&path) {
            Ok(text) => parse(&text)
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("malformed {}", path.display())))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(LeaderEpochCache { path, entries })
    }

    /// The latest epoch, or 0 before any epoch was assigned.
    pub fn latest_epoch(&self) -> i32 {
        self.entries.last().map_or(0, |&(epoch, _)| epoch)
    }

    /// Records that `epoch` starts at `start_offset`; older or equal epochs are ignored. As Kafka's
    /// `LeaderEpochFileCache.assign`, entries starting at or after `start_offset` go (an epoch in which nothing
    /// was written), so that start offsets grow strictly.
    pub fn assign(&mut self, epoch: i32, start_offset: i64) -> io::Result<()> {
        if self.entries.last().is_some_and(|&(latest, _)| latest >= epoch) {
            return Ok(());
        }
        self.entries.retain(|&(_, start)| start < start_offset);
        self.entries.push((epoch, start_offset));
        self.persist()
    }

    /// The epochs and their start offsets, oldest first.
    pub fn entries(&self) -> &[(i32, i64)] {
        &self.entries
    }

    /// Kafka's `LeaderEpochFileCache.endOffsetFor` (KIP-101, KIP-279): the largest epoch at or below `requested`
    /// and the offset where it ends (the start of the next epoch, or `log_end_offset` for the latest).
    ///
    /// - the latest epoch ends at the log end (also an empty cache's implicit epoch 0);
    /// - an epoch older than every entry answers itself and the first entry's start offset (what came before was
    ///   deleted; the follower replicates from there on);
    /// - a negative (undefined) epoch, or one newer than the latest, is `None` (UNDEFINED_EPOCH and
    ///   UNDEFINED_EPOCH_OFFSET on the wire).
    pub fn end_offset_for(&self, requested: i32, log_end_offset: i64) -> Option<(i32, i64)> {
        if requested < 0 {
            return None;
        }
        if requested == self.latest_epoch() {
            return Some((requested, log_end_offset));
        }
        let &(_, next_start) = self.entries.iter().find(|&&(epoch, _)| epoch > requested)?;
        let floor = self.entries.iter().rev().find(|&&(epoch, _)| epoch <= requested).map_or(requested, |&(e, _)| e);
        Some((floor, next_start))
    }

    /// Forgets epochs that start at or after `end_offset` (the log was truncated there).
    pub fn truncate_from(&mut self, end_offset: i64) -> io::Result<()> {
        let before = self.entries.len();
        self.entries.retain(|&(_, start)| start < end_offset);
        if self.entries.len() != before {
            self.persist()?;
        }
        Ok(())
    }

    fn persist(&self) -> io::Result<()> {
        let mut text = format!("{FORMAT_VERSION}\n{}\n", self.entries.len());
        for (epoch, start) in &self.entries {
            text.push_str(&format!("{epoch} {start}\n"));
        }
        write_atomically(&self.path, text.as_bytes())
    }
}

fn parse(text: &str) -> Option<Vec<(i32, i64)>> {
    let mut lines = text.lines();
    if lines.next()?.trim().parse::<u32>().ok()? != FORMAT_VERSION {
        return None;
    }
    let count: usize = lines.next()?.trim().parse().ok()?;
    let entries = lines
        .take(count)
        .map(|line| {
            let (epoch, start) = line.trim().split_once(' ')?;
            Some((epoch.parse().ok()?, start.parse().ok()?))
        })
        .collect::<Option<Vec<_>>>()?;
    (entries.len() == count).then_some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persists_in_kafkas_format() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cache = LeaderEpochCache::open(dir.path()).expect("open");
        cache.assign(0, 0).expect("assign");
        cache.assign(3, 120).expect("assign");
        cache.assign(2, 200).expect("stale epoch ignored");
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).expect("read");
        assert_eq!(text, "0\n2\n0 0\n3 120\n");
        cache.truncate_from(120).expect("truncate");
        let reopened = LeaderEpochCache::open(dir.path()).expect("reopen");
        assert_eq!(reopened.latest_epoch(), 0);
    }

    #[test]
    fn a_newer_epoch_replaces_epochs_that_wrote_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cache = LeaderEpochCache::open(dir.path()).expect("open");
        cache.assign(0, 0).expect("assign");
        cache.assign(1, 0).expect("epoch 0 wrote nothing");
        cache.assign(2, 10).expect("assign");
        cache.assign(4, 10).expect("epoch 2 wrote nothing");
        assert_eq!(cache.entries(), &[(1, 0), (4, 10)]);
        assert_eq!(LeaderEpochCache::open(dir.path()).expect("reopen").entries(), &[(1, 0), (4, 10)]);
    }

    #[test]
    fn end_offsets_follow_kafkas_rules() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cache = LeaderEpochCache::open(dir.path()).expect("open");
        assert_eq!(cache.end_offset_for(0, 7), Some((0, 7)), "an empty cache is epoch 0");
        assert_eq!(cache.end_offset_for(1, 7), None);
        cache.assign(2, 5).expect("assign");
        cache.assign(4, 20).expect("assign");
        cache.assign(7, 30).expect("assign");
        assert_eq!(cache.end_offset_for(-1, 40), None, "undefined epoch");
        assert_eq!(cache.end_offset_for(7, 40), Some((7, 40)), "the latest epoch ends at the log end");
        assert_eq!(cache.end_offset_for(8, 40), None, "newer than the latest");
        assert_eq!(cache.end_offset_for(4, 40), Some((4, 30)));
        assert_eq!(cache.end_offset_for(5, 40), Some((4, 30)), "KIP-279: the largest epoch at or below");
        assert_eq!(cache.end_offset_for(3, 40), Some((2, 20)));
        assert_eq!(cache.end_offset_for(1, 40), Some((1, 5)), "older than every epoch: the first start offset");
    }
}
