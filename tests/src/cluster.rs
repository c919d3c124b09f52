//! A three-node Tidemark cluster on loopback for end-to-end tests (every node a broker and a controller voter), and
//! what the cluster tests check with librdkafka: partition states, acknowledged records, identical replicas.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::metadata::Metadata;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::Message;

use crate::{client_config, consume, consumer_from_start, TidemarkProcess};

/// How long the cluster tests wait for a state.
pub const WAIT: Duration = Duration::from_secs(30);
/// Short sessions so that a killed broker is fenced quickly, and a short replica lag so that ISRs shrink quickly.
pub const SESSION_FLAGS: [&str; 6] = [
    "--broker-session-timeout-ms",
    "2000",
    "--broker-heartbeat-interval-ms",
    "300",
    "--replica-lag-time-max-ms",
    "3000",
];

/// How every node of a [`Cluster`] starts, besides its identity and the quorum.
#[derive(Debug, Clone, Copy)]
pub struct NodeSetup {
    /// Its Kafka listeners (`--kafka-listen`); the first is the inter-broker listener.
    pub listen: &'static str,
    /// Other flags.
    pub flags: &'static [&'static str],
    /// Environment variables (e.g. `TIDEMARK_CLUSTER_SECRET`).
    pub env: &'static [(&'static str, &'static str)],
}

impl NodeSetup {
    /// One PLAINTEXT listener on a free port and `flags`.
    pub fn plaintext(flags: &'static [&'static str]) -> Self {
        NodeSetup { listen: "127.0.0.1:0", flags, env: &[] }
    }
}

/// A cluster on loopback: nodes 1 to N, each a broker; the first three are the controller voters, the others
/// follow the metadata log as learners.
pub struct Cluster {
    root: tempfile::TempDir,
    voters: String,
    controller_ports: Vec<u16>,
    setup: NodeSetup,
    /// The running nodes by node id.
    pub nodes: BTreeMap<i32, TidemarkProcess>,
}

impl Cluster {
    /// Starts three nodes with [`SESSION_FLAGS`].
    pub fn start() -> Result<Self> {
        Self::start_with(3, &SESSION_FLAGS)
    }

    /// Starts `nodes` nodes (at least three), each with `flags`. The controller ports are picked free beforehand
    /// (every node must know the voters'), so another process may take one before its node binds it: then the
    /// cluster is started again on new ports.
    pub fn start_with(nodes: i32, flags: &'static [&'static str]) -> Result<Self> {
        Self::start_with_setup(nodes, NodeSetup::plaintext(flags))
    }

    /// Like [`Cluster::start_with`], every node started as `setup` says.
    pub fn start_with_setup(nodes: i32, setup: NodeSetup) -> Result<Self> {
        let mut attempts = 0;
        loop {
            match Self::start_on_free_ports(nodes, setup) {
                Ok(cluster) => return Ok(cluster),
                Err(e) if attempts < 4 => {
                    attempts += 1;
                    eprintln!("starting the cluster failed ({e:#}); trying other ports");
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn start_on_free_ports(nodes: i32, setup: NodeSetup) -> Result<Self> {
        let controller_ports: Vec<u16> = (0..nodes).map(|_| free_port()).collect::<Result<_>>()?;
        let voters = controller_ports
            .iter()
            .take(3)
            .enumerate()
            .map(|(i, port)| format!("{}@127.0.0.1:{port}", i + 1))
            .collect::<Vec<_>>();
        let root = tempfile::tempdir()?;
        let mut cluster = Cluster { root, voters: voters.join(","), controller_ports, setup, nodes: BTreeMap::new() };
        for id in 1..=nodes {
            cluster.start_node(id)?;
        }
        Ok(cluster)
    }

    /// The data directory of node `id`.
    pub fn data_dir(&self, id: i32) -> PathBuf {
        self.root.path().join(format!("node-{id}"))
    }

    /// Starts node `id` (again) on its data directory.
    pub fn start_node(&mut self, id: i32) -> Result<()> {
        let node_id = id.to_string();
        let controller = format!("127.0.0.1:{}", self.controller_ports[id as usize - 1]);
        let mut args = vec!["--node-id", &node_id, "--controller-listen", &controller, "--voters", &self.voters];
        args.extend(self.setup.flags);
        let process = TidemarkProcess::start_with_env(&self.data_dir(id), self.setup.listen, &args, self.setup.env)?;
        self.nodes.insert(id, process);
        Ok(())
    }

    /// The `--voters` flag's value.
    pub fn voters(&self) -> &str {
        &self.voters
    }

    /// The Kafka listeners of every node but `id`.
    pub fn bootstrap_without(&self, id: i32) -> String {
        self.nodes
            .iter()
            .filter(|(node, _)| **node != id)
            .map(|(_, n)| n.bootstrap.clone())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The Kafka listeners of every node.
    pub fn bootstrap(&self) -> String {
        self.nodes.values().map(|n| n.bootstrap.clone()).collect::<Vec<_>>().join(",")
    }

    /// The node id of the active controller, as node `asked` sees it (`GET /controller/status` on its controller
    /// listener), once one other than `not` is elected.
    pub fn active_controller(&self, asked: i32, not: Option<i32>) -> Result<i32> {
        let port = self.controller_ports[usize::try_from(asked - 1)?];
        let status = || -> Result<serde_json::Value> {
            let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
            stream.write_all(b"GET /controller/status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
            let mut response = String::new();
            stream.read_to_string(&mut response)?;
            let (_, body) = response.split_once("\r\n\r\n").context("no HTTP body")?;
            Ok(serde_json::from_str(body)?)
        };
        let elected =
            |s: &serde_json::Value| s["active_controller"].as_i64().is_some_and(|id| Some(id) != not.map(i64::from));
        let status = poll_until("an active controller", status, elected)?;
        Ok(i32::try_from(status["active_controller"].as_i64().unwrap_or_default())?)
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The metadata of `topic`, as the brokers at `bootstrap` answer it.
pub fn metadata(bootstrap: &str, topic: &str) -> Result<Metadata> {
    let consumer: BaseConsumer = client_config(bootstrap).create()?;
    Ok(consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?)
}

/// Leader per partition of `topic` (-1: none), once every partition is known.
pub fn leaders(bootstrap: &str, topic: &str) -> Result<BTreeMap<i32, i32>> {
    let metadata = metadata(bootstrap, topic)?;
    let topic = metadata.topics().first().context("no topic in the metadata")?;
    Ok(topic.partitions().iter().map(|p| (p.id(), p.leader())).collect())
}

/// Leader and ISR per partition of `topic`.
pub fn partition_states(bootstrap: &str, topic: &str) -> Result<BTreeMap<i32, (i32, Vec<i32>)>> {
    let metadata = metadata(bootstrap, topic)?;
    let topic = metadata.topics().first().context("no topic in the metadata")?;
    Ok(topic.partitions().iter().map(|p| (p.id(), (p.leader(), p.isr().to_vec()))).collect())
}

/// A check that all `partitions` have a leader and three in-sync replicas.
pub fn full_of(partitions: usize) -> impl Fn(&BTreeMap<i32, (i32, Vec<i32>)>) -> bool {
    move |states| states.len() == partitions && states.values().all(|(leader, isr)| *leader > 0 && isr.len() == 3)
}

/// Calls `read` every 200 ms until `check` holds of what it answers (failed reads count as "not yet"), for up to
/// [`WAIT`]; the error names `what` and the last answer.
pub fn poll_until<T: std::fmt::Debug>(
    what: &str,
    read: impl Fn() -> Result<T>,
    check: impl Fn(&T) -> bool,
) -> Result<T> {
    let deadline = Instant::now() + WAIT;
    loop {
        let current = read();
        if current.as_ref().is_ok_and(&check) {
            return current;
        }
        if Instant::now() > deadline {
            bail!("{what}: {current:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Polls until `check` holds of the partition states of `topic`.
pub fn wait_for_states(
    bootstrap: &str,
    topic: &str,
    what: &str,
    check: impl Fn(&BTreeMap<i32, (i32, Vec<i32>)>) -> bool,
) -> Result<BTreeMap<i32, (i32, Vec<i32>)>> {
    poll_until(&format!("{what} (partitions of {topic})"), || partition_states(bootstrap, topic), check)
}

/// Polls until the cluster's metadata lists `count` live brokers.
pub fn wait_for_brokers(bootstrap: &str, count: usize) -> Result<()> {
    let live = || -> Result<usize> {
        let consumer: BaseConsumer = client_config(bootstrap).create()?;
        Ok(consumer.fetch_metadata(None, Duration::from_secs(10))?.brokers().len())
    };
    poll_until(&format!("{count} live brokers"), live, |&n| n == count).map(|_| ())
}

/// Polls until `check` holds of the leaders of `topic`.
pub fn wait_for_leaders(
    bootstrap: &str,
    topic: &str,
    what: &str,
    check: impl Fn(&BTreeMap<i32, i32>) -> bool,
) -> Result<BTreeMap<i32, i32>> {
    poll_until(&format!("{what} (leaders of {topic})"), || leaders(bootstrap, topic), check)
}

/// Creates `name` with (partitions, replication factor) and `configs`; answers the error code (NoError when
/// created).
pub async fn create_topic(
    bootstrap: &str,
    name: &str,
    (partitions, replication): (i32, i32),
    configs: &[(&str, &str)],
) -> Result<RDKafkaErrorCode> {
    let admin: AdminClient<DefaultClientContext> = client_config(bootstrap).create()?;
    let topic = configs
        .iter()
        .fold(NewTopic::new(name, partitions, TopicReplication::Fixed(replication)), |t, (k, v)| t.set(k, v));
    let results = admin.create_topics([&topic], &AdminOptions::new().operation_timeout(Some(WAIT))).await?;
    Ok(match results.into_iter().next() {
        Some(Err((_, code))) => code,
        _ => RDKafkaErrorCode::NoError,
    })
}

/// Produces `count` records to every partition of `topic` with an idempotent `acks=all` producer; answers the
/// acknowledged (partition, offset, value) triples and how many sends failed.
pub async fn produce_acknowledged(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    round: &str,
    count: i32,
) -> Result<(Vec<(i32, i64, String)>, usize)> {
    let producer: FutureProducer = client_config(bootstrap)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", "15000")
        .set("linger.ms", "2")
        .create()?;
    let mut sends = Vec::new();
    for i in 0..count {
        let partition = i % partitions;
        let value = format!("{round}-{i}");
        let record = FutureRecord::<(), _>::to(topic).partition(partition).payload(&value);
        sends.push((value.clone(), producer.send_result(record).map_err(|(e, _)| e)?));
    }
    let (mut acknowledged, mut failed) = (Vec::new(), 0);
    for (value, delivery) in sends {
        match delivery.await? {
            Ok(delivered) => acknowledged.push((delivered.partition, delivered.offset, value)),
            Err(_) => failed += 1,
        }
    }
    Ok((acknowledged, failed))
}

/// Checks that every acknowledged record is stored at the offset its acknowledgement gave, and that no value is
/// stored twice.
pub fn check_acknowledged(stored: &BTreeMap<(i32, i64), String>, acknowledged: &[(i32, i64, String)]) {
    let misplaced: Vec<String> = acknowledged
        .iter()
        .filter(|(partition, offset, value)| stored.get(&(*partition, *offset)) != Some(value))
        .map(|(partition, offset, value)| {
            format!("{value} acknowledged at {partition}/{offset}, stored {:?}", stored.get(&(*partition, *offset)))
        })
        .collect();
    assert!(
        misplaced.is_empty(),
        "{} of {} misplaced: {:?}",
        misplaced.len(),
        acknowledged.len(),
        &misplaced[..misplaced.len().min(12)]
    );
    let values: BTreeSet<&String> = stored.values().collect();
    assert_eq!(values.len(), stored.len(), "no record stored twice");
}

/// Waits until the first segment of `topic`-`partition` is byte for byte the same on each of `replicas`.
pub fn wait_for_identical_replicas(cluster: &Cluster, replicas: &[i32], topic: &str, partition: i32) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        let logs: Vec<Vec<u8>> = replicas
            .iter()
            .map(|id| {
                std::fs::read(
                    cluster.data_dir(*id).join(format!("topics/{topic}-{partition}/00000000000000000000.log")),
                )
            })
            .collect::<Result<_, _>>()?;
        if logs.iter().all(|log| *log == logs[0]) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "the replicas of {topic}-{partition} differ: {:?} bytes",
                logs.iter().map(Vec::len).collect::<Vec<_>>()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every record of `topic` by (partition, offset), read from the leaders.
pub fn read_all(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    at_least: usize,
) -> Result<BTreeMap<(i32, i64), String>> {
    let consumer = consumer_from_start(bootstrap, topic, partitions)?;
    let received = consume(&consumer, at_least, WAIT)?;
    Ok(received
        .iter()
        .map(|m| ((m.partition(), m.offset()), String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned()))
        .collect())
}

/// Kills the leader of `partition` of `topic` (kill -9) and waits until another broker leads it; answers the
/// killed node.
pub fn kill_leader(cluster: &mut Cluster, topic: &str, partition: i32) -> Result<i32> {
    let bootstrap = cluster.bootstrap();
    let leader = wait_for_states(&bootstrap, topic, "a leader", |s| s.get(&partition).is_some_and(|(l, _)| *l > 0))?
        [&partition]
        .0;
    cluster.nodes.get_mut(&leader).context("the leader")?.kill9()?;
    wait_for_states(&cluster.bootstrap_without(leader), topic, "a new leader", |states| {
        states.get(&partition).is_some_and(|(l, _)| *l > 0 && *l != leader)
    })?;
    Ok(leader)
}
