//! The producer's side of an in-process produce call: choosing each record's partition and cutting a partition's
//! records into batches that fit the topic's `max.message.bytes`.

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;
use tidemark_broker::storage::encode::{
    encode_batch_with_headers, ProducerStamp, RecordHeaders, BATCH_OVERHEAD, HEADER_OVERHEAD, RECORD_OVERHEAD,
};

use crate::{partition_for_key, LogError, ProducerRecord};

/// A record ready for a batch: its index in the call, key, value and headers.
#[derive(Debug)]
pub struct Prepared {
    index: usize,
    key: Option<Bytes>,
    value: Option<Bytes>,
    headers: RecordHeaders,
    timestamp: Option<i64>,
    /// At least the bytes the record takes in a batch.
    size: usize,
}

/// The records of one call by partition, in call order within each partition. A record without a partition goes
/// to [`partition_for_key`] of its key, or when keyless to partition `keyless_turn % partitions` (every keyless
/// record of the call to the same one).
pub fn by_partition(
    topic: &str,
    records: Vec<ProducerRecord>,
    partitions: i32,
    keyless_turn: u32,
) -> Result<BTreeMap<i32, Vec<Prepared>>, LogError> {
    let keyless = i32::try_from(keyless_turn % partitions.max(1) as u32).unwrap_or(0);
    // Each partition's share of the records, presized: exact for one partition, the usual case of a source's topic.
    let share = records.len().div_ceil(partitions.max(1) as usize);
    let mut by_partition: BTreeMap<i32, Vec<Prepared>> = BTreeMap::new();
    for (index, record) in records.into_iter().enumerate() {
        let partition = match (record.partition, &record.key) {
            (Some(partition), _) if (0..partitions).contains(&partition) => partition,
            (Some(partition), _) => return Err(LogError::UnknownTopic(format!("{topic} partition {partition}"))),
            (None, Some(key)) => partition_for_key(key, partitions),
            (None, None) => keyless,
        };
        by_partition.entry(partition).or_insert_with(|| Vec::with_capacity(share)).push(prepare(index, record)?);
    }
    Ok(by_partition)
}

fn prepare(index: usize, record: ProducerRecord) -> Result<Prepared, LogError> {
    let mut size =
        RECORD_OVERHEAD + record.key.as_ref().map_or(0, Bytes::len) + record.value.as_ref().map_or(0, Bytes::len);
    let mut headers = RecordHeaders::with_capacity(record.headers.len());
    for (key, value) in record.headers {
        size += HEADER_OVERHEAD + key.len() + value.as_ref().map_or(0, Bytes::len);
        let key = StrBytes::from_string(key);
        if headers.contains_key(&key) {
            let key = key.as_str();
            return Err(LogError::Refused(format!("header '{key}' is repeated; the log keeps one value per key")));
        }
        headers.insert(key, value);
    }
    Ok(Prepared { index, key: record.key, value: record.value, headers, timestamp: record.timestamp, size })
}

/// Records of one partition that go into one batch.
#[derive(Debug, Default)]
pub struct Batch {
    records: Vec<Prepared>,
    size: usize,
}

impl Batch {
    /// The encoded batch, every record without a timestamp stamped `now_ms`, and the records' indexes in the call, in offset order.
    pub fn encode(self, now_ms: i64) -> Result<(BytesMut, Vec<usize>), LogError> {
        let indexes = self.records.iter().map(|r| r.index).collect();
        let records = self.records.into_iter().map(|r| (r.timestamp.unwrap_or(now_ms), r.key, r.value, r.headers));
        let encoded = encode_batch_with_headers(records, ProducerStamp::NONE, Compression::None)?;
        Ok((encoded, indexes))
    }
}

/// Cuts `records` into batches of at most `max_batch_bytes` each; a record larger than that gets a batch of its own
/// (which the log then refuses as too large).
pub fn batches(records: Vec<Prepared>, max_batch_bytes: usize) -> Vec<Batch> {
    let mut batches = Vec::new();
    let mut current = Batch { records: Vec::new(), size: BATCH_OVERHEAD };
    for record in records {
        if !current.records.is_empty() && current.size + record.size > max_batch_bytes {
            batches.push(std::mem::replace(&mut current, Batch { records: Vec::new(), size: BATCH_OVERHEAD }));
        }
        current.size += record.size;
        current.records.push(record);
    }
    if !current.records.is_empty() {
        batches.push(current);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(partition: Option<i32>, key: Option<&'static str>, value_len: usize) -> ProducerRecord {
        ProducerRecord {
            partition,
            key: key.map(|k| Bytes::from_static(k.as_bytes())),
            value: Some(Bytes::from(vec![b'v'; value_len])),
            headers: Vec::new(),
            timestamp: None,
        }
    }

    #[test]
    fn partitions_by_key_explicitly_and_keyless_by_turn() {
        let records = vec![
            record(None, Some("a"), 1),
            record(Some(2), Some("a"), 1),
            record(None, None, 1),
            record(None, None, 1),
            record(None, Some("a"), 1),
        ];
        let by = by_partition("t", records, 3, 7).expect("partitioned");
        let indexes = |p: i32| by.get(&p).map(|rs| rs.iter().map(|r| r.index).collect::<Vec<_>>()).unwrap_or_default();
        let keyed = partition_for_key(b"a", 3);
        assert!(indexes(keyed).starts_with(&[0]) && indexes(keyed).ends_with(&[4]));
        assert!(indexes(2).contains(&1));
        assert!(indexes(1).contains(&2) && indexes(1).contains(&3), "7 % 3 = 1: {by:?}");
    }

    #[test]
    fn refuses_a_missing_partition_and_repeated_headers() {
        assert!(matches!(by_partition("t", vec![record(Some(3), None, 1)], 3, 0), Err(LogError::UnknownTopic(_))));
        let mut repeated = record(None, Some("k"), 1);
        repeated.headers = vec![("h".into(), None), ("h".into(), Some(Bytes::from_static(b"x")))];
        assert!(matches!(by_partition("t", vec![repeated], 1, 0), Err(LogError::Refused(_))));
    }

    #[test]
    fn batches_stay_under_the_limit_and_keep_order() {
        let records = (0..10).map(|_| record(None, Some("k"), 100)).collect();
        let prepared = by_partition("t", records, 1, 0).expect("partitioned").remove(&0).unwrap_or_default();
        let batches = batches(prepared, 400);
        assert!(batches.len() > 1);
        let mut next = 0;
        for batch in batches {
            let (encoded, indexes) = batch.encode(1).expect("encoded");
            assert!(encoded.len() <= 400, "batch of {} bytes", encoded.len());
            for index in indexes {
                assert_eq!(index, next);
                next += 1;
            }
        }
        assert_eq!(next, 10);
    }
}
