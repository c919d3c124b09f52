//! One segment of a partition log: `<base>.log` holding RecordBatch v2 bytes back to back, with its sparse
//! `<base>.index` and `<base>.timeindex`.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use super::batch::{self, BatchHeader, HEADER_LEN};
use super::index::{IndexFile, OffsetEntry, TimeEntry};

/// Bytes of log between two index entries (Kafka's `index.interval.bytes`).
const INDEX_INTERVAL_BYTES: u64 = 4096;

/// File name of a segment file: the base offset in 20 digits and an extension.
pub fn file_name(base_offset: i64, extension: &str) -> String {
    format!("{base_offset:020}.{extension}")
}

/// A segment: an append-only log file and its indexes.
#[derive(Debug)]
pub struct Segment {
    base_offset: i64,
    dir: PathBuf,
    log: Arc<File>,
    size: u64,
    next_offset: i64,
    max_timestamp: i64,
    offset_index: IndexFile<OffsetEntry>,
    time_index: IndexFile<TimeEntry>,
    bytes_since_index: u64,
    created_ms: i64,
}

/// What an open or recovery scan found in a segment.
#[derive(Debug, PartialEq, Eq)]
pub struct Recovery {
    /// Bytes cut from the end because they did not form valid batches.
    pub truncated_bytes: u64,
}

impl Segment {
    /// Creates an empty segment starting at `base_offset`.
    pub fn create(dir: &Path, base_offset: i64, now_ms: i64) -> io::Result<Self> {
        Self::create_with_suffix(dir, base_offset, None, now_ms)
    }

    /// Creates an empty segment whose files carry `suffix` after their extension (`<base>.log.<suffix>`): the
    /// cleaner writes a segment under such names, renames the files in, and opens them again under their names.
    pub fn create_with_suffix(dir: &Path, base_offset: i64, suffix: Option<&str>, now_ms: i64) -> io::Result<Self> {
        let path = |extension: &str| match suffix {
            Some(suffix) => dir.join(format!("{}.{suffix}", file_name(base_offset, extension))),
            None => dir.join(file_name(base_offset, extension)),
        };
        let log = OpenOptions::new().create_new(true).read(true).write(true).open(path("log"))?;
        Ok(Segment {
            base_offset,
            dir: dir.to_owned(),
            log: Arc::new(log),
            size: 0,
            next_offset: base_offset,
            max_timestamp: -1,
            offset_index: IndexFile::create(&path("index"))?,
            time_index: IndexFile::create(&path("timeindex"))?,
            bytes_since_index: 0,
            created_ms: now_ms,
        })
    }

    /// Opens a rolled segment whose indexes were synced when it rolled. Falls back to a full recovery scan when
    /// the indexes do not describe the file (missing, or pointing past its end).
    pub fn open_rolled(dir: &Path, base_offset: i64, now_ms: i64) -> io::Result<(Self, Recovery)> {
        let loaded = (|| -> io::Result<Option<Self>> {
            let log = OpenOptions::new().read(true).write(true).open(dir.join(file_name(base_offset, "log")))?;
            let size = log.metadata()?.len();
            let offset_index = IndexFile::<OffsetEntry>::load(&dir.join(file_name(base_offset, "index")))?;
            let time_index = IndexFile::<TimeEntry>::load(&dir.join(file_name(base_offset, "timeindex")))?;
            let Some(end) = time_index.entries().last().copied() else {
                return Ok(None);
            };
            let positions_fit = offset_index.entries().iter().all(|e| u64::from(e.position) < size);
            if !positions_fit || size == 0 {
                return Ok(None);
            }
            Ok(Some(Segment {
                base_offset,
                dir: dir.to_owned(),
                log: Arc::new(log),
                size,
                next_offset: base_offset + i64::from(end.relative_offset),
                max_timestamp: end.max_timestamp_before,
                offset_index,
                time_index,
                bytes_since_index: 0,
                created_ms: now_ms,
            }))
        })();
        match loaded {
            Ok(Some(segment)) => Ok((segment, Recovery { truncated_bytes: 0 })),
            _ => {
                // The segment stays rolled: seal the rebuilt indexes so that the next start-up trusts them.
                let (mut segment, recovery) = Self::recover(dir, base_offset, now_ms)?;
                segment.seal()?;
                Ok((segment, recovery))
            }
        }
    }

    /// Opens a segment by scanning it: every batch is validated by CRC, the first invalid or torn batch and
    /// everything after it is truncated, and both indexes are rebuilt.
    pub fn recover(dir: &Path, base_offset: i64, now_ms: i64) -> io::Result<(Self, Recovery)> {
        Self::recover_visiting(dir, base_offset, now_ms, |_| {})
    }

    /// Like [`Segment::recover`], calling `visit` with the header of every batch kept, in order (the partition
    /// rebuilds its producer state from them without a second scan).
    pub fn recover_visiting(
        dir: &Path,
        base_offset: i64,
        now_ms: i64,
        mut visit: impl FnMut(&BatchHeader),
    ) -> io::Result<(Self, Recovery)> {
        let log = OpenOptions::new().read(true).write(true).open(dir.join(file_name(base_offset, "log")))?;
        let file_len = log.metadata()?.len();
        let mut segment = Segment {
            base_offset,
            dir: dir.to_owned(),
            log: Arc::new(log),
            size: 0,
            next_offset: base_offset,
            max_timestamp: -1,
            offset_index: IndexFile::create(&dir.join(file_name(base_offset, "index")))?,
            time_index: IndexFile::create(&dir.join(file_name(base_offset, "timeindex")))?,
            bytes_since_index: 0,
            created_ms: now_ms,
        };
        let mut position = 0u64;
        while let Some(header) = segment.valid_batch_at(position, file_len)? {
            if header.base_offset < segment.next_offset {
                break;
            }
            segment.index_batch(position, &header)?;
            visit(&header);
            position += header.total_len() as u64;
            segment.size = position;
        }
        let truncated_bytes = file_len - segment.size;
        if truncated_bytes > 0 {
            segment.log.set_len(segment.size)?;
            segment.log.sync_data()?;
        }
        Ok((segment, Recovery { truncated_bytes }))
    }

    fn valid_batch_at(&self, position: u64, file_len: u64) -> io::Result<Option<BatchHeader>> {
        if position + HEADER_LEN as u64 > file_len {
            return Ok(None);
        }
        let mut head = [0u8; HEADER_LEN];
        self.log.read_exact_at(&mut head, position)?;
        let Ok(header) = BatchHeader::parse(&head) else {
            return Ok(None);
        };
        if position + header.total_len() as u64 > file_len {
            return Ok(None);
        }
        let mut whole = vec![0u8; header.total_len()];
        self.log.read_exact_at(&mut whole, position)?;
        Ok(batch::validate(&whole).ok())
    }

    fn index_batch(&mut self, position: u64, header: &BatchHeader) -> io::Result<()> {
        if self.offset_index.entries().is_empty() || self.bytes_since_index >= INDEX_INTERVAL_BYTES {
            let relative_offset = self.relative(header.base_offset);
            self.offset_index.append(OffsetEntry { relative_offset, position: position as u32 })?;
            self.time_index.append(TimeEntry { max_timestamp_before: self.max_timestamp, relative_offset })?;
            self.bytes_since_index = 0;
        }
        self.bytes_since_index += header.total_len() as u64;
        self.next_offset = header.last_offset() + 1;
        self.max_timestamp = self.max_timestamp.max(header.max_timestamp);
        Ok(())
    }

    fn relative(&self, offset: i64) -> u32 {
        (offset - self.base_offset) as u32
    }

    /// Appends one validated batch whose base offset is already patched in.
    pub fn append(&mut self, batch: &[u8], header: &BatchHeader) -> io::Result<()> {
        self.log.write_all_at(batch, self.size)?;
        let position = self.size;
        self.size += batch.len() as u64;
        self.index_batch(position, header)
    }

    /// Marks the segment as rolled: records its end in the time index and syncs both indexes, so that a
    /// restart can open it without a scan. The log file itself is synced by the flusher.
    pub fn seal(&mut self) -> io::Result<()> {
        let end =
            TimeEntry { max_timestamp_before: self.max_timestamp, relative_offset: self.relative(self.next_offset) };
        self.time_index.append(end)?;
        self.offset_index.sync()?;
        self.time_index.sync()
    }

    /// Removes every batch whose last offset is at or above `offset` (the batch holding `offset` goes whole), with
    /// their index entries and the end entry a seal added, and syncs the log file. Returns the segment's new next
    /// offset: `offset` (also when compaction removed the records just below it, as Kafka's log end after a
    /// truncation), or the base offset of the batch that held it. The segment is the active one afterwards (not
    /// sealed). `offset` must not be below the segment's base offset.
    pub fn truncate_to(&mut self, offset: i64) -> io::Result<i64> {
        let target = self.relative(offset.max(self.base_offset));
        let mut position =
            self.offset_index.last_matching(|e| e.relative_offset <= target).map_or(0, |e| u64::from(e.position));
        let mut new_next = offset;
        while let Some(header) = self.header_at(position)? {
            if header.last_offset() >= offset {
                new_next = new_next.min(header.base_offset);
                break;
            }
            position += header.total_len() as u64;
        }
        let kept = self.offset_index.entries().partition_point(|e| u64::from(e.position) < position);
        self.offset_index.truncate(kept)?;
        self.time_index.truncate(kept)?;
        let (mut max_timestamp, mut scan_from) = (-1, 0);
        if let (Some(last), Some(time)) = (self.offset_index.entries().last(), self.time_index.entries().last()) {
            max_timestamp = time.max_timestamp_before;
            scan_from = u64::from(last.position);
        }
        let mut scan = scan_from;
        while scan < position {
            let Some(header) = self.header_at(scan)? else { break };
            max_timestamp = max_timestamp.max(header.max_timestamp);
            scan += header.total_len() as u64;
        }
        self.log.set_len(position)?;
        self.log.sync_data()?;
        self.size = position;
        self.next_offset = new_next.max(self.base_offset);
        self.max_timestamp = max_timestamp;
        self.bytes_since_index = position - scan_from;
        Ok(self.next_offset)
    }

    /// Extends the offset range the segment covers to `end_offset` (exclusive) without writing: a cleaned segment
    /// covers the offsets of the segments it replaces, those of the batches compaction removed included.
    pub fn cover_to(&mut self, end_offset: i64) {
        self.next_offset = self.next_offset.max(end_offset);
    }

    /// Reads whole batches starting with the one that contains `offset`, stopping before `end_offset` (the high
    /// watermark), after roughly `max_bytes` (but always at least one batch when `min_one` is set).
    pub fn read(&self, offset: i64, end_offset: i64, max_bytes: usize, min_one: bool) -> io::Result<Bytes> {
        let target = self.relative(offset.max(self.base_offset));
        let mut position =
            self.offset_index.last_matching(|e| e.relative_offset <= target).map_or(0, |e| u64::from(e.position));
        // Walk headers to the batch holding `offset`.
        let start = loop {
            let Some(header) = self.header_at(position)? else {
                return Ok(Bytes::new());
            };
            if header.last_offset() >= offset {
                break position;
            }
            position += header.total_len() as u64;
        };
        // Extend over whole batches below the end offset within the byte budget.
        let mut end = start;
        while let Some(header) = self.header_at(end)? {
            if header.base_offset >= end_offset {
                break;
            }
            let next = end + header.total_len() as u64;
            let within_budget = (next - start) as usize <= max_bytes;
            if !(within_budget || min_one && end == start) {
                break;
            }
            end = next;
        }
        let mut buf = BytesMut::zeroed((end - start) as usize);
        self.log.read_exact_at(&mut buf, start)?;
        Ok(buf.freeze())
    }

    /// The batch header at a byte position, or `None` at the end of the written data.
    pub fn header_at(&self, position: u64) -> io::Result<Option<BatchHeader>> {
        if position + HEADER_LEN as u64 > self.size {
            return Ok(None);
        }
        let mut head = [0u8; HEADER_LEN];
        self.log.read_exact_at(&mut head, position)?;
        BatchHeader::parse(&head).map(Some).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Byte position at which to start scanning for the first record with a timestamp of at least `timestamp`.
    pub fn position_for_timestamp(&self, timestamp: i64) -> u64 {
        let Some(entry) = self.time_index.last_matching(|e| e.max_timestamp_before < timestamp) else {
            return 0;
        };
        self.offset_index
            .last_matching(|e| e.relative_offset <= entry.relative_offset)
            .map_or(0, |e| u64::from(e.position))
    }

    /// Reads the whole batch at a position.
    pub fn batch_at(&self, position: u64, header: &BatchHeader) -> io::Result<Bytes> {
        let mut buf = BytesMut::zeroed(header.total_len());
        self.log.read_exact_at(&mut buf, position)?;
        Ok(buf.freeze())
    }

    /// A handle on the log file for syncing outside the partition lock.
    pub fn log_file(&self) -> Arc<File> {
        Arc::clone(&self.log)
    }

    /// Deletes the segment's files. Readers holding the file keep reading until they finish.
    pub fn delete(self) -> io::Result<()> {
        std::fs::remove_file(self.dir.join(file_name(self.base_offset, "log")))?;
        self.offset_index.delete()?;
        self.time_index.delete()
    }

    /// First offset of the segment.
    pub fn base_offset(&self) -> i64 {
        self.base_offset
    }

    /// One past the last offset written to the segment.
    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }

    /// Bytes written.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Largest record timestamp in the segment, or -1 when empty.
    pub fn max_timestamp(&self) -> i64 {
        self.max_timestamp
    }

    /// Wall-clock time the segment was created or opened, in ms.
    pub fn created_ms(&self) -> i64 {
        self.created_ms
    }
}
