//! Three `tidemark broker` processes forming a cluster through the controller quorum (`--voters`), driven by
//! librdkafka: partitions spread over the brokers, clients follow the leaders, a killed broker's unreplicated
//! partitions go leaderless until it returns, a broker that was away catches up with the topics created and
//! deleted meanwhile, and replicated partitions keep every acknowledged record across the loss of their leader.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::Message;
use tidemark_broker::group::offsets_topic::partition_for;
use tidemark_tests::cluster::{
    check_acknowledged, create_topic, full_of, kill_leader, metadata, produce_acknowledged, read_all, wait_for_brokers,
    wait_for_identical_replicas, wait_for_leaders, wait_for_states, Cluster, WAIT,
};
use tidemark_tests::{client_config, consume, consumer_from_start, python};

async fn produce(bootstrap: &str, topic: &str, partition: i32, values: &[String]) -> Result<()> {
    let producer: FutureProducer =
        client_config(bootstrap).set("acks", "all").set("message.timeout.ms", "20000").create()?;
    for value in values {
        let record = FutureRecord::<(), _>::to(topic).partition(partition).payload(value);
        producer
            .send(record, WAIT)
            .await
            .map_err(|(e, _)| e)
            .with_context(|| format!("producing to {topic}-{partition}"))?;
    }
    Ok(())
}

fn values(topic: &str, partition: i32, range: std::ops::Range<i32>) -> Vec<String> {
    range.map(|i| format!("{topic}-{partition}-{i}")).collect()
}

fn payloads(bootstrap: &str, topic: &str, partitions: i32, count: usize) -> Result<BTreeSet<String>> {
    let consumer = consumer_from_start(bootstrap, topic, partitions)?;
    let received = consume(&consumer, count, WAIT)?;
    Ok(received.iter().filter_map(|m| m.payload()).map(|p| String::from_utf8_lossy(p).into_owned()).collect())
}

/// Reads `count` records of `topic` as a member of `group` with confluent-kafka, commits, then reads the group's
/// committed offsets back with a second member; answers their sum.
fn read_as_group(bootstrap: &str, topic: &str, group: &str, count: usize) -> Result<usize> {
    let script = r#"
import sys, time
from confluent_kafka import Consumer, TopicPartition
bootstrap, topic, group, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
settings = {"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False}
consumer = Consumer(settings)
consumer.subscribe([topic])
read, deadline = 0, time.time() + 30
while read < count and time.time() < deadline:
    message = consumer.poll(0.5)
    if message is not None and not message.error():
        read += 1
consumer.commit(asynchronous=False)
consumer.close()
partitions = Consumer(settings).list_topics(topic, timeout=10).topics[topic].partitions
checker = Consumer(settings)
committed = checker.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
print(sum(max(tp.offset, 0) for tp in committed))
checker.close()
"#;
    let output = std::process::Command::new(python())
        .args(["-c", script, bootstrap, topic, group, &count.to_string()])
        .output()
        .context("running confluent-kafka")?;
    if !output.status.success() {
        bail!("the group member failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().parse()?)
}

fn topic_dirs(data_dir: &Path, topic: &str) -> Result<usize> {
    let prefix = format!("{topic}-");
    Ok(std::fs::read_dir(data_dir.join("topics"))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .count())
}

#[tokio::test(flavor = "multi_thread")]
async fn three_brokers_spread_partitions_and_clients_follow_the_leaders() -> Result<()> {
    let mut cluster = Cluster::start()?;
    let bootstrap = cluster.bootstrap();

    // Every broker registers; partitions spread so that each leads two of six.
    wait_for_brokers(&bootstrap, 3)?;
    assert_eq!(create_topic(&bootstrap, "orders", (6, 1), &[]).await?, RDKafkaErrorCode::NoError);
    let placed =
        wait_for_leaders(&bootstrap, "orders", "every partition led", |l| l.len() == 6 && l.values().all(|&b| b > 0))?;
    let mut led: BTreeMap<i32, usize> = BTreeMap::new();
    for broker in placed.values() {
        *led.entry(*broker).or_default() += 1;
    }
    assert_eq!(led, BTreeMap::from([(1, 2), (2, 2), (3, 2)]), "leaders balanced: {placed:?}");
    // More replicas than brokers cannot be placed.
    assert_eq!(create_topic(&bootstrap, "too-many", (3, 4), &[]).await?, RDKafkaErrorCode::InvalidReplicationFactor);

    // A producer that knows one broker reaches every leader; so does a consumer that knows another.
    let first = &cluster.nodes[&1].bootstrap;
    let mut sent = BTreeSet::new();
    for partition in 0..6 {
        let batch = values("orders", partition, 0..50);
        produce(first, "orders", partition, &batch).await?;
        sent.extend(batch);
    }
    let third = cluster.nodes[&3].bootstrap.clone();
    assert_eq!(payloads(&third, "orders", 6, sent.len())?, sent);

    // A consumer group (confluent-kafka): its coordinator is the leader of its __consumer_offsets partition,
    // wherever that is; the client finds it through any broker.
    let read = read_as_group(first, "orders", "order-readers", sent.len())?;
    assert_eq!(read, sent.len(), "the group read every record and committed past each");

    // Broker 3 dies: once its session expires its partitions have no leader; the others keep serving.
    cluster.nodes.get_mut(&3).context("node 3")?.kill9()?;
    let survivors = cluster.bootstrap_without(3);
    let orphaned: Vec<i32> = placed.iter().filter(|(_, &b)| b == 3).map(|(&p, _)| p).collect();
    wait_for_leaders(&survivors, "orders", "broker 3 fenced", |l| orphaned.iter().all(|p| l.get(p) == Some(&-1)))?;
    let alive = *placed.iter().find(|(_, &b)| b == 1).context("a partition of broker 1")?.0;
    let more = values("orders", alive, 50..60);
    produce(&survivors, "orders", alive, &more).await?;
    sent.extend(more);

    // Meanwhile the cluster's topics change without broker 3.
    assert_eq!(create_topic(&survivors, "invoices", (3, 1), &[]).await?, RDKafkaErrorCode::NoError);
    let admin: AdminClient<DefaultClientContext> = client_config(&survivors).create()?;
    assert_eq!(create_topic(&survivors, "scratch", (3, 1), &[]).await?, RDKafkaErrorCode::NoError);
    let deleted = admin.delete_topics(&["scratch"], &AdminOptions::new().operation_timeout(Some(WAIT))).await?;
    assert!(deleted.iter().all(|r| r.is_ok()), "{deleted:?}");
    assert!(topic_dirs(&cluster.data_dir(3), "scratch")? == 0);

    // Broker 3 returns: it leads its partitions again, with their data, and follows the changes it missed.
    cluster.start_node(3)?;
    let bootstrap = cluster.bootstrap();
    let back =
        wait_for_leaders(&bootstrap, "orders", "broker 3 back", |l| orphaned.iter().all(|p| l.get(p) == Some(&3)))?;
    assert_eq!(back, placed);
    assert_eq!(payloads(&bootstrap, "orders", 6, sent.len())?, sent, "no record lost across the kill");
    let deadline = Instant::now() + WAIT;
    while topic_dirs(&cluster.data_dir(3), "invoices")? != 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(topic_dirs(&cluster.data_dir(3), "invoices")?, 3, "broker 3 created the topic made while it was away");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn replicated_partitions_keep_every_acknowledged_record_when_their_leader_dies() -> Result<()> {
    let mut cluster = Cluster::start()?;
    let bootstrap = cluster.bootstrap();
    wait_for_brokers(&bootstrap, 3)?;
    let created = create_topic(&bootstrap, "ledger", (3, 3), &[("min.insync.replicas", "2")]).await?;
    assert_eq!(created, RDKafkaErrorCode::NoError);
    let full = full_of(3);
    let before = wait_for_states(&bootstrap, "ledger", "three in-sync replicas", &full)?;

    let (mut acknowledged, failed) = produce_acknowledged(&bootstrap, "ledger", 3, "before", 300).await?;
    assert_eq!(failed, 0);

    // The leader of partition 0 dies: a follower from the ISR takes over with everything acknowledged.
    let victim = before[&0].0;
    cluster.nodes.get_mut(&victim).context("the leader")?.kill9()?;
    let survivors = cluster.bootstrap_without(victim);
    wait_for_states(&survivors, "ledger", "new leaders without the victim", |states| {
        states.len() == 3 && states.values().all(|(l, isr)| *l > 0 && *l != victim && !isr.contains(&victim))
    })?;
    let (during, failed) = produce_acknowledged(&survivors, "ledger", 3, "during", 300).await?;
    assert_eq!(failed, 0, "two in-sync replicas still meet min.insync.replicas");
    acknowledged.extend(during);

    // It returns, truncates to the new leader's log, catches up and rejoins every ISR.
    cluster.start_node(victim)?;
    let bootstrap = cluster.bootstrap();
    wait_for_states(&bootstrap, "ledger", "the victim back in every ISR", &full)?;
    let (after, failed) = produce_acknowledged(&bootstrap, "ledger", 3, "after", 300).await?;
    assert_eq!(failed, 0);
    acknowledged.extend(after);

    // Every acknowledged record is where its acknowledgement said, once.
    check_acknowledged(&read_all(&bootstrap, "ledger", 3, acknowledged.len())?, &acknowledged);

    // Once every ISR is whole and idle, the replicas' logs are identical byte for byte.
    wait_for_states(&bootstrap, "ledger", "every ISR whole", &full)?;
    for partition in 0..3 {
        wait_for_identical_replicas(&cluster, &[1, 2, 3], "ledger", partition)?;
    }

    // A broker down: a partition that wants three in-sync replicas refuses acks=all writes.
    let created = create_topic(&bootstrap, "strict", (1, 3), &[("min.insync.replicas", "3")]).await?;
    assert_eq!(created, RDKafkaErrorCode::NoError);
    let leader = wait_for_states(&bootstrap, "strict", "strict in sync", full_of(1))?[&0].0;
    let follower = (1..=3).find(|id| *id != leader).context("a follower")?;
    cluster.nodes.get_mut(&follower).context("the follower")?.kill9()?;
    let leader_address = cluster.nodes[&leader].bootstrap.clone();
    wait_for_states(&leader_address, "strict", "the ISR without the follower", |states| {
        states.get(&0).is_some_and(|(_, isr)| isr.len() == 2)
    })?;
    // No retries: NOT_ENOUGH_REPLICAS is retriable, and librdkafka would report the timeout of its last retry.
    let producer: FutureProducer = client_config(&leader_address)
        .set("acks", "all")
        .set("retries", "0")
        .set("message.timeout.ms", "10000")
        .create()?;
    let refused = producer.send(FutureRecord::<(), _>::to("strict").partition(0).payload("refused"), WAIT).await;
    let error = refused.err().map(|(e, _)| e.rdkafka_error_code());
    assert_eq!(error, Some(Some(RDKafkaErrorCode::NotEnoughReplicas)), "{error:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_keeps_its_committed_offsets_when_its_coordinator_dies() -> Result<()> {
    let mut cluster = Cluster::start()?;
    let bootstrap = cluster.bootstrap();
    wait_for_brokers(&bootstrap, 3)?;
    assert_eq!(create_topic(&bootstrap, "events", (3, 3), &[]).await?, RDKafkaErrorCode::NoError);
    wait_for_states(&bootstrap, "events", "events in sync", full_of(3))?;
    let (first, failed) = produce_acknowledged(&bootstrap, "events", 3, "first", 90).await?;
    assert_eq!((first.len(), failed), (90, 0));
    assert_eq!(read_as_group(&bootstrap, "events", "auditors", 90)?, 90, "committed past every record");

    // The coordinator is the leader of the group's __consumer_offsets partition, replicated to every broker.
    let partition = partition_for("auditors", 50);
    let states = wait_for_states(&bootstrap, "__consumer_offsets", "offsets topic in sync", full_of(50))?;
    let coordinator = states[&partition].0;
    cluster.nodes.get_mut(&coordinator).context("the coordinator")?.kill9()?;
    let survivors = cluster.bootstrap_without(coordinator);
    wait_for_states(&survivors, "__consumer_offsets", "a new coordinator", |states| {
        states.get(&partition).is_some_and(|(leader, _)| *leader > 0 && *leader != coordinator)
    })?;

    // The new coordinator has the group's offsets: the group resumes after what it committed.
    let (second, failed) = produce_acknowledged(&survivors, "events", 3, "second", 30).await?;
    assert_eq!((second.len(), failed), (30, 0));
    assert_eq!(read_as_group(&survivors, "events", "auditors", 30)?, 120, "resumed at the committed offsets");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_leader_acknowledges_nothing_after_it_is_deposed() -> Result<()> {
    let cluster = Cluster::start()?;
    let bootstrap = cluster.bootstrap();
    wait_for_brokers(&bootstrap, 3)?;
    let created = create_topic(&bootstrap, "paused", (1, 3), &[("min.insync.replicas", "2")]).await?;
    assert_eq!(created, RDKafkaErrorCode::NoError);
    let leader = wait_for_states(&bootstrap, "paused", "in sync", full_of(1))?[&0].0;
    let (mut acknowledged, failed) = produce_acknowledged(&bootstrap, "paused", 1, "before", 100).await?;
    assert_eq!(failed, 0);

    // The leader freezes past its session; a producer keeps writing while the others elect a new leader.
    cluster.nodes[&leader].signal("STOP")?;
    let writing_to = bootstrap.clone();
    let writer = tokio::spawn(async move { produce_acknowledged(&writing_to, "paused", 1, "during", 200).await });
    wait_for_states(&cluster.bootstrap_without(leader), "paused", "a new leader", |states| {
        states.get(&0).is_some_and(|(l, _)| *l > 0 && *l != leader)
    })?;
    // It wakes up still believing it leads, with requests in flight: whatever it acknowledges must hold.
    cluster.nodes[&leader].signal("CONT")?;
    let (during, _) = writer.await??;
    acknowledged.extend(during);

    wait_for_states(&bootstrap, "paused", "the old leader back in sync", full_of(1))?;
    check_acknowledged(&read_all(&bootstrap, "paused", 1, acknowledged.len())?, &acknowledged);
    wait_for_identical_replicas(&cluster, &[1, 2, 3], "paused", 0)
}

#[tokio::test(flavor = "multi_thread")]
async fn leaders_killed_over_and_over_under_load_lose_no_acknowledged_record() -> Result<()> {
    let mut cluster = Cluster::start()?;
    let bootstrap = cluster.bootstrap();
    wait_for_brokers(&bootstrap, 3)?;
    let created = create_topic(&bootstrap, "faults", (3, 3), &[("min.insync.replicas", "2")]).await?;
    assert_eq!(created, RDKafkaErrorCode::NoError);
    wait_for_states(&bootstrap, "faults", "in sync", full_of(3))?;
    let mut acknowledged = Vec::new();
    for round in 0..10 {
        // Writes keep coming while the leader of one partition dies.
        let writing_to = cluster.bootstrap();
        let label = format!("round{round}");
        let writer = tokio::spawn(async move { produce_acknowledged(&writing_to, "faults", 3, &label, 150).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let first = kill_leader(&mut cluster, "faults", round % 3)?;
        if round % 4 == 3 {
            // Two failures in quick succession (KIP-279): the first victim returns, and the leader that replaced
            // it dies before the victim has caught up; the third replica leads, and both others truncate to it.
            cluster.start_node(first)?;
            let second = kill_leader(&mut cluster, "faults", round % 3)?;
            cluster.start_node(second)?;
        } else {
            cluster.start_node(first)?;
        }
        let (written, _) = writer.await??;
        acknowledged.extend(written);
        wait_for_states(&cluster.bootstrap(), "faults", "every replica back in sync", full_of(3))?;
    }
    assert!(acknowledged.len() > 750, "most writes were acknowledged: {}", acknowledged.len());
    check_acknowledged(&read_all(&cluster.bootstrap(), "faults", 3, acknowledged.len())?, &acknowledged);
    for partition in 0..3 {
        wait_for_identical_replicas(&cluster, &[1, 2, 3], "faults", partition)?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn kafka_python_follows_a_failover_without_skipping_an_offset() -> Result<()> {
    let mut cluster = Cluster::start()?;
    let bootstrap = cluster.bootstrap();
    wait_for_brokers(&bootstrap, 3)?;
    let created = create_topic(&bootstrap, "py", (2, 3), &[("min.insync.replicas", "2")]).await?;
    assert_eq!(created, RDKafkaErrorCode::NoError);
    wait_for_states(&bootstrap, "py", "in sync", full_of(2))?;

    // kafka-python produces and consumes in a group while the leader of partition 0 dies and comes back.
    let script = tidemark_tests::repo_root().join("tests/python/kafka_python_failover.py");
    let client = std::process::Command::new(python())
        .arg(script)
        .args([bootstrap.as_str(), "py", "py-readers", "400"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()?;
    let watcher = CommitWatcher::start(&bootstrap, "py", 2, "py-readers")?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let victim = kill_leader(&mut cluster, "py", 0)?;
    cluster.start_node(victim)?;
    let output = client.wait_with_output()?;
    let commits = watcher.stop()?;
    assert!(commits > 0, "the group's commits were observed");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).context("the client's report")?;
    assert!(output.status.success(), "the consumer missed acknowledged records");
    let records = |key: &str| -> Vec<(i32, i64, String)> {
        report[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| Some((r[0].as_i64()? as i32, r[1].as_i64()?, r[2].as_str()?.to_owned())))
            .collect()
    };
    let (acknowledged, consumed) = (records("acknowledged"), records("consumed"));
    assert!(acknowledged.len() > 300, "most writes were acknowledged: {}", acknowledged.len());

    // Redelivery after a rebalance goes back; a consumer never jumps over an offset.
    let mut highest: BTreeMap<i32, i64> = BTreeMap::new();
    for (partition, offset, _) in &consumed {
        let seen = highest.entry(*partition).or_insert(-1);
        assert!(*offset <= *seen + 1, "partition {partition}: offset {offset} read after {seen}");
        *seen = (*seen).max(*offset);
    }
    check_acknowledged(&read_all(&cluster.bootstrap(), "py", 2, acknowledged.len())?, &acknowledged);
    Ok(())
}

/// Reads a group's committed offsets over and over from another thread, failing if any moves backwards (a
/// coordinator that lost an acknowledged commit would show an older one).
struct CommitWatcher {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Result<usize>>,
}

impl CommitWatcher {
    fn start(bootstrap: &str, topic: &str, partitions: i32, group: &str) -> Result<Self> {
        let consumer: BaseConsumer = client_config(bootstrap).set("group.id", group).create()?;
        let mut wanted = rdkafka::TopicPartitionList::new();
        for partition in 0..partitions {
            wanted.add_partition(topic, partition);
        }
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = std::sync::Arc::clone(&stop);
        let thread = std::thread::spawn(move || -> Result<usize> {
            let mut last: BTreeMap<i32, i64> = BTreeMap::new();
            let mut observed = 0;
            while !stopped.load(std::sync::atomic::Ordering::Acquire) {
                // A coordinator moving answers with errors for a while; those reads say nothing.
                if let Ok(committed) = consumer.committed_offsets(wanted.clone(), Duration::from_secs(2)) {
                    for element in committed.elements() {
                        let Some(offset) = element.offset().to_raw().filter(|o| *o >= 0) else { continue };
                        let before = last.insert(element.partition(), offset).unwrap_or(-1);
                        if offset < before {
                            bail!(
                                "partition {}: committed offset moved back from {before} to {offset}",
                                element.partition()
                            );
                        }
                        observed += 1;
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Ok(observed)
        });
        Ok(CommitWatcher { stop, thread })
    }

    /// Stops watching; answers how many committed offsets were read.
    fn stop(self) -> Result<usize> {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        self.thread.join().map_err(|_| anyhow::anyhow!("the commit watcher panicked"))?
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cluster_defaults_replicate_topics_created_without_a_factor() -> Result<()> {
    const FLAGS: [&str; 4] = ["--default-replication-factor", "3", "--min-insync-replicas", "2"];
    let cluster = Cluster::start_with(3, &FLAGS)?;
    let bootstrap = cluster.bootstrap();
    wait_for_brokers(&bootstrap, 3)?;
    // Auto-created when a producer first writes to it, and created without a factor through the admin API.
    produce(&bootstrap, "automatic", 0, &values("automatic", 0, 0..10)).await?;
    wait_for_states(&bootstrap, "automatic", "three in-sync replicas", full_of(1))?;
    let admin: AdminClient<DefaultClientContext> = client_config(&bootstrap).create()?;
    let topic = rdkafka::admin::NewTopic::new("unspecified", 2, rdkafka::admin::TopicReplication::Fixed(-1));
    let created = admin.create_topics([&topic], &AdminOptions::new().operation_timeout(Some(WAIT))).await?;
    assert!(created.iter().all(Result::is_ok), "{created:?}");
    wait_for_states(&bootstrap, "unspecified", "three in-sync replicas", full_of(2))?;

    // min.insync.replicas comes from the brokers' default, reported as a static broker config.
    let described = admin
        .describe_configs([&rdkafka::admin::ResourceSpecifier::Topic("unspecified")], &AdminOptions::new())
        .await?;
    let resource = described.into_iter().next().context("one resource")?.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let entry = resource.get("min.insync.replicas").context("min.insync.replicas described")?;
    assert_eq!(entry.value.as_deref(), Some("2"));
    assert_eq!(entry.source, rdkafka::admin::ConfigSource::StaticBroker);

    // A creation only validated is checked as the controller would apply it, and creates nothing.
    let validate = AdminOptions::new().validate_only(true).operation_timeout(Some(WAIT));
    let too_many = rdkafka::admin::NewTopic::new("checked", 1, rdkafka::admin::TopicReplication::Fixed(4));
    let refused = admin.create_topics([&too_many], &validate).await?;
    assert!(matches!(refused[..], [Err((_, RDKafkaErrorCode::InvalidReplicationFactor))]), "{refused:?}");
    let taken = rdkafka::admin::NewTopic::new("unspecified", 1, rdkafka::admin::TopicReplication::Fixed(3));
    let refused = admin.create_topics([&taken], &validate).await?;
    assert!(matches!(refused[..], [Err((_, RDKafkaErrorCode::TopicAlreadyExists))]), "{refused:?}");
    let fine = rdkafka::admin::NewTopic::new("checked", 1, rdkafka::admin::TopicReplication::Fixed(3));
    assert!(admin.create_topics([&fine], &validate).await?.iter().all(Result::is_ok));
    let listed = metadata(&bootstrap, "checked");
    assert!(listed.is_err() || listed?.topics().iter().all(|t| t.partitions().is_empty()), "not created");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn leaderships_return_to_preferred_replicas_after_a_failover() -> Result<()> {
    const FLAGS: [&str; 6] = [
        "--broker-session-timeout-ms",
        "2000",
        "--broker-heartbeat-interval-ms",
        "300",
        "--leader-imbalance-check-interval-ms",
        "1000",
    ];
    let mut cluster = Cluster::start_with(3, &FLAGS)?;
    let bootstrap = cluster.bootstrap();
    wait_for_brokers(&bootstrap, 3)?;
    assert_eq!(create_topic(&bootstrap, "balanced", (3, 3), &[]).await?, RDKafkaErrorCode::NoError);
    let preferred = wait_for_states(&bootstrap, "balanced", "in sync", full_of(3))?;
    let preferred: BTreeMap<i32, i32> = preferred.into_iter().map(|(p, (leader, _))| (p, leader)).collect();
    let leaders_used: BTreeSet<i32> = preferred.values().copied().collect();
    assert_eq!(leaders_used.len(), 3, "one leader per broker: {preferred:?}");

    // The leader of partition 0 dies and returns: once it is in sync again, it leads partition 0 again.
    let victim = kill_leader(&mut cluster, "balanced", 0)?;
    cluster.start_node(victim)?;
    wait_for_leaders(&cluster.bootstrap(), "balanced", "the preferred leaders back", |leaders| *leaders == preferred)?;
    Ok(())
}
