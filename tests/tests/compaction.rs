//! Log compaction against a real `tidemark broker`, observed through librdkafka: a compacted topic keeps the
//! latest record of every key at its original offset, deletes disappear after `delete.retention.ms`, a consumer
//! from offset 0 rebuilds the same key → value map as before compaction, keyless records are refused, and a
//! broker killed with SIGKILL in the middle of a pass loses nothing.
//!
//! Each topic is created with a long `min.compaction.lag.ms` so that the cleaner leaves it alone while the test
//! takes its snapshot; lowering the lag (AlterConfigs) lets the cleaner in.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rdkafka::admin::{AdminClient, AdminOptions, AlterConfig, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::Consumer;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Message;
use tidemark_tests::{client_config, consumer_from_start, TidemarkProcess};

const WAIT: Duration = Duration::from_secs(90);
/// The cleaner looks for work this often when idle.
const FAST_CLEANER: &[&str] = &["--log-cleaner-backoff-ms", "100"];

/// One record as a consumer sees it: offset, key, value (`None` for a tombstone).
type Stored = (i64, String, Option<String>);

/// A key → (offset, value) map, the way a consumer rebuilds state from a compacted topic.
type State = BTreeMap<String, (i64, String)>;

fn state_of(records: &[Stored]) -> State {
    let mut state = State::new();
    for (offset, key, value) in records {
        match value {
            Some(value) => state.insert(key.clone(), (*offset, value.clone())),
            None => state.remove(key),
        };
    }
    state
}

/// Topic configs: compacted, small segments, short delete retention; `lag_ms` is `min.compaction.lag.ms`.
fn topic_configs(segment_bytes: &str, lag_ms: &str) -> [(&'static str, String); 5] {
    [
        ("cleanup.policy", "compact".to_owned()),
        ("segment.bytes", segment_bytes.to_owned()),
        ("segment.ms", "1000".to_owned()),
        ("delete.retention.ms", "1000".to_owned()),
        ("min.compaction.lag.ms", lag_ms.to_owned()),
    ]
}

async fn create_topic(bootstrap: &str, topic: &str, configs: &[(&'static str, String)]) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> = client_config(bootstrap).create()?;
    let mut new_topic = NewTopic::new(topic, 1, TopicReplication::Fixed(1));
    for (name, value) in configs {
        new_topic = new_topic.set(name, value);
    }
    for result in admin.create_topics([&new_topic], &AdminOptions::new()).await? {
        result.map_err(|(t, e)| anyhow::anyhow!("creating {t}: {e}"))?;
    }
    Ok(())
}

/// Replaces the topic's configs (AlterConfigs replaces every override).
async fn alter_topic(bootstrap: &str, topic: &str, configs: &[(&'static str, String)]) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> = client_config(bootstrap).create()?;
    let mut alter = AlterConfig::new(ResourceSpecifier::Topic(topic));
    for (name, value) in configs {
        alter = alter.set(name, value);
    }
    for result in admin.alter_configs([&alter], &AdminOptions::new()).await? {
        result.map_err(|(r, e)| anyhow::anyhow!("altering {r:?}: {e}"))?;
    }
    Ok(())
}

/// Produces `(key, value)` pairs (a `None` value is a tombstone) with `acks=all`, compressed with `codec`, and
/// waits for every ack.
async fn produce(bootstrap: &str, topic: &str, records: &[(String, Option<String>)], codec: &str) -> Result<()> {
    let producer: FutureProducer = client_config(bootstrap)
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("queue.buffering.max.messages", "1000000")
        .set("compression.type", codec)
        .create()?;
    let mut deliveries = Vec::with_capacity(records.len());
    for (key, value) in records {
        let record = FutureRecord::<String, String>::to(topic).key(key);
        let record = match value {
            Some(value) => record.payload(value),
            None => record,
        };
        deliveries.push(producer.send_result(record).map_err(|(e, _)| e)?);
    }
    for delivery in deliveries {
        delivery.await?.map_err(|(e, _)| e)?;
    }
    Ok(())
}

/// Every record of partition 0 from offset 0 up to the high watermark, read by a librdkafka consumer. The last
/// offset always holds a record: the test's last write is in the active segment, which is never cleaned.
fn read_all(bootstrap: &str, topic: &str) -> Result<(Vec<Stored>, (i64, i64))> {
    let consumer = consumer_from_start(bootstrap, topic, 1)?;
    let watermarks = consumer.fetch_watermarks(topic, 0, WAIT)?;
    let deadline = Instant::now() + WAIT;
    let mut records = Vec::new();
    let text = |bytes: Option<&[u8]>| bytes.map(|b| String::from_utf8_lossy(b).into_owned());
    while records.last().is_none_or(|(offset, _, _)| offset + 1 < watermarks.1) {
        if Instant::now() > deadline {
            bail!("read {} records of {topic}, not up to its high watermark {}", records.len(), watermarks.1);
        }
        if let Some(message) = consumer.poll(Duration::from_millis(100)) {
            let message = message?;
            records.push((message.offset(), text(message.key()).unwrap_or_default(), text(message.payload())));
        }
    }
    Ok((records, watermarks))
}

fn partition_dir(data_dir: &Path, topic: &str) -> PathBuf {
    data_dir.join("topics").join(format!("{topic}-0"))
}

fn file_names(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        names.push(entry?.file_name().to_string_lossy().into_owned());
    }
    Ok(names)
}

fn count_segments(dir: &Path) -> Result<usize> {
    Ok(file_names(dir)?.iter().filter(|n| n.ends_with(".log")).count())
}

/// Polls until the topic holds exactly one record per live key of `expected`, no tombstone, and returns them.
fn wait_compacted(bootstrap: &str, topic: &str, expected: &State) -> Result<Vec<Stored>> {
    let deadline = Instant::now() + WAIT;
    loop {
        let (records, _) = read_all(bootstrap, topic)?;
        if records.len() == expected.len() && records.iter().all(|r| r.2.is_some()) {
            return Ok(records);
        }
        if Instant::now() > deadline {
            bail!("{topic} still holds {} records for {} live keys", records.len(), expected.len());
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// `len` pseudo-random hex digits derived from `seed` (xorshift), so that values do not compress.
fn noise(seed: u64, len: usize) -> String {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from_digit((state % 16) as u32, 16).unwrap_or('0')
        })
        .collect()
}

/// 100,000 updates over 1,000 keys, then deletes of 100 keys, of which 20 come back, then one record that
/// lands in a new active segment.
fn workload() -> Vec<(String, Option<String>)> {
    let key = |k: u64| format!("key-{k:04}");
    let mut records: Vec<(String, Option<String>)> =
        (0..100_000u64).map(|i| (key((i * 7_919 + i / 13) % 1_000), Some(format!("value-{i}")))).collect();
    records.extend((0..1_000).step_by(10).map(|k| (key(k), None)));
    records.extend((0..1_000).step_by(50).map(|k| (key(k), Some(format!("reborn-{k}")))));
    records
}

#[tokio::test(flavor = "multi_thread")]
async fn compaction_keeps_one_record_per_live_key_at_its_offset() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TidemarkProcess::start(dir.path(), FAST_CLEANER)?;
    let bootstrap = broker.bootstrap.clone();
    let topic = "compacted-state";
    create_topic(&bootstrap, topic, &topic_configs("32768", "3600000")).await?;

    produce(&bootstrap, topic, &workload(), "lz4").await?;
    // segment.ms=1000: the next write rolls the segment holding the deletes.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    produce(&bootstrap, topic, &[("last-write".to_owned(), Some("end".to_owned()))], "none").await?;

    let keyless = FutureRecord::<(), str>::to(topic).payload("no key");
    let producer: FutureProducer = client_config(&bootstrap).set("message.timeout.ms", "10000").create()?;
    match producer.send(keyless, Duration::from_secs(10)).await {
        Err((KafkaError::MessageProduction(code), _)) => assert_eq!(code, RDKafkaErrorCode::InvalidRecord),
        other => bail!("a keyless record on a compacted topic must be refused, got {other:?}"),
    }

    let (before, watermarks) = read_all(&bootstrap, topic)?;
    assert_eq!(before.len() as i64, watermarks.1, "nothing is compacted yet: every offset is there");
    let expected = state_of(&before);
    let deleted: BTreeSet<String> =
        (0..1_000).step_by(10).filter(|k| k % 50 != 0).map(|k| format!("key-{k:04}")).collect();
    assert_eq!(expected.len(), 1_000 - deleted.len() + 1, "1,000 keys, 80 deleted for good, and the last write");
    assert!(deleted.iter().all(|k| !expected.contains_key(k)));
    let partition = partition_dir(dir.path(), topic);
    let segments_before = count_segments(&partition)?;

    alter_topic(&bootstrap, topic, &topic_configs("32768", "0")).await?;
    let after = wait_compacted(&bootstrap, topic, &expected)?;

    assert_eq!(state_of(&after), expected, "a consumer from offset 0 rebuilds the same map, at the same offsets");
    let keys: BTreeSet<&String> = after.iter().map(|r| &r.1).collect();
    assert_eq!(keys.len(), after.len(), "one record per live key");
    assert!(deleted.iter().all(|k| !keys.contains(k)), "deleted keys are gone after delete.retention.ms");
    let consumer = consumer_from_start(&bootstrap, topic, 1)?;
    assert_eq!(consumer.fetch_watermarks(topic, 0, WAIT)?, watermarks, "log start and end offsets do not move");
    let segments_after = count_segments(&partition)?;
    assert!(segments_after < segments_before, "cleaned segments were merged: {segments_before} -> {segments_after}");
    let leftovers: Vec<String> = file_names(&partition)?
        .into_iter()
        .filter(|n| [".cleaned", ".swap", ".deleted"].iter().any(|s| n.contains(s)))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files left: {leftovers:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn compaction_killed_mid_pass_loses_nothing() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut broker = TidemarkProcess::start(dir.path(), FAST_CLEANER)?;
    let topic = "compacted-crash";
    create_topic(&broker.bootstrap, topic, &topic_configs("1048576", "3600000")).await?;
    // About 40 MB, uncompressed and incompressible: 40,000 values of 1 KiB over 2,000 keys, so that a pass takes
    // long enough to be interrupted.
    let mut records: Vec<(String, Option<String>)> =
        (0..40_000u64).map(|i| (format!("key-{:04}", (i * 31) % 2_000), Some(noise(i, 1_000)))).collect();
    records.extend((0..2_000).step_by(7).map(|k| (format!("key-{k:04}"), None)));
    produce(&broker.bootstrap, topic, &records, "none").await?;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    produce(&broker.bootstrap, topic, &[("last-write".to_owned(), Some("end".to_owned()))], "none").await?;
    let (before, watermarks) = read_all(&broker.bootstrap, topic)?;
    let expected = state_of(&before);

    alter_topic(&broker.bootstrap, topic, &topic_configs("1048576", "0")).await?;
    let partition = partition_dir(dir.path(), topic);
    let mut interrupted = 0;
    for _ in 0..3 {
        // Kill the broker the moment a pass has cleaned files on disk.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut seen = false;
        while !seen && Instant::now() < deadline {
            seen = file_names(&partition)?.iter().any(|n| n.contains(".cleaned") || n.contains(".swap"));
            if !seen {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        broker.kill9()?;
        interrupted += usize::from(seen);
        broker = TidemarkProcess::start(dir.path(), FAST_CLEANER)?;
        let (records, after_restart) = read_all(&broker.bootstrap, topic)?;
        assert_eq!(after_restart, watermarks, "offsets do not move across a crash");
        assert_eq!(state_of(&records), expected, "a crash mid-compaction loses nothing");
        if !seen {
            break;
        }
    }
    eprintln!("compaction passes interrupted by SIGKILL: {interrupted}");
    assert!(interrupted > 0, "the test never caught a pass in progress");
    let after = wait_compacted(&broker.bootstrap, topic, &expected).context("compaction completes after restarts")?;
    assert_eq!(state_of(&after), expected);
    Ok(())
}
