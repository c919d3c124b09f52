//! Partition logs replicating between replicas: followers built from a leader's reads, truncation by epoch
//! (KIP-101, KIP-279), producer state after truncation, and the high watermark limit.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::records::Compression;

use super::batch::{self, BatchError};
use super::encode::{encode_batch, ProducerStamp};
use super::producer_state::ProducerStateError;
use super::{AppendInfo, LogActivity, PartitionLog, StorageError, TopicConfig};

const NOW: i64 = 1_000;

fn config(pairs: &[(&str, &str)]) -> TopicConfig {
    let overrides: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    TopicConfig::from_overrides(&overrides).expect("valid config")
}

fn small_segments() -> TopicConfig {
    config(&[("segment.bytes", "1024")])
}

fn open(dir: &Path) -> Arc<PartitionLog> {
    PartitionLog::open(dir, LogActivity::default(), NOW).expect("open")
}

/// A batch of `count` keyed records, from idempotent producer `producer` at `sequence` when given.
fn batch(count: i32, producer: Option<(i64, i32)>) -> BytesMut {
    let records = (0..count).map(|i| (NOW + i64::from(i), Some(Bytes::from(format!("k{i}"))), Some(Bytes::from("v"))));
    let stamp = producer.map_or(ProducerStamp::NONE, |(id, sequence)| ProducerStamp::idempotent(id, 0, sequence));
    encode_batch(records, stamp, Compression::None).expect("encode")
}

async fn append(log: &PartitionLog, batch: BytesMut, config: &TopicConfig) -> Result<AppendInfo, StorageError> {
    let info = log.append(batch, config, NOW)?;
    log.wait_durable(info.last_offset + 1).await?;
    Ok(info)
}

/// Fetches from `leader` into `follower` like a replica fetcher, until the follower has all the leader's durable
/// batches.
async fn replicate(leader: &PartitionLog, follower: &PartitionLog, config: &TopicConfig) {
    loop {
        let offset = follower.log_end_offset();
        let read = leader.read_for_replica(offset, 700).expect("leader read");
        if read.records.is_empty() {
            break;
        }
        let end = follower.append_replicated(&read.records, config, NOW).expect("replicated append");
        assert!(end > offset);
        follower.wait_durable(end).await.expect("durable");
        follower.set_high_watermark_limit(Some(read.high_watermark));
    }
}

/// Every batch of the log, as stored.
fn batches(log: &PartitionLog) -> Vec<Bytes> {
    let mut all = Vec::new();
    let mut offset = log.log_start_offset();
    while offset < log.durable_offset() {
        let chunk = log.read_for_replica(offset, usize::MAX).expect("read").records;
        assert!(!chunk.is_empty(), "no batch at {offset}");
        let mut position = 0;
        while position < chunk.len() {
            let header = batch::validate(&chunk[position..]).expect("whole batch");
            all.push(chunk.slice(position..position + header.total_len()));
            offset = header.last_offset() + 1;
            position += header.total_len();
        }
    }
    all
}

fn header(bytes: &[u8]) -> batch::BatchHeader {
    batch::validate(bytes).expect("valid batch")
}

fn files(dir: &Path, extension: &str) -> Vec<i64> {
    let mut bases: Vec<i64> = std::fs::read_dir(dir)
        .expect("ls")
        .filter_map(|e| e.ok()?.file_name().to_string_lossy().strip_suffix(extension)?.parse().ok())
        .collect();
    bases.sort_unstable();
    bases
}

/// A leader with epochs 1 (offsets 0..15), 3 (15..30) and 4 (30..45) in batches of 3, over several segments.
async fn leader_with_epochs(dir: &Path, config: &TopicConfig) -> Arc<PartitionLog> {
    let leader = open(dir);
    for (epoch, batches) in [(1, 5), (3, 5), (4, 5)] {
        leader.become_leader(epoch).expect("epoch");
        for _ in 0..batches {
            append(&leader, batch(3, None), config).await.expect("append");
        }
    }
    leader
}

#[tokio::test]
async fn a_follower_holds_the_leaders_batches_byte_for_byte() {
    let (leader_dir, follower_dir) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
    let config = small_segments();
    let leader = leader_with_epochs(leader_dir.path(), &config).await;
    append(&leader, batch(2, Some((7, 0))), &config).await.expect("idempotent batch");
    let follower = open(follower_dir.path());
    replicate(&leader, &follower, &config).await;

    assert_eq!(follower.log_end_offset(), 47);
    assert_eq!(batches(&follower), batches(&leader), "same bytes, offsets and epochs");
    assert!(files(follower_dir.path(), ".log").len() > 1, "the follower rolls segments too");
    for epoch in 0..6 {
        assert_eq!(follower.end_offset_for_epoch(epoch), leader.end_offset_for_epoch(epoch), "epoch {epoch}");
    }
    assert_eq!(follower.leader_epoch(), 4);
    assert_eq!((follower.high_watermark(), follower.durable_offset()), (47, 47));

    // The replicated producer state: a retry is a duplicate once this replica leads, the next batch is in order.
    follower.become_leader(5).expect("lead");
    let retry = append(&follower, batch(2, Some((7, 0))), &config).await.expect("retry");
    assert!(retry.duplicate && retry.base_offset == 45);
    let gap = follower.append(batch(1, Some((7, 3))), &config, NOW);
    assert!(matches!(gap, Err(StorageError::Producer(ProducerStateError::OutOfOrderSequence { .. }))));

    // A reopened follower is the same log.
    follower.close();
    drop(follower);
    let reopened = open(follower_dir.path());
    assert_eq!(batches(&reopened), batches(&leader));
    assert_eq!(reopened.end_offset_for_epoch(3), Some((3, 30)));
}

#[tokio::test]
async fn replicated_appends_refuse_what_does_not_continue_the_log() {
    let (leader_dir, follower_dir) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
    let config = TopicConfig::default();
    let leader = open(leader_dir.path());
    for _ in 0..3 {
        append(&leader, batch(2, None), &config).await.expect("append");
    }
    let all = leader.read_for_replica(0, usize::MAX).expect("read").records;
    let follower = open(follower_dir.path());
    assert_eq!(follower.append_replicated(&all[..all.len() - 5], &config, NOW).expect("append"), 4, "partial tail");
    let again = follower.append_replicated(&all, &config, NOW);
    assert!(matches!(again, Err(StorageError::OffsetMismatch { expected: 4, found: 0 })));

    let third = all.slice(header(&all).total_len() * 2..);
    let mut reversed = third.to_vec();
    reversed.extend_from_slice(&all[..header(&all).total_len()]);
    let out_of_order = follower.append_replicated(&reversed, &config, NOW);
    assert!(matches!(out_of_order, Err(StorageError::OffsetMismatch { expected: 6, found: 0 })));
    let mut corrupt = third.to_vec();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 1;
    let refused = follower.append_replicated(&corrupt, &config, NOW);
    assert!(matches!(refused, Err(StorageError::InvalidBatch(BatchError::CrcMismatch { .. }))));
    assert_eq!(follower.log_end_offset(), 4, "nothing of a refused fetch is written");
    assert_eq!(follower.append_replicated(&[], &config, NOW).expect("nothing"), 4);

    // A compacted leader log has offset gaps: a batch may start above the log end offset.
    let mut later = BytesMut::from(&third[..]);
    batch::patch_offset_and_epoch(&mut later, 10, 0);
    assert_eq!(follower.append_replicated(&later, &config, NOW).expect("gap"), 12);
    follower.wait_durable(12).await.expect("durable");
    let read = follower.read(5, usize::MAX, true).expect("read in the gap");
    assert_eq!(header(&read.records).base_offset, 10);
}

#[tokio::test]
async fn truncation_within_and_across_segments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = small_segments();
    let log = open(dir.path());
    for _ in 0..40 {
        append(&log, batch(3, None), &config).await.expect("append");
    }
    let segments = files(dir.path(), ".log");
    assert!(segments.len() > 3, "{segments:?}");
    let (second, third) = (segments[1], segments[2]);

    // Inside the last segment, at a batch boundary.
    log.truncate_to(114).expect("truncate");
    assert_eq!((log.log_end_offset(), log.durable_offset(), log.high_watermark()), (114, 114, 114));
    // Inside a batch: the whole batch goes.
    log.truncate_to(third + 4).expect("truncate");
    assert_eq!(log.log_end_offset(), third + 3);
    assert_eq!(files(dir.path(), ".log"), segments[..3].to_vec(), "segments above are deleted");
    assert_eq!(files(dir.path(), ".index"), segments[..3].to_vec());
    // At a segment's base offset: that segment stays, empty, as the active one.
    log.truncate_to(third).expect("truncate");
    assert_eq!(log.log_end_offset(), third);
    assert_eq!(files(dir.path(), ".log"), segments[..3].to_vec());
    // Inside a rolled segment (its indexes were sealed): it becomes the active segment again.
    log.truncate_to(second + 7).expect("truncate");
    assert_eq!(log.log_end_offset(), second + 6);
    assert_eq!(files(dir.path(), ".log"), segments[..2].to_vec());
    log.truncate_to(second + 100).expect("no-op past the end");
    assert_eq!(log.log_end_offset(), second + 6);
    assert!(matches!(log.read(second + 9, 100, true), Err(StorageError::OffsetOutOfRange { .. })));

    let next = append(&log, batch(3, None), &config).await.expect("append after truncation");
    assert_eq!(next.base_offset, second + 6);
    for _ in 0..10 {
        append(&log, batch(3, None), &config).await.expect("append");
    }
    let expected = batches(&log);
    let offsets: Vec<i64> = expected.iter().map(|b| header(b).base_offset).collect();
    assert_eq!(offsets, (0..second / 3 + 13).map(|i| i * 3).collect::<Vec<_>>(), "contiguous offsets");
    assert_eq!(log.offset_for_timestamp(NOW + 2).expect("lookup").map(|f| f.offset), Some(2));
    log.close();
    drop(log);

    let reopened = open(dir.path());
    assert_eq!(reopened.log_end_offset(), second + 39);
    assert_eq!(batches(&reopened), expected);
    assert_eq!(append(&reopened, batch(1, None), &config).await.expect("append").base_offset, second + 39);
}

#[tokio::test]
async fn truncation_to_an_index_entry_keeps_the_index_consistent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = TopicConfig::default();
    let log = open(dir.path());
    // Batches of ~1 KiB: the offset index gets an entry every few batches.
    for _ in 0..30 {
        append(&log, batch(40, None), &config).await.expect("append");
    }
    for cut in [1_000, 640, 400, 399, 41, 0] {
        log.truncate_to(cut).expect("truncate");
        let end = log.log_end_offset();
        assert_eq!(end, cut / 40 * 40, "cut at {cut}");
        for offset in (0..end).step_by(13) {
            let read = log.read(offset, 1, true).expect("read");
            let found = header(&read.records);
            assert!(found.base_offset <= offset && found.last_offset() >= offset, "offset {offset} after cut {cut}");
        }
    }
    assert_eq!(append(&log, batch(40, None), &config).await.expect("append").base_offset, 0);
    log.close();
    drop(log);
    assert_eq!(open(dir.path()).log_end_offset(), 40);
}

#[tokio::test]
async fn an_idempotent_producer_continues_from_the_truncated_point() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = small_segments();
    let log = open(dir.path());
    let mut sent = Vec::new();
    for i in 0..40 {
        // Producer 7 interleaved with plain batches, over many segments (and their producer snapshots).
        sent.push(append(&log, batch(3, Some((7, i * 3))), &config).await.expect("append"));
        append(&log, batch(2, None), &config).await.expect("append");
    }
    assert!(!files(dir.path(), ".snapshot").is_empty());
    // First just below the latest snapshots, then below all of them: the producer state is rebuilt from an older
    // snapshot, then from the batches alone.
    for cut_batch in [36, 20] {
        let cut = sent[cut_batch].base_offset;
        log.truncate_to(cut).expect("truncate");
        assert!(files(dir.path(), ".snapshot").iter().all(|&s| s <= cut), "snapshots past the end are deleted");
        assert_eq!(files(dir.path(), ".snapshot").is_empty(), cut_batch == 20, "an older snapshot is left at first");
        let kept = append(&log, batch(3, Some((7, (cut_batch as i32 - 1) * 3))), &config).await.expect("kept");
        assert!(kept.duplicate && kept.base_offset == sent[cut_batch - 1].base_offset, "a kept batch is a duplicate");
        let gap = log.append(batch(3, Some((7, (cut_batch as i32 + 1) * 3))), &config, NOW);
        assert!(matches!(gap, Err(StorageError::Producer(ProducerStateError::OutOfOrderSequence { .. }))));
        let retried = append(&log, batch(3, Some((7, cut_batch as i32 * 3))), &config).await.expect("retry");
        assert!(!retried.duplicate, "a truncated batch is written again");
        assert_eq!(retried.base_offset, cut);
        sent.truncate(cut_batch);
        sent.push(retried);
    }
    log.close();
    drop(log);

    let log = open(dir.path());
    let last = append(&log, batch(3, Some((7, 60))), &config).await.expect("retry after reopen");
    assert!(last.duplicate && last.base_offset == sent[20].base_offset);
    let next = append(&log, batch(3, Some((7, 63))), &config).await.expect("next");
    assert!(!next.duplicate && next.base_offset == sent[20].last_offset + 1);
}

#[tokio::test]
async fn a_diverged_follower_truncates_by_epoch() {
    let config = TopicConfig::default();
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().expect("tempdir")).collect();
    let (a, b) = (open(dirs[0].path()), open(dirs[1].path()));

    // KIP-101: A leads epoch 1 and writes 0..10; B replicates 0..6 only.
    a.become_leader(1).expect("epoch");
    for _ in 0..5 {
        append(&a, batch(2, None), &config).await.expect("append");
    }
    let first_three = a.read_for_replica(0, 1).expect("read");
    b.append_replicated(&first_three.records, &config, NOW).expect("replicate");
    let next_two = a.read_for_replica(2, 1).expect("read");
    b.append_replicated(&next_two.records, &config, NOW).expect("replicate");
    let next = a.read_for_replica(4, 1).expect("read");
    b.append_replicated(&next.records, &config, NOW).expect("replicate");
    assert_eq!(b.log_end_offset(), 6);
    // A also writes in epoch 2, alone (then fails).
    a.become_leader(2).expect("epoch");
    append(&a, batch(4, None), &config).await.expect("append");
    // B is elected with epoch 3 and writes 6..9.
    b.become_leader(3).expect("epoch");
    append(&b, batch(3, None), &config).await.expect("append");
    assert_eq!(b.end_offset_for_epoch(1), Some((1, 6)));
    assert_eq!(b.end_offset_for_epoch(3), Some((3, 9)));

    // KIP-279: A asks B where its latest epoch (2) ends: B knows epoch 1 only below it, ending at 6.
    assert_eq!(a.leader_epoch(), 2);
    let (epoch, leader_end) = b.end_offset_for_epoch(a.leader_epoch()).expect("answer");
    assert_eq!((epoch, leader_end), (1, 6));
    let (_, local_end) = a.end_offset_for_epoch(epoch).expect("local end of epoch 1");
    assert_eq!(local_end, 10);
    a.truncate_to(leader_end.min(local_end)).expect("truncate");
    assert_eq!((a.log_end_offset(), a.leader_epoch()), (6, 1));
    assert_eq!(a.end_offset_for_epoch(2), None, "epoch 2 is forgotten: newer than the latest");

    replicate(&b, &a, &config).await;
    assert_eq!(batches(&a), batches(&b));
    assert_eq!(
        (a.leader_epoch(), a.end_offset_for_epoch(1), a.end_offset_for_epoch(2)),
        (3, Some((1, 6)), Some((1, 6)))
    );
    assert_eq!(a.end_offset_for_epoch(0), Some((0, 0)), "older than every epoch: the first start offset");
    assert_eq!(a.end_offset_for_epoch(4), None);
    assert_eq!(a.end_offset_for_epoch(-1), None);
}

#[tokio::test]
async fn the_high_watermark_follows_its_limit_and_never_goes_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = TopicConfig::default();
    let log = open(dir.path());
    log.set_high_watermark_limit(Some(4));
    for _ in 0..5 {
        append(&log, batch(2, None), &config).await.expect("append");
    }
    assert_eq!((log.durable_offset(), log.high_watermark()), (10, 4));
    let read = log.read(0, usize::MAX, true).expect("read");
    assert_eq!(
        (header(&read.records).base_offset, read.records.len(), read.high_watermark),
        (0, 2 * header(&read.records).total_len(), 4)
    );
    let past = log.read(6, usize::MAX, true).expect("between the high watermark and the log end");
    assert!(past.records.is_empty());
    assert!(matches!(log.read(11, 100, true), Err(StorageError::OffsetOutOfRange { .. })));
    let replica_read = log.read_for_replica(4, usize::MAX).expect("read up to the durable offset");
    assert_eq!(replica_read.records.len(), 3 * header(&read.records).total_len());
    assert_eq!(replica_read.high_watermark, 4);

    log.set_high_watermark_limit(Some(2));
    assert_eq!(log.high_watermark(), 4, "a lower limit does not move it back");
    log.set_high_watermark_limit(Some(8));
    assert_eq!(log.high_watermark(), 8);
    log.set_high_watermark_limit(None);
    assert_eq!(log.high_watermark(), 10);

    log.truncate_to(6).expect("truncate");
    assert_eq!((log.high_watermark(), log.durable_offset(), log.log_end_offset()), (6, 6, 6));
}

#[tokio::test]
async fn acks_all_waits_wake_on_the_limit_and_on_durability() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = TopicConfig::default();
    let log = open(dir.path());
    log.set_high_watermark_limit(Some(0));
    let info = append(&log, batch(3, None), &config).await.expect("append");
    let end = info.last_offset + 1;
    let waiting = tokio::spawn({
        let log = Arc::clone(&log);
        async move { log.wait_high_watermark(end).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiting.is_finished(), "durable but not replicated");
    log.set_high_watermark_limit(Some(3));
    tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("woken").expect("task").expect("reached");

    // The limit first, then durability.
    log.set_high_watermark_limit(Some(100));
    let info = log.append(batch(2, None), &config, NOW).expect("append");
    let reached = log.wait_high_watermark(info.last_offset + 1);
    tokio::time::timeout(Duration::from_secs(5), reached).await.expect("woken by the flusher").expect("reached");

    let waiting = tokio::spawn({
        let log = Arc::clone(&log);
        async move { log.wait_high_watermark(1_000).await }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    log.close();
    let closed = tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("woken").expect("task");
    assert!(matches!(closed, Err(StorageError::Offline)));
}

#[tokio::test]
async fn a_follower_behind_the_leaders_log_start_starts_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = TopicConfig::default();
    let log = open(dir.path());
    log.become_leader(2).expect("epoch");
    append(&log, batch(2, Some((9, 0))), &config).await.expect("append");
    log.truncate_fully_and_start_at(100).expect("start over");
    assert_eq!((log.log_start_offset(), log.log_end_offset(), log.high_watermark()), (100, 100, 100));
    assert_eq!(log.leader_epoch(), 0);
    assert_eq!(files(dir.path(), ".log"), vec![100]);

    let mut leaders = batch(2, Some((9, 7)));
    batch::patch_offset_and_epoch(&mut leaders, 100, 3);
    assert_eq!(log.append_replicated(&leaders, &config, NOW).expect("append"), 102);
    log.wait_durable(102).await.expect("durable");
    assert_eq!(log.end_offset_for_epoch(3), Some((3, 102)));
    log.close();
    drop(log);
    let reopened = open(dir.path());
    assert_eq!((reopened.log_start_offset(), reopened.log_end_offset()), (100, 102));
    assert_eq!(reopened.end_offset_for_epoch(3), Some((3, 102)));
    reopened.truncate_to(50).expect("below the log start");
    assert_eq!((reopened.log_start_offset(), reopened.log_end_offset()), (50, 50));
    assert_eq!(files(dir.path(), ".log"), vec![50]);

    // Starting over at the log start empties the segment in place.
    batch::patch_offset_and_epoch(&mut leaders, 50, 3);
    assert_eq!(reopened.append_replicated(&leaders, &config, NOW).expect("append"), 52);
    reopened.truncate_fully_and_start_at(50).expect("start over");
    assert_eq!((reopened.log_start_offset(), reopened.log_end_offset(), reopened.durable_offset()), (50, 50, 50));
    assert_eq!(files(dir.path(), ".log"), vec![50]);
    assert_eq!(append(&reopened, batch(1, None), &config).await.expect("append").base_offset, 50);
    reopened.close();
    drop(reopened);
    assert_eq!(open(dir.path()).log_end_offset(), 51);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncations_racing_appends_and_fsyncs_never_publish_a_stale_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = small_segments();
    let log = open(dir.path());
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let appender = tokio::task::spawn_blocking({
        let (log, config, done) = (Arc::clone(&log), config.clone(), Arc::clone(&done));
        move || {
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                log.append(batch(2, None), &config, NOW).expect("append");
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    });
    let checker = tokio::task::spawn_blocking({
        let (log, done) = (Arc::clone(&log), Arc::clone(&done));
        move || {
            let mut checks = 0u64;
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                let state = log.lock();
                let (durable, high_watermark) = (log.durable_offset(), log.high_watermark());
                assert!(durable <= state.log_end_offset, "durable {durable} past the end {}", state.log_end_offset);
                assert!(high_watermark <= durable);
                drop(state);
                checks += 1;
            }
            checks
        }
    });
    for round in 0..60 {
        tokio::time::sleep(Duration::from_millis(3)).await;
        let end = log.log_end_offset();
        log.truncate_to((end - 2 * (round % 5)).max(0)).expect("truncate");
    }
    done.store(true, std::sync::atomic::Ordering::Release);
    appender.await.expect("appender");
    assert!(checker.await.expect("checker") > 0);
    let end = log.log_end_offset();
    log.wait_durable(end).await.expect("everything left becomes durable");
    let offsets: Vec<i64> = batches(&log).iter().map(|b| header(b).base_offset).collect();
    assert_eq!(offsets, (0..end / 2).map(|i| i * 2).collect::<Vec<_>>(), "contiguous after all the cuts");
}
