//! Sparse segment indexes: the offset index (`.index`) maps a batch's offset to its byte position in the segment,
//! the time index (`.timeindex`) bounds the timestamps seen before an offset. Both are append-only files of
//! fixed-size big-endian entries, mirrored in memory, and both can be rebuilt from the log, so they are never
//! fsynced on the produce path: recovery rebuilds the active segment's indexes, and rolled segments are synced once.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// One fixed-size entry of an index file.
pub trait IndexEntry: Copy {
    /// Encoded size in bytes.
    const SIZE: usize;
    /// Encodes the entry.
    fn encode(&self, out: &mut Vec<u8>);
    /// Decodes an entry from exactly `SIZE` bytes.
    fn decode(bytes: &[u8]) -> Self;
}

/// Offset index entry: a batch starting at `base + relative_offset` begins at byte `position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetEntry {
    /// Batch base offset relative to the segment's base offset.
    pub relative_offset: u32,
    /// Byte position of the batch in the segment file.
    pub position: u32,
}

/// Time index entry: every record before `base + relative_offset` in this segment has a timestamp of at most
/// `max_timestamp_before`. A rolled segment ends with an entry for its next offset, so the last entry carries the
/// segment's largest timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeEntry {
    /// Largest timestamp of the records before the offset.
    pub max_timestamp_before: i64,
    /// Offset relative to the segment's base offset.
    pub relative_offset: u32,
}

impl IndexEntry for OffsetEntry {
    const SIZE: usize = 8;
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.relative_offset.to_be_bytes());
        out.extend_from_slice(&self.position.to_be_bytes());
    }
    fn decode(b: &[u8]) -> Self {
        OffsetEntry {
            relative_offset: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            position: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        }
    }
}

impl IndexEntry for TimeEntry {
    const SIZE: usize = 12;
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.max_timestamp_before.to_be_bytes());
        out.extend_from_slice(&self.relative_offset.to_be_bytes());
    }
    fn decode(b: &[u8]) -> Self {
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&b[0..8]);
        TimeEntry {
            max_timestamp_before: i64::from_be_bytes(ts),
            relative_offset: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
        }
    }
}

/// An index file and its entries in memory.
#[derive(Debug)]
pub struct IndexFile<E: IndexEntry> {
    path: PathBuf,
    file: File,
    entries: Vec<E>,
}

impl<E: IndexEntry> IndexFile<E> {
    /// Creates an empty index, replacing any file at `path`.
    pub fn create(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).write(true).truncate(true).open(path)?;
        Ok(IndexFile { path: path.to_owned(), file, entries: Vec::new() })
    }

    /// Loads an index; whole entries only (a torn trailing entry is dropped from the file).
    pub fn load(path: &Path) -> io::Result<Self> {
        let bytes = std::fs::read(path)?;
        let whole = bytes.len() / E::SIZE * E::SIZE;
        let entries = bytes[..whole].chunks_exact(E::SIZE).map(E::decode).collect();
        let file = OpenOptions::new().write(true).open(path)?;
        file.set_len(whole as u64)?;
        let mut index = IndexFile { path: path.to_owned(), file, entries };
        index.seek_end()?;
        Ok(index)
    }

    fn seek_end(&mut self) -> io::Result<()> {
        use std::io::Seek;
        self.file.seek(io::SeekFrom::End(0)).map(|_| ())
    }

    /// Appends an entry to the file and to memory.
    pub fn append(&mut self, entry: E) -> io::Result<()> {
        let mut buf = Vec::with_capacity(E::SIZE);
        entry.encode(&mut buf);
        self.file.write_all(&buf)?;
        self.entries.push(entry);
        Ok(())
    }

    /// The entries in file order.
    pub fn entries(&self) -> &[E] {
        &self.entries
    }

    /// The index of the last entry for which `is_before` holds, if any (entries must be sorted by it).
    pub fn last_matching(&self, is_before: impl Fn(&E) -> bool) -> Option<E> {
        let n = self.entries.partition_point(is_before);
        n.checked_sub(1).map(|i| self.entries[i])
    }

    /// Keeps the first `len` entries, in the file and in memory; appends continue after them.
    pub fn truncate(&mut self, len: usize) -> io::Result<()> {
        if len >= self.entries.len() {
            return Ok(());
        }
        self.file.set_len((len * E::SIZE) as u64)?;
        self.entries.truncate(len);
        self.seek_end()
    }

    /// Flushes the file to disk.
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// Deletes the file.
    pub fn delete(self) -> io::Result<()> {
        std::fs::remove_file(&self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_drops_a_torn_entry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("0.index");
        let mut index = IndexFile::<OffsetEntry>::create(&path).expect("create");
        for i in 0..4u32 {
            index.append(OffsetEntry { relative_offset: i * 10, position: i * 4096 }).expect("append");
        }
        drop(index);
        let mut raw = std::fs::read(&path).expect("read");
        raw.extend_from_slice(&[1, 2, 3]);
        std::fs::write(&path, raw).expect("write torn");
        let index = IndexFile::<OffsetEntry>::load(&path).expect("load");
        assert_eq!(index.entries().len(), 4);
        let found = index.last_matching(|e| e.relative_offset <= 25).expect("entry");
        assert_eq!(found.position, 2 * 4096);
        assert!(index.last_matching(|_| false).is_none());
        assert_eq!(std::fs::metadata(&path).expect("meta").len(), 32);
    }

    #[test]
    fn truncates_and_appends_after_the_kept_entries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("0.index");
        let mut index = IndexFile::<OffsetEntry>::create(&path).expect("create");
        for i in 0..4u32 {
            index.append(OffsetEntry { relative_offset: i, position: i * 100 }).expect("append");
        }
        index.truncate(2).expect("truncate");
        index.append(OffsetEntry { relative_offset: 9, position: 900 }).expect("append");
        drop(index);
        let loaded = IndexFile::<OffsetEntry>::load(&path).expect("load");
        let offsets: Vec<u32> = loaded.entries().iter().map(|e| e.relative_offset).collect();
        assert_eq!(offsets, vec![0, 1, 9]);
    }
}
