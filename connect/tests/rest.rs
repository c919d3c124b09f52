//! The REST API in process (router, worker, state topics over a real broker): Kafka Connect's paths, shapes and
//! error bodies, the 400 that lists every bad field, secrets hidden in every answer, KIP-875 offsets of sources and
//! sinks, `/metrics`, and an OpenAPI document that lists exactly the routes served.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use tidemark_connect::plugins::{DATAGEN_CLASS, FILE_SINK_CLASS};
use tidemark_connect::rest;
use tidemark_connect::worker::{Plugins, Worker};
use tower::ServiceExt;

/// The HTTP methods an OpenAPI path item may document and axum may route (HEAD aside: axum answers it wherever GET
/// is routed).
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Kafka Connect's answer to a change of a source connector's offsets.
const SOURCE_ALTERED: &str = "The Connect framework-managed offsets for this connector have been altered successfully. \
    However, if this connector manages offsets externally, they will need to be manually altered in the system that the \
    connector uses.";
/// Kafka Connect's answer to a reset of a source connector's offsets.
const SOURCE_RESET: &str = "The Connect framework-managed offsets for this connector have been reset successfully. \
    However, if this connector manages offsets externally, they will need to be manually reset in the system that the \
    connector uses.";

async fn api() -> (Router, tempfile::TempDir) {
    let (log, dir) = common::in_process_log().await;
    let state = common::worker_state(&log, 1).await;
    let worker = Worker::new(log, state, Plugins::default(), "127.0.0.1:8083".into());
    (rest::router(worker), dir)
}

/// An answer of the router: status, `content-type` and body.
struct Answer {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

async fn send(router: &Router, method: &str, path: &str, body: Option<Value>) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let content_type = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body").to_vec();
    Answer { status, content_type, body }
}

async fn call(router: &Router, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let answer = send(router, method, path, body).await;
    (answer.status, serde_json::from_slice(&answer.body).unwrap_or(Value::Null))
}

/// Polls `GET path` until `done` holds for its body; answers that body.
async fn wait_for(router: &Router, path: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = call(router, "GET", path, None).await;
        if status == StatusCode::OK && done(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}: {status} {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts a Kafka Connect error answer: `status` and `{"error_code": status, "message"}` with the message
/// containing `says`.
fn assert_error(answer: &(StatusCode, Value), status: StatusCode, says: &str) {
    assert_eq!(answer.0, status, "{answer:?}");
    assert_eq!(answer.1["error_code"], json!(status.as_u16()), "{answer:?}");
    let message = answer.1["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{says:?} is not in {message:?}");
}

/// A datagen source `gen` writing 10 records to `orders` and a `file` sink `sink` reading them into a file in
/// `dir`; returns once the sink has committed past all of them, with the sink's offsets.
async fn datagen_into_file_sink(api: &Router, dir: &Path) -> Value {
    let source = json!({ "connector.class": "datagen", "kafka.topic": "orders", "rate": "0", "iterations": "10" });
    let created = call(api, "POST", "/connectors", Some(json!({ "name": "gen", "config": source }))).await;
    assert_eq!(created.0, StatusCode::CREATED, "{created:?}");
    let file = dir.join("orders.jsonl");
    let sink = json!({
        "connector.class": "file", "topics": "orders", "file": file, "offset.flush.interval.ms": "100"
    });
    let created = call(api, "POST", "/connectors", Some(json!({ "name": "sink", "config": sink }))).await;
    assert_eq!(created.0, StatusCode::CREATED, "{created:?}");
    let committed = |body: &Value| -> i64 {
        let offsets = body["offsets"].as_array().cloned().unwrap_or_default();
        offsets.iter().filter_map(|o| o["offset"]["kafka_offset"].as_i64()).sum()
    };
    wait_for(api, "/connectors/sink/offsets", "the sink to commit every record", |body| committed(body) == 10).await
}

#[tokio::test]
async fn connectors_are_managed_through_kafka_connects_api() {
    let (api, _dir) = api().await;
    assert_eq!(call(&api, "GET", "/health", None).await.1["status"], json!("healthy"));
    assert_eq!(call(&api, "GET", "/connectors", None).await, (StatusCode::OK, json!([])));

    let invalid =
        json!({ "name": "gen", "config": { "connector.class": "datagen", "tasks.max": "zero", "rate": "-1" } });
    let (status, body) = call(&api, "POST", "/connectors", Some(invalid)).await;
    assert_eq!((status, body["error_code"].clone()), (StatusCode::BAD_REQUEST, json!(400)));
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("Connector configuration is invalid and contains the following 3 error(s):"),
        "{message}"
    );
    for field in ["tasks.max", "kafka.topic", "rate"] {
        assert!(message.contains(field), "{field} is named: {message}");
    }

    let config = json!({
        "connector.class": "datagen", "kafka.topic": "orders", "rate": "0", "iterations": "10",
        "sink.auth.token": "t0ps3cret"
    });
    let (status, created) = call(&api, "POST", "/connectors", Some(json!({ "name": "gen", "config": config }))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["type"], json!("source"));
    assert_eq!(created["tasks"], json!([{ "connector": "gen", "task": 0 }]));
    assert_eq!(created["config"]["sink.auth.token"], json!("[hidden]"));
    assert_eq!(
        call(&api, "POST", "/connectors", Some(json!({ "name": "gen", "config": config }))).await.0,
        StatusCode::CONFLICT
    );

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = call(&api, "GET", "/connectors/gen/status", None).await.1;
        if status["tasks"][0]["state"] == json!("RUNNING") && status["connector"]["state"] == json!("RUNNING") {
            assert_eq!(status["tasks"][0]["worker_id"], json!("127.0.0.1:8083"));
            break;
        }
        assert!(Instant::now() < deadline, "not running: {status}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let expanded = call(&api, "GET", "/connectors?expand=status&expand=info", None).await.1;
    assert_eq!(expanded["gen"]["info"]["name"], json!("gen"));
    assert_eq!(expanded["gen"]["status"]["name"], json!("gen"));
    let shown = call(&api, "GET", "/connectors/gen/config", None).await.1;
    assert_eq!((shown["sink.auth.token"].clone(), shown["kafka.topic"].clone()), (json!("[hidden]"), json!("orders")));
    let tasks = call(&api, "GET", "/connectors/gen/tasks", None).await.1;
    assert_eq!(tasks[0]["config"]["sink.auth.token"], json!("[hidden]"));
    assert_eq!(call(&api, "GET", "/connectors/gen/tasks/0/status", None).await.1["id"], json!(0));
    assert_eq!(call(&api, "GET", "/connectors/gen/tasks/5/status", None).await.0, StatusCode::NOT_FOUND);

    let deadline = Instant::now() + Duration::from_secs(20);
    while call(&api, "GET", "/connectors/gen/topics", None).await.1 != json!({ "gen": { "topics": ["orders"] } }) {
        assert!(Instant::now() < deadline, "the topic in use is never listed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(call(&api, "PUT", "/connectors/gen/topics/reset", None).await.0, StatusCode::OK);
    assert_eq!(call(&api, "GET", "/connectors/gen/topics", None).await.1, json!({ "gen": { "topics": [] } }));
    assert_eq!(call(&api, "GET", "/connectors/nope/topics", None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&api, "PUT", "/connectors/gen/pause", None).await.0, StatusCode::ACCEPTED);
    assert_eq!(call(&api, "GET", "/connectors/gen/status", None).await.1["connector"]["state"], json!("PAUSED"));
    assert_eq!(call(&api, "PUT", "/connectors/gen/resume", None).await.0, StatusCode::ACCEPTED);
    let patched =
        call(&api, "PATCH", "/connectors/gen/config", Some(json!({ "iterations": "20", "sink.auth.token": null })))
            .await;
    assert_eq!(patched.0, StatusCode::OK, "{patched:?}");
    assert_eq!(patched.1["config"]["iterations"], json!("20"));
    assert!(patched.1["config"].get("sink.auth.token").is_none());
    assert_eq!(call(&api, "POST", "/connectors/gen/restart", None).await.0, StatusCode::NO_CONTENT);
    let restarted = call(&api, "POST", "/connectors/gen/restart?includeTasks=true&onlyFailed=false", None).await;
    assert_eq!((restarted.0, restarted.1["name"].clone()), (StatusCode::ACCEPTED, json!("gen")), "{restarted:?}");
    assert_eq!(call(&api, "POST", "/connectors/gen/tasks/0/restart", None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(call(&api, "POST", "/connectors/gen/tasks/7/restart", None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&api, "PUT", "/connectors/gen/stop", None).await.0, StatusCode::ACCEPTED);
    assert_eq!(call(&api, "GET", "/connectors/gen/status", None).await.1["connector"]["state"], json!("STOPPED"));

    let (status, created) = call(
        &api,
        "PUT",
        "/connectors/other/config",
        Some(json!({ "connector.class": "datagen", "kafka.topic": "t" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(call(&api, "DELETE", "/connectors/gen", None).await.0, StatusCode::NO_CONTENT);
    let (status, body) = call(&api, "GET", "/connectors/gen", None).await;
    assert_eq!(
        (status, body),
        (StatusCode::NOT_FOUND, json!({ "error_code": 404, "message": "Connector gen not found" }))
    );
}

#[tokio::test]
async fn plugins_list_their_settings_and_validate_configs() {
    let (api, _dir) = api().await;
    let plugins = call(&api, "GET", "/connector-plugins", None).await.1;
    assert_eq!(plugins[0]["class"], json!("io.tidemark.connect.datagen.DatagenConnector"));
    let settings = call(&api, "GET", "/connector-plugins/datagen/config", None).await.1;
    assert!(settings.as_array().is_some_and(|s| s.iter().any(|k| k["name"] == json!("kafka.topic"))), "{settings}");
    let report = call(&api, "PUT", "/connector-plugins/datagen/config/validate", Some(json!({ "rate": "x" }))).await.1;
    assert_eq!(report["error_count"], json!(2), "{report}");
    assert_eq!(call(&api, "GET", "/connector-plugins/Nope/config", None).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_failed_task_shows_its_trace_and_restarts_on_request() {
    let (api, dir) = api().await;
    let secrets = dir.path().join("topic.properties");
    let reference = format!("${{file:{}:topic}}", secrets.display());
    let config = json!({ "connector.class": "datagen", "kafka.topic": reference, "rate": "0", "iterations": "5" });
    assert_eq!(call(&api, "PUT", "/connectors/gen/config", Some(config)).await.0, StatusCode::CREATED);
    let deadline = Instant::now() + Duration::from_secs(20);
    let failed = loop {
        let status = call(&api, "GET", "/connectors/gen/status", None).await.1;
        if status["tasks"][0]["state"] == json!("FAILED") {
            break status;
        }
        assert!(Instant::now() < deadline, "the task never failed: {status}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let trace = failed["tasks"][0]["trace"].as_str().unwrap_or_default();
    assert!(trace.contains("topic.properties"), "the trace says what is missing: {trace}");

    std::fs::write(&secrets, "topic=orders\n").expect("write the properties file");
    let restarted = call(&api, "POST", "/connectors/gen/restart?includeTasks=true&onlyFailed=true", None).await;
    assert_eq!(restarted.0, StatusCode::ACCEPTED);
    let deadline = Instant::now() + Duration::from_secs(20);
    while call(&api, "GET", "/connectors/gen/topics", None).await.1 != json!({ "gen": { "topics": ["orders"] } }) {
        assert!(Instant::now() < deadline, "the restarted task never wrote");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(call(&api, "GET", "/connectors/gen/status", None).await.1["tasks"][0]["state"], json!("RUNNING"));
}

#[tokio::test]
async fn a_sources_offsets_are_shown_and_changed_only_while_stopped() {
    let (api, _dir) = api().await;
    let config = json!({ "connector.class": "datagen", "kafka.topic": "orders", "rate": "0", "iterations": "10" });
    assert_eq!(
        call(&api, "POST", "/connectors", Some(json!({ "name": "gen", "config": config }))).await.0,
        StatusCode::CREATED
    );
    let partition = json!({ "datagen": "gen", "task": 0 });
    let shown = wait_for(&api, "/connectors/gen/offsets", "the last sequence's offset", |body| {
        body["offsets"][0]["offset"]["sequence"] == json!(9)
    })
    .await;
    assert_eq!(shown, json!({ "offsets": [{ "partition": partition, "offset": { "sequence": 9 } }] }));

    let change = json!({ "offsets": [{ "partition": partition, "offset": { "sequence": 4 } }] });
    let running = call(&api, "PATCH", "/connectors/gen/offsets", Some(change.clone())).await;
    assert_error(
        &running,
        StatusCode::BAD_REQUEST,
        "Connectors must be in the STOPPED state before their offsets can be modified",
    );
    assert_error(
        &call(&api, "DELETE", "/connectors/gen/offsets", None).await,
        StatusCode::BAD_REQUEST,
        "STOPPED state",
    );

    assert_eq!(call(&api, "PUT", "/connectors/gen/stop", None).await.0, StatusCode::ACCEPTED);
    let altered = call(&api, "PATCH", "/connectors/gen/offsets", Some(change)).await;
    assert_eq!(altered, (StatusCode::OK, json!({ "message": SOURCE_ALTERED })));
    let shown = call(&api, "GET", "/connectors/gen/offsets", None).await;
    assert_eq!(
        shown,
        (StatusCode::OK, json!({ "offsets": [{ "partition": partition, "offset": { "sequence": 4 } }] }))
    );
    let malformed =
        call(&api, "PATCH", "/connectors/gen/offsets", Some(json!({ "offsets": [{ "offset": {} }] }))).await;
    assert_error(&malformed, StatusCode::BAD_REQUEST, "Partitions may not be null");

    let reset = call(&api, "DELETE", "/connectors/gen/offsets", None).await;
    assert_eq!(reset, (StatusCode::OK, json!({ "message": SOURCE_RESET })));
    assert_eq!(call(&api, "GET", "/connectors/gen/offsets", None).await, (StatusCode::OK, json!({ "offsets": [] })));

    for method in ["GET", "PATCH", "DELETE"] {
        let body = (method == "PATCH").then(|| json!({ "offsets": [{ "partition": partition, "offset": null }] }));
        let missing = call(&api, method, "/connectors/nope/offsets", body).await;
        assert_eq!(
            missing,
            (StatusCode::NOT_FOUND, json!({ "error_code": 404, "message": "Connector nope not found" }))
        );
    }
}

#[tokio::test]
async fn a_sinks_offsets_are_its_groups_committed_offsets() {
    let (api, dir) = api().await;
    let shown = datagen_into_file_sink(&api, dir.path()).await;
    let entries = shown["offsets"].as_array().cloned().unwrap_or_default();
    assert!(!entries.is_empty(), "{shown}");
    for entry in &entries {
        let partition = entry["partition"].as_object().expect("a partition object");
        assert_eq!(partition.keys().collect::<Vec<_>>(), ["kafka_partition", "kafka_topic"], "{entry}");
        assert_eq!(partition["kafka_topic"], json!("orders"));
        assert!(partition["kafka_partition"].as_i64().is_some_and(|p| p >= 0), "{entry}");
        let offset = entry["offset"].as_object().expect("an offset object");
        assert_eq!(offset.keys().collect::<Vec<_>>(), ["kafka_offset"], "{entry}");
    }
    let first = entries[0]["partition"].clone();

    let change = json!({ "offsets": [{ "partition": first, "offset": { "kafka_offset": 3 } }] });
    let running = call(&api, "PATCH", "/connectors/sink/offsets", Some(change.clone())).await;
    assert_error(&running, StatusCode::BAD_REQUEST, "must be in the STOPPED state");
    assert_eq!(call(&api, "PUT", "/connectors/sink/stop", None).await.0, StatusCode::ACCEPTED);
    for bad in [json!(-1), json!("0"), Value::Null] {
        let partition = json!({ "kafka_topic": "orders", "kafka_partition": bad });
        let body = json!({ "offsets": [{ "partition": partition, "offset": { "kafka_offset": 1 } }] });
        let refused = call(&api, "PATCH", "/connectors/sink/offsets", Some(body)).await;
        assert_error(&refused, StatusCode::BAD_REQUEST, "Kafka partitions must be valid non-negative integers");
    }
    let negative = json!({ "offsets": [{ "partition": first, "offset": { "kafka_offset": -5 } }] });
    let refused = call(&api, "PATCH", "/connectors/sink/offsets", Some(negative)).await;
    assert_error(&refused, StatusCode::BAD_REQUEST, "Kafka offsets must be valid non-negative integers");

    let altered = call(&api, "PATCH", "/connectors/sink/offsets", Some(change)).await;
    let message = json!({ "message": "The offsets for this connector have been altered successfully" });
    assert_eq!(altered, (StatusCode::OK, message));
    let shown = call(&api, "GET", "/connectors/sink/offsets", None).await.1;
    let moved = shown["offsets"].as_array().and_then(|o| o.iter().find(|e| e["partition"] == first)).cloned();
    assert_eq!(moved, Some(json!({ "partition": first, "offset": { "kafka_offset": 3 } })), "{shown}");
    // Resumed, the sink reads again from there: the records from offset 3 reach the file a second time.
    assert_eq!(call(&api, "PUT", "/connectors/sink/resume", None).await.0, StatusCode::ACCEPTED);
    let file = dir.path().join("orders.jsonl");
    let deadline = Instant::now() + Duration::from_secs(30);
    let written_twice = |offset: i64| {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let lines = text.lines().filter_map(|line| serde_json::from_str::<Value>(line).ok());
        lines.filter(|line| line["partition"] == first["kafka_partition"] && line["offset"] == json!(offset)).count()
    };
    while written_twice(9) < 2 {
        assert!(Instant::now() < deadline, "the resumed sink never read past its altered offset");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!((written_twice(2), written_twice(3)), (1, 2), "the sink went back exactly to offset 3");
    assert_eq!(call(&api, "PUT", "/connectors/sink/stop", None).await.0, StatusCode::ACCEPTED);

    let reset = call(&api, "DELETE", "/connectors/sink/offsets", None).await;
    let message = json!({ "message": "The offsets for this connector have been reset successfully" });
    assert_eq!(reset, (StatusCode::OK, message));
    assert_eq!(call(&api, "GET", "/connectors/sink/offsets", None).await, (StatusCode::OK, json!({ "offsets": [] })));
}

#[tokio::test]
async fn metrics_count_source_records_and_measure_sink_lag() {
    let (api, dir) = api().await;
    datagen_into_file_sink(&api, dir.path()).await;
    let answer = send(&api, "GET", "/metrics", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.content_type.starts_with("application/openmetrics-text"), "{}", answer.content_type);
    let text = String::from_utf8(answer.body).expect("UTF-8 metrics");
    for expected in [
        r#"connect_source_records_polled_total{connector="gen",task="0"} 10"#,
        r#"connect_source_records_written_total{connector="gen",task="0"} 10"#,
        r#"connect_sink_records_put_total{connector="sink",task="0"} 10"#,
        r#"connect_sink_lag_records{connector="sink",topic="orders",partition="0"} 0"#,
    ] {
        assert!(text.contains(expected), "{expected} is missing from\n{text}");
    }
}

#[tokio::test]
async fn sink_configs_are_refused_naming_the_bad_setting() {
    let (api, dir) = api().await;
    let file = dir.path().join("out.jsonl");
    let valid = json!({ "connector.class": "file", "topics": "orders", "file": file });
    let with = |changes: &[(&str, Option<&str>)]| {
        let mut config = valid.clone();
        for (key, value) in changes {
            match value {
                Some(value) => config[*key] = json!(value),
                None => {
                    config.as_object_mut().map(|c| c.remove(*key));
                }
            }
        }
        config
    };
    let cases = [
        (with(&[("topics", None)]), "topics"),
        (with(&[("topics.regex", Some("ord.*"))]), "topics.regex"),
        (with(&[("errors.tolerance", Some("maybe"))]), "errors.tolerance"),
        (with(&[("transforms", Some("x")), ("transforms.x.type", Some("com.example.Nope"))]), "transforms.x.type"),
    ];
    for (config, field) in cases {
        let refused = call(&api, "POST", "/connectors", Some(json!({ "name": "bad", "config": config }))).await;
        assert_error(&refused, StatusCode::BAD_REQUEST, "contains the following 1 error(s):");
        assert_error(&refused, StatusCode::BAD_REQUEST, field);
        // Validation puts the one error on that setting.
        let report = call(&api, "PUT", "/connector-plugins/file/config/validate", Some(config)).await.1;
        assert_eq!(report["error_count"], json!(1), "{report}");
        let failing: Vec<&Value> = report["configs"]
            .as_array()
            .map(|c| c.iter().filter(|c| c["value"]["errors"].as_array().is_some_and(|e| !e.is_empty())).collect())
            .unwrap_or_default();
        assert_eq!(failing.len(), 1, "{report}");
        assert_eq!(failing[0]["value"]["name"], json!(field), "{report}");
    }
    assert_eq!(call(&api, "GET", "/connectors", None).await, (StatusCode::OK, json!([])));
    let created = call(&api, "POST", "/connectors", Some(json!({ "name": "good", "config": valid }))).await;
    assert_eq!(created.0, StatusCode::CREATED, "{created:?}");
}

#[tokio::test]
async fn the_plugins_are_the_datagen_source_and_the_file_sink() {
    let (api, _dir) = api().await;
    let (status, plugins) = call(&api, "GET", "/connector-plugins", None).await;
    assert_eq!(status, StatusCode::OK);
    let kinds: BTreeSet<(String, String)> = plugins
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| {
            (p["class"].as_str().unwrap_or_default().to_owned(), p["type"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    assert!(kinds.contains(&(DATAGEN_CLASS.to_owned(), "source".to_owned())), "{plugins}");
    assert!(kinds.contains(&(FILE_SINK_CLASS.to_owned(), "sink".to_owned())), "{plugins}");
    assert!(plugins.as_array().is_some_and(|p| p.iter().all(|p| p["version"].is_string())), "{plugins}");

    // KIP-769: the transforms, predicates and converters too.
    let (status, all) = call(&api, "GET", "/connector-plugins?connectorsOnly=false", None).await;
    assert_eq!(status, StatusCode::OK);
    let has = |class: &str, kind: &str| {
        all.as_array().is_some_and(|p| p.iter().any(|p| p["class"] == class && p["type"] == kind))
    };
    assert!(has("io.debezium.transforms.outbox.EventRouter", "transformation"), "{all}");
    assert!(has("org.apache.kafka.connect.transforms.predicates.TopicNameMatches", "predicate"), "{all}");
    assert!(has("io.confluent.connect.avro.AvroConverter", "converter"), "{all}");
    let (status, error) = call(&api, "GET", "/connector-plugins?connectorsOnly=maybe", None).await;
    assert_eq!((status, error["error_code"].as_u64()), (StatusCode::BAD_REQUEST, Some(400)), "{error}");
    let (status, error) = call(&api, "GET", "/connectors/x/tasks/abc/status", None).await;
    assert_eq!((status, error["error_code"].as_u64()), (StatusCode::BAD_REQUEST, Some(400)), "{error}");
}

/// The (path, method) pairs that `connect/src/rest/mod.rs` routes, read from its source: each `.route("<path>", ...)`
/// with the method routers chained in it (`get(..).post(..)`).
fn routes_in_source() -> BTreeSet<(String, String)> {
    let source = include_str!("../src/rest/mod.rs");
    let routes = source.split(".with_state(").next().unwrap_or_default();
    let mut found = BTreeSet::new();
    for route in routes.split(".route(").skip(1) {
        let path = route.split('"').nth(1).expect("a route's path literal");
        for method in METHODS {
            let call = format!("{method}(");
            let routed = route
                .match_indices(&call)
                .any(|(at, _)| route[..at].ends_with(|c: char| c == '.' || c == '(' || c.is_whitespace()));
            if routed {
                found.insert((path.to_owned(), method.to_owned()));
            }
        }
    }
    found
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_routes_served() {
    let (api, _dir) = api().await;
    let answer = send(&api, "GET", "/openapi.json", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.content_type.starts_with("application/json"), "{}", answer.content_type);
    let document: Value = serde_json::from_slice(&answer.body).expect("the document is JSON");
    assert_eq!(document["openapi"], json!("3.0.3"));
    let documented = probe_documented_routes(&api, &document).await;
    // And the router declares no route the document leaves out.
    assert_eq!(routes_in_source(), documented);
}

/// Calls every operation of `document` on the router (path parameters filled with a connector or plugin that does
/// not exist and task 0; where a body is documented, `{}` and then a malformed one): each must be routed, neither 405
/// nor axum's fallback (404 with an empty body), answer a status the document lists, and answer a client error with
/// Kafka Connect's error body. A method the document leaves out on one of its paths must be refused with 405.
/// Answers the (path, method) pairs documented.
async fn probe_documented_routes(api: &Router, document: &Value) -> BTreeSet<(String, String)> {
    let paths = document["paths"].as_object().expect("paths");
    let mut documented = BTreeSet::new();
    for (path, item) in paths {
        let item = item.as_object().expect("a path item");
        let uri = path.replace("{name}", "no-such-name").replace("{task}", "0");
        assert!(!uri.contains('{'), "{path} has a parameter this test does not fill");
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                // A method the document leaves out is not served on its path.
                let answer = send(api, &method.to_uppercase(), &uri, None).await;
                assert_eq!(
                    answer.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is served but not documented"
                );
                continue;
            };
            documented.insert((path.clone(), method.to_owned()));
            // A documented body is sent as an empty object, and as an array, which no operation takes.
            let bodies = match operation.get("requestBody") {
                Some(_) => vec![Some(json!({})), Some(json!([]))],
                None => vec![None],
            };
            for body in bodies {
                let answer = send(api, &method.to_uppercase(), &uri, body.clone()).await;
                let what = format!("{method} {uri} with {body:?} answered {}", answer.status);
                assert_ne!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{what}: documented, not routed");
                if answer.status.is_client_error() {
                    // axum's fallback answers an unrouted path 404 with an empty body; handlers answer Kafka
                    // Connect's error body.
                    let error: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
                    assert_eq!(error["error_code"], json!(answer.status.as_u16()), "{what} without an error body");
                    assert!(error["message"].is_string(), "{what}: {error}");
                }
                let responses = operation["responses"].as_object().expect("responses");
                assert!(responses.contains_key(answer.status.as_str()), "{what}, which the document does not list");
            }
        }
    }
    documented
}

/// Kafka Connect shows a connector's kind in its info and status (`"type": "sink"` for a sink).
#[tokio::test]
async fn a_sink_connector_is_shown_as_a_sink() {
    let (api, dir) = api().await;
    let sink = json!({ "connector.class": "file", "topics": "orders", "file": dir.path().join("out.jsonl") });
    let created = call(&api, "POST", "/connectors", Some(json!({ "name": "sink", "config": sink }))).await;
    assert_eq!((created.0, created.1["type"].clone()), (StatusCode::CREATED, json!("sink")), "{created:?}");
    assert_eq!(call(&api, "GET", "/connectors/sink", None).await.1["type"], json!("sink"));
    assert_eq!(call(&api, "GET", "/connectors/sink/status", None).await.1["type"], json!("sink"));
    let expanded = call(&api, "GET", "/connectors?expand=info&expand=status", None).await.1;
    assert_eq!(expanded["sink"]["info"]["type"], json!("sink"), "{expanded}");
}
