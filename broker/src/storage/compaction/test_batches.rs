//! Test helpers: record batches of keyed updates and tombstones, encoded as a producer would send them.

use bytes::{Bytes, BytesMut};
use kafka_protocol::records::{Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType};

use crate::storage::batch;

/// One record to encode.
#[derive(Debug, Clone)]
pub struct Entry {
    key: Option<Bytes>,
    value: Option<Bytes>,
}

impl Entry {
    /// A keyed record with a value.
    pub fn put(key: &str, value: &str) -> Self {
        Entry { key: Some(Bytes::from(key.to_owned())), value: Some(Bytes::from(value.to_owned())) }
    }

    /// A delete: a keyed record with a null value.
    pub fn tombstone(key: &str) -> Self {
        Entry { key: Some(Bytes::from(key.to_owned())), value: None }
    }

    /// A record without a key.
    pub fn keyless(value: &str) -> Self {
        Entry { key: None, value: Some(Bytes::from(value.to_owned())) }
    }
}

/// A batch of `entries` at offsets `base_offset..`, timestamps `timestamp..`, without a producer id.
pub fn batch_of(base_offset: i64, timestamp: i64, entries: &[Entry], compression: Compression) -> BytesMut {
    producer_batch_of(base_offset, timestamp, entries, compression, (-1, -1, -1))
}

/// Like [`batch_of`], from an idempotent producer: `(producer id, epoch, base sequence)`.
pub fn producer_batch_of(
    base_offset: i64,
    timestamp: i64,
    entries: &[Entry],
    compression: Compression,
    (producer_id, producer_epoch, base_sequence): (i64, i16, i32),
) -> BytesMut {
    let records: Vec<Record> = entries
        .iter()
        .enumerate()
        .map(|(i, entry)| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: 0,
            producer_id,
            producer_epoch,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // The encoder derives the base sequence from the first record and groups records whose offset minus
            // sequence is constant.
            sequence: base_sequence.wrapping_add(i as i32),
            timestamp: timestamp + i as i64,
            key: entry.key.clone(),
            value: entry.value.clone(),
            headers: Default::default(),
        })
        .collect();
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions { version: 2, compression };
    RecordBatchEncoder::encode(&mut buf, &records, &options).expect("encode batch");
    batch::patch_offset_and_epoch(&mut buf, base_offset, 0);
    buf
}
