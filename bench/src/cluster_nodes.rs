//! The `cluster` benchmark's three `tidemark broker` processes on loopback, every node a broker and a controller
//! voter, with the broker's default settings: started together, then killed (`kill -9`) and restarted on their own
//! data one at a time.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::admin;
use crate::broker::Broker;
use crate::run::progress;

/// The nodes' ids.
pub const NODE_IDS: [i32; 3] = [1, 2, 3];
/// Whole-cluster starts tried before giving up: a controller port picked free may be taken before its node binds it.
const START_ATTEMPTS: usize = 4;

/// WARN/ERROR line count and the first few of those lines, as [`Broker::problems`] answers them.
pub type Problems = (u64, Vec<String>);

/// The three nodes; a node is missing from `running` between its kill and its restart.
pub struct Nodes {
    binary: PathBuf,
    /// Holds each node's data directory, `node-ID`.
    dir: PathBuf,
    /// The `--voters` argument: every node's controller listener.
    voters: String,
    controller_ports: BTreeMap<i32, u16>,
    running: BTreeMap<i32, Broker>,
    /// The log problems of the processes killed so far, by node.
    killed_problems: BTreeMap<i32, Problems>,
}

impl Nodes {
    /// Starts the three nodes with their data under `root` and waits until the metadata lists the three brokers.
    /// The controller ports are picked free beforehand (every node must know them all), so another process may take
    /// one first: then the cluster starts again on other ports in fresh data directories, a few times.
    pub fn start(binary: &Path, root: &Path) -> Result<Self> {
        let mut attempt = 1;
        loop {
            match Self::start_on_free_ports(binary, &root.join(format!("cluster-{attempt}"))) {
                Ok(nodes) => return Ok(nodes),
                Err(e) if attempt < START_ATTEMPTS => {
                    progress(&format!("starting the cluster failed ({e:#}); trying other ports"));
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One attempt of [`Nodes::start`], with the data under `dir`.
    fn start_on_free_ports(binary: &Path, dir: &Path) -> Result<Self> {
        let controller_ports =
            NODE_IDS.iter().map(|&id| Ok((id, free_port()?))).collect::<Result<BTreeMap<i32, u16>>>()?;
        let voters: Vec<String> = controller_ports.iter().map(|(id, port)| format!("{id}@127.0.0.1:{port}")).collect();
        let mut nodes = Nodes {
            binary: binary.to_owned(),
            dir: dir.to_owned(),
            voters: voters.join(","),
            controller_ports,
            running: BTreeMap::new(),
            killed_problems: BTreeMap::new(),
        };
        for id in NODE_IDS {
            nodes.start_node(id)?;
        }
        let bootstrap = nodes.bootstrap();
        admin::wait_until("three brokers in the metadata", || admin::brokers(&bootstrap), |&n| n == NODE_IDS.len())?;
        Ok(nodes)
    }

    /// Starts node `id` (again, after [`Nodes::kill`]) on its data directory and controller port, with the same
    /// arguments every time, and waits for its Kafka listener.
    pub fn start_node(&mut self, id: i32) -> Result<()> {
        let node_id = id.to_string();
        let controller = format!("127.0.0.1:{}", self.controller_ports[&id]);
        let args = ["--node-id", &node_id, "--controller-listen", &controller, "--voters", &self.voters];
        let data_dir = self.dir.join(format!("node-{id}"));
        let broker = Broker::start(&self.binary, &data_dir, &args).with_context(|| format!("starting node {id}"))?;
        self.running.insert(id, broker);
        Ok(())
    }

    /// Kills node `id` with SIGKILL and reaps it, keeping its log problems for [`Nodes::problems`].
    pub fn kill(&mut self, id: i32) -> Result<()> {
        let broker = self.running.remove(&id).with_context(|| format!("node {id} is not running"))?;
        merge(self.killed_problems.entry(id).or_default(), broker.problems());
        drop(broker); // SIGKILL (`Child::kill`), then wait
        Ok(())
    }

    /// The Kafka listeners of the running nodes, comma-separated.
    pub fn bootstrap(&self) -> String {
        self.running.values().map(|b| b.bootstrap.as_str()).collect::<Vec<_>>().join(",")
    }

    /// The running nodes' process ids.
    pub fn pids(&self) -> Vec<u32> {
        self.running.values().map(Broker::pid).collect()
    }

    /// Fails if a running node exited.
    pub fn check_alive(&mut self) -> Result<()> {
        for (id, broker) in &mut self.running {
            broker.check_alive().with_context(|| format!("node {id}"))?;
        }
        Ok(())
    }

    /// Each node's log problems, its killed processes' included.
    pub fn problems(&self) -> BTreeMap<i32, Problems> {
        let mut all = self.killed_problems.clone();
        for (id, broker) in &self.running {
            merge(all.entry(*id).or_default(), broker.problems());
        }
        all
    }
}

/// Adds `more` to `into`: counts summed, lines appended.
fn merge(into: &mut Problems, (count, first): Problems) {
    into.0 += count;
    into.1.extend(first);
}

/// A loopback port free right now.
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0").context("binding a free port")?.local_addr()?.port())
}
