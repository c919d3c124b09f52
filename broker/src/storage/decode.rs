//! Reading stored batches back as records, for the broker's own readers (`__consumer_offsets` replay) and the
//! in-process log client: whole batches as [`super::PartitionLog::read`] returns them, decoded, with control
//! batches and records before a position skipped (compaction leaves offset gaps and emptied batches).

use bytes::Bytes;
use kafka_protocol::records::{Record, RecordBatchDecoder};

use super::batch::BatchHeader;
use super::StorageError;

/// The records of `chunk` at or after `position`, skipping control batches, with a log-append-time batch's
/// timestamp on each of its records; moves `position` past every batch decoded.
pub fn records_from(chunk: &Bytes, position: &mut i64) -> Result<Vec<Record>, StorageError> {
    let mut records = Vec::new();
    let mut start = 0;
    while start < chunk.len() {
        let header = BatchHeader::parse(&chunk[start..])?;
        let end = start + header.total_len();
        if end > chunk.len() {
            return Err(StorageError::Decode(format!("a stored batch at offset {} is truncated", header.base_offset)));
        }
        if header.record_count > 0 && !header.is_control() {
            let mut bytes = chunk.slice(start..end);
            let set = RecordBatchDecoder::decode(&mut bytes)
                .map_err(|e| StorageError::Decode(format!("batch at offset {}: {e}", header.base_offset)))?;
            let wanted = set.records.into_iter().filter(|r| !r.control && r.offset >= *position);
            records.extend(wanted.map(|mut r| {
                if header.is_log_append_time() {
                    r.timestamp = header.max_timestamp;
                }
                r
            }));
        }
        *position = (*position).max(header.last_offset() + 1);
        start = end;
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use kafka_protocol::records::Compression;

    use super::*;
    use crate::storage::batch::patch_offset_and_epoch;
    use crate::storage::batch::tests::encoded_batch;

    #[test]
    fn skips_records_before_the_position_and_moves_past_every_batch() {
        let mut first = encoded_batch(3, 100, Compression::None);
        patch_offset_and_epoch(&mut first, 10, 0);
        let mut second = encoded_batch(2, 200, Compression::Lz4);
        patch_offset_and_epoch(&mut second, 20, 0);
        first.extend_from_slice(&second);
        let chunk = first.freeze();
        let mut position = 11;
        let records = records_from(&chunk, &mut position).expect("decode");
        assert_eq!(records.iter().map(|r| r.offset).collect::<Vec<_>>(), [11, 12, 20, 21]);
        assert_eq!(position, 22);
        let truncated = chunk.slice(..chunk.len() - 1);
        assert!(matches!(records_from(&truncated, &mut 0), Err(StorageError::Decode(_))));
    }
}
