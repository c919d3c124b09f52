//! The leader-epoch checkpoint (`leader-epoch-checkpoint`, Kafka's text format): for each leader epoch the first
//! offset written in it. Replication uses it to truncate a returning follower (KIP-101, KIP-279); a single node
//! keeps epoch 0 and stamps it into every batch it appends.

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

    /// Records that `epoch` starts at `start_offset`; older or equal epochs are ignored.
    pub fn assign(&mut self, epoch: i32, start_offset: i64) -> io::Result<()> {
        if self.entries.last().is_some_and(|&(latest, _)| latest >= epoch) {
            return Ok(());
        }
        self.entries.push((epoch, start_offset));
        self.persist()
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
}
