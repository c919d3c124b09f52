//! A view over Kafka RecordBatch v2 bytes: header fields, CRC validation and in-place patching of the two fields
//! that lie outside the CRC (base offset and partition leader epoch).
//!
//! Written by hand rather than through `kafka_protocol::records` because the broker never decodes records on the
//! produce and fetch paths: it validates the header and CRC, patches the offset, and stores the bytes as sent.

use bytes::{Buf, BufMut, BytesMut};
use thiserror::Error;

/// Size of the fixed RecordBatch v2 header, up to and including the record count.
pub const HEADER_LEN: usize = 61;
/// Bytes before the `batchLength` field's coverage starts (base offset and the length itself).
pub const LOG_OVERHEAD: usize = 12;
/// Bytes of header that `batchLength` covers at minimum.
const MIN_BATCH_LENGTH: i32 = (HEADER_LEN - LOG_OVERHEAD) as i32;
const CRC_START: usize = 21;
/// Attribute bits holding the compression codec.
pub const COMPRESSION_MASK: i16 = 0x07;
/// Attribute bit: timestamps are the broker's append time.
const LOG_APPEND_TIME_FLAG: i16 = 0x08;
/// Attribute bit: the batch belongs to a transaction.
const TRANSACTIONAL_FLAG: i16 = 0x10;
/// Attribute bit: a control batch (transaction markers).
const CONTROL_FLAG: i16 = 0x20;
/// Attribute bit: the base timestamp is a delete horizon stamped by compaction (KIP-534).
pub const DELETE_HORIZON_FLAG: i16 = 0x40;

/// Why a byte range is not a valid record batch.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum BatchError {
    /// Fewer bytes than the header or the declared length.
    #[error("record batch truncated: need {needed} bytes, have {available}")]
    Truncated {
        /// Bytes the batch declares or needs.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// The declared length is smaller than a header.
    #[error("record batch length {0} is invalid")]
    BadLength(i32),
    /// A message format other than v2.
    #[error("record batch magic {0} is not supported (only v2)")]
    UnsupportedMagic(i8),
    /// The CRC32C does not match the content.
    #[error("record batch CRC mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    CrcMismatch {
        /// CRC in the header.
        stored: u32,
        /// CRC of the bytes.
        computed: u32,
    },
    /// Record count and offset delta disagree, or the count is not positive.
    #[error("record batch declares {count} records but a last offset delta of {last_offset_delta}")]
    BadRecordCount {
        /// Declared record count.
        count: i32,
        /// Declared last offset delta.
        last_offset_delta: i32,
    },
}

/// The fixed header of one RecordBatch v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    /// Offset of the first record.
    pub base_offset: i64,
    /// Length of the batch after the first 12 bytes.
    pub batch_length: i32,
    /// Leader epoch of the partition leader that appended the batch.
    pub partition_leader_epoch: i32,
    /// Message format version; always 2 once validated.
    pub magic: i8,
    /// CRC32C of everything from `attributes` to the end.
    pub crc: u32,
    /// Compression codec, timestamp type, transactional and control flags.
    pub attributes: i16,
    /// Offset of the last record relative to `base_offset`.
    pub last_offset_delta: i32,
    /// Timestamp of the first record.
    pub base_timestamp: i64,
    /// Largest timestamp in the batch.
    pub max_timestamp: i64,
    /// Idempotent producer id, or -1.
    pub producer_id: i64,
    /// Idempotent producer epoch, or -1.
    pub producer_epoch: i16,
    /// Sequence number of the first record, or -1.
    pub base_sequence: i32,
    /// Number of records.
    pub record_count: i32,
}

impl BatchHeader {
    /// Reads a header from the start of `bytes` without validating the CRC.
    pub fn parse(bytes: &[u8]) -> Result<Self, BatchError> {
        if bytes.len() < HEADER_LEN {
            return Err(BatchError::Truncated { needed: HEADER_LEN, available: bytes.len() });
        }
        let mut b = bytes;
        let header = BatchHeader {
            base_offset: b.get_i64(),
            batch_length: b.get_i32(),
            partition_leader_epoch: b.get_i32(),
            magic: b.get_i8(),
            crc: b.get_u32(),
            attributes: b.get_i16(),
            last_offset_delta: b.get_i32(),
            base_timestamp: b.get_i64(),
            max_timestamp: b.get_i64(),
            producer_id: b.get_i64(),
            producer_epoch: b.get_i16(),
            base_sequence: b.get_i32(),
            record_count: b.get_i32(),
        };
        if header.magic != 2 {
            return Err(BatchError::UnsupportedMagic(header.magic));
        }
        if header.batch_length < MIN_BATCH_LENGTH {
            return Err(BatchError::BadLength(header.batch_length));
        }
        Ok(header)
    }

    /// Total size of the batch in bytes, header included.
    pub fn total_len(&self) -> usize {
        LOG_OVERHEAD + self.batch_length as usize
    }

    /// Offset of the last record.
    pub fn last_offset(&self) -> i64 {
        self.base_offset + i64::from(self.last_offset_delta)
    }

    /// The compression codec id (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd).
    pub fn compression(&self) -> i16 {
        self.attributes & COMPRESSION_MASK
    }

    /// Whether the timestamps are the broker's append time rather than the producer's.
    pub fn is_log_append_time(&self) -> bool {
        self.attributes & LOG_APPEND_TIME_FLAG != 0
    }

    /// Whether the batch belongs to a transaction.
    pub fn is_transactional(&self) -> bool {
        self.attributes & TRANSACTIONAL_FLAG != 0
    }

    /// Whether this is a control batch (transaction markers).
    pub fn is_control(&self) -> bool {
        self.attributes & CONTROL_FLAG != 0
    }

    /// Whether the base timestamp is a delete horizon: tombstones in the batch may go once it has passed.
    pub fn has_delete_horizon(&self) -> bool {
        self.attributes & DELETE_HORIZON_FLAG != 0
    }

    /// Checks that the record count matches the offset range a producer must send.
    pub fn check_producer_counts(&self) -> Result<(), BatchError> {
        if self.record_count < 1 || self.last_offset_delta != self.record_count - 1 {
            return Err(BatchError::BadRecordCount {
                count: self.record_count,
                last_offset_delta: self.last_offset_delta,
            });
        }
        Ok(())
    }
}

/// Parses and fully validates (length and CRC) the batch at the start of `bytes`.
pub fn validate(bytes: &[u8]) -> Result<BatchHeader, BatchError> {
    let header = BatchHeader::parse(bytes)?;
    let total = header.total_len();
    if bytes.len() < total {
        return Err(BatchError::Truncated { needed: total, available: bytes.len() });
    }
    let computed = crc32c::crc32c(&bytes[CRC_START..total]);
    if computed != header.crc {
        return Err(BatchError::CrcMismatch { stored: header.crc, computed });
    }
    Ok(header)
}

/// Encodes a batch from a header and its (possibly compressed) records section; `batch_length` and `crc` are
/// computed, every other header field is written as given.
pub fn encode(header: &BatchHeader, records: &[u8]) -> BytesMut {
    let mut out = BytesMut::with_capacity(HEADER_LEN + records.len());
    out.put_i64(header.base_offset);
    out.put_i32((HEADER_LEN - LOG_OVERHEAD + records.len()) as i32);
    out.put_i32(header.partition_leader_epoch);
    out.put_i8(2);
    out.put_u32(0);
    out.put_i16(header.attributes);
    out.put_i32(header.last_offset_delta);
    out.put_i64(header.base_timestamp);
    out.put_i64(header.max_timestamp);
    out.put_i64(header.producer_id);
    out.put_i16(header.producer_epoch);
    out.put_i32(header.base_sequence);
    out.put_i32(header.record_count);
    out.put_slice(records);
    let crc = crc32c::crc32c(&out[CRC_START..]);
    out[CRC_START - 4..CRC_START].copy_from_slice(&crc.to_be_bytes());
    out
}

/// Writes the broker-assigned base offset and leader epoch into a batch; neither is covered by the CRC.
pub fn patch_offset_and_epoch(batch: &mut BytesMut, base_offset: i64, leader_epoch: i32) {
    batch[0..8].copy_from_slice(&base_offset.to_be_bytes());
    batch[12..16].copy_from_slice(&leader_epoch.to_be_bytes());
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use bytes::Bytes;
    use kafka_protocol::records::Compression;

    use crate::storage::encode::{encode_batch, ProducerStamp};

    /// Encodes `count` records with values `value-<i>` into one batch, as a producer would.
    pub(crate) fn encoded_batch(count: usize, timestamp: i64, compression: Compression) -> BytesMut {
        let records = (0..count).map(|i| {
            let (key, value) = (format!("key-{i}"), format!("value-{i}"));
            (timestamp + i as i64, Some(Bytes::from(key)), Some(Bytes::from(value)))
        });
        encode_batch(records, ProducerStamp::NONE, compression).expect("encode batch")
    }

    #[test]
    fn validates_and_patches_without_breaking_the_crc() {
        let mut batch = encoded_batch(3, 1_000, Compression::None);
        let header = validate(&batch).expect("valid");
        assert_eq!(header.record_count, 3);
        assert_eq!(header.last_offset_delta, 2);
        header.check_producer_counts().expect("counts");
        patch_offset_and_epoch(&mut batch, 42, 7);
        let patched = validate(&batch).expect("still valid after patch");
        assert_eq!(patched.base_offset, 42);
        assert_eq!(patched.partition_leader_epoch, 7);
        assert_eq!(patched.last_offset(), 44);
        assert_eq!(patched.max_timestamp, 1_002);
    }

    #[test]
    fn encodes_a_header_that_validates() {
        let original = encoded_batch(3, 5_000, Compression::None);
        let header = validate(&original).expect("valid");
        let reencoded = encode(&header, &original[HEADER_LEN..]);
        assert_eq!(&reencoded[..], &original[..], "same header and records give the same bytes");
        let empty = BatchHeader { record_count: 0, attributes: header.attributes | DELETE_HORIZON_FLAG, ..header };
        let encoded = encode(&empty, &[]);
        let parsed = validate(&encoded).expect("an empty batch validates");
        assert_eq!((parsed.record_count, parsed.last_offset_delta, parsed.total_len()), (0, 2, HEADER_LEN));
        assert!(parsed.has_delete_horizon() && !parsed.is_control() && parsed.compression() == 0);
    }

    #[test]
    fn rejects_flipped_bits_and_truncation() {
        let batch = encoded_batch(2, 0, Compression::None);
        let mut corrupt = batch.clone();
        let last = corrupt.len() - 1;
        corrupt[last] ^= 0xff;
        assert!(matches!(validate(&corrupt), Err(BatchError::CrcMismatch { .. })));
        assert!(matches!(validate(&batch[..batch.len() - 1]), Err(BatchError::Truncated { .. })));
        assert!(matches!(validate(&batch[..10]), Err(BatchError::Truncated { .. })));
        let mut old_magic = batch.clone();
        old_magic[16] = 1;
        assert_eq!(validate(&old_magic), Err(BatchError::UnsupportedMagic(1)));
    }
}
