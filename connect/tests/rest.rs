//! The REST API in process (router, worker, state topics over a real broker): Kafka Connect's paths, shapes and
//! error bodies, the 400 that lists every bad field, and secrets hidden in every answer.

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use tidemark_connect::rest;
use tidemark_connect::worker::{Plugins, Worker};
use tower::ServiceExt;

async fn api() -> (Router, tempfile::TempDir) {
    let (log, dir) = common::in_process_log().await;
    let state = common::worker_state(&log, 1).await;
    let worker = Worker::new(log, state, Plugins::default(), "127.0.0.1:8083".into());
    (rest::router(worker), dir)
}

async fn call(router: &Router, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
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
