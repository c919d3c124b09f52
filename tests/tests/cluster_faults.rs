//! Faults of a cluster whose broker sessions outlast every wait of these tests (two minutes): a crashed
//! broker is found by the crash probe (a follower or leader that lost its connection reports it, and the
//! controller finds its listener refusing connections), not by its session expiring. The faults are issue 9's: the
//! active controller killed while topics are created and a leader fails, a follower killed and caught up again,
//! and two of a partition's three replicas down under `min.insync.replicas=2`.

use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use tidemark_tests::client_config;
use tidemark_tests::cluster::{
    check_acknowledged, create_topic, full_of, produce_acknowledged, read_all, wait_for_brokers,
    wait_for_identical_replicas, wait_for_states, Cluster, WAIT,
};

/// Sessions and replica lag far longer than [`WAIT`]: within a test, only the crash probe fences a broker.
const LONG_SESSIONS: [&str; 4] = ["--broker-session-timeout-ms", "120000", "--replica-lag-time-max-ms", "120000"];

#[tokio::test(flavor = "multi_thread")]
async fn a_crashed_controller_is_replaced_while_topics_are_created_and_its_partitions_fail_over() -> Result<()> {
    let mut cluster = Cluster::start_with(3, &LONG_SESSIONS)?;
    let bootstrap = cluster.bootstrap();
    wait_for_brokers(&bootstrap, 3)?;
    let created = create_topic(&bootstrap, "orders", (3, 3), &[("min.insync.replicas", "2")]).await?;
    assert_eq!(created, RDKafkaErrorCode::NoError);
    wait_for_states(&bootstrap, "orders", "in sync", full_of(3))?;
    let (mut acknowledged, failed) = produce_acknowledged(&bootstrap, "orders", 3, "before", 150).await?;
    assert_eq!(failed, 0);

    // The active controller also leads one of the three partitions (leaders are balanced). It dies while an
    // administrator creates topics (two replicas each, which two brokers can hold) through the other two nodes.
    let victim = cluster.active_controller(1, None)?;
    let survivors = cluster.bootstrap_without(victim);
    let creating_through = survivors.clone();
    let creator = tokio::spawn(async move {
        let mut codes = Vec::new();
        for i in 0..6 {
            codes.push(create_topic(&creating_through, &format!("created-{i}"), (2, 2), &[]).await?);
        }
        anyhow::Ok(codes)
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    cluster.nodes.get_mut(&victim).context("the controller")?.kill9()?;

    // The others elect a controller, which fences the victim long before its session would expire: its
    // partitions get leaders from their ISRs, and acks=all writes go on with the two that remain.
    let survivor = (1..=3).find(|id| *id != victim).context("a survivor")?;
    cluster.active_controller(survivor, Some(victim))?;
    wait_for_states(&survivors, "orders", "leaders and ISRs without the victim", |states| {
        states.len() == 3 && states.values().all(|(l, isr)| *l > 0 && *l != victim && !isr.contains(&victim))
    })?;
    let (during, failed) = produce_acknowledged(&survivors, "orders", 3, "during", 300).await?;
    assert_eq!(failed, 0, "two in-sync replicas meet min.insync.replicas");
    acknowledged.extend(during);
    for code in creator.await?? {
        // A creation retried after the old controller committed it finds the topic there.
        assert!(matches!(code, RDKafkaErrorCode::NoError | RDKafkaErrorCode::TopicAlreadyExists), "{code:?}");
    }
    for i in 0..6 {
        wait_for_states(&survivors, &format!("created-{i}"), "led by survivors", |states| {
            states.len() == 2 && states.values().all(|(l, _)| *l > 0 && *l != victim)
        })?;
    }

    // It returns, learns the topics created without it, and catches up.
    cluster.start_node(victim)?;
    let bootstrap = cluster.bootstrap();
    wait_for_states(&bootstrap, "orders", "the victim back in every ISR", full_of(3))?;
    for i in 0..6 {
        wait_for_states(&bootstrap, &format!("created-{i}"), "every replica in sync", |states| {
            states.len() == 2 && states.values().all(|(l, isr)| *l > 0 && isr.len() == 2)
        })?;
    }
    check_acknowledged(&read_all(&bootstrap, "orders", 3, acknowledged.len())?, &acknowledged);
    for partition in 0..3 {
        wait_for_identical_replicas(&cluster, &[1, 2, 3], "orders", partition)?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_follower_catches_up_and_two_brokers_down_refuse_writes_without_losing_any() -> Result<()> {
    // Five nodes: 1 to 3 are the controller voters, so the quorum outlives the loss of brokers 4 and 5, which
    // hold two of the three replicas of the partition that node 1 leads.
    let mut cluster = Cluster::start_with(5, &LONG_SESSIONS)?;
    let bootstrap = cluster.bootstrap();
    wait_for_brokers(&bootstrap, 5)?;
    let admin: AdminClient<DefaultClientContext> = client_config(&bootstrap).create()?;
    let replicas: &[i32] = &[1, 4, 5];
    let assignment = [replicas];
    let topic = NewTopic::new("audit", 1, TopicReplication::Variable(&assignment)).set("min.insync.replicas", "2");
    let created = admin.create_topics([&topic], &AdminOptions::new().operation_timeout(Some(WAIT))).await?;
    assert!(created.iter().all(Result::is_ok), "{created:?}");
    let leader = wait_for_states(&bootstrap, "audit", "in sync", full_of(1))?[&0].0;
    assert_eq!(leader, 1, "the first replica leads");

    // A follower dies while a producer writes: the leader reports the dropped connection, the follower is fenced
    // and leaves the ISR, and acks=all writes go on (with two-minute sessions, they would time out otherwise).
    let writing_to = bootstrap.clone();
    let writer = tokio::spawn(async move { produce_acknowledged(&writing_to, "audit", 1, "during", 400).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    cluster.nodes.get_mut(&4).context("a follower")?.kill9()?;
    let (mut acknowledged, failed) = writer.await??;
    assert_eq!(failed, 0, "the remaining in-sync replicas meet min.insync.replicas");
    wait_for_states(&bootstrap, "audit", "the ISR without the follower", |states| {
        states.get(&0).is_some_and(|(_, isr)| !isr.contains(&4))
    })?;

    // It returns, truncates to the leader's log, catches up the writes it missed and rejoins the ISR.
    cluster.start_node(4)?;
    wait_for_states(&cluster.bootstrap(), "audit", "the follower back in sync", full_of(1))?;

    // Both followers die: the leader alone is below min.insync.replicas and refuses acks=all writes.
    for follower in [4, 5] {
        cluster.nodes.get_mut(&follower).context("a follower")?.kill9()?;
    }
    let bootstrap = cluster.bootstrap_without(4);
    wait_for_states(&bootstrap, "audit", "the leader alone in the ISR", |states| {
        states.get(&0).is_some_and(|(_, isr)| *isr == [leader])
    })?;
    let refusing: FutureProducer =
        client_config(&bootstrap).set("acks", "all").set("retries", "0").set("message.timeout.ms", "10000").create()?;
    let refused = refusing.send(FutureRecord::<(), _>::to("audit").partition(0).payload("refused"), WAIT).await;
    let error = refused.err().map(|(e, _)| e.rdkafka_error_code());
    assert_eq!(error, Some(Some(RDKafkaErrorCode::NotEnoughReplicas)), "{error:?}");

    // A producer that retries keeps its writes waiting; they land once the followers return, and nothing
    // acknowledged before is lost.
    let writer = tokio::spawn(async move { produce_acknowledged(&bootstrap, "audit", 1, "held", 50).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    for follower in [4, 5] {
        cluster.start_node(follower)?;
    }
    let (held, failed) = writer.await??;
    assert_eq!(failed, 0, "the held writes landed once the ISR was large enough");
    acknowledged.extend(held);
    let bootstrap = cluster.bootstrap();
    wait_for_states(&bootstrap, "audit", "every replica back in sync", full_of(1))?;
    let stored = read_all(&bootstrap, "audit", 1, acknowledged.len())?;
    assert!(!stored.values().any(|v| v == "refused"), "the refused write is nowhere");
    check_acknowledged(&stored, &acknowledged);
    wait_for_identical_replicas(&cluster, replicas, "audit", 0)
}
