//! Writing records to `__consumer_offsets` and reading them all back at start-up.

use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::records::Compression;

use crate::broker::now_ms;
use crate::storage::decode::records_from;
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

/// Calls `apply(key, value, offset)` for every record of `log` below its durable end, in offset order.
pub fn replay(log: &PartitionLog, mut apply: impl FnMut(&[u8], Option<&Bytes>, i64)) -> Result<(), StorageError> {
    let mut offset = log.log_start_offset();
    let end = log.durable_offset();
    while offset < end {
        let chunk = log.read_for_replica(offset, 1 << 20)?.records;
        if chunk.is_empty() {
            break;
        }
        for record in records_from(&chunk, &mut offset)? {
            if let Some(key) = &record.key {
                apply(key, record.value.as_ref(), record.offset);
            }
        }
    }
    Ok(())
}
