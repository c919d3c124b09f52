//! The controller quorum across three voters and a learner in one process, each on its own listener and directory:
//! writes through any node reach every node's image, the quorum survives the loss of its leader, and a restarted
//! node catches up from its own log. With a cluster secret, a node with another secret cannot join, and unsigned,
//! altered, stale or replayed requests are refused.
#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tidemark_broker::controller::http::{Written, STATUS_PATH, WRITE_PATH};
use tidemark_broker::controller::image::{ClusterImage, MetadataCommand};
use tidemark_broker::controller::signature::{
    verify_answer, RequestStamp, NONCE_HEADER, SIGNATURE_HEADER, TIME_HEADER,
};
use tidemark_broker::controller::{Controller, ControllerConfig};
use tidemark_broker::now_ms;
use tidemark_broker::security::cluster_secret::ClusterSecret;
use tokio::net::TcpListener;

fn secret(text: &str) -> ClusterSecret {
    ClusterSecret::new(text.as_bytes()).unwrap()
}

async fn start(
    node_id: i32,
    listener: TcpListener,
    voters: &BTreeMap<i32, String>,
    root: &Path,
    secret: &ClusterSecret,
) -> Arc<Controller> {
    let config = ControllerConfig {
        node_id,
        dir: root.join(format!("node-{node_id}")),
        advertised: listener.local_addr().unwrap().to_string(),
        voters: voters.clone(),
        session_timeout: Duration::from_secs(60),
        leader_rebalance_interval: None,
        secret: Some(secret.clone()),
    };
    Controller::start(config, listener).await.unwrap()
}

async fn listeners(count: usize) -> Vec<TcpListener> {
    let mut bound = Vec::new();
    for _ in 0..count {
        bound.push(TcpListener::bind("127.0.0.1:0").await.unwrap());
    }
    bound
}

fn register(id: i32) -> MetadataCommand {
    MetadataCommand::RegisterBroker {
        id,
        host: "127.0.0.1".into(),
        port: 9000 + id as u16,
        rack: None,
        listeners: vec![],
        cluster_id: "c".into(),
    }
}

async fn wait_for(controller: &Controller, what: &str, check: impl Fn(&ClusterImage) -> bool) {
    let mut watch = controller.watch();
    let waited = tokio::time::timeout(Duration::from_secs(30), watch.wait_for(|image| check(image))).await;
    assert!(waited.is_ok(), "{what}: image is {:?}", controller.image());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_reach_every_node_and_survive_losing_the_leader() {
    let cluster = secret("a-secret-of-the-cluster-1");
    let root = tempfile::tempdir().unwrap();
    let mut bound = listeners(4).await;
    let addresses: Vec<String> = bound.iter().map(|l| l.local_addr().unwrap().to_string()).collect();
    let voters: BTreeMap<i32, String> = (1..=3).map(|id| (id, addresses[id as usize - 1].clone())).collect();
    let learner_listener = bound.pop().unwrap();
    let mut nodes = BTreeMap::new();
    for (id, listener) in (1..=3).zip(bound) {
        nodes.insert(id, start(id, listener, &voters, root.path(), &cluster).await);
    }
    let learner = start(4, learner_listener, &voters, root.path(), &cluster).await;

    // A write sent to whichever node is forwarded to the active controller.
    nodes[&3].propose(register(1)).await.unwrap();
    nodes[&1].propose(register(2)).await.unwrap();
    for node in nodes.values().chain([&learner]) {
        wait_for(node, "both brokers registered", |image| image.brokers.len() == 2).await;
    }

    // Refusals come back as the quorum decided them.
    let refused = nodes[&2].propose(MetadataCommand::UnfenceBroker { id: 7 }).await;
    assert!(refused.unwrap_err().to_string().contains('7'));

    // The leader goes away; the other two elect a new one and keep accepting writes.
    let leader = nodes[&1].active_controller().unwrap();
    let stopped = nodes.remove(&leader).unwrap();
    stopped.shutdown().await;
    drop(stopped);
    let survivor = nodes.values().next().unwrap();
    survivor.propose(register(3)).await.unwrap();
    for node in nodes.values().chain([&learner]) {
        wait_for(node, "broker 3 registered without the old leader", |image| image.brokers.len() == 3).await;
    }
    assert_ne!(survivor.active_controller(), Some(leader));

    // The old leader restarts from its own files and catches up.
    let listener = TcpListener::bind(&voters[&leader]).await.unwrap();
    let restarted = start(leader, listener, &voters, root.path(), &cluster).await;
    wait_for(&restarted, "the restarted node caught up", |image| image.brokers.len() == 3).await;
    survivor.propose(MetadataCommand::UnfenceBroker { id: 3 }).await.unwrap();
    wait_for(&restarted, "the restarted node follows new writes", |image| !image.brokers[&3].fenced).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_cannot_join_and_requests_cannot_be_forged_or_replayed() {
    let cluster = secret("a-secret-of-the-cluster-2");
    let root = tempfile::tempdir().unwrap();
    let mut bound = listeners(2).await;
    let stranger_listener = bound.pop().unwrap();
    let voter_listener = bound.pop().unwrap();
    let address = voter_listener.local_addr().unwrap().to_string();
    let voters = BTreeMap::from([(1, address.clone())]);
    let voter = start(1, voter_listener, &voters, root.path(), &cluster).await;
    voter.propose(register(1)).await.unwrap();

    // A node with another secret asks to follow the metadata log and is refused, so it never learns anything.
    let stranger = start(2, stranger_listener, &voters, root.path(), &secret("not-the-cluster-secret")).await;
    voter.propose(register(2)).await.unwrap();
    wait_for(&voter, "both brokers registered", |image| image.brokers.len() == 2).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(stranger.image().brokers.is_empty(), "the stranger got the metadata log: {:?}", stranger.image());
    assert_eq!(stranger.active_controller(), None);

    let http = reqwest::Client::new();
    let url = format!("http://{address}{WRITE_PATH}");
    let body = serde_json::to_vec(&register(3)).unwrap();
    let post = |stamp: Option<&RequestStamp>| {
        let mut request = http.post(&url).header("content-type", "application/json").body(body.clone());
        if let Some(stamp) = stamp {
            request = request
                .header(TIME_HEADER, stamp.time_ms.to_string())
                .header(NONCE_HEADER, &stamp.nonce)
                .header(SIGNATURE_HEADER, &stamp.signature);
        }
        request.send()
    };
    let refusal = |answer: reqwest::Response| async move {
        assert_eq!(answer.status(), 401);
        answer.text().await.unwrap()
    };

    assert!(refusal(post(None).await.unwrap()).await.contains("unsigned"));
    let key = cluster.controller_key();
    let forged =
        RequestStamp::sign(&secret("not-the-cluster-secret").controller_key(), "POST", WRITE_PATH, &body, now_ms());
    assert!(refusal(post(Some(&forged)).await.unwrap()).await.contains("bad signature"));
    let stale = RequestStamp::sign(&key, "POST", WRITE_PATH, &body, now_ms() - 120_000);
    assert!(refusal(post(Some(&stale)).await.unwrap()).await.contains("ms from this node's clock"));

    // A properly signed request is served, and its answer is signed for it; sent again, it is a replay.
    let signed = RequestStamp::sign(&key, "POST", WRITE_PATH, &body, now_ms());
    let answer = post(Some(&signed)).await.unwrap();
    assert_eq!(answer.status(), 200);
    let tag = answer.headers().get(SIGNATURE_HEADER).map(|v| v.to_str().unwrap().to_owned());
    let answer_body = answer.bytes().await.unwrap();
    verify_answer(&key, &signed.nonce, 200, &answer_body, tag.as_deref()).unwrap();
    let written: Result<Written, String> = serde_json::from_slice(&answer_body).unwrap();
    assert!(written.unwrap().outcome.is_ok());
    wait_for(&voter, "the signed write applied", |image| image.brokers.contains_key(&3)).await;
    assert!(refusal(post(Some(&signed)).await.unwrap()).await.contains("replayed"));

    // The status stays readable without a signature.
    let status = http.get(format!("http://{address}{STATUS_PATH}")).send().await.unwrap();
    assert_eq!(status.status(), 200);
}
