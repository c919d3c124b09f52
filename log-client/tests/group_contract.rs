//! The contract of group consumers and of a group's committed offsets: one suite, run against the in-process log (a
//! broker opened in the test, its group timers running) and against the Kafka-protocol log talking to a separately
//! started `tidemark broker` process (`cargo build --bins` first). Both brokers complete a group's first rebalance
//! at once (no initial rebalance delay); later rebalances take up to a heartbeat interval (about 3 s) per member to
//! notice.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tidemark_broker::{Broker, BrokerConfig};
use tidemark_log_client::{
    GroupConsumer, InProcessLog, KafkaLog, LogClient, LogError, ProducerRecord, Subscription, TopicRecord, TopicSpec,
};
use tidemark_tests::TidemarkProcess;
use tokio::time::Instant;

/// Long enough for anything that should happen, rebalances included.
const PATIENCE: Duration = Duration::from_secs(40);
/// How long one poll of a loop waits.
const POLL: Duration = Duration::from_millis(200);
/// How long a poll waits to show that nothing more comes.
const QUIET: Duration = Duration::from_millis(500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = BrokerConfig::new(dir.path().to_owned(), "127.0.0.1".into(), 9092);
    config.groups.initial_rebalance_delay = Duration::ZERO;
    let broker = Broker::open(config).await.expect("broker");
    let timers = tokio::spawn(Arc::clone(&broker).run_group_timers());
    let log = InProcessLog::new(broker);
    contract(&log).await;

    // Beyond the contract: some of a group's offsets can be removed, the group keeping the rest.
    let group = "g-remove-some";
    let topic = topic_with_records(&log, "g-remove-some", 2, 3).await;
    let both = [(topic.clone(), 0, Some(1)), (topic.clone(), 1, Some(2))];
    log.alter_group_offsets(group, &both).await.expect("set");
    log.alter_group_offsets(group, &[(topic.clone(), 0, None)]).await.expect("removed one");
    assert_eq!(log.group_offsets(group).await.expect("offsets"), vec![(topic, 1, 2)]);
    timers.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_protocol() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker =
        TidemarkProcess::start(dir.path(), &["--group-initial-rebalance-delay-ms", "0"]).expect("tidemark broker");
    let log = KafkaLog::new(&broker.bootstrap, &BTreeMap::new()).expect("client");
    contract(&log).await;

    // Beyond the contract: rdkafka cannot remove some of a group's offsets, and says so.
    let group = "g-remove-some";
    let topic = topic_with_records(&log, "g-remove-some", 2, 3).await;
    let both = [(topic.clone(), 0, Some(1)), (topic.clone(), 1, Some(2))];
    log.alter_group_offsets(group, &both).await.expect("set");
    let refused = log.alter_group_offsets(group, &[(topic.clone(), 0, None)]).await;
    assert!(matches!(refused, Err(LogError::Refused(_))), "{refused:?}");
    assert_eq!(log.group_offsets(group).await.expect("offsets"), vec![(topic.clone(), 0, 1), (topic, 1, 2)]);
}

async fn contract(log: &dyn LogClient) {
    one_member_reads_everything(log).await;
    a_new_member_resumes_after_the_commits(log).await;
    members_share_the_partitions(log).await;
    a_pattern_picks_up_new_topics(log).await;
    group_offsets_round_trip(log).await;
    a_commit_without_an_assignment_is_refused(log).await;
}

/// Creates `name` with `partitions` partitions and `per_partition` records in each (values `<name>-<p>-<i>`);
/// returns the topic's name.
async fn topic_with_records(log: &dyn LogClient, name: &str, partitions: i32, per_partition: usize) -> String {
    let spec = TopicSpec { name: name.into(), partitions, replication_factor: -1, configs: BTreeMap::new() };
    log.ensure_topic(&spec).await.expect("topic");
    produce(log, name, partitions, 0..per_partition).await;
    name.to_owned()
}

/// Produces records `indexes` to every partition of `topic` (values `<topic>-<p>-<i>`, keys `k<i>`).
async fn produce(log: &dyn LogClient, topic: &str, partitions: i32, indexes: std::ops::Range<usize>) {
    let records: Vec<ProducerRecord> = (0..partitions)
        .flat_map(|p| {
            indexes.clone().map(move |i| ProducerRecord {
                partition: Some(p),
                key: Some(Bytes::from(format!("k{i}"))),
                value: Some(Bytes::from(format!("{topic}-{p}-{i}"))),
                headers: Vec::new(),
                timestamp: None,
            })
        })
        .collect();
    let positions = log.produce(topic, records).await.expect("produced");
    assert!(positions.iter().all(|p| p.offset >= 0));
}

/// (topic, partition, offset) of records.
fn places(records: &[TopicRecord]) -> BTreeSet<(String, i32, i64)> {
    records.iter().map(|r| (r.topic.clone(), r.record.partition, r.record.offset)).collect()
}

/// Every (topic, partition, offset) from `from` (inclusive) to `to` (exclusive) in each of `partitions`.
fn range(topic: &str, partitions: &[(i32, i64, i64)]) -> BTreeSet<(String, i32, i64)> {
    partitions.iter().flat_map(|&(p, from, to)| (from..to).map(move |o| (topic.to_owned(), p, o))).collect()
}

/// Polls until `done` holds for everything read, or fails after [`PATIENCE`]. Checks each answer's size and that
/// offsets keep increasing within each partition.
async fn poll_until(
    consumer: &mut dyn GroupConsumer,
    max_poll_records: usize,
    mut done: impl FnMut(&[TopicRecord]) -> bool,
) -> Vec<TopicRecord> {
    let deadline = Instant::now() + PATIENCE;
    let mut read: Vec<TopicRecord> = Vec::new();
    while !done(&read) {
        assert!(Instant::now() < deadline, "gave up after reading {:?}", places(&read));
        let records = consumer.poll(POLL).await.expect("poll");
        assert!(records.len() <= max_poll_records, "{} records in one poll", records.len());
        for record in records {
            let before =
                read.iter().rev().find(|r| r.topic == record.topic && r.record.partition == record.record.partition);
            if let Some(before) = before {
                assert!(before.record.offset < record.record.offset, "offsets go back: {before:?} then {record:?}");
            }
            read.push(record);
        }
    }
    read
}

/// Polls once more and checks that nothing comes.
async fn assert_nothing_more(consumer: &mut dyn GroupConsumer) {
    let more = consumer.poll(QUIET).await.expect("poll");
    assert!(more.is_empty(), "nothing more was produced: {:?}", places(&more));
}

/// The next offsets to read after `records`, per (topic, partition).
fn next_offsets(records: &[TopicRecord]) -> Vec<(String, i32, i64)> {
    let mut next: BTreeMap<(String, i32), i64> = BTreeMap::new();
    for r in records {
        let offset = next.entry((r.topic.clone(), r.record.partition)).or_insert(0);
        *offset = (*offset).max(r.record.offset + 1);
    }
    next.into_iter().map(|((topic, partition), offset)| (topic, partition, offset)).collect()
}

/// A lone member gets every partition and reads every record from the earliest offset, a few per poll, records
/// produced while it is partway through a batch included.
async fn one_member_reads_everything(log: &dyn LogClient) {
    let topic = topic_with_records(log, "g-all", 3, 20).await;
    let mut consumer = log.group_consumer("g-all", Subscription::Topics(vec![topic.clone()]), 7).expect("consumer");
    let mut read = poll_until(&mut *consumer, 7, |read| read.len() >= 21).await;
    produce(log, &topic, 3, 20..25).await;
    let already = read.len();
    read.extend(poll_until(&mut *consumer, 7, |more| already + more.len() >= 75).await);
    assert_eq!(places(&read), range(&topic, &[(0, 0, 25), (1, 0, 25), (2, 0, 25)]));
    assert_eq!(read.len(), 75, "each record once");
    for r in &read {
        let value = format!("{}-{}-{}", topic, r.record.partition, r.record.offset);
        assert_eq!(r.record.value.as_deref(), Some(value.as_bytes()), "record {r:?}");
    }
    assert_eq!(consumer.assignment(), vec![(topic.clone(), 0), (topic.clone(), 1), (topic, 2)]);
    assert_nothing_more(&mut *consumer).await;
    consumer.close().await;
}

/// Committed offsets are where the group's next member starts.
async fn a_new_member_resumes_after_the_commits(log: &dyn LogClient) {
    let (group, topic) = ("g-resume", topic_with_records(log, "g-resume", 3, 10).await);
    let subscription = Subscription::Topics(vec![topic.clone()]);
    let mut first = log.group_consumer(group, subscription.clone(), 100).expect("consumer");
    poll_until(&mut *first, 100, |read| read.len() >= 30).await;
    let committed = vec![(topic.clone(), 0, 4), (topic.clone(), 1, 10), (topic.clone(), 2, 0)];
    first.commit(&committed).await.expect("committed");
    let mut sorted = committed.clone();
    sorted.sort();
    assert_eq!(log.group_offsets(group).await.expect("offsets"), sorted);
    first.close().await;

    let mut second = log.group_consumer(group, subscription, 100).expect("consumer");
    let read = poll_until(&mut *second, 100, |read| read.len() >= 16).await;
    assert_eq!(places(&read), range(&topic, &[(0, 4, 10), (2, 0, 10)]));
    assert_nothing_more(&mut *second).await;
    second.close().await;
}

/// Two members split the partitions between them; when one leaves, the other takes them all and reads on from
/// the committed offsets. Every record is read (at least once).
async fn members_share_the_partitions(log: &dyn LogClient) {
    let (group, topic) = ("g-share", topic_with_records(log, "g-share", 4, 10).await);
    let all: BTreeSet<(String, i32)> = (0..4).map(|p| (topic.clone(), p)).collect();
    let subscription = Subscription::Topics(vec![topic.clone()]);
    let mut a = log.group_consumer(group, subscription.clone(), 5).expect("consumer a");
    let mut b = log.group_consumer(group, subscription, 5).expect("consumer b");
    let mut read: Vec<TopicRecord> = Vec::new();

    let deadline = Instant::now() + PATIENCE;
    loop {
        let (from_a, from_b) = tokio::join!(a.poll(POLL), b.poll(POLL));
        let (from_a, from_b) = (from_a.expect("poll a"), from_b.expect("poll b"));
        // A commit may meet a rebalance; the records are then read again by their next owner.
        let _ = a.commit(&next_offsets(&from_a)).await;
        let _ = b.commit(&next_offsets(&from_b)).await;
        read.extend(from_a.into_iter().chain(from_b));
        let (of_a, of_b): (BTreeSet<_>, BTreeSet<_>) =
            (a.assignment().into_iter().collect(), b.assignment().into_iter().collect());
        if !of_a.is_empty() && !of_b.is_empty() && of_a.is_disjoint(&of_b) && &of_a | &of_b == all {
            break;
        }
        assert!(Instant::now() < deadline, "no split of the partitions: a {of_a:?}, b {of_b:?}");
    }
    a.close().await;

    let deadline = Instant::now() + PATIENCE;
    while b.assignment().into_iter().collect::<BTreeSet<_>>() != all {
        assert!(Instant::now() < deadline, "b never got every partition: {:?}", b.assignment());
        let records = b.poll(POLL).await.expect("poll b");
        let _ = b.commit(&next_offsets(&records)).await;
        read.extend(records);
    }
    produce(log, &topic, 4, 10..20).await;
    let everything = range(&topic, &[(0, 0, 20), (1, 0, 20), (2, 0, 20), (3, 0, 20)]);
    let mut seen = places(&read);
    let rest = poll_until(&mut *b, 5, |records| {
        let mut now = seen.clone();
        now.extend(places(records));
        now == everything
    })
    .await;
    seen.extend(places(&rest));
    assert_eq!(seen, everything);
    b.close().await;
}

/// A pattern matches whole topic names, and a topic created later that matches is read too.
async fn a_pattern_picks_up_new_topics(log: &dyn LogClient) {
    let first = topic_with_records(log, "gp-one", 1, 3).await;
    topic_with_records(log, "xgp-one", 1, 1).await;
    let mut consumer = log.group_consumer("g-pattern", Subscription::Pattern("gp-.*".into()), 100).expect("consumer");
    let read = poll_until(&mut *consumer, 100, |read| read.len() >= 3).await;
    assert_eq!(places(&read), range(&first, &[(0, 0, 3)]));
    // Committed, so that the rebalance the new topic brings does not hand them out again.
    consumer.commit(&next_offsets(&read)).await.expect("committed");

    let second = topic_with_records(log, "gp-two", 2, 2).await;
    let read = poll_until(&mut *consumer, 100, |read| read.len() >= 4).await;
    assert_eq!(places(&read), range(&second, &[(0, 0, 2), (1, 0, 2)]));
    assert_eq!(consumer.assignment(), vec![(first, 0), (second.clone(), 0), (second, 1)]);
    assert_nothing_more(&mut *consumer).await;
    consumer.close().await;
}

/// Offsets set from outside are read back and used by the group's members; they cannot change while the group
/// has members; removing them all leaves none.
async fn group_offsets_round_trip(log: &dyn LogClient) {
    let (group, topic) = ("g-offsets", topic_with_records(log, "g-offsets", 3, 10).await);
    assert_eq!(log.group_offsets(group).await.expect("offsets of an unknown group"), Vec::new());
    let set = [(topic.clone(), 0, Some(5)), (topic.clone(), 1, Some(7)), (topic.clone(), 1, Some(8))];
    log.alter_group_offsets(group, &set).await.expect("set");
    let expected = vec![(topic.clone(), 0, 5), (topic.clone(), 1, 8)];
    assert_eq!(log.group_offsets(group).await.expect("offsets"), expected);

    let mut consumer = log.group_consumer(group, Subscription::Topics(vec![topic.clone()]), 100).expect("consumer");
    let read = poll_until(&mut *consumer, 100, |read| read.len() >= 17).await;
    assert_eq!(places(&read), range(&topic, &[(0, 5, 10), (1, 8, 10), (2, 0, 10)]));
    let refused = log.alter_group_offsets(group, &[(topic.clone(), 2, Some(1))]).await;
    assert!(matches!(refused, Err(LogError::Refused(_))), "changing the offsets of an active group: {refused:?}");
    consumer.close().await;
    assert_eq!(log.group_offsets(group).await.expect("offsets"), expected, "nothing was committed");

    log.alter_group_offsets(group, &[(topic.clone(), 0, None), (topic, 1, None)]).await.expect("removed");
    assert_eq!(log.group_offsets(group).await.expect("offsets"), Vec::new());
}

/// A member that holds no assignment (it has not joined yet) cannot commit.
async fn a_commit_without_an_assignment_is_refused(log: &dyn LogClient) {
    let topic = topic_with_records(log, "g-early", 1, 1).await;
    let mut consumer = log.group_consumer("g-early", Subscription::Topics(vec![topic.clone()]), 10).expect("consumer");
    let refused = consumer.commit(&[(topic, 0, 1)]).await;
    assert!(matches!(refused, Err(LogError::Rebalanced(_))), "{refused:?}");
    consumer.close().await;
    assert_eq!(log.group_offsets("g-early").await.expect("offsets"), Vec::new());
}

#[test]
fn settings_that_cannot_work_are_refused() {
    let log = KafkaLog::new("127.0.0.1:1", &BTreeMap::new()).expect("client");
    let topics = || Subscription::Topics(vec!["t".into()]);
    assert!(matches!(log.group_consumer("", topics(), 1), Err(LogError::Refused(_))));
    assert!(matches!(log.group_consumer("g", topics(), 0), Err(LogError::Refused(_))));
    assert!(matches!(log.group_consumer("g", Subscription::Pattern("(".into()), 1), Err(LogError::Refused(_))));
}
