//! Idempotent producers against a whole partition log: duplicates, refusals, and producer state rebuilt after a
//! restart from snapshots and batch headers, across rolls, retention and torn tails.

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};
use kafka_protocol::records::Compression;

use super::encode::{encode_batch, ProducerStamp};
use super::producer_state::ProducerStateError;
use super::{AppendInfo, LogActivity, PartitionLog, StorageError, TopicConfig};

const PRODUCER: i64 = 42;

fn config(pairs: &[(&str, &str)]) -> TopicConfig {
    let overrides: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    TopicConfig::from_overrides(&overrides).expect("valid config")
}

/// A batch of `count` records from producer `producer_id` at `epoch`, starting at `sequence`.
fn batch(producer_id: i64, epoch: i16, sequence: i32, count: i32) -> BytesMut {
    let records = (0..count).map(|i| {
        let value = format!("{producer_id}-{epoch}-{}", sequence.wrapping_add(i));
        (1_000, None, Some(Bytes::from(value)))
    });
    encode_batch(records, ProducerStamp::idempotent(producer_id, epoch, sequence), Compression::None).expect("encode")
}

async fn append(log: &PartitionLog, batch: BytesMut, config: &TopicConfig) -> Result<AppendInfo, StorageError> {
    let info = log.append(batch, config, 1_000)?;
    log.wait_durable(info.last_offset + 1).await?;
    Ok(info)
}

fn open(dir: &std::path::Path) -> std::sync::Arc<PartitionLog> {
    PartitionLog::open(dir, LogActivity::default(), 1_000).expect("open")
}

fn snapshots(dir: &std::path::Path) -> usize {
    let names = std::fs::read_dir(dir).expect("ls").filter_map(|e| e.ok().map(|e| e.file_name()));
    names.filter(|n| n.to_string_lossy().ends_with(".snapshot")).count()
}

#[tokio::test]
async fn a_retry_is_acknowledged_with_its_original_offsets_and_not_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = TopicConfig::default();
    let log = open(dir.path());
    let first = append(&log, batch(PRODUCER, 0, 0, 3), &config).await.expect("first");
    append(&log, batch(-1, -1, -1, 2), &config).await.expect("a plain batch in between");
    let second = append(&log, batch(PRODUCER, 0, 3, 2), &config).await.expect("second");
    assert_eq!((first.base_offset, second.base_offset), (0, 5));
    for (retry, original) in [(batch(PRODUCER, 0, 0, 3), first), (batch(PRODUCER, 0, 3, 2), second)] {
        let info = append(&log, retry, &config).await.expect("duplicate");
        assert!(info.duplicate);
        assert_eq!((info.base_offset, info.last_offset), (original.base_offset, original.last_offset));
    }
    assert_eq!(log.high_watermark(), 7, "nothing was written twice");
    assert!(!append(&log, batch(PRODUCER, 0, 5, 1), &config).await.expect("next").duplicate);
}

#[tokio::test]
async fn out_of_order_and_stale_batches_are_refused_and_not_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = TopicConfig::default();
    let log = open(dir.path());
    append(&log, batch(PRODUCER, 1, 0, 2), &config).await.expect("first");
    let gap = log.append(batch(PRODUCER, 1, 3, 1), &config, 1_000);
    assert!(matches!(gap, Err(StorageError::Producer(ProducerStateError::OutOfOrderSequence { expected: 2, .. }))));
    let stale = log.append(batch(PRODUCER, 0, 2, 1), &config, 1_000);
    assert!(matches!(stale, Err(StorageError::Producer(ProducerStateError::StaleEpoch { current: 1, .. }))));
    let unknown = log.append(batch(PRODUCER + 1, 0, 7, 1), &config, 1_000);
    assert!(matches!(unknown, Err(StorageError::Producer(ProducerStateError::UnknownProducer { .. }))));
    assert_eq!(log.read(0, 1 << 20, true).expect("read").high_watermark, 2);
    assert_eq!(append(&log, batch(PRODUCER, 1, 2, 1), &config).await.expect("in order").base_offset, 2);
}

#[tokio::test]
async fn producer_state_survives_a_restart_with_and_without_snapshots() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(&[("segment.bytes", "1024")]);
    let log = open(dir.path());
    let mut last = Vec::new();
    for i in 0..40 {
        // Two producers interleaved over many segments.
        let producer = PRODUCER + i64::from(i % 2);
        last.push(append(&log, batch(producer, 0, (i / 2) * 3, 3), &config).await.expect("append"));
    }
    log.close();
    drop(log);
    assert!(snapshots(dir.path()) > 1, "rolled segments left snapshots");

    for remove_snapshots in [false, true] {
        if remove_snapshots {
            for entry in std::fs::read_dir(dir.path()).expect("ls").flatten() {
                if entry.file_name().to_string_lossy().ends_with(".snapshot") {
                    std::fs::remove_file(entry.path()).expect("rm");
                }
            }
        }
        let log = open(dir.path());
        for (i, original) in last.iter().enumerate().skip(30) {
            let producer = PRODUCER + (i % 2) as i64;
            let retry = append(&log, batch(producer, 0, (i as i32 / 2) * 3, 3), &config).await.expect("retry");
            assert!(retry.duplicate, "batch {i} (snapshots removed: {remove_snapshots})");
            assert_eq!(retry.base_offset, original.base_offset);
        }
        let gap = log.append(batch(PRODUCER, 0, 61, 1), &config, 1_000);
        assert!(matches!(gap, Err(StorageError::Producer(ProducerStateError::OutOfOrderSequence { .. }))));
        assert_eq!(log.high_watermark(), 120);
        log.close();
    }
    assert_eq!(snapshots(dir.path()), 1, "a start-up that read rolled segments leaves a snapshot behind");
}

#[tokio::test]
async fn a_torn_batch_is_not_remembered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = TopicConfig::default();
    let log = open(dir.path());
    append(&log, batch(PRODUCER, 0, 0, 2), &config).await.expect("first");
    append(&log, batch(PRODUCER, 0, 2, 2), &config).await.expect("second");
    log.close();
    drop(log);
    let segment = dir.path().join("00000000000000000000.log");
    let len = std::fs::metadata(&segment).expect("stat").len();
    std::fs::OpenOptions::new().write(true).open(&segment).expect("open").set_len(len - 5).expect("tear");

    let log = open(dir.path());
    assert_eq!(log.high_watermark(), 2, "the torn batch is gone");
    let retried = append(&log, batch(PRODUCER, 0, 2, 2), &config).await.expect("retry");
    assert!(!retried.duplicate, "the torn batch is written again");
    assert_eq!(retried.base_offset, 2);
}

#[tokio::test]
async fn retention_does_not_forget_producers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sized = config(&[("segment.bytes", "1024"), ("retention.bytes", "1024")]);
    let log = open(dir.path());
    append(&log, batch(PRODUCER, 0, 0, 3), &sized).await.expect("the producer's only batch");
    for sequence in (0..60).step_by(3) {
        append(&log, batch(PRODUCER + 1, 0, sequence, 3), &sized).await.expect("another producer");
    }
    assert!(log.enforce_retention(&sized, 1_000).expect("retention") > 0);
    assert!(log.log_start_offset() > 3, "the first producer's batch is deleted");
    log.close();
    drop(log);

    let log = open(dir.path());
    let next = append(&log, batch(PRODUCER, 0, 3, 1), &sized).await.expect("known after retention and restart");
    assert!(!next.duplicate);
    let retry = append(&log, batch(PRODUCER, 0, 0, 3), &sized).await.expect("retry");
    assert!(retry.duplicate && retry.base_offset == 0, "recognised although its batch was deleted, as Kafka does");
    let gap = log.append(batch(PRODUCER, 0, 5, 1), &sized, 1_000);
    assert!(matches!(gap, Err(StorageError::Producer(ProducerStateError::OutOfOrderSequence { .. }))));
}
