//! Sink connectors over a real broker, in process and over the Kafka protocol: the `file` sink receives every record a datagen source wrote
//! and its consumer group commits past them; a record that cannot be converted goes to the dead-letter topic with
//! the `__connect.errors.*` headers under `errors.tolerance=all` and fails the task otherwise; KIP-875 offsets of
//! stopped connectors are read, altered and reset.

mod common;

use common::Backend;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{json, Value as Json};
use tidemark_connect::state::{RunState, TargetState};
use tidemark_connect::worker::{OffsetEntry, Plugins, Worker, WorkerError};
use tidemark_log_client::{LogClient, ProducerRecord};

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

async fn worker(log: &Arc<dyn LogClient>) -> Arc<Worker> {
    let state = common::worker_state(log, 2).await;
    Worker::new(Arc::clone(log), state, Plugins::default(), "127.0.0.1:8083".into())
}

/// The JSON lines of the file sink's file.
fn lines(path: &Path) -> Vec<Json> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

fn task_state(worker: &Worker, name: &str) -> Option<(RunState, Option<String>)> {
    let (_, tasks) = worker.status(name).ok()?;
    tasks.first().cloned().flatten().map(|s| (s.state, s.trace))
}

async fn committed(worker: &Worker, name: &str) -> i64 {
    let offsets = worker.offsets(name).await.expect("offsets");
    offsets.iter().filter_map(|e| e.offset.as_ref()?.get("kafka_offset")?.as_i64()).sum()
}

fn sink_config(file: &Path, topics: &str) -> BTreeMap<String, String> {
    props(&[
        ("connector.class", "file"),
        ("topics", topics),
        ("file", file.to_str().expect("utf-8 path")),
        ("offset.flush.interval.ms", "100"),
    ])
}

on_both_logs!(the_file_sink_gets_every_datagen_record_and_commits_past_them);

async fn the_file_sink_gets_every_datagen_record_and_commits_past_them(backend: Backend) {
    let test_log = common::test_log(backend).await;
    let (log, dir) = (&test_log.log, &test_log);
    let worker = worker(log).await;
    let source = props(&[
        ("connector.class", "datagen"),
        ("kafka.topic", "orders"),
        ("rate", "0"),
        ("iterations", "300"),
        ("batch.size", "50"),
    ]);
    worker.put_connector("gen", source, true).await.expect("create the source");
    let file = dir.path().join("out/orders.jsonl");
    worker.put_connector("sink", sink_config(&file, "orders"), true).await.expect("create the sink");

    common::wait_until("the file holds 300 records", async || lines(&file).len() >= 300).await;
    let written = lines(&file);
    let sequences: BTreeSet<i64> = written.iter().filter_map(|l| l["value"]["order_id"].as_i64()).collect();
    assert_eq!(sequences, (0..300).collect::<BTreeSet<_>>(), "every record, each once: {:?}", written.first());
    assert!(written.iter().all(|l| l["topic"] == json!("orders") && l["offset"].is_i64() && l["key"].is_i64()));
    common::wait_until("the group committed past every record", async || committed(&worker, "sink").await == 300).await;
    assert_eq!(task_state(&worker, "sink").map(|s| s.0), Some(RunState::Running));
    worker.shutdown().await;
}

fn raw(value: &str) -> ProducerRecord {
    ProducerRecord {
        partition: Some(0),
        key: None,
        value: Some(Bytes::from(value.to_owned())),
        headers: vec![("trace".into(), Some(Bytes::from_static(b"t-1")))],
        timestamp: None,
    }
}

on_both_logs!(a_poison_record_is_dead_lettered_or_fails_the_task);

async fn a_poison_record_is_dead_lettered_or_fails_the_task(backend: Backend) {
    let test_log = common::test_log(backend).await;
    let (log, dir) = (&test_log.log, &test_log);
    let worker = worker(log).await;
    let records = vec![raw(r#"{"n":1}"#), raw("not json {"), raw(r#"{"n":3}"#)];
    log.produce("raw", records).await.expect("produce");

    let file = dir.path().join("tolerant.jsonl");
    let mut tolerant = sink_config(&file, "raw");
    tolerant.extend(props(&[
        ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
        ("value.converter.schemas.enable", "false"),
        ("key.converter", "org.apache.kafka.connect.storage.StringConverter"),
        ("errors.tolerance", "all"),
        ("errors.deadletterqueue.topic.name", "raw-dlq"),
        ("errors.deadletterqueue.context.headers.enable", "true"),
    ]));
    worker.put_connector("tolerant", tolerant.clone(), true).await.expect("create");
    common::wait_until("both good records are written", async || lines(&file).len() == 2).await;
    let values: Vec<Json> = lines(&file).into_iter().map(|l| l["value"].clone()).collect();
    assert_eq!(values, [json!({"n": 1}), json!({"n": 3})]);
    common::wait_until("every offset is committed", async || committed(&worker, "tolerant").await == 3).await;

    let dead = common::read_all(log, "raw-dlq").await;
    assert_eq!(dead.len(), 1, "one dead letter");
    let letter = &dead[0];
    assert_eq!(letter.value.as_deref(), Some(&b"not json {"[..]), "the record's bytes as read");
    assert_eq!(common::header(letter, "trace"), Some("t-1"), "its own headers are kept");
    assert_eq!(common::header(letter, "__connect.errors.topic"), Some("raw"));
    assert_eq!(common::header(letter, "__connect.errors.partition"), Some("0"));
    assert_eq!(common::header(letter, "__connect.errors.offset"), Some("1"));
    assert_eq!(common::header(letter, "__connect.errors.connector.name"), Some("tolerant"));
    assert_eq!(common::header(letter, "__connect.errors.task.id"), Some("0"));
    assert_eq!(common::header(letter, "__connect.errors.stage"), Some("VALUE_CONVERTER"));
    assert_eq!(
        common::header(letter, "__connect.errors.class.name"),
        Some("org.apache.kafka.connect.json.JsonConverter")
    );
    assert!(common::header(letter, "__connect.errors.exception.message").is_some_and(|m| !m.is_empty()));

    let strict_file = dir.path().join("strict.jsonl");
    let mut strict = tolerant;
    strict.insert("file".into(), strict_file.to_str().expect("utf-8").to_owned());
    strict.insert("errors.tolerance".into(), "none".into());
    worker.put_connector("strict", strict, true).await.expect("create");
    common::wait_until("the strict task fails", async || {
        task_state(&worker, "strict").is_some_and(|s| s.0 == RunState::Failed)
    })
    .await;
    let trace = task_state(&worker, "strict").and_then(|s| s.1).unwrap_or_default();
    assert!(trace.contains("VALUE_CONVERTER"), "the trace names the stage: {trace}");
    assert_eq!(committed(&worker, "strict").await, 0, "nothing past the poison record is committed");
    worker.shutdown().await;
}

on_both_logs!(offsets_of_stopped_connectors_are_altered_and_reset);

async fn offsets_of_stopped_connectors_are_altered_and_reset(backend: Backend) {
    let test_log = common::test_log(backend).await;
    let (log, dir) = (&test_log.log, &test_log);
    let worker = worker(log).await;
    let source = props(&[("connector.class", "datagen"), ("kafka.topic", "t"), ("rate", "0"), ("iterations", "10")]);
    worker.put_connector("gen", source, true).await.expect("create");
    common::wait_until("10 records are durable", async || {
        log.end_offsets("t").await.is_ok_and(|e| e.iter().sum::<i64>() == 10)
    })
    .await;
    let file = dir.path().join("t.jsonl");
    worker.put_connector("sink", sink_config(&file, "t"), true).await.expect("create");
    common::wait_until("the sink committed 10", async || committed(&worker, "sink").await == 10).await;

    let source_offsets = worker.offsets("gen").await.expect("offsets");
    assert_eq!(source_offsets.len(), 1);
    assert_eq!(source_offsets[0].offset, Some(json!({ "sequence": 9 })));
    let rewind =
        vec![OffsetEntry { partition: source_offsets[0].partition.clone(), offset: Some(json!({ "sequence": 4 })) }];
    assert!(
        matches!(worker.alter_offsets("gen", rewind.clone()).await, Err(WorkerError::BadRequest(m)) if m.contains("STOPPED"))
    );

    worker.set_target("gen", TargetState::Stopped).await.expect("stop");
    worker.alter_offsets("gen", rewind).await.expect("alter");
    worker.set_target("gen", TargetState::Started).await.expect("start");
    common::wait_until("the source wrote 5 more from its new position", async || {
        log.end_offsets("t").await.is_ok_and(|e| e.iter().sum::<i64>() == 15)
    })
    .await;

    worker.set_target("sink", TargetState::Stopped).await.expect("stop");
    let partition = json!({ "kafka_topic": "t", "kafka_partition": 0 });
    let set = vec![OffsetEntry { partition: partition.clone(), offset: Some(json!({ "kafka_offset": 2 })) }];
    worker.alter_offsets("sink", set).await.expect("alter the sink's offsets");
    assert_eq!(committed(&worker, "sink").await, 2);
    worker.reset_offsets("sink").await.expect("reset");
    assert_eq!(worker.offsets("sink").await.expect("offsets"), Vec::<OffsetEntry>::new());
    std::fs::remove_file(&file).expect("remove the sink's file");
    worker.set_target("sink", TargetState::Started).await.expect("start");
    common::wait_until("the reset sink read everything again", async || lines(&file).len() == 15).await;
    worker.shutdown().await;
}
