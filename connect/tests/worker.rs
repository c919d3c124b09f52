//! The worker over a real broker (in process and over the Kafka protocol): a datagen connector created with an invalid config is refused
//! naming every bad field; a valid one runs; pause, resume, update and delete take effect; a restarted worker
//! resumes each connector in the state it had and where its records left off.

mod common;

use common::Backend;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tidemark_connect::state::{RunState, TargetState};
use tidemark_connect::worker::{Plugins, Worker, WorkerError};
use tidemark_log_client::LogClient;

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

async fn worker(log: &Arc<dyn LogClient>) -> Arc<Worker> {
    let state = common::worker_state(log, 2).await;
    Worker::new(Arc::clone(log), state, Plugins::default(), "127.0.0.1:8083".into())
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn last_sequence(worker: &Worker) -> Option<i64> {
    worker.state().offsets().of("gen").first().and_then(|(_, offset)| offset["sequence"].as_i64())
}

fn task_state(worker: &Worker) -> Option<RunState> {
    worker.status("gen").ok().and_then(|(_, tasks)| tasks.first().cloned().flatten()).map(|s| s.state)
}

on_both_logs!(connectors_run_pause_resume_and_survive_a_worker_restart);

async fn connectors_run_pause_resume_and_survive_a_worker_restart(backend: Backend) {
    let test_log = common::test_log(backend).await;
    let log = &test_log.log;
    let first = worker(log).await;

    let invalid =
        props(&[("connector.class", "datagen"), ("tasks.max", "0"), ("rate", "fast"), ("value.converter", "xml")]);
    match first.put_connector("gen", invalid, true).await {
        Err(WorkerError::Invalid(errors)) => {
            let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
            assert_eq!(names, ["tasks.max", "value.converter", "kafka.topic", "rate"], "{errors:?}");
        }
        other => panic!("an invalid config was not refused: {other:?}"),
    }
    let unknown = first.put_connector("x", props(&[("connector.class", "com.example.Nope")]), true).await;
    assert!(matches!(unknown, Err(WorkerError::Invalid(e)) if e[0].name == "connector.class"));

    let config =
        props(&[("connector.class", "datagen"), ("kafka.topic", "orders"), ("rate", "0"), ("iterations", "30")]);
    first.put_connector("gen", config.clone(), true).await.expect("create");
    assert!(matches!(first.put_connector("gen", config.clone(), true).await, Err(WorkerError::AlreadyExists(_))));
    wait_until("30 records are durable", || last_sequence(&first) == Some(29)).await;
    wait_until("the task shows RUNNING", || task_state(&first) == Some(RunState::Running)).await;

    first.set_target("gen", TargetState::Paused).await.expect("pause");
    assert_eq!(task_state(&first), Some(RunState::Paused));
    first.shutdown().await;

    let second = worker(log).await;
    second.reconcile().await;
    assert_eq!(task_state(&second), Some(RunState::Paused), "the restarted worker keeps it paused");
    let mut more = config.clone();
    more.insert("iterations".into(), "60".into());
    second.put_connector("gen", more, false).await.expect("update");
    second.set_target("gen", TargetState::Started).await.expect("resume");
    wait_until("60 records are durable", || last_sequence(&second) == Some(59)).await;
    let end = log.end_offsets("orders").await.expect("end");
    assert_eq!(end.iter().sum::<i64>(), 60, "resumed after the last stored position: nothing lost or repeated");

    second.delete("gen").await.expect("delete");
    assert!(matches!(second.status("gen"), Err(WorkerError::NotFound(_))));
    second.shutdown().await;
}
