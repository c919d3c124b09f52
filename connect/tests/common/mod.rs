//! A real broker in a temporary directory, reached in process, for the worker's tests.
#![allow(dead_code)] // Each test file uses part of these helpers.

use std::sync::Arc;

use tidemark_broker::{Broker, BrokerConfig};
use tidemark_connect::state::{StateTopics, WorkerState};
use tidemark_log_client::{InProcessLog, LogClient};

/// An in-process log over a fresh broker; keep the directory alive as long as the log.
pub async fn in_process_log() -> (Arc<dyn LogClient>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = BrokerConfig::new(dir.path().to_owned(), "127.0.0.1".into(), 9092);
    // Sink tasks join consumer groups: no initial delay, and the group timers running (as `tidemark up` runs them).
    config.groups.initial_rebalance_delay = std::time::Duration::ZERO;
    let broker = Broker::open(config).await.expect("broker");
    tokio::spawn(Arc::clone(&broker).run_group_timers());
    (Arc::new(InProcessLog::new(broker)), dir)
}

/// The state topics with `partitions` partitions for offsets and statuses (few, so tests start fast).
pub fn topics(partitions: i32) -> StateTopics {
    StateTopics { offsets_partitions: partitions, status_partitions: partitions, ..StateTopics::default() }
}

/// The worker's state over `log`.
pub async fn worker_state(log: &Arc<dyn LogClient>, partitions: i32) -> Arc<WorkerState> {
    Arc::new(WorkerState::open(Arc::clone(log), &topics(partitions)).await.expect("state"))
}
