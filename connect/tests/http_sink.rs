//! The `http` sink through the worker, against a webhook server in the test that answers 30% of requests with 503
//! and one record's with 400: every good record is delivered (at least once), the bad one lands in the dead-letter
//! topic with Kafka Connect's error headers, and the consumer group commits past them all; per record and in
//! batches. An https webhook signed by a private CA is reached once `https.ssl.truststore.location` names it.

mod common;

use common::Backend;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use serde_json::Value as Json;
use tidemark_broker::security::tls::{self, TlsFiles};
use tidemark_connect::state::RunState;
use tidemark_connect::worker::{Plugins, Worker};
use tidemark_log_client::{LogClient, ProducerRecord, TopicSpec};
use tidemark_tests::tls::Certificates;

/// The record the server refuses.
const BAD_ID: i64 = 13;
/// Records produced.
const RECORDS: i64 = 60;

/// What the webhook server saw.
#[derive(Default)]
struct Hook {
    requests: AtomicU64,
    /// The ids delivered (answered 200), in arrival order, repeats included.
    delivered: Mutex<Vec<i64>>,
    /// The Authorization header of the last request.
    authorization: Mutex<Option<String>>,
}

/// 400 for a body with the bad id, else 503 for 3 requests in 10 (a fixed pattern), else 200.
async fn receive(State(hook): State<Arc<Hook>>, headers: axum::http::HeaderMap, body: Bytes) -> StatusCode {
    let n = hook.requests.fetch_add(1, Ordering::Relaxed);
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    *hook.authorization.lock().expect("lock") = auth;
    let Ok(json) = serde_json::from_slice::<Json>(&body) else { return StatusCode::UNPROCESSABLE_ENTITY };
    let values = match json {
        Json::Array(values) => values,
        one => vec![one],
    };
    let ids: Vec<i64> = values.iter().filter_map(|v| v["id"].as_i64()).collect();
    if ids.contains(&BAD_ID) {
        return StatusCode::BAD_REQUEST;
    }
    if n % 10 < 3 {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    hook.delivered.lock().expect("lock").extend(ids);
    StatusCode::OK
}

/// The webhook over TLS with the certificate `certificates` made for `localhost`.
async fn serve_https(hook: Arc<Hook>, certificates: &Certificates) -> String {
    let files = TlsFiles {
        certificate: certificates.server_cert.clone(),
        key: certificates.server_key.clone(),
        client_ca: None,
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(tls::server_config(&files).expect("the server's TLS"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let app = Router::new().route("/hook", post(receive)).with_state(hook);
    tokio::spawn(async move { axum::serve(TlsListener { listener, acceptor }, app).await });
    format!("https://localhost:{port}/hook")
}

/// Connections served after their TLS handshake (a failed handshake is dropped).
struct TlsListener {
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, peer)) = self.listener.accept().await else { continue };
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, peer);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

async fn serve(hook: Arc<Hook>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let app = Router::new().route("/hook", post(receive)).with_state(hook);
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/hook")
}

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

on_both_logs!(every_good_record_is_delivered_and_the_bad_one_dead_lettered);

async fn every_good_record_is_delivered_and_the_bad_one_dead_lettered(backend: Backend) {
    let test_log = common::test_log(backend).await;
    let log: &Arc<dyn LogClient> = &test_log.log;
    let state = common::worker_state(log, 2).await;
    let worker = Worker::new(Arc::clone(log), state, Plugins::default(), "127.0.0.1:8083".into());
    let records: Vec<ProducerRecord> = (0..RECORDS)
        .map(|id| ProducerRecord {
            partition: Some(0),
            key: None,
            value: Some(Bytes::from(format!(r#"{{"id":{id},"what":"order"}}"#))),
            headers: Vec::new(),
            timestamp: None,
        })
        .collect();
    log.produce("hooks", records).await.expect("produce");

    for (name, batch) in [("single", "1"), ("batched", "7")] {
        let hook = Arc::new(Hook::default());
        let url = serve(Arc::clone(&hook)).await;
        let dlq = format!("{name}-dlq");
        let config = props(&[
            ("connector.class", "http"),
            ("topics", "hooks"),
            ("http.api.url", &url),
            ("batch.max.size", batch),
            ("auth.type", "BEARER"),
            ("bearer.token", "s3cret"),
            ("retry.backoff.ms", "5"),
            ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
            ("value.converter.schemas.enable", "false"),
            ("key.converter", "org.apache.kafka.connect.storage.StringConverter"),
            ("errors.tolerance", "all"),
            ("errors.deadletterqueue.topic.name", &dlq),
            ("errors.deadletterqueue.context.headers.enable", "true"),
            ("offset.flush.interval.ms", "100"),
        ]);
        worker.put_connector(name, config, true).await.expect("create");
        let expected: Vec<i64> = (0..RECORDS).filter(|id| *id != BAD_ID).collect();
        common::wait_until("every good record is delivered", async || {
            let mut seen = hook.delivered.lock().expect("lock").clone();
            seen.sort_unstable();
            seen.dedup();
            seen == expected
        })
        .await;
        common::wait_until("the bad record is dead-lettered", async || {
            // The dead-letter topic is created with its first record: until then there is nothing to read.
            common::try_read_all(log, &dlq).await.is_ok_and(|letters| !letters.is_empty())
        })
        .await;
        let dead = common::read_all(log, &dlq).await;
        assert_eq!(dead.len(), 1, "{name}: one dead letter");
        let letter = &dead[0];
        let value: Json = serde_json::from_slice(letter.value.as_deref().expect("a value")).expect("JSON");
        assert_eq!(value["id"].as_i64(), Some(BAD_ID), "{name}");
        assert_eq!(common::header(letter, "__connect.errors.topic"), Some("hooks"));
        assert_eq!(common::header(letter, "__connect.errors.offset"), Some("13"));
        assert_eq!(common::header(letter, "__connect.errors.stage"), Some("TASK_PUT"));
        assert_eq!(common::header(letter, "__connect.errors.connector.name"), Some(name));
        let message = common::header(letter, "__connect.errors.exception.message").unwrap_or_default();
        assert!(message.contains("400"), "{name}: the server's answer is the reason: {message}");
        assert_eq!(hook.authorization.lock().expect("lock").as_deref(), Some("Bearer s3cret"));
        assert!(hook.requests.load(Ordering::Relaxed) > expected.len() as u64 / 7, "{name}: 503s were retried");
    }
    worker.shutdown().await;
}

on_both_logs!(tasks_max_tasks_share_the_partitions_as_one_consumer_group);

/// With `tasks.max=2` on a topic of two partitions, two tasks run as members of the connector's one consumer group
/// (`connect-<name>`): every record arrives, and that group committed past all of them on both partitions.
async fn tasks_max_tasks_share_the_partitions_as_one_consumer_group(backend: Backend) {
    let test_log = common::test_log(backend).await;
    let log: &Arc<dyn LogClient> = &test_log.log;
    let spec = TopicSpec { name: "split".into(), partitions: 2, replication_factor: -1, configs: BTreeMap::new() };
    log.ensure_topic(&spec).await.expect("topic");
    for partition in 0..2 {
        let records: Vec<ProducerRecord> = (0..20)
            .map(|n| ProducerRecord {
                partition: Some(partition),
                key: None,
                value: Some(Bytes::from(format!(r#"{{"id":{}}}"#, 1000 + partition * 100 + n))),
                headers: Vec::new(),
                timestamp: None,
            })
            .collect();
        log.produce("split", records).await.expect("produce");
    }
    let state = common::worker_state(log, 2).await;
    let worker = Worker::new(Arc::clone(log), state, Plugins::default(), "127.0.0.1:8083".into());
    let hook = Arc::new(Hook::default());
    let url = serve(Arc::clone(&hook)).await;
    let config = props(&[
        ("connector.class", "http"),
        ("topics", "split"),
        ("tasks.max", "2"),
        ("http.api.url", &url),
        ("retry.backoff.ms", "5"),
        ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
        ("value.converter.schemas.enable", "false"),
        ("offset.flush.interval.ms", "100"),
    ]);
    worker.put_connector("split", config, true).await.expect("create");
    let expected: Vec<i64> = (1000..1020).chain(1100..1120).collect();
    common::wait_until("every record is delivered", async || {
        let mut seen = hook.delivered.lock().expect("lock").clone();
        seen.sort_unstable();
        seen.dedup();
        seen == expected
    })
    .await;
    let (_, tasks) = worker.status("split").expect("status");
    assert_eq!(tasks.len(), 2, "two tasks");
    assert!(tasks.iter().all(|t| t.as_ref().is_some_and(|s| s.state == RunState::Running)), "{tasks:?}");
    common::wait_until("the group committed both partitions", async || {
        log.group_offsets("connect-split").await.is_ok_and(|offsets| {
            offsets.iter().filter(|(topic, _, _)| topic == "split").map(|(_, _, offset)| offset).sum::<i64>() == 40
        })
    })
    .await;
    worker.shutdown().await;
}

/// An https webhook whose certificate a private CA signed: refused while only the system's CAs are trusted (the
/// task fails naming the certificate), reached once `https.ssl.truststore.location` names the CA.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_webhook_is_reached_through_the_configured_truststore() {
    let test_log = common::test_log(Backend::InProcess).await;
    let log: &Arc<dyn LogClient> = &test_log.log;
    // Ids the webhook takes (not BAD_ID).
    let ids = 100..120;
    let records: Vec<ProducerRecord> = ids
        .clone()
        .map(|id| ProducerRecord {
            partition: Some(0),
            key: None,
            value: Some(Bytes::from(format!(r#"{{"id":{id}}}"#))),
            headers: Vec::new(),
            timestamp: None,
        })
        .collect();
    log.produce("secure-hooks", records).await.expect("produce");
    let dir = tempfile::tempdir().expect("dir");
    let certificates = Certificates::generate(dir.path(), "webhook", "client").expect("certificates");
    let hook = Arc::new(Hook::default());
    let url = serve_https(Arc::clone(&hook), &certificates).await;
    let state = common::worker_state(log, 2).await;
    let worker = Worker::new(Arc::clone(log), state, Plugins::default(), "127.0.0.1:8083".into());
    let ca = certificates.ca.to_string_lossy().into_owned();
    let config = |truststore: Option<&str>| {
        let mut config = props(&[
            ("connector.class", "http"),
            ("topics", "secure-hooks"),
            ("http.api.url", &url),
            ("retry.backoff.ms", "5"),
            ("errors.retry.timeout", "300"),
            ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
            ("value.converter.schemas.enable", "false"),
            ("offset.flush.interval.ms", "100"),
        ]);
        if let Some(truststore) = truststore {
            config.insert("https.ssl.truststore.location".into(), truststore.into());
        }
        config
    };

    worker.put_connector("untrusting", config(None), true).await.expect("create");
    common::wait_until("the untrusting task fails", async || {
        worker.status("untrusting").is_ok_and(|(_, tasks)| {
            tasks.first().and_then(Option::as_ref).is_some_and(|task| task.state == RunState::Failed)
        })
    })
    .await;
    let (_, tasks) = worker.status("untrusting").expect("status");
    let trace = tasks[0].as_ref().and_then(|task| task.trace.clone()).unwrap_or_default();
    assert!(trace.contains("certificate"), "the failure names the certificate: {trace}");
    assert!(hook.delivered.lock().expect("lock").is_empty(), "nothing reached the webhook untrusted");

    worker.put_connector("trusting", config(Some(&ca)), true).await.expect("create");
    common::wait_until("every record is delivered over https", async || {
        let mut seen = hook.delivered.lock().expect("lock").clone();
        seen.sort_unstable();
        seen.dedup();
        seen == ids.clone().collect::<Vec<i64>>()
    })
    .await;
    worker.shutdown().await;
}
