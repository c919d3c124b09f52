//! `tidemark up` as the database-source benchmarks (`pg`, `mysql`) use it: its connect worker's REST API, its
//! Kafka listener (topics created before a clock starts, watermarks read afterwards), its process for CPU samples
//! and, on request, `perf record` of it during a run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::broker::{Broker, CONNECT_READY};
use crate::connect_api::ConnectApi;
use crate::produce::{self, BenchProducer};
use crate::run::progress;

/// The clients of one running `tidemark up`.
pub struct UpClients {
    /// Its connect worker.
    pub api: ConnectApi,
    /// Its process id.
    pub pid: u32,
    /// Its Kafka listener.
    pub bootstrap: String,
    /// `getconf CLK_TCK`.
    pub ticks: f64,
    /// Where `perf record` profiles go, when asked for.
    perf_dir: Option<PathBuf>,
    /// Creates topics (auto-creation through a metadata request).
    creator: BenchProducer,
    /// Reads watermarks.
    watermarks: BaseConsumer,
}

impl UpClients {
    /// The clients of `up` (started with [`Broker::start_up`]); `group` names the watermark reader's group.
    pub fn new(up: &Broker, ticks: f64, perf_dir: Option<&Path>, group: &str) -> Result<Self> {
        let api = ConnectApi::new(up.listener(CONNECT_READY).context("no connect listener")?)?;
        let watermarks: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &up.bootstrap)
            .set("group.id", group)
            .create()
            .context("creating the watermark reader")?;
        Ok(Self {
            api,
            pid: up.pid(),
            bootstrap: up.bootstrap.clone(),
            ticks,
            perf_dir: perf_dir.map(Path::to_path_buf),
            creator: produce::producer(&up.bootstrap, false)?,
            watermarks,
        })
    }

    /// Makes `topic` exist (one partition) before a clock starts.
    pub fn create_topic(&self, topic: &str) -> Result<()> {
        produce::wait_for_topic(&self.creator, topic).map(drop)
    }

    /// Records in partition 0 of `topic` (high minus low watermark).
    pub fn records_in(&self, topic: &str) -> Result<i64> {
        let (low, high) = self
            .watermarks
            .fetch_watermarks(topic, 0, Duration::from_secs(10))
            .with_context(|| format!("reading the watermarks of {topic}"))?;
        Ok(high - low)
    }

    /// Runs `f`, with `perf record` attached to `tidemark up` meanwhile when a profile directory was given.
    pub fn profiled<T>(&self, name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let Some(dir) = &self.perf_dir else { return f() };
        let output = dir.join(format!("{name}.perf.data"));
        let mut perf = Command::new("perf")
            .args(["record", "-F", "499", "-p", &self.pid.to_string(), "-o"])
            .arg(&output)
            .args(call_graph())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting perf record")?;
        std::thread::sleep(Duration::from_millis(300));
        let result = f();
        // perf writes its file on SIGINT.
        let _ = Command::new("kill").args(["-INT", &perf.id().to_string()]).status();
        let _ = perf.wait();
        progress(&format!("profile of {name}: {}", output.display()));
        result
    }
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// `perf record`'s call-graph options: frame pointers (`-g`), or what `BENCH_PERF_CALL_GRAPH` names (`dwarf`, which
/// unwinds code built without frame pointers, at the cost of much larger profiles).
fn call_graph() -> Vec<String> {
    match std::env::var("BENCH_PERF_CALL_GRAPH") {
        Ok(mode) if !mode.is_empty() => vec!["--call-graph".to_owned(), mode],
        _ => vec!["-g".to_owned()],
    }
}
