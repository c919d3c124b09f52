//! The log the worker's tests run on: a real broker in a temporary directory, reached either in process or over the
//! Kafka protocol (a separately started `tidemark broker` process; `cargo build --bins` first), so the same
//! scenarios prove both log clients.
#![allow(dead_code)] // Each test file uses part of these helpers.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tidemark_broker::{Broker, BrokerConfig};
use tidemark_connect::state::{StateTopics, WorkerState};
use tidemark_log_client::{InProcessLog, KafkaLog, LogClient, LogError, LogRecord};
use tidemark_tests::TidemarkProcess;

/// Which log client a scenario runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    /// Calls into a broker in this process.
    InProcess,
    /// librdkafka against a `tidemark broker` process.
    Kafka,
}

/// A log under test; keep it alive as long as the log is used.
pub struct TestLog {
    /// The client.
    pub log: Arc<dyn LogClient>,
    dir: tempfile::TempDir,
    _broker: Option<TidemarkProcess>,
}

impl TestLog {
    /// A scratch directory for the test's own files.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A fresh broker reached through `backend`. Sink tasks join consumer groups: neither broker delays a group's
/// first rebalance, and the in-process one runs its group timers (as `tidemark up` does).
pub async fn test_log(backend: Backend) -> TestLog {
    let dir = tempfile::tempdir().expect("tempdir");
    match backend {
        Backend::InProcess => {
            let mut config = BrokerConfig::new(dir.path().join("broker"), "127.0.0.1".into(), 9092);
            config.groups.initial_rebalance_delay = std::time::Duration::ZERO;
            let broker = Broker::open(config).await.expect("broker");
            tokio::spawn(Arc::clone(&broker).run_group_timers());
            TestLog { log: Arc::new(InProcessLog::new(broker)), dir, _broker: None }
        }
        Backend::Kafka => {
            let data = dir.path().join("broker");
            std::fs::create_dir_all(&data).expect("broker dir");
            let broker =
                TidemarkProcess::start(&data, &["--group-initial-rebalance-delay-ms", "0"]).expect("tidemark broker");
            let log = KafkaLog::new(&broker.bootstrap, &BTreeMap::new()).expect("Kafka client");
            TestLog { log: Arc::new(log), dir, _broker: Some(broker) }
        }
    }
}

/// An in-process log over a fresh broker; keep the directory alive as long as the log.
pub async fn in_process_log() -> (Arc<dyn LogClient>, tempfile::TempDir) {
    let TestLog { log, dir, .. } = test_log(Backend::InProcess).await;
    (log, dir)
}

/// The state topics with `partitions` partitions for offsets and statuses (few, so tests start fast).
pub fn topics(partitions: i32) -> StateTopics {
    StateTopics { offsets_partitions: partitions, status_partitions: partitions, ..StateTopics::default() }
}

/// The worker's state over `log`.
pub async fn worker_state(log: &Arc<dyn LogClient>, partitions: i32) -> Arc<WorkerState> {
    Arc::new(WorkerState::open(Arc::clone(log), &topics(partitions)).await.expect("state"))
}

/// Runs the scenario `async fn $name(backend: Backend)` as two tests, `$name::in_process` and `$name::kafka`.
#[macro_export]
macro_rules! on_both_logs {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn in_process() {
                super::$name($crate::common::Backend::InProcess).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn kafka() {
                super::$name($crate::common::Backend::Kafka).await
            }
        }
    };
}

/// Waits (up to 30 s) until `done`, failing the test with `what` otherwise.
pub async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every record of partition 0 of `topic`.
pub async fn read_all(log: &Arc<dyn LogClient>, topic: &str) -> Vec<LogRecord> {
    try_read_all(log, topic).await.expect("read")
}

/// Every record of partition 0 of `topic`, or why it cannot be read (yet: a topic just created may not be
/// readable at once).
pub async fn try_read_all(log: &Arc<dyn LogClient>, topic: &str) -> Result<Vec<LogRecord>, LogError> {
    let mut reader = log.reader(topic, 0, 0)?;
    let mut all = Vec::new();
    loop {
        let more = reader.next_records(Duration::from_millis(200)).await?;
        if more.is_empty() {
            return Ok(all);
        }
        all.extend(more);
    }
}

/// The value of header `key` of `record`, as text.
pub fn header<'a>(record: &'a LogRecord, key: &str) -> Option<&'a str> {
    record.headers.iter().find(|(k, _)| k == key).and_then(|(_, v)| std::str::from_utf8(v.as_deref()?).ok())
}
