//! Passes over real partition logs: what survives, offsets, reads at removed offsets, reopening, crashes at every
//! step of a swap, retention kept apart, producers' last batches, and passes bounded by the key map.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::records::{Compression, RecordBatchDecoder};

use super::test_batches::{batch_of, producer_batch_of, Entry};
use super::{clean, swap, CleanerConfig, PassStats};
use crate::storage::batch;
use crate::storage::segment::file_name;
use crate::storage::{LogActivity, PartitionLog, StorageError, TopicConfig};

/// One stored record: offset, key, value (`None` for a tombstone).
type Stored = (i64, String, Option<String>);

const KEYS: usize = 40;
const NOW: i64 = 1_000_000;
const RETENTION: i64 = 60_000;

fn config(pairs: &[(&str, &str)]) -> TopicConfig {
    let overrides: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    TopicConfig::from_overrides(&overrides).expect("valid config")
}

fn compacted() -> TopicConfig {
    config(&[("cleanup.policy", "compact"), ("segment.bytes", "2048"), ("delete.retention.ms", "60000")])
}

async fn append(log: &PartitionLog, batch: bytes::BytesMut, config: &TopicConfig) -> i64 {
    let info = log.append(batch, config, 1_000).expect("append");
    log.wait_durable(info.last_offset + 1).await.expect("durable");
    info.base_offset
}

/// 1,200 updates over 40 keys in batches of 6 (codec alternating), then tombstones for 8 keys, then one more
/// batch so that everything before it is in rolled segments.
async fn fill(log: &PartitionLog, config: &TopicConfig) {
    for round in 0..200 {
        let entries: Vec<Entry> = (0..6)
            .map(|i| Entry::put(&format!("key-{}", (round * 7 + i * 3) % KEYS), &format!("v{round}.{i}")))
            .collect();
        let codec = if round % 2 == 0 { Compression::None } else { Compression::Lz4 };
        append(log, batch_of(0, 1_000 + round as i64, &entries, codec), config).await;
    }
    let deletes: Vec<Entry> = (0..8).map(|k| Entry::tombstone(&format!("key-{}", k * 5))).collect();
    append(log, batch_of(0, 2_000, &deletes, Compression::Snappy), config).await;
    // Fill the rest of the segment, so that the tombstones are in a rolled segment.
    let mut filler = 0;
    while log.segment_views().0.last().is_some_and(|s| s.base_offset <= 1_200) {
        append(log, batch_of(0, 3_000, &[Entry::put(&format!("tail-{filler}"), "t")], Compression::None), config).await;
        filler += 1;
    }
}

/// Every record from the log start to the high watermark, as a consumer would read it.
fn read_all(log: &PartitionLog) -> Vec<Stored> {
    let text = |b: &Option<Bytes>| b.as_ref().map(|b| String::from_utf8_lossy(b).into_owned());
    let (mut offset, high_watermark) = (log.log_start_offset(), log.high_watermark());
    let mut out = Vec::new();
    while offset < high_watermark {
        let chunk = log.read(offset, 64 * 1024, true).expect("read").records;
        assert!(!chunk.is_empty(), "a read below the high watermark at {offset} returns data");
        let mut position = 0;
        while position < chunk.len() {
            let header = batch::validate(&chunk[position..]).expect("a whole, valid batch");
            let mut bytes = Bytes::copy_from_slice(&chunk[position..position + header.total_len()]);
            let set = RecordBatchDecoder::decode(&mut bytes).expect("decodes");
            for r in set.records.iter().filter(|r| r.offset >= offset) {
                out.push((r.offset, text(&r.key).unwrap_or_default(), text(&r.value)));
            }
            offset = header.last_offset() + 1;
            position += header.total_len();
        }
    }
    out
}

/// The key → (offset, value) map a consumer rebuilds: the latest record per key, deletes applied.
fn latest(records: &[Stored]) -> BTreeMap<String, (i64, String)> {
    let mut map = BTreeMap::new();
    for (offset, key, value) in records {
        match value {
            Some(value) => map.insert(key.clone(), (*offset, value.clone())),
            None => map.remove(key),
        };
    }
    map
}

fn pass(log: &PartitionLog, config: &TopicConfig, now_ms: i64) -> Option<PassStats> {
    clean(log, config, &CleanerConfig::default(), now_ms, &|| false).expect("pass")
}

fn files(dir: &Path, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(suffix))
        .collect();
    names.sort();
    names
}

fn open(dir: &Path) -> Arc<PartitionLog> {
    PartitionLog::open(dir, LogActivity::default(), NOW).expect("open")
}

#[tokio::test]
async fn compaction_keeps_the_latest_record_per_key_at_its_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = compacted();
    let log = open(dir.path());
    fill(&log, &config).await;
    let before = read_all(&log);
    let expected = latest(&before);
    let (segments_before, high_watermark) = (files(dir.path(), ".log").len(), log.high_watermark());

    let stats = pass(&log, &config, NOW).expect("a fully dirty log is cleaned");
    assert!(stats.records_removed > 1_000 && stats.bytes_out < stats.bytes_in / 5, "{stats:?}");
    let after = read_all(&log);
    assert_eq!(latest(&after), expected, "a consumer rebuilds the same map");
    let tombstones: Vec<&Stored> = after.iter().filter(|r| r.2.is_none()).collect();
    assert_eq!(tombstones.len(), 8, "tombstones stay until their horizon");
    let cleaned: Vec<&Stored> = after.iter().filter(|r| r.1.starts_with("key-")).collect();
    assert_eq!(cleaned.len(), KEYS, "one record per key");
    assert_eq!((log.log_start_offset(), log.high_watermark()), (0, high_watermark));
    assert!(pass(&log, &config, NOW).is_none(), "nothing is dirty any more");

    // A fetch at a removed offset gets the first batch that ends at or after it.
    let mut batches = Vec::new();
    for segment in log.segment_views().0 {
        segment.for_each_header(|h| batches.push((h.base_offset, h.last_offset()))).expect("headers");
    }
    for offset in 0..high_watermark {
        let read = log.read(offset, 1, true).expect("read").records;
        let header = batch::validate(&read).expect("one batch");
        let expected = batches.iter().find(|(_, last)| *last >= offset).copied();
        assert_eq!(Some((header.base_offset, header.last_offset())), expected, "fetch at {offset}");
    }

    // Past the horizon the tombstones go; another pass runs for them alone.
    let stats = pass(&log, &config, NOW + RETENTION).expect("tombstones are due");
    assert_eq!(stats.reason, Some(super::Reason::TombstonesDue));
    assert!(stats.segments_out * 4 < stats.segments_in, "small cleaned segments are merged: {stats:?}");
    assert!(files(dir.path(), ".log").len() < segments_before);
    let after = read_all(&log);
    assert!(after.iter().all(|r| r.2.is_some()), "no tombstone left");
    assert_eq!(latest(&after), expected);
    assert!(pass(&log, &config, NOW + 2 * RETENTION).is_none());

    log.close();
    drop(log);
    let reopened = open(dir.path());
    assert_eq!(read_all(&reopened), after, "the cleaned log reopens as it was");
    assert_eq!(
        append(&reopened, batch_of(0, 9_000, &[Entry::put("x", "y")], Compression::None), &config).await,
        high_watermark
    );
    assert!(files(dir.path(), "")
        .iter()
        .all(|n| !n.contains(".cleaned") && !n.contains(".swap") && !n.contains(".deleted")));
}

/// The crash states of one swap, as the steps in `swap` leave them.
#[derive(Debug, Clone, Copy)]
enum CrashPoint {
    /// Cleaned files written, nothing renamed.
    Cleaned,
    /// The indexes renamed to `.swap`, the log not yet.
    IndexesStaged,
    /// Committed: all three are `.swap`.
    Staged,
    /// Committed, the replaced segments renamed to `.deleted`.
    Retired,
    /// The log renamed in, its indexes still `.swap`.
    LogInstalled,
    /// Everything renamed in, the `.deleted` files still there.
    Installed,
}

#[tokio::test]
async fn compaction_crash_at_any_step_of_a_swap_loses_nothing() {
    let source = tempfile::tempdir().expect("tempdir");
    {
        let log = open(source.path());
        fill(&log, &compacted()).await;
        log.close();
    }
    let expected = latest(&read_all(&open(source.path())));
    let original = files(source.path(), ".log");

    // The cleaned segment of one pass that merges every cleanable segment into one.
    let merged_config = config(&[("cleanup.policy", "compact"), ("segment.bytes", "1048576")]);
    let cleaned_dir = tempfile::tempdir().expect("tempdir");
    copy_dir(source.path(), cleaned_dir.path());
    {
        let log = open(cleaned_dir.path());
        pass(&log, &merged_config, NOW).expect("cleaned");
        log.close();
    }
    let after_pass = files(cleaned_dir.path(), ".log");
    assert_eq!(after_pass.len(), 2, "one merged segment and the active one: {after_pass:?}");
    let active_base = after_pass[1].trim_end_matches(".log").parse::<i64>().expect("base");
    let replaced: Vec<i64> = original
        .iter()
        .map(|n| n.trim_end_matches(".log").parse::<i64>().expect("base"))
        .filter(|&b| b < active_base)
        .collect();

    for point in [
        CrashPoint::Cleaned,
        CrashPoint::IndexesStaged,
        CrashPoint::Staged,
        CrashPoint::Retired,
        CrashPoint::LogInstalled,
        CrashPoint::Installed,
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_dir(source.path(), dir.path());
        for extension in ["log", "index", "timeindex"] {
            let name = file_name(0, extension);
            std::fs::copy(cleaned_dir.path().join(&name), dir.path().join(format!("{name}.cleaned"))).expect("copy");
        }
        crash_at(dir.path(), point, &replaced);
        let log = open(dir.path());
        let records = read_all(&log);
        assert_eq!(latest(&records), expected, "{point:?}: nothing lost");
        let leftovers: Vec<String> = files(dir.path(), "")
            .into_iter()
            .filter(|n| n.contains(".cleaned") || n.contains(".swap") || n.contains(".deleted"))
            .collect();
        assert!(leftovers.is_empty(), "{point:?}: leftovers {leftovers:?}");
        let swapped = !matches!(point, CrashPoint::Cleaned | CrashPoint::IndexesStaged);
        assert_eq!(files(dir.path(), ".log").len() == 2, swapped, "{point:?}: the swap completes once committed");
        // The log keeps working: a pass finishes the job, appends continue at the same offset.
        pass(&log, &merged_config, NOW);
        assert_eq!(latest(&read_all(&log)), expected, "{point:?}: after a pass");
        assert_eq!(read_all(&log).iter().filter(|r| r.1.starts_with("key-")).count(), KEYS);
        log.close();
        drop(log);
        let reopened = open(dir.path());
        assert_eq!(latest(&read_all(&reopened)), expected, "{point:?}: after a restart");
    }
}

fn crash_at(dir: &Path, point: CrashPoint, replaced: &[i64]) {
    let rename = |extension: &str, from: &str, to: &str| {
        let name = file_name(0, extension);
        let target = if to.is_empty() { name.clone() } else { format!("{name}.{to}") };
        std::fs::rename(dir.join(format!("{name}.{from}")), dir.join(target)).expect("rename");
    };
    match point {
        CrashPoint::Cleaned => {}
        CrashPoint::IndexesStaged => {
            rename("index", "cleaned", "swap");
            rename("timeindex", "cleaned", "swap");
        }
        CrashPoint::Staged => swap::stage(dir, 0).expect("stage"),
        CrashPoint::Retired => {
            swap::stage(dir, 0).expect("stage");
            swap::retire(dir, 0, replaced).expect("retire");
        }
        CrashPoint::LogInstalled => {
            swap::stage(dir, 0).expect("stage");
            swap::retire(dir, 0, replaced).expect("retire");
            rename("log", "swap", "");
        }
        CrashPoint::Installed => {
            swap::stage(dir, 0).expect("stage");
            swap::retire(dir, 0, replaced).expect("retire");
            swap::install(dir, 0).expect("install");
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("ls") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
    }
}

#[tokio::test]
async fn compaction_and_retention_never_run_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let both = config(&[("cleanup.policy", "compact,delete"), ("segment.bytes", "2048"), ("retention.bytes", "4096")]);
    let log = open(dir.path());
    fill(&log, &both).await;
    let segments = files(dir.path(), ".log");
    {
        let _pass = log.cleaner_state();
        assert_eq!(log.enforce_retention(&both, NOW).expect("retention"), 0, "retention waits for the pass");
        assert_eq!(files(dir.path(), ".log"), segments);
    }
    assert!(log.enforce_retention(&both, NOW).expect("retention") > 0);
    assert!(log.log_start_offset() > 0);
    let stats = pass(&log, &both, NOW);
    assert!(stats.is_none_or(|s| s.segments_in > 0), "compaction carries on from the new log start");
}

#[tokio::test]
async fn compaction_keeps_a_producers_last_batch_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = compacted();
    let log = open(dir.path());
    for sequence in 0..3 {
        let entries = [Entry::put("owned", &format!("p{sequence}"))];
        append(&log, producer_batch_of(0, 1_000, &entries, Compression::Zstd, (42, 3, sequence)), &config).await;
    }
    for round in 0..60 {
        let entries = [Entry::put("owned", &format!("later-{round}")), Entry::put("other", "x")];
        append(&log, batch_of(0, 2_000, &entries, Compression::None), &config).await;
    }
    pass(&log, &config, NOW).expect("cleaned");
    let mut producer_batches = Vec::new();
    for segment in log.segment_views().0 {
        segment.for_each_header(|h| producer_batches.extend((h.producer_id == 42).then_some(*h))).expect("headers");
    }
    assert_eq!(producer_batches.len(), 1, "only the producer's last batch stays");
    let last = producer_batches[0];
    assert_eq!((last.base_offset, last.record_count, last.base_sequence, last.producer_epoch), (2, 0, 2, 3));
    log.close();
    drop(log);
    let reopened = open(dir.path());
    assert_eq!(latest(&read_all(&reopened)).get("owned").map(|v| v.1.clone()), Some("later-59".to_owned()));
}

#[tokio::test]
async fn compaction_with_a_small_key_map_cleans_over_several_passes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = compacted();
    let log = open(dir.path());
    fill(&log, &config).await;
    let expected = latest(&read_all(&log));
    let small = CleanerConfig { max_keys: 10, read_buffer_bytes: 300, ..CleanerConfig::default() };
    let mut passes = 0;
    while clean(&log, &config, &small, NOW, &|| false).expect("pass").is_some() {
        passes += 1;
        assert_eq!(latest(&read_all(&log)), expected, "after pass {passes}");
        assert!(passes < 100, "passes make progress");
    }
    assert!(passes > 1);
    let keys = read_all(&log).into_iter().filter(|r| r.1.starts_with("key-")).count();
    assert!(keys < 200, "{keys} records of 40 keys left after {passes} passes");
}

#[tokio::test]
async fn compaction_refuses_keyless_records_on_compacted_topics_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    let keyless = || batch_of(0, 0, &[Entry::put("k", "v"), Entry::keyless("no key")], Compression::Gzip);
    let err = log.append(keyless(), &compacted(), 0).expect_err("refused");
    assert!(matches!(err, StorageError::KeylessRecord));
    assert_eq!(log.append(keyless(), &TopicConfig::default(), 0).expect("accepted").base_offset, 0);
}

#[tokio::test]
async fn compaction_stops_when_asked_and_leaves_no_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = compacted();
    let log = open(dir.path());
    fill(&log, &config).await;
    let before = read_all(&log);
    // Stop while a cleaned segment is being written.
    let stop = || !files(dir.path(), ".cleaned").is_empty();
    assert!(clean(&log, &config, &CleanerConfig::default(), NOW, &stop).expect("pass").is_none());
    assert!(files(dir.path(), ".cleaned").is_empty());
    assert_eq!(latest(&read_all(&log)), latest(&before));
    assert!(pass(&log, &config, NOW).is_some(), "the next pass starts over");
}

#[tokio::test]
async fn compaction_truncation_into_a_cleaned_segment_keeps_offsets_and_lowers_the_checkpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = compacted();
    let log = open(dir.path());
    fill(&log, &config).await;
    pass(&log, &config, NOW).expect("cleaned");
    let cleaned = read_all(&log);
    // An offset compaction removed between two batches, with batches below it: the cut falls into a gap.
    let first_batch = batch::validate(&log.read(0, 1, true).expect("read").records).expect("batch").base_offset;
    let cut = (first_batch + 1..log.high_watermark())
        .find(|&offset| {
            batch::validate(&log.read(offset, 1, true).expect("read").records).expect("batch").base_offset > offset
        })
        .expect("a removed offset");

    log.truncate_to(cut).expect("truncate");
    assert_eq!(log.log_end_offset(), cut, "a cut in a gap keeps the offsets below it");
    let kept: Vec<Stored> = cleaned.iter().filter(|r| r.0 < cut).cloned().collect();
    assert_eq!(read_all(&log), kept);
    assert_eq!(log.cleaner_state().checkpoint(dir.path()).first_dirty_offset, cut, "the checkpoint is lowered");
    let next = append(&log, batch_of(0, 9_000, &[Entry::put("key-1", "again")], Compression::None), &config).await;
    assert_eq!(next, cut);
    log.close();
    drop(log);

    let reopened = open(dir.path());
    let mut expected = kept;
    expected.push((cut, "key-1".to_owned(), Some("again".to_owned())));
    assert_eq!(read_all(&reopened), expected);
    assert_eq!(reopened.log_end_offset(), cut + 1);
}

#[tokio::test]
async fn compaction_pass_stops_for_a_waiting_truncation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = compacted();
    let log = open(dir.path());
    fill(&log, &config).await;
    log.cleaning_aborts.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    assert!(pass(&log, &config, NOW).is_none(), "the pass gives way");
    log.cleaning_aborts.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    assert!(pass(&log, &config, NOW).is_some());
}
