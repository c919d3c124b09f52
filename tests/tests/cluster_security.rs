//! A cluster secured with a shared secret (issue 11): brokers authenticate to each other's SASL_PLAINTEXT
//! inter-broker listener with the login the secret makes, so replication works under `--authorizer on`; a client
//! posing as a follower is refused, and a node with another secret cannot join. Over SASL_SSL replication is
//! encrypted too, and without the authorizer only brokers may still fetch as followers.
#![allow(missing_docs)]

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::{ApiKey, BrokerId, FetchRequest, FetchResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use tidemark_broker::client::{ClientSecurity, KafkaConnection};
use tidemark_tests::cluster::{
    check_acknowledged, create_topic, free_port, full_of, kill_leader, poll_until, produce_acknowledged, read_all,
    wait_for_brokers, wait_for_states, Cluster, NodeSetup, SESSION_FLAGS,
};
use tidemark_tests::tls::Certificates;
use tidemark_tests::{consume, TidemarkProcess};

const SECRET: &str = "the-test-cluster-secret-0123456789";
const ADMIN_PASSWORD: &str = "adm1n-Secret-77";
const TOPIC: &str = "secured";
const RECORDS: usize = 100;
const SETUP: NodeSetup = NodeSetup {
    listen: "SASL_PLAINTEXT://127.0.0.1:0,PLAINTEXT://127.0.0.1:0",
    flags: &[
        "--broker-session-timeout-ms",
        "2000",
        "--broker-heartbeat-interval-ms",
        "300",
        "--replica-lag-time-max-ms",
        "3000",
        "--authorizer",
        "on",
        "--super-users",
        "User:admin",
        "--initial-user",
        "admin",
    ],
    env: &[("TIDEMARK_CLUSTER_SECRET", SECRET), ("TIDEMARK_INITIAL_USER_PASSWORD", ADMIN_PASSWORD)],
};

/// librdkafka as `admin` over SASL_PLAINTEXT.
fn admin(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("security.protocol", "SASL_PLAINTEXT")
        .set("sasl.mechanisms", "SCRAM-SHA-512")
        .set("sasl.username", "admin")
        .set("sasl.password", ADMIN_PASSWORD);
    config
}

/// The SASL_PLAINTEXT listeners of every node but `except`.
fn sasl_bootstrap(cluster: &Cluster, except: Option<i32>) -> Result<String> {
    let nodes = cluster.nodes.iter().filter(|(id, _)| Some(**id) != except);
    let listeners: Vec<&str> = nodes.map(|(_, node)| node.listener("SASL_PLAINTEXT")).collect::<Result<_>>()?;
    Ok(listeners.join(","))
}

/// Leader and ISR of partition 0 of [`TOPIC`].
fn partition_state(bootstrap: &str) -> Result<(i32, Vec<i32>)> {
    let consumer: BaseConsumer = admin(bootstrap).create()?;
    let metadata = consumer.fetch_metadata(Some(TOPIC), Duration::from_secs(10))?;
    let partition = metadata.topics().first().and_then(|t| t.partitions().first()).context("no partition")?;
    Ok((partition.leader(), partition.isr().to_vec()))
}

/// The node ids the cluster's metadata lists.
fn brokers(bootstrap: &str) -> Result<Vec<i32>> {
    let consumer: BaseConsumer = admin(bootstrap).create()?;
    let metadata = consumer.fetch_metadata(None, Duration::from_secs(10))?;
    Ok(metadata.brokers().iter().map(|b| b.id()).collect())
}

/// A Fetch of partition 0 of [`TOPIC`] claiming to come from follower `replica_id`, on a PLAINTEXT connection:
/// the partition's error code.
async fn fetch_as_replica(address: &str, replica_id: i32) -> Result<i16> {
    let mut connection = KafkaConnection::connect(address, &ClientSecurity::plaintext(), "impostor").await?;
    let partition =
        FetchPartition::default().with_partition(0).with_fetch_offset(1_000_000).with_partition_max_bytes(1024);
    let topic =
        FetchTopic::default().with_topic(TopicName(StrBytes::from_static_str(TOPIC))).with_partitions(vec![partition]);
    let request = FetchRequest::default()
        .with_replica_id(BrokerId(replica_id))
        .with_max_bytes(1024)
        .with_session_epoch(-1)
        .with_topics(vec![topic]);
    let response: FetchResponse = connection.call(ApiKey::Fetch, 12, &request).await?;
    let answer = response.responses.first().and_then(|t| t.partitions.first()).context("no partition answered")?;
    Ok(answer.error_code)
}

#[test]
fn a_secured_cluster_replicates_under_the_authorizer_and_refuses_impostors_and_strangers() -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let mut cluster = Cluster::start_with_setup(3, SETUP)?;
    let bootstrap = sasl_bootstrap(&cluster, None)?;

    // `admin` is created by each node in the background once the quorum is up; until then creating fails.
    let created = || -> Result<()> {
        let client: AdminClient<DefaultClientContext> = admin(&bootstrap).create()?;
        let topic = NewTopic::new(TOPIC, 1, TopicReplication::Fixed(3));
        let results = runtime.block_on(client.create_topics([&topic], &AdminOptions::new()))?;
        match results.first() {
            Some(Ok(_)) | Some(Err((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists))) => Ok(()),
            other => anyhow::bail!("{other:?}"),
        }
    };
    poll_until("the topic created by admin", created, |_| true)?;
    poll_until(
        "three in-sync replicas",
        || partition_state(&bootstrap),
        |(leader, isr)| *leader > 0 && isr.len() == 3,
    )?;

    let producer: FutureProducer = admin(&bootstrap).set("acks", "all").create()?;
    let values: Vec<String> = (0..RECORDS).map(|i| format!("value-{i}")).collect();
    for value in &values {
        let record = FutureRecord::<str, str>::to(TOPIC).partition(0).payload(value);
        runtime.block_on(producer.send(record, Duration::from_secs(30))).map_err(|(e, _)| e)?;
    }

    // The followers replicated every acknowledged record through the authenticated inter-broker listener: with
    // the leader gone, a new one has them all.
    let (leader, _) = partition_state(&bootstrap)?;
    cluster.nodes.get_mut(&leader).context("the leader's node")?.kill9()?;
    let survivors = sasl_bootstrap(&cluster, Some(leader))?;
    poll_until("a new leader", || partition_state(&survivors), |(now, _)| *now > 0 && *now != leader)?;
    let consumer: BaseConsumer = admin(&survivors).set("group.id", "secured-check").create()?;
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(TOPIC, 0, Offset::Beginning)?;
    consumer.assign(&assignment)?;
    let consumed = consume(&consumer, RECORDS, Duration::from_secs(30))?;
    let read: Vec<String> =
        consumed.iter().map(|m| String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned()).collect();
    ensure!(read == values, "read after the failover: {read:?}");
    for node in cluster.nodes.values() {
        let denied = node.log().into_iter().find(|l| l.contains("authorization denied") && l.contains("__tidemark"));
        ensure!(denied.is_none(), "a broker's own request was denied: {denied:?}");
    }

    // A client on the PLAINTEXT listener posing as follower 2 is refused, and the refusal is logged.
    let (survivor_id, survivor) = cluster.nodes.iter().find(|(id, _)| **id != leader).context("a survivor")?;
    let impostor = if *survivor_id == 2 { 3 } else { 2 };
    let code = runtime.block_on(fetch_as_replica(survivor.listener("PLAINTEXT")?, impostor))?;
    ensure!(code == ResponseError::TopicAuthorizationFailed.code(), "the impostor's fetch answered {code}");
    survivor.wait_for_log("the impostor's fetch logged", Duration::from_secs(10), |l| {
        l.contains("authorization denied") && l.contains("CLUSTER_ACTION") && l.contains("User:ANONYMOUS")
    })?;

    // A node with another secret cannot join: the voters refuse its requests and the cluster never lists it.
    let stranger_dir = tempfile::tempdir()?;
    let controller = format!("127.0.0.1:{}", free_port()?);
    let args = ["--node-id", "4", "--controller-listen", &controller, "--voters", cluster.voters()];
    let env = [("TIDEMARK_CLUSTER_SECRET", "another-secret-0123456789"), ("TIDEMARK_INITIAL_USER_PASSWORD", "x")];
    let stranger = TidemarkProcess::start_with_env(stranger_dir.path(), SETUP.listen, &args, &env)?;
    let refused = |node: &TidemarkProcess| node.log().iter().any(|l| l.contains("controller request refused"));
    poll_until("a voter refusing the stranger", || Ok(cluster.nodes.values().any(refused)), |&r| r)?;
    stranger.wait_for_log("the stranger told why", Duration::from_secs(10), |l| {
        l.contains("WARN") && l.contains("refused this node") && l.contains("same cluster secret")
    })?;
    std::thread::sleep(Duration::from_secs(2));
    let listed = brokers(&survivors)?;
    ensure!(!listed.contains(&4), "the stranger joined: {listed:?}");
    let logs = cluster.nodes.values().chain([&stranger]).flat_map(TidemarkProcess::log);
    for line in logs {
        ensure!(!line.contains(SECRET) && !line.contains("another-secret"), "a secret was logged: {line}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brokers_replicate_over_sasl_ssl_and_without_the_authorizer_only_they_fetch_as_followers() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let certificates = Certificates::generate(dir.path(), "cluster", "client")?;
    // The harness takes a setup that outlives the cluster; these few strings are leaked for it.
    let leak = |text: String| -> &'static str { Box::leak(text.into_boxed_str()) };
    let path = |p: &std::path::Path| leak(p.to_string_lossy().into_owned());
    let env: &'static [(&'static str, &'static str)] = Box::leak(Box::new([
        ("TIDEMARK_CLUSTER_SECRET", SECRET),
        ("TIDEMARK_TLS_CERT", path(&certificates.server_cert)),
        ("TIDEMARK_TLS_KEY", path(&certificates.server_key)),
        ("TIDEMARK_TLS_CA", path(&certificates.ca)),
    ]));
    let setup = NodeSetup { listen: "SASL_SSL://127.0.0.1:0,PLAINTEXT://127.0.0.1:0", flags: &SESSION_FLAGS, env };
    let mut cluster = Cluster::start_with_setup(3, setup)?;
    let bootstrap = cluster.bootstrap();
    wait_for_brokers(&bootstrap, 3)?;

    let created = create_topic(&bootstrap, TOPIC, (1, 3), &[("min.insync.replicas", "2")]).await?;
    ensure!(created == rdkafka::types::RDKafkaErrorCode::NoError, "creating the topic: {created:?}");
    wait_for_states(&bootstrap, TOPIC, "three in-sync replicas", full_of(1))?;
    let (acknowledged, failed) = produce_acknowledged(&bootstrap, TOPIC, 1, "tls", 200).await?;
    ensure!(failed == 0 && acknowledged.len() == 200, "{failed} sends failed");

    // acks=all with min.insync.replicas=2 needed a follower to fetch over SASL_SSL; the new leader has them all.
    let leader = kill_leader(&mut cluster, TOPIC, 0)?;
    check_acknowledged(&read_all(&cluster.bootstrap_without(leader), TOPIC, 1, acknowledged.len())?, &acknowledged);

    let (survivor_id, survivor) = cluster.nodes.iter().find(|(id, _)| **id != leader).context("a survivor")?;
    let impostor = if *survivor_id == 2 { 3 } else { 2 };
    let code = fetch_as_replica(survivor.listener("PLAINTEXT")?, impostor).await?;
    ensure!(code == ResponseError::TopicAuthorizationFailed.code(), "the impostor's fetch answered {code}");
    survivor.wait_for_log("the impostor's fetch logged", Duration::from_secs(10), |l| {
        l.contains("authorization denied") && l.contains("CLUSTER_ACTION")
    })?;
    Ok(())
}
