//! Reading segments for the cleaner outside the partition lock: a [`SegmentView`] is a snapshot of a segment taken
//! under the lock (its open file and its size then); the bytes below that size never change, so they can be read
//! at leisure, in large sequential reads.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use crate::storage::batch::{BatchError, BatchHeader, HEADER_LEN};
use crate::storage::segment::Segment;
use crate::storage::StorageError;

/// A segment as it was when the snapshot was taken.
#[derive(Debug, Clone)]
pub struct SegmentView {
    /// First offset of the segment.
    pub base_offset: i64,
    /// One past the last offset the segment covers.
    pub next_offset: i64,
    /// Bytes of the log file that were written.
    pub size: u64,
    /// Largest record timestamp, -1 when empty.
    pub max_timestamp: i64,
    /// The open log file.
    pub file: Arc<File>,
}

impl SegmentView {
    /// A snapshot of `segment`; take it under the partition lock.
    pub fn of(segment: &Segment) -> Self {
        SegmentView {
            base_offset: segment.base_offset(),
            next_offset: segment.next_offset(),
            size: segment.size(),
            max_timestamp: segment.max_timestamp(),
            file: segment.log_file(),
        }
    }

    /// The whole batches of the segment, in order, read `chunk_bytes` at a time.
    pub fn batches(&self, chunk_bytes: usize) -> BatchReader {
        BatchReader {
            file: Arc::clone(&self.file),
            end: self.size,
            next_read: 0,
            buffer: BytesMut::new(),
            chunk_bytes: chunk_bytes.max(HEADER_LEN),
        }
    }

    /// Calls `visit` with every batch header, reading only the headers.
    pub fn for_each_header(&self, mut visit: impl FnMut(&BatchHeader)) -> Result<(), StorageError> {
        let mut position = 0u64;
        let mut head = [0u8; HEADER_LEN];
        while position + HEADER_LEN as u64 <= self.size {
            self.file.read_exact_at(&mut head, position)?;
            let header = BatchHeader::parse(&head)?;
            visit(&header);
            position += header.total_len() as u64;
        }
        Ok(())
    }

    /// The base timestamp of the first batch, if the segment has one.
    pub fn first_batch_timestamp(&self) -> Result<Option<i64>, StorageError> {
        if self.size < HEADER_LEN as u64 {
            return Ok(None);
        }
        let mut head = [0u8; HEADER_LEN];
        self.file.read_exact_at(&mut head, 0)?;
        Ok(Some(BatchHeader::parse(&head)?.base_timestamp))
    }
}

/// Reads a segment's batches in order.
#[derive(Debug)]
pub struct BatchReader {
    file: Arc<File>,
    end: u64,
    next_read: u64,
    buffer: BytesMut,
    chunk_bytes: usize,
}

impl BatchReader {
    /// The next whole batch and its header, or `None` at the end of the segment.
    pub fn next_batch(&mut self) -> Result<Option<(BatchHeader, Bytes)>, StorageError> {
        if !self.fill(HEADER_LEN)? {
            return Ok(None);
        }
        let header = BatchHeader::parse(&self.buffer)?;
        let total = header.total_len();
        if !self.fill(total)? {
            let available = self.buffer.len();
            return Err(BatchError::Truncated { needed: total, available }.into());
        }
        Ok(Some((header, self.buffer.split_to(total).freeze())))
    }

    /// Reads until at least `needed` bytes are buffered; false when the segment ends first.
    fn fill(&mut self, needed: usize) -> std::io::Result<bool> {
        while self.buffer.len() < needed {
            let remaining = self.end - self.next_read;
            if remaining == 0 {
                return Ok(false);
            }
            let wanted = self.chunk_bytes.max(needed - self.buffer.len());
            let n = u64::try_from(wanted).map_or(remaining, |w| w.min(remaining)) as usize;
            let old = self.buffer.len();
            self.buffer.resize(old + n, 0);
            self.file.read_exact_at(&mut self.buffer[old..], self.next_read)?;
            self.next_read += n as u64;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use kafka_protocol::records::Compression;

    use super::*;
    use crate::storage::compaction::test_batches::{batch_of, Entry};

    #[test]
    fn compaction_scan_reads_whole_batches_across_chunks() {
        let mut file = tempfile::tempfile().expect("tempfile");
        let mut expected = Vec::new();
        for i in 0..50 {
            let value = "v".repeat(i * 7);
            let batch = batch_of(
                i as i64 * 2,
                1_000 + i as i64,
                &[Entry::put("k", &value), Entry::put("j", "x")],
                Compression::None,
            );
            file.write_all(&batch).expect("write");
            expected.push(batch.freeze());
        }
        let size = expected.iter().map(|b| b.len() as u64).sum();
        let view = SegmentView { base_offset: 0, next_offset: 100, size, max_timestamp: 1_049, file: Arc::new(file) };
        for chunk in [1, 100, 4096, 1 << 20] {
            let mut reader = view.batches(chunk);
            let mut got = Vec::new();
            while let Some((header, bytes)) = reader.next_batch().expect("read") {
                assert_eq!(header.total_len(), bytes.len());
                got.push(bytes);
            }
            assert_eq!(got, expected, "chunk {chunk}");
        }
        let mut bases = Vec::new();
        view.for_each_header(|h| bases.push(h.base_offset)).expect("headers");
        assert_eq!(bases, (0..50).map(|i| i * 2).collect::<Vec<i64>>());
        assert_eq!(view.first_batch_timestamp().expect("first"), Some(1_000));
        let cut = SegmentView { size: size - 1, ..view };
        let mut reader = cut.batches(4096);
        let mut result = Ok(None);
        for _ in 0..50 {
            result = reader.next_batch();
        }
        assert!(matches!(result, Err(StorageError::InvalidBatch(BatchError::Truncated { .. }))));
    }
}
