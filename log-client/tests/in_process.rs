//! What only the in-process log can be shown to do from a test: read a compacted partition across the offsets the
//! cleaner removed (with a reader and with a group member), and stop handing out a partition whose topic was
//! deleted.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tidemark_broker::storage::compaction::CleanerConfig;
use tidemark_broker::{now_ms, Broker, BrokerConfig};
use tidemark_log_client::{
    InProcessLog, LogClient, LogError, LogRecord, PartitionReader, ProducerRecord, Subscription, TopicSpec,
};

const KEYS: usize = 5;
const CALLS: usize = 40;

/// A broker whose groups complete their first rebalance at once.
async fn broker(dir: &tempfile::TempDir) -> Arc<Broker> {
    let mut config = BrokerConfig::new(dir.path().to_owned(), "127.0.0.1".into(), 9092);
    config.groups.initial_rebalance_delay = Duration::ZERO;
    Broker::open(config).await.expect("broker")
}

fn record(i: usize) -> ProducerRecord {
    ProducerRecord {
        partition: None,
        key: Some(Bytes::from(format!("k{}", i % KEYS))),
        value: Some(Bytes::from(format!("v{i}"))),
        headers: Vec::new(),
        timestamp: None,
    }
}

/// Reads until the record before `end`, or until nothing more comes.
async fn read_to(reader: &mut dyn PartitionReader, end: i64) -> Vec<LogRecord> {
    let mut read: Vec<LogRecord> = Vec::new();
    while read.last().is_none_or(|r| r.offset + 1 < end) {
        let records = reader.next_records(Duration::from_secs(2)).await.expect("read");
        if records.is_empty() {
            break;
        }
        read.extend(records);
    }
    read
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_across_compacted_offsets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = broker(&dir).await;
    let log = InProcessLog::new(Arc::clone(&broker));
    let configs = [("cleanup.policy", "compact"), ("segment.bytes", "1024"), ("min.cleanable.dirty.ratio", "0.01")];
    let spec = TopicSpec {
        name: "compacted".into(),
        partitions: 1,
        replication_factor: 1,
        configs: configs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
    };
    log.ensure_topic(&spec).await.expect("topic");
    let mut produced = BTreeMap::new();
    for call in 0..CALLS {
        let records: Vec<ProducerRecord> = (call * 2..call * 2 + 2).map(record).collect();
        let positions = log.produce("compacted", records.clone()).await.expect("produced");
        for (position, record) in positions.into_iter().zip(records) {
            produced.insert(position.offset, record);
        }
    }
    let cleaned = {
        let broker = Arc::clone(&broker);
        tokio::task::spawn_blocking(move || broker.topics().compact(&CleanerConfig::default(), now_ms(), &|| false))
            .await
            .expect("compaction")
    };
    assert_eq!(cleaned, 1, "the partition was compacted");
    let end = log.end_offsets("compacted").await.expect("end offsets")[0];
    assert_eq!(end, (CALLS * 2) as i64, "compaction moves no offset");

    let mut reader = log.reader("compacted", 0, 0).expect("reader");
    let read = read_to(&mut *reader, end).await;
    assert!(read.len() < produced.len(), "compaction removed records: {} of {}", read.len(), produced.len());
    assert_eq!(read.last().map(|r| r.offset), Some(end - 1));
    assert!(read.windows(2).all(|w| w[0].offset < w[1].offset), "offsets increase");
    for record in &read {
        let original = &produced[&record.offset];
        assert_eq!((&record.key, &record.value), (&original.key, &original.value), "record at {}", record.offset);
    }
    let latest: BTreeMap<&Option<Bytes>, i64> = produced.iter().map(|(offset, r)| (&r.key, *offset)).collect();
    for (key, offset) in latest {
        assert!(read.iter().any(|r| r.offset == offset), "latest record of {key:?} at {offset} kept");
    }

    // A reader placed on an offset the cleaner removed starts at the next record kept.
    let removed = (0..end).find(|o| !read.iter().any(|r| r.offset == *o)).expect("a removed offset");
    let next_kept = read.iter().map(|r| r.offset).find(|&o| o > removed);
    let mut reader = log.reader("compacted", 0, removed).expect("reader");
    let first = reader.next_records(Duration::from_secs(2)).await.expect("read");
    assert_eq!(first.first().map(|r| r.offset), next_kept);

    // A group member taking a few records per poll (the rest of each read kept for the next polls) reads the same
    // records across the gaps, each once.
    let timers = tokio::spawn(Arc::clone(&broker).run_group_timers());
    let subscription = Subscription::Topics(vec!["compacted".to_owned()]);
    let mut member = log.group_consumer("compacted-readers", subscription, 3).expect("consumer");
    let mut polled: Vec<i64> = Vec::new();
    while polled.last().is_none_or(|&offset| offset + 1 < end) {
        let records = member.poll(Duration::from_secs(10)).await.expect("poll");
        assert!(!records.is_empty() && records.len() <= 3, "{} records in a poll", records.len());
        polled.extend(records.iter().map(|r| r.record.offset));
    }
    assert_eq!(polled, read.iter().map(|r| r.offset).collect::<Vec<_>>());
    member.close().await;
    timers.abort();
}

#[tokio::test]
async fn a_deleted_topic_is_unknown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = broker(&dir).await;
    let log = InProcessLog::new(Arc::clone(&broker));
    let spec = TopicSpec { name: "doomed".into(), partitions: 1, replication_factor: -1, configs: BTreeMap::new() };
    log.ensure_topic(&spec).await.expect("topic");
    let mut reader = log.reader("doomed", 0, 0).expect("reader");
    broker.topics().delete("doomed").await.expect("deleted");
    let read = reader.next_records(Duration::from_millis(100)).await;
    assert!(matches!(read, Err(LogError::UnknownTopic(_))), "{read:?}");
    assert!(matches!(log.reader("doomed", 0, 0), Err(LogError::UnknownTopic(_))));
    assert!(matches!(log.reader("missing", 0, 0), Err(LogError::UnknownTopic(_))));
    assert!(matches!(log.end_offsets("missing").await, Err(LogError::UnknownTopic(_))));
}
