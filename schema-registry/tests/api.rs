//! The HTTP API end to end in process (axum router, registry, store, the log client over a real broker on a
//! temporary directory): Confluent's answers and error codes, including for bad input.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use tidemark_broker::{Broker, BrokerConfig};
use tidemark_log_client::{InProcessLog, LogClient};
use tidemark_schema_registry::{http, Registry, Store};
use tower::ServiceExt;

const MAX_SCHEMA_BYTES: usize = 64 * 1024;

async fn registry() -> (Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker =
        Broker::open(BrokerConfig::new(dir.path().to_owned(), "127.0.0.1".into(), 9092)).await.expect("broker");
    let log: Arc<dyn LogClient> = Arc::new(InProcessLog::new(broker));
    let store = Store::open(log, "_schemas").await.expect("store");
    (http::router(Arc::new(Registry::new(store, MAX_SCHEMA_BYTES)), MAX_SCHEMA_BYTES), dir)
}

async fn call(router: &Router, method: &str, path: &str, body: Option<&str>) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/vnd.schemaregistry.v1+json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn schema_body(schema: &Value) -> String {
    json!({ "schema": schema.to_string() }).to_string()
}

fn error_code(answer: &(StatusCode, Value)) -> (u16, i64) {
    (answer.0.as_u16(), answer.1["error_code"].as_i64().unwrap_or(0))
}

/// A request (method, path, body) and the HTTP status and Confluent error code it must get.
type BadCase = (&'static str, &'static str, Option<String>, (u16, i64));

fn user(fields: Value) -> Value {
    json!({ "type": "record", "name": "User", "namespace": "example", "fields": fields })
}

#[tokio::test]
async fn registers_versions_ids_and_lookups_like_confluent() {
    let (router, _dir) = registry().await;
    let v1 = user(json!([{ "name": "id", "type": "long" }]));
    let v2 = user(
        json!([{ "name": "id", "type": "long" }, { "name": "email", "type": ["null", "string"], "default": null }]),
    );
    assert_eq!(call(&router, "GET", "/", None).await, (StatusCode::OK, json!({})));
    assert_eq!(
        call(&router, "POST", "/subjects/users-value/versions", Some(&schema_body(&v1))).await.1,
        json!({ "id": 1 })
    );
    // Whitespace and key order do not make a new schema.
    let reordered = json!({ "fields": [{ "type": "long", "name": "id" }], "namespace": "example", "name": "User", "type": "record" });
    assert_eq!(
        call(&router, "POST", "/subjects/users-value/versions", Some(&schema_body(&reordered))).await.1,
        json!({ "id": 1 })
    );
    assert_eq!(
        call(&router, "POST", "/subjects/copy-value/versions", Some(&schema_body(&v1))).await.1,
        json!({ "id": 1 })
    );
    assert_eq!(
        call(&router, "POST", "/subjects/users-value/versions", Some(&schema_body(&v2))).await.1,
        json!({ "id": 2 })
    );
    assert_eq!(call(&router, "GET", "/subjects", None).await.1, json!(["copy-value", "users-value"]));
    assert_eq!(call(&router, "GET", "/subjects?subjectPrefix=users", None).await.1, json!(["users-value"]));
    assert_eq!(call(&router, "GET", "/subjects/users-value/versions", None).await.1, json!([1, 2]));
    let latest = call(&router, "GET", "/subjects/users-value/versions/latest", None).await.1;
    assert_eq!((latest["version"].clone(), latest["id"].clone()), (json!(2), json!(2)));
    assert_eq!(call(&router, "GET", "/subjects/users-value/versions/-1", None).await.1["version"], json!(2));
    let found = call(&router, "POST", "/subjects/users-value", Some(&schema_body(&v1))).await.1;
    assert_eq!((found["version"].clone(), found["id"].clone()), (json!(1), json!(1)));
    assert_eq!(call(&router, "GET", "/schemas/ids/2", None).await.1["schema"], json!(v2.to_string()));
    assert_eq!(call(&router, "GET", "/schemas/ids/1/subjects", None).await.1, json!(["copy-value", "users-value"]));
    assert_eq!(
        call(&router, "GET", "/schemas/ids/1/versions", None).await.1,
        json!([{ "subject": "copy-value", "version": 1 }, { "subject": "users-value", "version": 1 }])
    );
    assert_eq!(call(&router, "GET", "/schemas/types", None).await.1, json!(["AVRO"]));
    let raw = call(&router, "GET", "/subjects/users-value/versions/1/schema", None).await.1;
    assert_eq!(raw, v1, "the .../schema endpoints answer the schema itself");
}

#[tokio::test]
async fn compatibility_levels_decide_and_explain() {
    let (router, _dir) = registry().await;
    let v1 = user(json!([{ "name": "id", "type": "long" }]));
    let no_default = user(json!([{ "name": "id", "type": "long" }, { "name": "age", "type": "int" }]));
    call(&router, "POST", "/subjects/s/versions", Some(&schema_body(&v1))).await;
    let refused = call(&router, "POST", "/subjects/s/versions", Some(&schema_body(&no_default))).await;
    assert_eq!(error_code(&refused), (409, 40901), "{refused:?}");
    let message = refused.1["message"].as_str().unwrap_or_default();
    for part in ["READER_FIELD_MISSING_DEFAULT_VALUE", "{oldSchemaVersion: 1}", "compatibility: 'BACKWARD'"] {
        assert!(message.contains(part), "Confluent's details name {part}: {message}");
    }
    let check = call(
        &router,
        "POST",
        "/compatibility/subjects/s/versions/latest?verbose=true",
        Some(&schema_body(&no_default)),
    )
    .await;
    assert_eq!(check.1["is_compatible"], json!(false));
    assert!(check.1["messages"].as_array().is_some_and(|m| !m.is_empty()), "{check:?}");
    assert_eq!(
        call(&router, "PUT", "/config/s", Some(r#"{"compatibility": "FORWARD"}"#)).await.1,
        json!({ "compatibility": "FORWARD" })
    );
    assert_eq!(
        call(&router, "POST", "/subjects/s/versions", Some(&schema_body(&no_default))).await.1,
        json!({ "id": 2 }),
        "FORWARD: the old schema reads the new"
    );
    assert_eq!(call(&router, "GET", "/config/s", None).await.1, json!({ "compatibilityLevel": "FORWARD" }));
    assert_eq!(error_code(&call(&router, "GET", "/config/other", None).await), (404, 40408));
    assert_eq!(
        call(&router, "GET", "/config/other?defaultToGlobal=true", None).await.1,
        json!({ "compatibilityLevel": "BACKWARD" })
    );
    assert_eq!(
        error_code(&call(&router, "PUT", "/config", Some(r#"{"compatibility": "SIDEWAYS"}"#)).await),
        (422, 42203)
    );
    assert_eq!(call(&router, "DELETE", "/config/s", None).await.1, json!({ "compatibilityLevel": "FORWARD" }));
    assert_eq!(
        call(&router, "POST", "/compatibility/subjects/new/versions", Some(&schema_body(&v1))).await.1,
        json!({ "is_compatible": true })
    );
}

#[tokio::test]
async fn deletes_soft_then_permanent_and_guards_references() {
    let (router, _dir) = registry().await;
    let address = json!({ "type": "record", "name": "Address", "namespace": "example", "fields": [{ "name": "city", "type": "string" }] });
    call(&router, "POST", "/subjects/address/versions", Some(&schema_body(&address))).await;
    let customer = json!({ "type": "record", "name": "Customer", "namespace": "example", "fields": [{ "name": "home", "type": "example.Address" }] });
    let with_reference = json!({
        "schema": customer.to_string(),
        "references": [{ "name": "example.Address", "subject": "address", "version": 1 }]
    });
    assert_eq!(
        call(&router, "POST", "/subjects/customer/versions", Some(&with_reference.to_string())).await.1,
        json!({ "id": 2 })
    );
    assert_eq!(call(&router, "GET", "/subjects/address/versions/1/referencedby", None).await.1, json!([2]));
    assert_eq!(error_code(&call(&router, "DELETE", "/subjects/address/versions/1", None).await), (422, 42206));
    let dangling = json!({ "schema": customer.to_string(), "references": [{ "name": "example.Address", "subject": "nope", "version": 1 }] });
    assert_eq!(
        error_code(&call(&router, "POST", "/subjects/dangling/versions", Some(&dangling.to_string())).await),
        (422, 42201)
    );

    assert_eq!(error_code(&call(&router, "DELETE", "/subjects/customer?permanent=true", None).await), (404, 40405));
    assert_eq!(call(&router, "DELETE", "/subjects/customer", None).await.1, json!([1]));
    assert_eq!(error_code(&call(&router, "DELETE", "/subjects/customer", None).await), (404, 40404));
    assert_eq!(error_code(&call(&router, "GET", "/subjects/customer/versions", None).await), (404, 40401));
    assert_eq!(call(&router, "GET", "/subjects/customer/versions?deleted=true", None).await.1, json!([1]));
    assert_eq!(call(&router, "DELETE", "/subjects/customer?permanent=true", None).await.1, json!([1]));
    assert_eq!(error_code(&call(&router, "GET", "/schemas/ids/2", None).await), (404, 40403));
    assert_eq!(call(&router, "DELETE", "/subjects/address/versions/1", None).await.1, json!(1), "no longer referenced");
    let fresh = json!({ "type": "record", "name": "Fresh", "fields": [{ "name": "f", "type": "int" }] });
    assert_eq!(
        call(&router, "POST", "/subjects/fresh/versions", Some(&schema_body(&fresh))).await.1,
        json!({ "id": 3 }),
        "ids are not reused"
    );
}

#[tokio::test]
async fn bad_input_gets_confluents_codes_never_a_500() {
    let (router, _dir) = registry().await;
    let v1 = user(json!([{ "name": "id", "type": "long" }]));
    call(&router, "POST", "/subjects/s/versions", Some(&schema_body(&v1))).await;
    let cases: Vec<BadCase> = vec![
        ("POST", "/subjects/s/versions", Some("{not json".into()), (400, 400)),
        ("POST", "/subjects/s/versions", Some(json!({ "schema": "{\"type\": \"recrod\"}" }).to_string()), (422, 42201)),
        ("POST", "/subjects/s/versions", Some(json!({ "schema": "not json at all" }).to_string()), (422, 42201)),
        (
            "POST",
            "/subjects/s/versions",
            Some(json!({ "schema": "\"string\"", "schemaType": "PROTOBUF" }).to_string()),
            (422, 42201),
        ),
        (
            "POST",
            "/subjects/s/versions",
            Some(json!({ "schema": "x".repeat(MAX_SCHEMA_BYTES + 1) }).to_string()),
            (422, 42201),
        ),
        (
            "POST",
            "/subjects/s/versions",
            Some(json!({ "schema": format!("\"{}\"", "x".repeat(MAX_SCHEMA_BYTES * 3)) }).to_string()),
            (422, 42201),
        ),
        ("GET", "/subjects/missing/versions", None, (404, 40401)),
        ("GET", "/subjects/s/versions/7", None, (404, 40402)),
        ("GET", "/subjects/s/versions/zero", None, (422, 42202)),
        ("GET", "/subjects/s/versions/0", None, (422, 42202)),
        ("GET", "/schemas/ids/99", None, (404, 40403)),
        ("POST", "/subjects/s", Some(schema_body(&user(json!([{ "name": "other", "type": "int" }])))), (404, 40403)),
        ("POST", "/subjects/missing", Some(schema_body(&v1)), (404, 40401)),
        ("PUT", "/mode", Some(r#"{"mode": "SOMETIMES"}"#.into()), (422, 42204)),
        ("PUT", "/mode", Some(r#"{"mode": "IMPORT"}"#.into()), (422, 42205)),
        ("POST", "/subjects/s/versions", Some(json!({ "schema": v1.to_string(), "id": 50 }).to_string()), (422, 42205)),
        ("GET", "/no/such/path", None, (404, 404)),
    ];
    for (method, path, body, expected) in cases {
        let answer = call(&router, method, path, body.as_deref()).await;
        assert_eq!(error_code(&answer), expected, "{method} {path}: {answer:?}");
    }
    assert_eq!(call(&router, "PUT", "/mode/s", Some(r#"{"mode": "READONLY"}"#)).await.1, json!({ "mode": "READONLY" }));
    let v2 = user(json!([{ "name": "id", "type": "long" }, { "name": "n", "type": "int", "default": 0 }]));
    assert_eq!(error_code(&call(&router, "POST", "/subjects/s/versions", Some(&schema_body(&v2))).await), (422, 42205));
    assert_eq!(
        call(&router, "PUT", "/mode?force=true", Some(r#"{"mode": "IMPORT"}"#)).await.1,
        json!({ "mode": "IMPORT" })
    );
    let imported = json!({ "schema": v2.to_string(), "id": 50, "version": 9 }).to_string();
    assert_eq!(call(&router, "POST", "/subjects/imported/versions", Some(&imported)).await.1, json!({ "id": 50 }));
    assert_eq!(call(&router, "GET", "/subjects/imported/versions", None).await.1, json!([9]));
}
