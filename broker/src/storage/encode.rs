//! Encoding records into one RecordBatch v2 the way a producer does: for the broker's own topics
//! (`__consumer_offsets`), and for tests and benchmarks that must send exactly what a client would.

use bytes::{Bytes, BytesMut};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType};

use super::StorageError;

/// The idempotent producer a batch comes from, or [`ProducerStamp::NONE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerStamp {
    /// Producer id, or -1.
    pub producer_id: i64,
    /// Producer epoch, or -1.
    pub epoch: i16,
    /// Sequence of the first record, or -1.
    pub base_sequence: i32,
    /// Whether the batch claims to be part of a transaction.
    pub transactional: bool,
}

impl ProducerStamp {
    /// A batch from a producer that is not idempotent.
    pub const NONE: ProducerStamp =
        ProducerStamp { producer_id: -1, epoch: -1, base_sequence: -1, transactional: false };

    /// A batch from idempotent producer `producer_id` at `epoch`, starting at `base_sequence`.
    pub fn idempotent(producer_id: i64, epoch: i16, base_sequence: i32) -> Self {
        ProducerStamp { producer_id, epoch, base_sequence, transactional: false }
    }
}

/// One record to encode: its timestamp, key and value.
pub type NewRecord = (i64, Option<Bytes>, Option<Bytes>);

/// A record's headers in order, as kafka-protocol models them: one value per key (a repeated key keeps its first
/// position and its last value).
pub type RecordHeaders = IndexMap<StrBytes, Option<Bytes>>;

/// One record to encode with headers: its timestamp, key, value and headers.
pub type NewRecordWithHeaders = (i64, Option<Bytes>, Option<Bytes>, RecordHeaders);

/// Encodes records into a single batch.
pub fn encode_batch(
    records: impl IntoIterator<Item = NewRecord>,
    producer: ProducerStamp,
    compression: Compression,
) -> Result<BytesMut, StorageError> {
    let records = records.into_iter().map(|(timestamp, key, value)| (timestamp, key, value, RecordHeaders::new()));
    encode_batch_with_headers(records, producer, compression)
}

/// Bytes of a RecordBatch v2 header.
pub const BATCH_OVERHEAD: usize = 61;
/// Most bytes a record's own fields take besides its key, value and headers (length, attributes, timestamp and
/// offset deltas, key and value lengths, header count, as varints at their longest).
pub const RECORD_OVERHEAD: usize = 40;
/// Most bytes a header's two length varints take.
pub const HEADER_OVERHEAD: usize = 10;

/// About the bytes `record` takes in a batch, at most: its key, value and headers and the overheads above.
fn record_size_estimate(record: &Record) -> usize {
    let data = |bytes: &Option<Bytes>| bytes.as_ref().map_or(0, Bytes::len);
    let headers: usize = record.headers.iter().map(|(key, value)| HEADER_OVERHEAD + key.len() + data(value)).sum();
    RECORD_OVERHEAD + data(&record.key) + data(&record.value) + headers
}

/// Encodes records that carry headers into a single batch.
pub fn encode_batch_with_headers(
    records: impl IntoIterator<Item = NewRecordWithHeaders>,
    producer: ProducerStamp,
    compression: Compression,
) -> Result<BytesMut, StorageError> {
    let records: Vec<Record> = records
        .into_iter()
        .enumerate()
        .map(|(i, (timestamp, key, value, headers))| Record {
            transactional: producer.transactional,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: producer.producer_id,
            producer_epoch: producer.epoch,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // The encoder takes the batch's base sequence from the first record and groups records whose offset
            // minus sequence is constant, so consecutive sequences from the base keep them in one batch (and a
            // base of -1 yields the -1 of a producer that is not idempotent).
            sequence: producer.base_sequence.wrapping_add(i as i32),
            timestamp,
            key,
            value,
            headers,
        })
        .collect();
    // Room for the records uncompressed, so the buffer is not grown (and copied) while they are written.
    let payload: usize = records.iter().map(record_size_estimate).sum();
    let mut buf = BytesMut::with_capacity(BATCH_OVERHEAD + payload);
    let options = RecordEncodeOptions { version: 2, compression };
    RecordBatchEncoder::encode(&mut buf, &records, &options).map_err(|e| StorageError::Encode(e.to_string()))?;
    Ok(buf)
}
