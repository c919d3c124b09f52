//! The `cluster` benchmark (issue 9): a librdkafka producer at `acks=all` against a three-node cluster producing to
//! a topic of replication factor 3, as a ratio to the same producer against a single node in the same run; the
//! latency at a fixed rate on both; and the time from a leader's `kill -9` to the first successful produce on its
//! successor ([`crate::cluster_failover`]), the cluster running with default settings throughout.
//! [`crate::cluster_report`] prints the figures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rdkafka::admin::TopicReplication;

use crate::admin::{self, PartitionState};
use crate::broker::{self, Broker};
use crate::cluster_failover::{self, Failover};
use crate::cluster_nodes::{Nodes, Problems};
use crate::latency::{self, Latency};
use crate::produce::{self, Throughput};
use crate::run::{measured_brokers, progress, Cost, WorkDir, BIG};
use crate::settings::env_size;

/// The topic of the throughput runs.
const TOPIC_THROUGHPUT: &str = "bench-cluster-1k";
/// The topic of the latency runs.
const TOPIC_LATENCY: &str = "bench-cluster-latency";

/// What the `cluster` benchmark runs; every field comes from a `BENCH_*` environment variable.
#[derive(Debug, Clone)]
pub struct ClusterSettings {
    /// `BENCH_CLUSTER_RECORDS`: 1 KiB records of each throughput run. Default 300,000.
    pub records: u64,
    /// `BENCH_CLUSTER_LATENCY_RATE`: records per second of the latency runs. Default 5,000.
    pub latency_rate: u64,
    /// `BENCH_CLUSTER_LATENCY_SECS`: duration of each latency run in seconds. Default 10.
    pub latency_secs: u64,
    /// `BENCH_CLUSTER_FAILOVER_TRIALS`: leader kills. Default 6.
    pub failover_trials: u64,
    /// `BENCH_DIR`: where the brokers' data goes. Default: the system temporary directory.
    pub dir: PathBuf,
}

impl ClusterSettings {
    /// Reads the settings from the environment.
    pub fn from_env() -> Result<Self> {
        Ok(Self {
            records: env_size("BENCH_CLUSTER_RECORDS", 300_000)?,
            latency_rate: env_size("BENCH_CLUSTER_LATENCY_RATE", 5_000)?,
            latency_secs: env_size("BENCH_CLUSTER_LATENCY_SECS", 10)?,
            failover_trials: env_size("BENCH_CLUSTER_FAILOVER_TRIALS", 6)?,
            dir: std::env::var_os("BENCH_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir),
        })
    }
}

/// The runs against one target, the single node or the cluster.
pub struct TargetRuns {
    /// Producing 1 KiB records as fast as the producer goes.
    pub throughput: (Throughput, Cost),
    /// Producing at a fixed rate.
    pub latency: (Latency, Cost),
}

/// Everything the `cluster` benchmark measured.
pub struct ClusterRuns {
    /// The single node, topics of replication factor 1.
    pub single: TargetRuns,
    /// The cluster, topics of replication factor 3.
    pub cluster: TargetRuns,
    /// The leader kills; the cost has no broker figures, as the processes die and restart.
    pub failover: (Failover, Cost),
    /// The single node's log problems.
    pub single_problems: Problems,
    /// Each cluster node's log problems.
    pub node_problems: BTreeMap<i32, Problems>,
}

/// Runs the `cluster` benchmark and prints the report to stdout (progress goes to stderr).
pub fn run(settings: &ClusterSettings, binary: &Path) -> Result<()> {
    let ticks = broker::clock_ticks();
    let work = WorkDir(settings.dir.join(format!("tidemark-bench-cluster-{}", std::process::id())));
    std::fs::create_dir_all(&work.0).with_context(|| format!("creating {}", work.0.display()))?;

    let mut single = Broker::start(binary, &work.0.join("single"), &[])?;
    progress(&format!("single node: pid {} listening on {}", single.pid(), single.bootstrap));
    let single_runs = measure_target("single node", &single.bootstrap, &[single.pid()], 1, settings, ticks);
    single.check_alive()?;
    let single_runs = single_runs?;
    let single_problems = single.problems();
    drop(single);

    let mut nodes = Nodes::start(binary, &work.0)?;
    progress(&format!("cluster: pids {:?} listening on {}", nodes.pids(), nodes.bootstrap()));
    let cluster_runs = measure_target("cluster", &nodes.bootstrap(), &nodes.pids(), 3, settings, ticks);
    nodes.check_alive()?;
    let cluster_runs = cluster_runs?;
    let failover = measured_brokers(ticks, &[], || Ok(cluster_failover::run(&mut nodes, settings.failover_trials)))?;
    let node_problems = nodes.problems();
    drop(nodes);

    let runs = ClusterRuns { single: single_runs, cluster: cluster_runs, failover, single_problems, node_problems };
    crate::cluster_report::print(settings, binary, &work.0, &runs);
    Ok(())
}

/// Creates the throughput and the latency topic on `bootstrap` (one partition, `replicas` replicas) and, once every
/// replica is in sync, runs the throughput and the latency run, measuring the broker processes `pids`.
fn measure_target(
    name: &str,
    bootstrap: &str,
    pids: &[u32],
    replicas: i32,
    settings: &ClusterSettings,
    ticks: f64,
) -> Result<TargetRuns> {
    for topic in [TOPIC_THROUGHPUT, TOPIC_LATENCY] {
        admin::create_topic(bootstrap, topic, 1, TopicReplication::Fixed(replicas))?;
        let state = || admin::partition_state(bootstrap, topic);
        let in_sync = |s: &PartitionState| s.leader >= 0 && s.isr.len() == replicas as usize;
        admin::wait_until(&format!("{replicas} in-sync replicas of {topic}"), state, in_sync)?;
    }
    progress(&format!("{name}: producing {} records of {BIG} B", settings.records));
    let throughput =
        measured_brokers(ticks, pids, || produce::throughput(bootstrap, TOPIC_THROUGHPUT, BIG, settings.records))?;
    let (rate, secs) = (settings.latency_rate, settings.latency_secs);
    progress(&format!("{name}: latency at {rate} records/s for {secs} s"));
    let latency = measured_brokers(ticks, pids, || latency::fixed_rate(bootstrap, TOPIC_LATENCY, BIG, rate, secs))?;
    Ok(TargetRuns { throughput, latency })
}
