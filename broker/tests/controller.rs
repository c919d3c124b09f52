//! The controller quorum across three voters and a learner in one process, each on its own listener and directory:
//! writes through any node reach every node's image, the quorum survives the loss of its leader, and a restarted
//! node catches up from its own log.
#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tidemark_broker::controller::image::{ClusterImage, MetadataCommand};
use tidemark_broker::controller::{Controller, ControllerConfig};
use tokio::net::TcpListener;

async fn start(node_id: i32, listener: TcpListener, voters: &BTreeMap<i32, String>, root: &Path) -> Arc<Controller> {
    let config = ControllerConfig {
        node_id,
        dir: root.join(format!("node-{node_id}")),
        advertised: listener.local_addr().unwrap().to_string(),
        voters: voters.clone(),
        session_timeout: Duration::from_secs(60),
        leader_rebalance_interval: None,
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
    let root = tempfile::tempdir().unwrap();
    let mut bound = listeners(4).await;
    let addresses: Vec<String> = bound.iter().map(|l| l.local_addr().unwrap().to_string()).collect();
    let voters: BTreeMap<i32, String> = (1..=3).map(|id| (id, addresses[id as usize - 1].clone())).collect();
    let learner_listener = bound.pop().unwrap();
    let mut nodes = BTreeMap::new();
    for (id, listener) in (1..=3).zip(bound) {
        nodes.insert(id, start(id, listener, &voters, root.path()).await);
    }
    let learner = start(4, learner_listener, &voters, root.path()).await;

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
    let restarted = start(leader, listener, &voters, root.path()).await;
    wait_for(&restarted, "the restarted node caught up", |image| image.brokers.len() == 3).await;
    survivor.propose(MetadataCommand::UnfenceBroker { id: 3 }).await.unwrap();
    wait_for(&restarted, "the restarted node follows new writes", |image| !image.brokers[&3].fenced).await;
}
