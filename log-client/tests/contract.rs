//! The contract of `LogClient`: one suite, run against the in-process log (a broker opened in the test) and against
//! the Kafka-protocol log talking to a separately started `tidemark broker` process (`cargo build --bins` first).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tidemark_broker::{now_ms, Broker, BrokerConfig};
use tidemark_log_client::{
    InProcessLog, KafkaLog, LogClient, LogError, LogRecord, PartitionReader, ProducerRecord, TopicSpec,
};
use tidemark_tests::TidemarkProcess;

/// Long enough for anything that should happen; a wait that data should end must end well before it.
const PATIENCE: Duration = Duration::from_secs(10);
/// Partitions of the topic the records go to.
const PARTITIONS: i32 = 3;
/// Records produced, over several calls.
const RECORDS: usize = 600;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = BrokerConfig::new(dir.path().to_owned(), "127.0.0.1".into(), 9092);
    let broker = Broker::open(config).await.expect("broker");
    contract(&InProcessLog::new(broker)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_protocol() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = TidemarkProcess::start(dir.path(), &[]).expect("tidemark broker");
    contract(&KafkaLog::new(&broker.bootstrap, &BTreeMap::new()).expect("client")).await;
}

async fn contract(log: &dyn LogClient) {
    topics(log).await;
    records_round_trip(log).await;
    waiting(log).await;
    unknown_topic(log).await;
}

fn spec(name: &str, partitions: i32, configs: &[(&str, &str)]) -> TopicSpec {
    TopicSpec {
        name: name.into(),
        partitions,
        replication_factor: -1,
        configs: configs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
    }
}

fn keyed(key: &str, value: &str) -> ProducerRecord {
    ProducerRecord {
        partition: None,
        key: Some(Bytes::from(key.to_owned())),
        value: Some(Bytes::from(value.to_owned())),
        headers: Vec::new(),
        timestamp: None,
    }
}

/// Creating topics: twice is fine, an existing topic is left as it is, a compacted topic is compacted (it refuses
/// keyless records, as Kafka does), and a spec the log cannot meet is refused.
async fn topics(log: &dyn LogClient) {
    let plain = spec("plain", 3, &[]);
    log.ensure_topic(&plain).await.expect("created");
    log.ensure_topic(&plain).await.expect("again");
    log.ensure_topic(&spec("plain", 5, &[])).await.expect("existing, other spec");
    assert_eq!(log.end_offsets("plain").await.expect("end offsets"), vec![0, 0, 0]);

    let compacted = spec("compacted", 1, &[("cleanup.policy", "compact")]);
    log.ensure_topic(&compacted).await.expect("created");
    log.ensure_topic(&compacted).await.expect("again");
    let keyless = ProducerRecord { key: None, ..keyed("", "v") };
    let refused = log.produce("compacted", vec![keyless]).await;
    assert!(matches!(refused, Err(LogError::Refused(_))), "keyless record on a compacted topic: {refused:?}");
    let positions = log.produce("compacted", vec![keyed("k", "v")]).await.expect("keyed record");
    assert_eq!(positions.len(), 1);

    let refused = log.ensure_topic(&spec("no-partitions", 0, &[])).await;
    assert!(matches!(refused, Err(LogError::Refused(_))), "0 partitions: {refused:?}");
    let refused = log.ensure_topic(&spec("not a topic!", 1, &[])).await;
    assert!(matches!(refused, Err(LogError::Refused(_))), "invalid name: {refused:?}");
}

/// Record `i` of the round trip: keyed records of 37 keys left to the partitioner, keyless ones on an explicit
/// partition, tombstones, empty values and headers (one of them null).
fn record(i: usize) -> ProducerRecord {
    let key = (i % 5 != 4).then(|| Bytes::from(format!("key-{}", i % 37)));
    let partition = key.is_none().then_some((i % 3) as i32);
    let value = match i % 10 {
        3 => None,
        7 => Some(Bytes::new()),
        _ => Some(Bytes::from(format!("value-{i}"))),
    };
    let headers = if i.is_multiple_of(3) {
        vec![("trace".to_owned(), Some(Bytes::from(format!("t-{i}")))), ("none".to_owned(), None)]
    } else {
        Vec::new()
    };
    ProducerRecord { partition, key, value, headers, timestamp: None }
}

/// Produces records in several calls and reads every partition back, from 0, from the middle and from past the
/// end; positions follow murmur2 and count up from 0 in each partition; end offsets match.
async fn records_round_trip(log: &dyn LogClient) {
    log.ensure_topic(&spec("records", PARTITIONS, &[])).await.expect("topic");
    let started = now_ms();
    let mut by_partition: Vec<Vec<(i64, ProducerRecord)>> = vec![Vec::new(); PARTITIONS as usize];
    let records: Vec<ProducerRecord> = (0..RECORDS).map(record).collect();
    for call in records.chunks(RECORDS / 4) {
        let positions = log.produce("records", call.to_vec()).await.expect("produced");
        assert_eq!(positions.len(), call.len());
        for (position, record) in positions.into_iter().zip(call) {
            let expected = match (&record.partition, &record.key) {
                (Some(partition), _) => *partition,
                (None, Some(key)) => (murmur2::murmur2(key, murmur2::KAFKA_SEED) & 0x7fff_ffff) as i32 % PARTITIONS,
                (None, None) => unreachable!("every keyless record names its partition"),
            };
            assert_eq!(position.partition, expected, "partition of {record:?}");
            let landed = &mut by_partition[expected as usize];
            // One writer on a fresh topic: offsets count up from 0 with no gap.
            assert_eq!(position.offset, landed.len() as i64, "offset of {record:?}");
            landed.push((position.offset, record.clone()));
        }
    }
    let ends: Vec<i64> = by_partition.iter().map(|p| p.len() as i64).collect();
    assert!(ends.iter().all(|&end| end > 0), "every partition got records: {ends:?}");
    assert_eq!(log.end_offsets("records").await.expect("end offsets"), ends);

    for (partition, expected) in by_partition.iter().enumerate() {
        let partition = partition as i32;
        let mut reader = log.reader("records", partition, 0).expect("reader");
        let read = read_exactly(&mut *reader, expected.len()).await;
        assert_same(&read, expected, partition, started);

        let middle = expected.len() / 2;
        let mut reader = log.reader("records", partition, middle as i64).expect("reader from the middle");
        let read = read_exactly(&mut *reader, expected.len() - middle).await;
        assert_same(&read, &expected[middle..], partition, started);

        let mut reader = log.reader("records", partition, ends[partition as usize] + 100).expect("reader");
        let read = read_exactly(&mut *reader, expected.len()).await;
        assert_same(&read, expected, partition, started);
    }
}

/// Reads `count` records, then checks that nothing more comes.
async fn read_exactly(reader: &mut dyn PartitionReader, count: usize) -> Vec<LogRecord> {
    let mut read = Vec::new();
    while read.len() < count {
        let records = reader.next_records(PATIENCE).await.expect("read");
        assert!(!records.is_empty(), "only {} of {count} records arrived", read.len());
        read.extend(records);
    }
    assert_eq!(read.len(), count, "more records than produced");
    let more = reader.next_records(Duration::from_millis(100)).await.expect("read");
    assert!(more.is_empty(), "records past the end: {more:?}");
    read
}

fn assert_same(read: &[LogRecord], expected: &[(i64, ProducerRecord)], partition: i32, started: i64) {
    for (record, (offset, produced)) in read.iter().zip(expected) {
        assert_eq!((record.partition, record.offset), (partition, *offset));
        assert_eq!(record.key, produced.key, "key at {offset}");
        assert_eq!(record.value, produced.value, "value at {offset}");
        assert_eq!(record.headers, produced.headers, "headers at {offset}");
        assert!((started - 1000..=now_ms() + 1000).contains(&record.timestamp), "timestamp at {offset}");
    }
}

/// A waiting reader wakes promptly when data arrives, and returns nothing after `max_wait` when none does.
async fn waiting(log: &dyn LogClient) {
    log.ensure_topic(&spec("waiting", 1, &[])).await.expect("topic");
    let mut reader = log.reader("waiting", 0, 0).expect("reader");
    let started = Instant::now();
    let produce = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        log.produce("waiting", vec![keyed("k", "late")]).await
    };
    let (read, produced) = tokio::join!(reader.next_records(PATIENCE), produce);
    produced.expect("produced");
    let read = read.expect("read");
    assert_eq!(read.iter().map(|r| r.value.clone()).collect::<Vec<_>>(), vec![Some(Bytes::from_static(b"late"))]);
    assert!(started.elapsed() < PATIENCE / 2, "woke after {:?}", started.elapsed());

    let max_wait = Duration::from_millis(500);
    let started = Instant::now();
    let read = reader.next_records(max_wait).await.expect("read");
    let waited = started.elapsed();
    assert!(read.is_empty(), "nothing was produced: {read:?}");
    assert!(waited >= max_wait - Duration::from_millis(10) && waited < PATIENCE / 2, "waited {waited:?}");
}

/// A topic or partition that does not exist is reported as such.
async fn unknown_topic(log: &dyn LogClient) {
    let to_missing_partition = ProducerRecord { partition: Some(7), ..keyed("k", "v") };
    let produced = log.produce("plain", vec![to_missing_partition]).await;
    assert!(matches!(produced, Err(LogError::UnknownTopic(_))), "producing to a missing partition: {produced:?}");
    let read = match log.reader("plain", 7, 0) {
        Ok(mut reader) => reader.next_records(Duration::from_secs(3)).await,
        Err(e) => Err(e),
    };
    assert!(matches!(read, Err(LogError::UnknownTopic(_))), "reading a missing partition: {read:?}");
    let end = log.end_offsets("no-such-topic").await;
    assert!(matches!(end, Err(LogError::UnknownTopic(_))), "end offsets of a missing topic: {end:?}");
    let read = match log.reader("no-such-topic", 0, 0) {
        Ok(mut reader) => reader.next_records(Duration::from_secs(3)).await,
        Err(e) => Err(e),
    };
    assert!(matches!(read, Err(LogError::UnknownTopic(_))), "reading a missing topic: {read:?}");
}
