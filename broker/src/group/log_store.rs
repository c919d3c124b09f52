//! Writing records to `__consumer_offsets` and reading them all back at start-up.

use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::records::{Compression, RecordBatchDecoder};

use crate::broker::now_ms;
use crate::storage::batch::BatchHeader;
use crate::storage::encode::{encode_batch, ProducerStamp};
use crate::storage::{AppendInfo, PartitionLog, StorageError};
use crate::topics::Topic;

/// Appends `records` (key, value or `None` for a tombstone) as one batch to `partition` of the offsets topic.
/// The batch is durable once [`PartitionLog::wait_durable`] returns for `last_offset + 1`.
pub fn append(
    topic: &Topic,
    partition: i32,
    records: &[(Bytes, Option<Bytes>)],
) -> Result<(Arc<PartitionLog>, AppendInfo), StorageError> {
    let log = topic.partition(partition).ok_or(StorageError::Offline)?;
    let timestamp = now_ms();
    let records = records.iter().map(|(key, value)| (timestamp, Some(key.clone()), value.clone()));
    let batch = encode_batch(records, ProducerStamp::NONE, Compression::None)?;
    let info = log.append(batch, &topic.config(), timestamp)?;
    Ok((log, info))
}

/// Calls `apply(key, value, offset)` for every record of `log` below its high watermark, in offset order.
pub fn replay(log: &PartitionLog, mut apply: impl FnMut(&[u8], Option<&Bytes>, i64)) -> Result<(), StorageError> {
    let mut offset = log.log_start_offset();
    let end = log.high_watermark();
    while offset < end {
        let chunk = log.read(offset, 1 << 20, true)?.records;
        if chunk.is_empty() {
            break;
        }
        let mut position = 0;
        while position < chunk.len() {
            let header = BatchHeader::parse(&chunk[position..])?;
            let mut bytes = chunk.slice(position..position + header.total_len());
            if header.record_count > 0 {
                let set = RecordBatchDecoder::decode(&mut bytes).map_err(|e| StorageError::Decode(e.to_string()))?;
                for record in set.records.iter().filter(|r| !r.control && r.offset >= offset) {
                    if let Some(key) = &record.key {
                        apply(key, record.value.as_ref(), record.offset);
                    }
                }
            }
            offset = offset.max(header.last_offset() + 1);
            position += header.total_len();
        }
    }
    Ok(())
}
