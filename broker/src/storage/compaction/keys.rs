//! The produce-side rule of compacted topics: every record needs a key, since compaction keeps the latest record
//! per key. Kafka refuses a keyless record with INVALID_RECORD; so does Tidemark. Only appends to compacted topics
//! decode records for this.

use super::codec;
use super::records::{records, RecordsError};
use crate::storage::batch::{BatchHeader, HEADER_LEN};
use crate::storage::StorageError;

/// Checks that every record of a validated batch has a key.
pub fn require_keys(batch: &[u8], header: &BatchHeader) -> Result<(), StorageError> {
    if header.is_control() {
        return Ok(());
    }
    let section = codec::decompress(header.compression(), &batch[HEADER_LEN..header.total_len()])?;
    let mut found = 0usize;
    for record in records(&section) {
        if record?.key.is_none() {
            return Err(StorageError::KeylessRecord);
        }
        found += 1;
    }
    if usize::try_from(header.record_count).ok() != Some(found) {
        return Err(RecordsError::CountMismatch { declared: header.record_count, found }.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use kafka_protocol::records::Compression;

    use super::*;
    use crate::storage::batch;
    use crate::storage::compaction::test_batches::{batch_of, Entry};

    fn check(entries: &[Entry], compression: Compression) -> Result<(), StorageError> {
        let bytes = batch_of(0, 0, entries, compression);
        require_keys(&bytes, &batch::validate(&bytes).expect("valid"))
    }

    #[test]
    fn compaction_refuses_keyless_records_only() {
        for compression in [Compression::None, Compression::Lz4, Compression::Zstd] {
            let keyed = [Entry::put("a", "1"), Entry::tombstone("b")];
            assert!(check(&keyed, compression).is_ok());
            let err = check(&[Entry::put("a", "1"), Entry::keyless("2")], compression).expect_err("keyless");
            assert!(matches!(err, StorageError::KeylessRecord));
            assert_eq!(err.to_string(), "Compacted topic cannot accept message without key");
        }
    }

    #[test]
    fn compaction_key_check_refuses_a_wrong_record_count() {
        let mut bytes = batch_of(0, 0, &[Entry::put("a", "1")], Compression::None);
        let header = batch::validate(&bytes).expect("valid");
        bytes.truncate(header.total_len());
        let lying = batch::BatchHeader { record_count: 2, ..header };
        let err = require_keys(&bytes, &lying).expect_err("count");
        assert!(matches!(err, StorageError::Records(RecordsError::CountMismatch { declared: 2, found: 1 })));
    }
}
