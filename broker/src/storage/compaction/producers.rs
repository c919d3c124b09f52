//! Which batch is each idempotent producer's last in the log. Cleaning keeps that batch, emptied if need be, so
//! that the producer's last sequence number survives compaction (Kafka keeps it for the same reason). Found by
//! reading every batch header once, the first time a pass needs it.

use std::collections::HashMap;

use super::scan::SegmentView;
use crate::storage::batch::BatchHeader;
use crate::storage::StorageError;

/// The last offset of each producer's last batch, computed on first use.
#[derive(Debug)]
pub struct ProducerTails<'a> {
    segments: &'a [SegmentView],
    last_offsets: Option<HashMap<i64, i64>>,
}

impl<'a> ProducerTails<'a> {
    /// Answers for the log made of `segments` (every segment, the active one included).
    pub fn new(segments: &'a [SegmentView]) -> Self {
        ProducerTails { segments, last_offsets: None }
    }

    /// Whether the batch is the last one its producer wrote.
    pub fn is_last(&mut self, header: &BatchHeader) -> Result<bool, StorageError> {
        if self.last_offsets.is_none() {
            self.last_offsets = Some(scan(self.segments)?);
        }
        let last = self.last_offsets.as_ref().and_then(|offsets| offsets.get(&header.producer_id));
        Ok(header.producer_id >= 0 && last == Some(&header.last_offset()))
    }
}

fn scan(segments: &[SegmentView]) -> Result<HashMap<i64, i64>, StorageError> {
    let mut last_offsets = HashMap::new();
    for segment in segments {
        segment.for_each_header(|header| {
            if header.producer_id >= 0 {
                let last = last_offsets.entry(header.producer_id).or_insert(header.last_offset());
                *last = (*last).max(header.last_offset());
            }
        })?;
    }
    Ok(last_offsets)
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Arc;

    use kafka_protocol::records::Compression;

    use super::*;
    use crate::storage::batch;
    use crate::storage::compaction::test_batches::{batch_of, producer_batch_of, Entry};

    #[test]
    fn compaction_finds_each_producers_last_batch() {
        let entries = [Entry::put("k", "v")];
        let batches = [
            producer_batch_of(0, 0, &entries, Compression::None, (1, 0, 0)),
            producer_batch_of(1, 0, &entries, Compression::None, (2, 0, 0)),
            producer_batch_of(2, 0, &entries, Compression::None, (1, 0, 1)),
            batch_of(3, 0, &entries, Compression::None),
        ];
        let mut file = tempfile::tempfile().expect("tempfile");
        for b in &batches {
            file.write_all(b).expect("write");
        }
        let size = batches.iter().map(|b| b.len() as u64).sum();
        let segments = [SegmentView { base_offset: 0, next_offset: 4, size, max_timestamp: 0, file: Arc::new(file) }];
        let mut tails = ProducerTails::new(&segments);
        let last: Vec<bool> =
            batches.iter().map(|b| tails.is_last(&batch::validate(b).expect("valid")).expect("scan")).collect();
        assert_eq!(last, [false, true, true, false]);
    }
}
