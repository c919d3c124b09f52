//! Cleaning one batch, as Kafka's `MemoryRecords.filterTo` does for a v2 batch.
//!
//! A record stays when it is the latest of its key and either has a value or is a tombstone whose delete horizon
//! has not passed. A rewritten batch keeps every header field that offsets and producer state depend on (base
//! offset, last offset delta, producer id and epoch, base sequence, leader epoch, codec); kept records keep their
//! offset deltas, so no offset changes. Tombstones get a delete horizon the first time they are cleaned (KIP-534):
//! the batch's base timestamp becomes `now + delete.retention.ms` under the delete-horizon attribute, and the
//! records' timestamp deltas are re-encoded against it. A batch left with no record disappears, unless it is the
//! last batch of its producer: then an empty batch keeps the producer's last sequence in the log.

use bytes::{BufMut, BytesMut};

use super::codec;
use super::offset_map::OffsetMap;
use super::records::{records, RecordView};
use crate::storage::batch::{self, BatchHeader, COMPRESSION_MASK, DELETE_HORIZON_FLAG, HEADER_LEN};
use crate::storage::StorageError;

/// What cleaning does to a batch.
#[derive(Debug)]
pub enum Cleaned {
    /// Every record stays as it is: the stored bytes are copied.
    Unchanged,
    /// No record stays and no producer needs the batch: it is dropped.
    Removed,
    /// The batch is replaced by these bytes.
    Rewritten(BytesMut),
}

/// The result of cleaning one batch.
#[derive(Debug)]
pub struct BatchOutcome {
    /// What to write.
    pub cleaned: Cleaned,
    /// The delete horizon of the tombstones the batch still holds, if it holds any.
    pub tombstone_horizon: Option<i64>,
    /// Records removed.
    pub records_removed: usize,
}

/// What decides which records stay.
#[derive(Debug, Clone, Copy)]
pub struct RetentionRules<'a> {
    /// The latest offset of every key of the dirty section.
    pub latest: &'a OffsetMap,
    /// The cleaner's clock, in ms since the epoch.
    pub now_ms: i64,
    /// The topic's `delete.retention.ms`.
    pub delete_retention_ms: i64,
}

impl RetentionRules<'_> {
    /// Kafka's `shouldRetainRecord`: keyless records go, superseded records go, tombstones go past their horizon.
    fn keeps(&self, record: &RecordView<'_>, offset: i64, horizon: Option<i64>) -> bool {
        let Some(key) = record.key else {
            return false;
        };
        if self.latest.latest(key).is_some_and(|latest| offset < latest) {
            return false;
        }
        record.has_value || horizon.is_none_or(|horizon| self.now_ms < horizon)
    }
}

/// Cleans one stored batch. `is_producers_last` answers whether the batch is the last its producer wrote; it is
/// asked only when no record stays and the batch has a producer id.
pub fn clean_batch(
    stored: &[u8],
    header: &BatchHeader,
    rules: &RetentionRules<'_>,
    is_producers_last: impl FnOnce() -> Result<bool, StorageError>,
) -> Result<BatchOutcome, StorageError> {
    let outcome =
        |cleaned, tombstone_horizon, records_removed| BatchOutcome { cleaned, tombstone_horizon, records_removed };
    if header.is_control() {
        return Ok(outcome(Cleaned::Unchanged, None, 0));
    }
    if header.record_count == 0 {
        let keep = header.producer_id >= 0 && is_producers_last()?;
        return Ok(outcome(if keep { Cleaned::Unchanged } else { Cleaned::Removed }, None, 0));
    }
    let section = codec::decompress(header.compression(), &stored[HEADER_LEN..header.total_len()])?;
    let horizon = header.has_delete_horizon().then_some(header.base_timestamp);
    let mut kept = Vec::with_capacity(usize::try_from(header.record_count).unwrap_or(0));
    let (mut total, mut tombstones) = (0usize, 0usize);
    for record in records(&section) {
        let record = record?;
        total += 1;
        if rules.keeps(&record, header.base_offset + i64::from(record.offset_delta), horizon) {
            tombstones += usize::from(!record.has_value);
            kept.push(record);
        }
    }
    let removed = total - kept.len();
    let stamp = (tombstones > 0 && horizon.is_none()).then(|| rules.now_ms.saturating_add(rules.delete_retention_ms));
    let tombstone_horizon = (tombstones > 0).then(|| horizon.or(stamp)).flatten();
    if kept.is_empty() {
        if header.producer_id >= 0 && is_producers_last()? {
            return Ok(outcome(Cleaned::Rewritten(empty_batch(header)), None, removed));
        }
        return Ok(outcome(Cleaned::Removed, None, removed));
    }
    if removed == 0 && stamp.is_none() {
        return Ok(outcome(Cleaned::Unchanged, tombstone_horizon, 0));
    }
    Ok(outcome(Cleaned::Rewritten(rewrite(header, &kept, stamp)?), tombstone_horizon, removed))
}

/// The batch with only `kept`, under a newly stamped delete horizon when `stamp` is set.
fn rewrite(header: &BatchHeader, kept: &[RecordView<'_>], stamp: Option<i64>) -> Result<BytesMut, StorageError> {
    let base_timestamp = stamp.unwrap_or(header.base_timestamp);
    let mut section = BytesMut::with_capacity(kept.iter().map(|r| r.encoded.len() + 8).sum());
    let mut max_timestamp = i64::MIN;
    for record in kept {
        let timestamp = header.base_timestamp.wrapping_add(record.timestamp_delta);
        max_timestamp = max_timestamp.max(timestamp);
        match stamp {
            Some(_) => record.write_with_timestamp_delta(timestamp.wrapping_sub(base_timestamp), &mut section),
            None => section.put_slice(record.encoded),
        }
    }
    let compressed;
    let records: &[u8] = if header.compression() == 0 {
        &section
    } else {
        let mut out = BytesMut::with_capacity(section.len() / 2);
        codec::compress(header.compression(), &section, &mut out)?;
        compressed = out;
        &compressed
    };
    let rewritten = BatchHeader {
        attributes: if stamp.is_some() { header.attributes | DELETE_HORIZON_FLAG } else { header.attributes },
        base_timestamp,
        max_timestamp: if header.is_log_append_time() { header.max_timestamp } else { max_timestamp },
        record_count: kept.len() as i32,
        ..*header
    };
    Ok(batch::encode(&rewritten, records))
}

/// Kafka's `writeEmptyHeader`: the batch's offsets and producer fields with no records, uncompressed.
fn empty_batch(header: &BatchHeader) -> BytesMut {
    let empty = BatchHeader {
        attributes: header.attributes & !(COMPRESSION_MASK | DELETE_HORIZON_FLAG),
        base_timestamp: header.max_timestamp,
        record_count: 0,
        ..*header
    };
    batch::encode(&empty, &[])
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use kafka_protocol::records::{Compression, RecordBatchDecoder};

    use super::*;
    use crate::storage::compaction::test_batches::{batch_of, producer_batch_of, Entry};

    const NOW: i64 = 1_000_000;
    const RETENTION: i64 = 5_000;

    fn map_of(pairs: &[(&str, i64)]) -> OffsetMap {
        let mut map = OffsetMap::default();
        for (key, offset) in pairs {
            map.insert(key.as_bytes(), *offset);
        }
        map
    }

    fn clean(stored: &[u8], map: &OffsetMap, now_ms: i64, last: bool) -> BatchOutcome {
        let header = batch::validate(stored).expect("valid input");
        let rules = RetentionRules { latest: map, now_ms, delete_retention_ms: RETENTION };
        clean_batch(stored, &header, &rules, || Ok(last)).expect("clean")
    }

    /// (offset, key, value, timestamp) of every record of a batch, decoded by kafka-protocol.
    fn decoded(bytes: &[u8]) -> Vec<(i64, String, Option<String>, i64)> {
        let text = |b: &Option<Bytes>| b.as_ref().map(|b| String::from_utf8_lossy(b).into_owned());
        let mut buf = Bytes::copy_from_slice(bytes);
        let set = RecordBatchDecoder::decode(&mut buf).expect("decodes");
        set.records.iter().map(|r| (r.offset, text(&r.key).unwrap_or_default(), text(&r.value), r.timestamp)).collect()
    }

    fn rewritten(outcome: BatchOutcome) -> BytesMut {
        match outcome.cleaned {
            Cleaned::Rewritten(bytes) => bytes,
            other => panic!("expected a rewrite, got {other:?}"),
        }
    }

    #[test]
    fn compaction_rewrite_keeps_latest_records_at_their_offsets_for_every_codec() {
        let entries = [Entry::put("a", "1"), Entry::put("b", "2"), Entry::put("a", "3"), Entry::put("c", "4")];
        for compression in
            [Compression::None, Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd]
        {
            let stored = producer_batch_of(100, 5_000, &entries, compression, (7, 2, 40));
            let original = batch::validate(&stored).expect("valid");
            // c was updated later in the log (offset 200): only b@101 and a@102 stay.
            let out = rewritten(clean(&stored, &map_of(&[("a", 102), ("b", 101), ("c", 200)]), NOW, false));
            let header = batch::validate(&out).expect("the rewrite validates");
            assert_eq!(header.compression(), original.compression());
            assert_eq!((header.base_offset, header.last_offset_delta), (100, 3), "offsets unchanged");
            assert_eq!((header.producer_id, header.producer_epoch, header.base_sequence), (7, 2, 40));
            assert_eq!(header.record_count, 2);
            assert_eq!((header.base_timestamp, header.max_timestamp), (5_000, 5_002));
            let records = decoded(&out);
            assert_eq!(
                records,
                vec![(101, "b".into(), Some("2".into()), 5_001), (102, "a".into(), Some("3".into()), 5_002)]
            );
        }
    }

    #[test]
    fn compaction_rewrite_leaves_whole_batches_alone() {
        let stored = batch_of(0, 0, &[Entry::put("a", "1"), Entry::put("b", "2")], Compression::None);
        let outcome = clean(&stored, &map_of(&[("a", 0)]), NOW, false);
        assert!(matches!(outcome.cleaned, Cleaned::Unchanged));
        assert_eq!((outcome.records_removed, outcome.tombstone_horizon), (0, None));
        let outcome = clean(&stored, &map_of(&[("a", 5), ("b", 5)]), NOW, false);
        assert!(matches!(outcome.cleaned, Cleaned::Removed));
        assert_eq!(outcome.records_removed, 2);
    }

    #[test]
    fn compaction_rewrite_keeps_a_producers_last_batch_empty() {
        let stored =
            producer_batch_of(10, 3_000, &[Entry::put("a", "1"), Entry::put("a", "2")], Compression::Lz4, (9, 1, 77));
        let map = map_of(&[("a", 50)]);
        assert!(matches!(clean(&stored, &map, NOW, false).cleaned, Cleaned::Removed));
        let empty = rewritten(clean(&stored, &map, NOW, true));
        let header = batch::validate(&empty).expect("valid");
        assert_eq!((header.base_offset, header.last_offset(), header.record_count), (10, 11, 0));
        assert_eq!((header.producer_id, header.producer_epoch, header.base_sequence), (9, 1, 77));
        assert_eq!((header.compression(), header.base_timestamp, header.max_timestamp), (0, 3_001, 3_001));
        assert!(decoded(&empty).is_empty());
        // An empty batch stays while it is its producer's last, and goes after.
        assert!(matches!(clean(&empty, &map, NOW, true).cleaned, Cleaned::Unchanged));
        assert!(matches!(clean(&empty, &map, NOW, false).cleaned, Cleaned::Removed));
        let anonymous = batch_of(10, 0, &[Entry::put("a", "1")], Compression::None);
        assert!(matches!(clean(&anonymous, &map, NOW, true).cleaned, Cleaned::Removed), "no producer id");
    }

    #[test]
    fn compaction_rewrite_stamps_then_honours_the_delete_horizon() {
        let entries = [Entry::put("a", "1"), Entry::tombstone("b"), Entry::tombstone("c")];
        let stored = batch_of(20, 7_000, &entries, Compression::Snappy);
        // c is deleted again later; b's tombstone is the latest for b.
        let map = map_of(&[("a", 20), ("b", 21), ("c", 90)]);
        let first = clean(&stored, &map, NOW, false);
        assert_eq!((first.tombstone_horizon, first.records_removed), (Some(NOW + RETENTION), 1));
        let stamped = rewritten(first);
        let header = batch::validate(&stamped).expect("valid");
        assert!(header.has_delete_horizon());
        assert_eq!((header.base_timestamp, header.max_timestamp), (NOW + RETENTION, 7_001));
        let records = decoded(&stamped);
        assert_eq!(records, vec![(20, "a".into(), Some("1".into()), 7_000), (21, "b".into(), None, 7_001)]);

        let before = clean(&stamped, &map, NOW + RETENTION - 1, false);
        assert!(matches!(before.cleaned, Cleaned::Unchanged), "before the horizon the tombstone stays");
        assert_eq!(before.tombstone_horizon, Some(NOW + RETENTION));
        let after = clean(&stamped, &map, NOW + RETENTION, false);
        assert_eq!((after.tombstone_horizon, after.records_removed), (None, 1));
        let cleaned = rewritten(after);
        let header = batch::validate(&cleaned).expect("valid");
        assert!(header.has_delete_horizon() && header.base_timestamp == NOW + RETENTION);
        assert_eq!(decoded(&cleaned), vec![(20, "a".into(), Some("1".into()), 7_000)]);
    }

    #[test]
    fn compaction_rewrite_drops_keyless_records() {
        let stored = batch_of(0, 0, &[Entry::keyless("x"), Entry::put("k", "v")], Compression::None);
        let out = rewritten(clean(&stored, &OffsetMap::default(), NOW, false));
        assert_eq!(decoded(&out), vec![(1, "k".into(), Some("v".into()), 1)]);
    }
}
