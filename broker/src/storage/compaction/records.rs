//! The records section of a RecordBatch v2, record by record, without copying: each record's offset and timestamp
//! deltas, key and whether it has a value, and its encoded bytes so that a kept record is copied as it is.
//!
//! A record is `length varint, attributes int8, timestampDelta varlong, offsetDelta varint, keyLength varint, key,
//! valueLength varint, value, headers`; lengths of -1 mean null, and varints are zigzag LEB128.

use bytes::{BufMut, BytesMut};
use thiserror::Error;

/// Why a records section could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RecordsError {
    /// A record or varint runs past the end of the section.
    #[error("record truncated")]
    Truncated,
    /// A varint is longer than its type allows.
    #[error("malformed varint")]
    BadVarint,
    /// A length below -1, or a record length below its fields.
    #[error("invalid record length {0}")]
    BadLength(i64),
    /// The batch's compression codec is unknown or its data does not decompress.
    #[error("compressed records: {0}")]
    Codec(String),
    /// The header's record count disagrees with the records present.
    #[error("batch declares {declared} records but holds {found}")]
    CountMismatch {
        /// Records the header declares.
        declared: i32,
        /// Records found.
        found: usize,
    },
}

/// One record of a batch, borrowed from the records section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordView<'a> {
    /// The record's `attributes` byte (unused by Kafka today).
    pub attributes: u8,
    /// Timestamp relative to the batch's base timestamp.
    pub timestamp_delta: i64,
    /// Offset relative to the batch's base offset.
    pub offset_delta: i32,
    /// The key, `None` when null.
    pub key: Option<&'a [u8]>,
    /// Whether the value is non-null (a record with a null value is a tombstone).
    pub has_value: bool,
    /// The whole encoded record, length prefix included.
    pub encoded: &'a [u8],
    /// The encoded bytes after the timestamp delta (offset delta, key, value, headers).
    after_timestamp: &'a [u8],
}

impl RecordView<'_> {
    /// Appends the record to `out`, re-encoded with another timestamp delta (its base timestamp changed).
    pub fn write_with_timestamp_delta(&self, timestamp_delta: i64, out: &mut BytesMut) {
        let mut delta = [0u8; 10];
        let delta_len = put_varlong(&mut delta, timestamp_delta);
        let body_len = 1 + delta_len + self.after_timestamp.len();
        let mut length = [0u8; 10];
        let length_len = put_varlong(&mut length, body_len as i64);
        out.reserve(length_len + body_len);
        out.put_slice(&length[..length_len]);
        out.put_u8(self.attributes);
        out.put_slice(&delta[..delta_len]);
        out.put_slice(self.after_timestamp);
    }
}

/// Iterates the records of an uncompressed records section.
pub fn records(section: &[u8]) -> Records<'_> {
    Records { rest: section }
}

/// Iterator over a records section; stops after the first error.
#[derive(Debug, Clone)]
pub struct Records<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<RecordView<'a>, RecordsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match parse_record(self.rest) {
            Ok((record, rest)) => {
                self.rest = rest;
                Some(Ok(record))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

fn parse_record(input: &[u8]) -> Result<(RecordView<'_>, &[u8]), RecordsError> {
    let (length, body) = varlong(input)?;
    let length = usize::try_from(length).map_err(|_| RecordsError::BadLength(length))?;
    if body.len() < length {
        return Err(RecordsError::Truncated);
    }
    let encoded = &input[..input.len() - body.len() + length];
    let (body, rest) = body.split_at(length);
    let (&attributes, fields) = body.split_first().ok_or(RecordsError::Truncated)?;
    let (timestamp_delta, after_timestamp) = varlong(fields)?;
    let (offset_delta, fields) = varlong(after_timestamp)?;
    let offset_delta = i32::try_from(offset_delta).map_err(|_| RecordsError::BadVarint)?;
    let (key, fields) = nullable_bytes(fields)?;
    let (value, _) = nullable_bytes(fields)?;
    let record = RecordView {
        attributes,
        timestamp_delta,
        offset_delta,
        key,
        has_value: value.is_some(),
        encoded,
        after_timestamp,
    };
    Ok((record, rest))
}

fn nullable_bytes(input: &[u8]) -> Result<(Option<&[u8]>, &[u8]), RecordsError> {
    let (length, rest) = varlong(input)?;
    match length {
        -1 => Ok((None, rest)),
        n if n < -1 => Err(RecordsError::BadLength(n)),
        n => {
            let n = usize::try_from(n).map_err(|_| RecordsError::BadLength(n))?;
            if rest.len() < n {
                return Err(RecordsError::Truncated);
            }
            let (bytes, rest) = rest.split_at(n);
            Ok((Some(bytes), rest))
        }
    }
}

/// Reads a zigzag LEB128 varint of up to 64 bits.
fn varlong(input: &[u8]) -> Result<(i64, &[u8]), RecordsError> {
    let mut raw: u64 = 0;
    for (i, &byte) in input.iter().enumerate().take(10) {
        raw |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            let value = (raw >> 1) as i64 ^ -((raw & 1) as i64);
            return Ok((value, &input[i + 1..]));
        }
    }
    if input.len() < 10 {
        Err(RecordsError::Truncated)
    } else {
        Err(RecordsError::BadVarint)
    }
}

/// Writes a zigzag LEB128 varint into `out`; returns its length.
fn put_varlong(out: &mut [u8; 10], value: i64) -> usize {
    let mut raw = ((value << 1) ^ (value >> 63)) as u64;
    let mut len = 0;
    loop {
        let byte = (raw & 0x7f) as u8;
        raw >>= 7;
        if raw == 0 {
            out[len] = byte;
            return len + 1;
        }
        out[len] = byte | 0x80;
        len += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::batch::{self, HEADER_LEN};
    use crate::storage::compaction::test_batches::{batch_of, Entry};
    use kafka_protocol::records::Compression;

    #[test]
    fn compaction_records_parse_keys_values_and_deltas() {
        let entries = [Entry::put("a", "1"), Entry::tombstone("b"), Entry::keyless("3")];
        let bytes = batch_of(100, 7_000, &entries, Compression::None);
        let parsed: Vec<RecordView<'_>> =
            records(&bytes[HEADER_LEN..]).collect::<Result<_, _>>().expect("well-formed records");
        assert_eq!(parsed.len(), 3);
        assert_eq!((parsed[0].key, parsed[0].has_value, parsed[0].offset_delta), (Some(&b"a"[..]), true, 0));
        assert_eq!((parsed[1].key, parsed[1].has_value, parsed[1].offset_delta), (Some(&b"b"[..]), false, 1));
        assert_eq!((parsed[2].key, parsed[2].has_value), (None, true));
        assert_eq!(parsed.iter().map(|r| r.encoded.len()).sum::<usize>(), bytes.len() - HEADER_LEN);
    }

    #[test]
    fn compaction_records_reencode_with_a_new_timestamp_delta() {
        let bytes = batch_of(0, 7_000, &[Entry::put("key", "value")], Compression::None);
        let record = records(&bytes[HEADER_LEN..]).next().expect("one").expect("valid");
        for delta in [0, -1, 86_400_000, i64::MIN, i64::MAX] {
            let mut out = BytesMut::new();
            record.write_with_timestamp_delta(delta, &mut out);
            let again = records(&out).next().expect("one").expect("valid");
            assert_eq!(again.timestamp_delta, delta);
            assert_eq!((again.key, again.has_value, again.offset_delta), (record.key, true, 0));
        }
        let header = batch::validate(&bytes).expect("valid");
        assert_eq!(header.record_count, 1);
    }

    #[test]
    fn compaction_records_refuse_malformed_input() {
        let bytes = batch_of(0, 0, &[Entry::put("key", "value")], Compression::None);
        let section = &bytes[HEADER_LEN..];
        let truncated = &section[..section.len() - 1];
        assert_eq!(records(truncated).next(), Some(Err(RecordsError::Truncated)));
        assert_eq!(records(&[0xff; 11]).next(), Some(Err(RecordsError::BadVarint)));
        // Length 1 (zigzag 2), then attributes, then a key length of -2 (zigzag 3) would be out of the record.
        assert_eq!(records(&[0x01]).next(), Some(Err(RecordsError::BadLength(-1))));
        let mut errors = records(&[0x01]);
        assert!(errors.next().is_some_and(|r| r.is_err()));
        assert_eq!(errors.next(), None, "iteration stops after an error");
    }
}
