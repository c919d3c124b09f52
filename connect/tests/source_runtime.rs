//! The source contract end to end over a real broker (in process): datagen records are converted (JSON), written,
//! acknowledged, and only then their positions stored; a restarted task resumes after the last stored position.

mod common;

use common::Backend;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};
use tidemark_connect::connector::{Connector, SourceConnector};
use tidemark_connect::metrics::ConnectMetrics;
use tidemark_connect::plugins::DatagenConnector;
use tidemark_connect::runtime::{run_source_task, Pipeline, SourceTaskContext};
use tidemark_connect::state::WorkerState;
use tidemark_log_client::LogClient;
use tokio::sync::watch;

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn last_sequence(state: &WorkerState) -> Option<i64> {
    state.offsets().of("gen").first().and_then(|(_, offset)| offset["sequence"].as_i64())
}

/// Runs a datagen task of `iterations` records until its last position is stored, then stops it.
async fn run_datagen(log: &Arc<dyn LogClient>, state: &Arc<WorkerState>, iterations: i64) {
    let connector = DatagenConnector;
    let config = props(&[("name", "gen"), ("kafka.topic", "orders"), ("rate", "0"), ("batch.size", "7")]);
    let mut config = connector.task_configs(&config, 1).remove(0);
    config.insert("iterations".into(), iterations.to_string());
    let task = connector.create_task(&config).expect("task");
    let metrics = Arc::new(ConnectMetrics::default()).task("gen", 0);
    let converters = props(&[
        ("key.converter", "json"),
        ("key.converter.schemas.enable", "false"),
        ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
    ]);
    let context = SourceTaskContext {
        connector: "gen".into(),
        task: 0,
        log: Arc::clone(log),
        state: Arc::clone(state),
        pipeline: Pipeline::from_props(&converters, ("gen", 0), Arc::clone(log), metrics).expect("pipeline"),
        // Longer than the test: positions are stored when the task runs out of records.
        offset_flush_interval: Duration::from_secs(3600),
    };
    let (stop, stopped) = watch::channel(false);
    let running = tokio::spawn(run_source_task(task, context, stopped));
    let deadline = Instant::now() + Duration::from_secs(20);
    while last_sequence(state) != Some(iterations - 1) {
        assert!(Instant::now() < deadline, "positions stored so far: {:?}", last_sequence(state));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).expect("stop");
    running.await.expect("join").expect("the task ran without error");
}

async fn read_all(log: &Arc<dyn LogClient>) -> Vec<(Json, Json)> {
    let end = log.end_offsets("orders").await.expect("end")[0];
    let mut reader = log.reader("orders", 0, 0).expect("reader");
    let mut records = Vec::new();
    while (records.len() as i64) < end {
        for record in reader.next_records(Duration::from_secs(1)).await.expect("read") {
            let key: Json = serde_json::from_slice(record.key.as_deref().expect("key")).expect("json key");
            let value: Json = serde_json::from_slice(record.value.as_deref().expect("value")).expect("json value");
            records.push((key, value));
        }
    }
    records
}

on_both_logs!(positions_are_stored_after_the_log_acknowledges_and_a_restart_resumes_after_them);

async fn positions_are_stored_after_the_log_acknowledges_and_a_restart_resumes_after_them(backend: Backend) {
    let test_log = common::test_log(backend).await;
    let log = &test_log.log;
    let state = common::worker_state(log, 1).await;

    run_datagen(log, &state, 50).await;
    let written = read_all(log).await;
    assert_eq!(written.len(), 50, "every stored position is backed by a durable record, and no more were written");
    let (key, value) = &written[4];
    assert_eq!(key, &json!(4), "schemaless JSON key");
    assert_eq!(value["schema"]["name"], json!("io.tidemark.datagen.Order"), "JSON with its schema envelope");
    assert_eq!(value["payload"]["order_id"], json!(4));
    assert_eq!(value["payload"]["note"], json!("note 4"));
    assert_eq!(written[3].1["payload"]["note"], Json::Null, "an optional field left null");
    assert_eq!(state.statuses().topics("gen"), ["orders"], "the topic in use is recorded (KIP-558)");

    run_datagen(log, &state, 80).await;
    let written = read_all(log).await;
    let ids: Vec<i64> = written.iter().filter_map(|(_, v)| v["payload"]["order_id"].as_i64()).collect();
    assert_eq!(ids, (0..80).collect::<Vec<i64>>(), "the restarted task resumed right after the last stored position");
}
