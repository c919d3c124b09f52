//! The controller quorum: cluster metadata (brokers, topics, partition assignments, leaders, ISR and epochs) as a
//! replicated log run by `openraft` among the controller voters, KRaft's design.
//!
//! Every node of a cluster runs a [`Controller`]: the voters (`--voters`) elect the active controller among
//! themselves; every other node follows the metadata log as a Raft learner, so each node applies the same commands
//! to its own [`ClusterImage`] and answers Metadata requests from it.
//!
//! - [`image`]: the metadata and the commands that change it (pure and deterministic: every node applies them).
//! - [`assignment`]: where new partitions' replicas go.
//! - [`log_store`] and [`state_machine`]: openraft's storage, on disk under `DATA/controller/`.
//! - [`network`] and [`http`]: Raft RPCs and the brokers' requests to the active controller, JSON over HTTP on the
//!   controller listener, sent by [`peer_client`].
//! - [`signature`] and [`request_check`]: with a cluster secret, requests and answers between nodes are signed,
//!   and unsigned, altered or replayed requests are refused.
//! - [`liveness`]: the active controller fences brokers that stop heartbeating and unfences those that resume.
//! - [`crash_probe`]: it fences at once a broker reported unreachable whose listener refuses connections.
//!
//! The lowest-id voter initializes the quorum on the cluster's first start; the others wait for it.

pub mod assignment;
pub mod crash_probe;
pub mod http;
pub mod image;
pub mod liveness;
pub mod log_store;
pub mod network;
pub mod peer_client;
pub mod raft_types;
pub mod request_check;
pub mod signature;
pub mod state_machine;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openraft::error::{ClientWriteError, RaftError};
use openraft::{BasicNode, ServerState};
use serde::de::DeserializeOwned;
use serde::Serialize;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::controller::http::{
    Heartbeat, Join, LeaderAnswer, Status, Unreachable, Written, HEARTBEAT_PATH, JOIN_PATH, UNREACHABLE_PATH,
    WRITE_PATH,
};
use crate::controller::image::{ClusterImage, MetadataCommand, MetadataError};
use crate::controller::liveness::Liveness;
use crate::controller::log_store::LogStore;
use crate::controller::network::Network;
use crate::controller::peer_client::{CallError, PeerClient};
use crate::controller::raft_types::Raft;
use crate::controller::request_check::RequestCheck;
use crate::controller::state_machine::StateMachine;
use crate::security::cluster_secret::ClusterSecret;

/// How long a metadata write keeps looking for an active controller before it gives up.
const PROPOSE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a report of an unreachable broker keeps looking for an active controller: past it, the broker's
/// session has expired anyway.
const REPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause between attempts while no controller is active or reachable.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// Settings of a node's controller.
#[derive(Debug, Clone)]
pub struct ControllerConfig {
    /// This node's id (Kafka's `node.id`).
    pub node_id: i32,
    /// Where the metadata log, vote and snapshot live (`DATA/controller`).
    pub dir: PathBuf,
    /// This node's controller listener as the other nodes reach it (`host:port`).
    pub advertised: String,
    /// The controller voters: node id to controller listener (`--voters 1@host:port,...`).
    pub voters: BTreeMap<i32, String>,
    /// A broker silent this long is fenced (`broker.session.timeout.ms`).
    pub session_timeout: Duration,
    /// How often the active controller moves leaderships back to preferred replicas; `None` never.
    pub leader_rebalance_interval: Option<Duration>,
    /// The cluster's shared secret: when set, controller requests and answers are signed and checked.
    pub secret: Option<ClusterSecret>,
}

/// The controller could not start.
#[derive(Debug, Error)]
pub enum ControllerError {
    /// Its files are unusable.
    #[error("controller storage: {0}")]
    Io(#[from] std::io::Error),
    /// openraft refused to start.
    #[error("controller quorum: {0}")]
    Raft(String),
}

/// A metadata write did not happen.
#[derive(Debug, Error)]
pub enum ProposeError {
    /// The quorum applied the command and refused it.
    #[error(transparent)]
    Refused(#[from] MetadataError),
    /// No active controller answered in time.
    #[error("no active controller: {0}")]
    Unavailable(String),
}

/// This node's member of the controller quorum.
pub struct Controller {
    id: u64,
    config: ControllerConfig,
    raft: Raft,
    image: watch::Receiver<Arc<ClusterImage>>,
    client: PeerClient,
    liveness: Mutex<Liveness>,
    /// Wakes the liveness watch early: a fenced broker heartbeated.
    fenced_heartbeat: tokio::sync::Notify,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller")
            .field("node_id", &self.config.node_id)
            .field("voters", &self.config.voters)
            .finish()
    }
}

impl Controller {
    /// Opens the metadata log under `config.dir`, serves the controller protocol on `listener`, and joins the
    /// quorum: the lowest-id voter initializes it on first start; a node that is not a voter asks to follow it.
    pub async fn start(config: ControllerConfig, listener: TcpListener) -> Result<Arc<Self>, ControllerError> {
        let id = raft_id(config.node_id);
        let log_store = LogStore::open(&config.dir)?;
        let (state_machine, image) = StateMachine::open(&config.dir)?;
        let raft_config = openraft::Config {
            cluster_name: "tidemark".to_owned(),
            // A voter calls an election once it has heard nothing from the active controller for openraft's leader
            // lease (the maximum below) plus a random election timeout: 0.9 to 1.2 s here, so that the partitions
            // of a crashed active controller fail over in about a second.
            heartbeat_interval: 100,
            election_timeout_min: 300,
            election_timeout_max: 600,
            snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(1000),
            max_in_snapshot_log_to_keep: 100,
            ..openraft::Config::default()
        };
        let raft_config = Arc::new(raft_config.validate().map_err(|e| ControllerError::Raft(e.to_string()))?);
        let client = PeerClient::new(config.secret.as_ref().map(ClusterSecret::controller_key));
        let raft = Raft::new(id, raft_config, Network::new(client.clone()), log_store, state_machine)
            .await
            .map_err(|e| ControllerError::Raft(e.to_string()))?;
        let controller = Arc::new(Controller {
            id,
            config,
            raft,
            image,
            client,
            liveness: Mutex::new(Liveness::default()),
            fenced_heartbeat: tokio::sync::Notify::new(),
            tasks: Mutex::new(Vec::new()),
        });
        let mut router = http::router(Arc::clone(&controller));
        if let Some(secret) = &controller.config.secret {
            let check = RequestCheck::new(secret.controller_key());
            router = router.layer(axum::middleware::from_fn_with_state(check, request_check::check_signature));
        }
        let server = tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
            if let Err(e) = axum::serve(listener, service).await {
                tracing::error!(error = %e, "the controller listener failed");
            }
        });
        let mut tasks = vec![server, tokio::spawn(Arc::clone(&controller).watch_liveness())];
        if let Some(interval) = controller.config.leader_rebalance_interval {
            tasks.push(tokio::spawn(Arc::clone(&controller).rebalance_leaders(interval)));
        }
        if controller.config.voters.contains_key(&controller.config.node_id) {
            controller.initialize_if_first().await?;
        } else {
            tasks.push(tokio::spawn(Arc::clone(&controller).join_as_learner()));
        }
        controller.tasks.lock().unwrap_or_else(|p| p.into_inner()).extend(tasks);
        Ok(controller)
    }

    /// The metadata as this node last applied it.
    pub fn image(&self) -> Arc<ClusterImage> {
        Arc::clone(&self.image.borrow())
    }

    /// The metadata, watched: changes after every applied command.
    pub fn watch(&self) -> watch::Receiver<Arc<ClusterImage>> {
        self.image.clone()
    }

    /// The node id of the active controller, when one is known.
    pub fn active_controller(&self) -> Option<i32> {
        self.raft.metrics().borrow().current_leader.and_then(|id| i32::try_from(id).ok())
    }

    /// This node's view of the quorum.
    pub fn status(&self) -> Status {
        let applied_index = self.raft.metrics().borrow().last_applied.map(|id| id.index);
        Status { node_id: self.config.node_id, active_controller: self.active_controller(), applied_index }
    }

    /// Writes `command` through the active controller, retrying while none is elected or reachable. Answers once
    /// the quorum committed and applied it, with its index in the metadata log, or with the quorum's refusal.
    pub async fn propose(&self, command: MetadataCommand) -> Result<u64, ProposeError> {
        let write = || self.write_locally(command.clone());
        let written = self.on_active_controller(WRITE_PATH, &command, PROPOSE_TIMEOUT, write).await?;
        written.outcome?;
        Ok(written.index)
    }

    /// Waits until this node has applied the metadata log up to `index` (a [`Controller::propose`] answer), so
    /// its image shows that write and everything before it.
    pub async fn wait_applied(&self, index: u64) -> Result<(), ProposeError> {
        let mut metrics = self.raft.metrics();
        let applied = |m: &openraft::RaftMetrics<u64, BasicNode>| m.last_applied.is_some_and(|id| id.index >= index);
        let waited = tokio::time::timeout(PROPOSE_TIMEOUT, async { metrics.wait_for(applied).await.is_ok() }).await;
        match waited {
            Ok(true) => Ok(()),
            Ok(false) => Err(ProposeError::Unavailable("the controller stopped".to_owned())),
            Err(_) => Err(ProposeError::Unavailable(format!("the metadata log was not applied up to {index} in time"))),
        }
    }

    /// Tells the active controller that broker `broker_id` is alive.
    pub async fn heartbeat(&self, broker_id: i32) -> Result<(), ProposeError> {
        let heartbeat = Heartbeat { broker_id };
        let record = || async { self.record_heartbeat(broker_id) };
        self.on_active_controller(HEARTBEAT_PATH, &heartbeat, PROPOSE_TIMEOUT, record).await
    }

    /// Tells the active controller that broker `broker_id` could not be reached; it fences the broker at once if
    /// its listener refuses connections (see [`crash_probe`]).
    pub async fn report_unreachable(&self, broker_id: i32) -> Result<(), ProposeError> {
        let report = Unreachable { broker_id };
        let check = || self.check_unreachable(broker_id);
        self.on_active_controller(UNREACHABLE_PATH, &report, REPORT_TIMEOUT, check).await
    }

    /// Stops the Raft node and the controller's tasks.
    pub async fn shutdown(&self) {
        for task in self.tasks.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            task.abort();
        }
        if let Err(e) = self.raft.shutdown().await {
            tracing::warn!(error = %e, "stopping the controller's Raft node");
        }
    }

    /// Runs a request on the active controller: `local` when that is this node, else an HTTP call to it; retries
    /// for up to `timeout` while none answers.
    async fn on_active_controller<Req, T, F, Fut>(
        &self,
        path: &str,
        request: &Req,
        timeout: Duration,
        local: F,
    ) -> Result<T, ProposeError>
    where
        Req: Serialize,
        T: DeserializeOwned,
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = LeaderAnswer<T>>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            let attempt = match self.active_controller_address() {
                Some(None) => local().await,
                Some(Some(address)) => self.call(&address, path, request).await,
                None => Err("no controller is active yet".to_owned()),
            };
            match attempt {
                Ok(answer) => return Ok(answer),
                Err(why) if Instant::now() >= deadline => return Err(ProposeError::Unavailable(why)),
                Err(_) => tokio::time::sleep(RETRY_PAUSE).await,
            }
        }
    }

    /// `Some(None)` when this node is the active controller, `Some(Some(address))` for another node, `None` when
    /// no leader is known.
    fn active_controller_address(&self) -> Option<Option<String>> {
        let metrics = self.raft.metrics().borrow().clone();
        let leader = metrics.current_leader?;
        if leader == self.id {
            return Some(None);
        }
        metrics.membership_config.membership().get_node(&leader).map(|node| Some(node.addr.clone()))
    }

    async fn call<Req: Serialize, T: DeserializeOwned>(
        &self,
        address: &str,
        path: &str,
        request: &Req,
    ) -> LeaderAnswer<T> {
        let answer = self.client.post::<Req, LeaderAnswer<T>>(address, path, request, None).await;
        answer.map_err(|e| e.to_string())?
    }

    /// Commits `command` on this node, which must be the active controller.
    async fn write_locally(&self, command: MetadataCommand) -> LeaderAnswer<Written> {
        match self.raft.client_write(command).await {
            Ok(written) => Ok(Written { index: written.log_id.index, outcome: written.data }),
            Err(RaftError::APIError(ClientWriteError::ForwardToLeader(forward))) => {
                Err(format!("node {} is not the active controller (leader: {:?})", self.id, forward.leader_id))
            }
            Err(e) => Err(e.to_string()),
        }
    }

    fn is_active(&self) -> bool {
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        metrics.state == ServerState::Leader && metrics.current_leader == Some(self.id)
    }

    fn record_heartbeat(&self, broker_id: i32) -> LeaderAnswer<()> {
        if !self.is_active() {
            return Err(format!("node {} is not the active controller", self.id));
        }
        self.liveness.lock().unwrap_or_else(|p| p.into_inner()).heartbeat(broker_id, Instant::now());
        if self.image().brokers.get(&broker_id).is_some_and(|b| b.fenced) {
            // Unfence it now rather than at the next tick.
            self.fenced_heartbeat.notify_one();
        }
        Ok(())
    }

    /// On the active controller: fences `broker_id` if it is unfenced and its listener refuses connections.
    async fn check_unreachable(&self, broker_id: i32) -> LeaderAnswer<()> {
        if !self.is_active() {
            return Err(format!("node {} is not the active controller", self.id));
        }
        let image = self.image();
        let Some(broker) = image.brokers.get(&broker_id).filter(|b| !b.fenced) else { return Ok(()) };
        if !crash_probe::refuses_connections(&broker.host, broker.port).await {
            return Ok(());
        }
        tracing::info!(
            broker = broker_id,
            address = format!("{}:{}", broker.host, broker.port),
            "a broker's listener refuses connections: fencing it without waiting for its session to expire"
        );
        self.liveness.lock().unwrap_or_else(|p| p.into_inner()).forget(broker_id);
        let written = self.write_locally(MetadataCommand::FenceBroker { id: broker_id }).await?;
        if let Err(e) = written.outcome {
            tracing::warn!(broker = broker_id, error = %e, "fencing an unreachable broker");
        }
        Ok(())
    }

    async fn add_learner(&self, join: Join) -> LeaderAnswer<()> {
        let node = BasicNode::new(join.address);
        match self.raft.add_learner(raft_id(join.node_id), node, false).await {
            Ok(_) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn initialize_if_first(&self) -> Result<(), ControllerError> {
        let first = self.config.voters.keys().next().copied();
        if first != Some(self.config.node_id) || self.raft.is_initialized().await.unwrap_or(true) {
            return Ok(());
        }
        let members: BTreeMap<u64, BasicNode> =
            self.config.voters.iter().map(|(id, address)| (raft_id(*id), BasicNode::new(address))).collect();
        tracing::info!(voters = ?self.config.voters, "initializing the controller quorum");
        self.raft.initialize(members).await.map_err(|e| ControllerError::Raft(e.to_string()))
    }

    /// Asks the active controller, until it agrees, to replicate the metadata log to this node.
    async fn join_as_learner(self: Arc<Self>) {
        let join = Join { node_id: self.config.node_id, address: self.config.advertised.clone() };
        loop {
            let known = self.raft.metrics().borrow().membership_config.membership().get_node(&self.id).is_some();
            if known {
                return;
            }
            for address in self.config.voters.values() {
                match self.client.post::<Join, LeaderAnswer<()>>(address, JOIN_PATH, &join, None).await {
                    Ok(Ok(())) => return,
                    // Not the active controller, or not up yet: asking again is all there is to do.
                    Ok(Err(_)) | Err(CallError::Connect(_)) => {}
                    Err(refused @ CallError::Refused { .. }) => tracing::warn!(voter = %address, error = %refused,
                        "a controller voter refused this node; does every node have the same cluster secret?"),
                    Err(other) => tracing::debug!(voter = %address, error = %other, "asking to join failed"),
                }
            }
            tokio::time::sleep(RETRY_PAUSE * 5).await;
        }
    }

    /// While this node is the active controller, fences brokers whose session expired and unfences those that
    /// heartbeat again.
    async fn watch_liveness(self: Arc<Self>) {
        let mut ticker = tokio::time::interval((self.config.session_timeout / 4).max(Duration::from_millis(50)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut was_active = false;
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                () = self.fenced_heartbeat.notified() => {}
            }
            let active = self.is_active();
            if active && !was_active {
                self.liveness.lock().unwrap_or_else(|p| p.into_inner()).take_over(&self.image(), Instant::now());
            }
            was_active = active;
            if !active {
                continue;
            }
            let verdicts = self.liveness.lock().unwrap_or_else(|p| p.into_inner()).verdicts(
                &self.image(),
                Instant::now(),
                self.config.session_timeout,
            );
            for command in verdicts {
                tracing::info!(?command, "broker liveness changed");
                if let Err(e) = self.write_locally(command).await {
                    tracing::warn!(error = %e, "recording a broker's liveness");
                }
            }
        }
    }

    /// While this node is the active controller, every `interval` moves the leadership of partitions whose
    /// preferred replica is back in sync to it, so that leaders stay balanced after failovers. (Kafka waits for
    /// a broker's imbalance to pass 10%; here any imbalance is corrected at the next check.)
    async fn rebalance_leaders(self: Arc<Self>, interval: Duration) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let imbalanced = self.image().preferred_leader_imbalance().len();
            if !self.is_active() || imbalanced == 0 {
                continue;
            }
            tracing::info!(partitions = imbalanced, "moving leaderships back to preferred replicas");
            if let Err(e) = self.write_locally(MetadataCommand::ElectPreferredLeaders).await {
                tracing::warn!(error = %e, "electing preferred leaders");
            }
        }
    }
}

/// A Kafka node id as a Raft node id (node ids are never negative).
fn raft_id(node_id: i32) -> u64 {
    u64::from(node_id.unsigned_abs())
}
