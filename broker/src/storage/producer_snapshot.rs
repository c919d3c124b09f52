//! Producer-state snapshots: `<offset>.snapshot` in a partition directory holds the state of every idempotent
//! producer after all batches below `offset`. One is written when a segment rolls (at the new segment's base
//! offset), so start-up reads the latest snapshot and only the batch headers written after it, which lie in the
//! active segment that recovery scans anyway. Only the latest [`SNAPSHOTS_KEPT`] are kept (the older ones serve
//! only when a later one is unreadable), and retention deletes those below the log start offset; the producers'
//! state lives on in the later snapshots, so deleting a producer's batches does not forget it.
//!
//! Format (big-endian), Tidemark's own though named like Kafka's: version `i16` (1), CRC32C `u32` of the rest,
//! producer count `i32`, then per producer: id `i64`, epoch `i16`, last-seen time `i64` (ms), batch count `u8`
//! (1 to 5), and per batch first and last sequence (`i32` each) and first and last offset (`i64` each).

use std::collections::{HashMap, VecDeque};
use std::io;
use std::path::{Path, PathBuf};

use bytes::{Buf, BufMut, BytesMut};

use super::atomic_file::write_atomically;
use super::producer_state::{BatchMetadata, ProducerEntry, ProducerStates, BATCHES_PER_PRODUCER};
use super::segment::file_name;

const EXTENSION: &str = "snapshot";
/// Snapshots kept per partition.
pub const SNAPSHOTS_KEPT: usize = 3;
const VERSION: i16 = 1;
/// Version and CRC.
const PREAMBLE_LEN: usize = 6;
/// Id, epoch, last-seen time and batch count.
const ENTRY_LEN: usize = 8 + 2 + 8 + 1;
const BATCH_LEN: usize = 4 + 4 + 8 + 8;

/// Writes the snapshot of `states` at `offset`, atomically, and deletes all but the latest [`SNAPSHOTS_KEPT`].
pub fn write(dir: &Path, offset: i64, states: &ProducerStates) -> io::Result<()> {
    write_atomically(&path(dir, offset), &encode(states))?;
    for old in list(dir)?.into_iter().rev().skip(SNAPSHOTS_KEPT) {
        std::fs::remove_file(path(dir, old))?;
    }
    Ok(())
}

/// Loads the latest readable snapshot at or below `max_offset` and returns its offset and state. Snapshots above
/// `max_offset` describe log that is not there and are deleted; unreadable ones are skipped with a warning.
pub fn load_latest(dir: &Path, max_offset: i64) -> io::Result<Option<(i64, ProducerStates)>> {
    let mut offsets = list(dir)?;
    while let Some(offset) = offsets.pop() {
        let path = path(dir, offset);
        if offset > max_offset {
            std::fs::remove_file(&path)?;
            continue;
        }
        match decode(&std::fs::read(&path)?) {
            Ok(states) => return Ok(Some((offset, states))),
            Err(e) => tracing::warn!(file = %path.display(), error = %e, "skipping an unreadable producer snapshot"),
        }
    }
    Ok(None)
}

/// Deletes the snapshots below `offset` (the new log start offset after retention).
pub fn delete_below(dir: &Path, offset: i64) -> io::Result<()> {
    for old in list(dir)?.into_iter().filter(|&o| o < offset) {
        std::fs::remove_file(path(dir, old))?;
    }
    Ok(())
}

fn path(dir: &Path, offset: i64) -> PathBuf {
    dir.join(file_name(offset, EXTENSION))
}

/// Offsets of the snapshots in `dir`, ascending.
fn list(dir: &Path) -> io::Result<Vec<i64>> {
    let mut offsets = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        let offset = name.strip_suffix(EXTENSION).and_then(|n| n.strip_suffix('.')).and_then(|n| n.parse::<i64>().ok());
        offsets.extend(offset);
    }
    offsets.sort_unstable();
    Ok(offsets)
}

fn encode(states: &ProducerStates) -> Vec<u8> {
    let mut body = BytesMut::with_capacity(4 + states.len() * (ENTRY_LEN + BATCH_LEN * BATCHES_PER_PRODUCER));
    body.put_i32(states.len() as i32);
    for (producer_id, entry) in states.entries() {
        body.put_i64(producer_id);
        body.put_i16(entry.epoch);
        body.put_i64(entry.last_seen_ms);
        body.put_u8(entry.batches.len() as u8);
        for batch in &entry.batches {
            body.put_i32(batch.first_sequence);
            body.put_i32(batch.last_sequence);
            body.put_i64(batch.first_offset);
            body.put_i64(batch.last_offset);
        }
    }
    let mut file = Vec::with_capacity(PREAMBLE_LEN + body.len());
    file.put_i16(VERSION);
    file.put_u32(crc32c::crc32c(&body));
    file.extend_from_slice(&body);
    file
}

fn decode(file: &[u8]) -> io::Result<ProducerStates> {
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("producer snapshot: {what}"));
    let mut buf = file;
    if buf.remaining() < PREAMBLE_LEN + 4 {
        return Err(invalid("truncated"));
    }
    if buf.get_i16() != VERSION {
        return Err(invalid("unknown version"));
    }
    let crc = buf.get_u32();
    if crc32c::crc32c(buf) != crc {
        return Err(invalid("CRC mismatch"));
    }
    let count = usize::try_from(buf.get_i32()).map_err(|_| invalid("negative producer count"))?;
    let mut producers = HashMap::with_capacity(count.min(buf.remaining() / ENTRY_LEN));
    for _ in 0..count {
        if buf.remaining() < ENTRY_LEN {
            return Err(invalid("truncated producer"));
        }
        let producer_id = buf.get_i64();
        let epoch = buf.get_i16();
        let last_seen_ms = buf.get_i64();
        let batch_count = usize::from(buf.get_u8());
        if !(1..=BATCHES_PER_PRODUCER).contains(&batch_count) || buf.remaining() < batch_count * BATCH_LEN {
            return Err(invalid("bad batch list"));
        }
        let batches: VecDeque<BatchMetadata> = (0..batch_count)
            .map(|_| BatchMetadata {
                first_sequence: buf.get_i32(),
                last_sequence: buf.get_i32(),
                first_offset: buf.get_i64(),
                last_offset: buf.get_i64(),
            })
            .collect();
        producers.insert(producer_id, ProducerEntry { epoch, batches, last_seen_ms });
    }
    if buf.has_remaining() {
        return Err(invalid("trailing bytes"));
    }
    Ok(ProducerStates::from_entries(producers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::batch::BatchHeader;

    fn states() -> ProducerStates {
        let mut states = ProducerStates::default();
        for (producer_id, batches) in [(11, 7), (12, 1), (i64::MAX, 2)] {
            for i in 0..batches {
                let header = BatchHeader {
                    base_offset: i64::from(i) * 10,
                    batch_length: 100,
                    partition_leader_epoch: 0,
                    magic: 2,
                    crc: 0,
                    attributes: 0,
                    last_offset_delta: 9,
                    base_timestamp: 0,
                    max_timestamp: 0,
                    producer_id,
                    producer_epoch: 3,
                    base_sequence: i * 10,
                    record_count: 10,
                };
                states.apply(&header, 1_234);
            }
        }
        states
    }

    #[test]
    fn round_trips_and_keeps_only_the_latest_usable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let states = states();
        write(dir.path(), 100, &ProducerStates::default()).expect("write");
        write(dir.path(), 200, &states).expect("write");
        write(dir.path(), 300, &states).expect("write");
        assert!(dir.path().join("00000000000000000200.snapshot").exists());
        let (offset, loaded) = load_latest(dir.path(), 250).expect("load").expect("a snapshot");
        assert_eq!((offset, &loaded), (200, &states));
        assert!(!path(dir.path(), 300).exists(), "a snapshot beyond the log end is deleted");

        std::fs::write(path(dir.path(), 200), b"\0\x01garbage").expect("corrupt");
        let (offset, loaded) = load_latest(dir.path(), 250).expect("load").expect("an older snapshot");
        assert_eq!((offset, loaded.len()), (100, 0), "an unreadable snapshot is skipped");

        delete_below(dir.path(), 150).expect("delete");
        assert_eq!(list(dir.path()).expect("list"), vec![200]);
        for offset in [400, 500, 600] {
            write(dir.path(), offset, &states).expect("write");
        }
        assert_eq!(list(dir.path()).expect("list"), vec![400, 500, 600], "only the latest are kept");
    }

    #[test]
    fn refuses_damaged_files_without_panicking() {
        let encoded = encode(&states());
        assert!(decode(&encoded).is_ok());
        for len in 0..encoded.len() {
            assert!(decode(&encoded[..len]).is_err(), "truncated to {len}");
        }
        for i in 0..encoded.len() {
            let mut flipped = encoded.clone();
            flipped[i] ^= 0x40;
            assert!(decode(&flipped).is_err(), "bit flipped at {i}");
        }
    }
}
