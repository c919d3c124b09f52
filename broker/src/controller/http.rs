//! The controller listener: Raft RPCs from other controller nodes, and the requests brokers send to the active
//! controller (metadata writes, heartbeats, brokers found unreachable, joining as a learner), and
//! this node's view of the quorum (`GET /controller/status`). Every body is JSON.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use openraft::error::{InstallSnapshotError, RaftError};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest,
    VoteResponse,
};
use serde::{Deserialize, Serialize};

use crate::controller::image::{MetadataCommand, MetadataError};
use crate::controller::network::{APPEND_PATH, SNAPSHOT_PATH, VOTE_PATH};
use crate::controller::raft_types::ControllerRaft;
use crate::controller::Controller;

/// Path of a metadata write sent to the active controller.
pub const WRITE_PATH: &str = "/controller/write";
/// Path of a broker heartbeat sent to the active controller.
pub const HEARTBEAT_PATH: &str = "/controller/heartbeat";
/// Path of a report that a broker could not be reached, sent to the active controller.
pub const UNREACHABLE_PATH: &str = "/controller/unreachable";
/// Path of this node's view of the quorum (GET): [`Status`].
pub const STATUS_PATH: &str = "/controller/status";
/// Path of a node asking the active controller to replicate the metadata log to it as a learner.
pub const JOIN_PATH: &str = "/controller/join";

/// The answer of the active controller: `Err` when this node cannot serve the request (not the leader, or Raft
/// failed), so the sender retries elsewhere.
pub type LeaderAnswer<T> = Result<T, String>;

/// A metadata write the quorum applied: its index in the log and what applying it answered.
#[derive(Debug, Serialize, Deserialize)]
pub struct Written {
    /// Its index in the metadata log.
    pub index: u64,
    /// Applied, or refused.
    pub outcome: Result<(), MetadataError>,
}

/// A broker is alive.
#[derive(Debug, Serialize, Deserialize)]
pub struct Heartbeat {
    /// The broker's node id.
    pub broker_id: i32,
}

/// A broker could not reach another one (see [`crate::controller::crash_probe`]).
#[derive(Debug, Serialize, Deserialize)]
pub struct Unreachable {
    /// The node id of the broker that could not be reached.
    pub broker_id: i32,
}

/// A node that is not a voter asks to follow the metadata log.
#[derive(Debug, Serialize, Deserialize)]
pub struct Join {
    /// Its node id.
    pub node_id: i32,
    /// Its controller listener, as the others reach it.
    pub address: String,
}

/// What a node knows of the quorum, for operators and tests.
#[derive(Debug, Serialize, Deserialize)]
pub struct Status {
    /// This node's id.
    pub node_id: i32,
    /// The node id of the active controller, when one is known.
    pub active_controller: Option<i32>,
    /// The index of the last metadata command this node applied.
    pub applied_index: Option<u64>,
}

/// The routes of a controller listener.
pub fn router(controller: Arc<Controller>) -> Router {
    Router::new()
        .route(APPEND_PATH, post(append))
        .route(VOTE_PATH, post(vote))
        .route(SNAPSHOT_PATH, post(snapshot))
        .route(WRITE_PATH, post(write))
        .route(HEARTBEAT_PATH, post(heartbeat))
        .route(UNREACHABLE_PATH, post(unreachable))
        .route(JOIN_PATH, post(join))
        .route(STATUS_PATH, get(status))
        .with_state(controller)
}

async fn append(
    State(controller): State<Arc<Controller>>,
    Json(request): Json<AppendEntriesRequest<ControllerRaft>>,
) -> Json<Result<AppendEntriesResponse<u64>, RaftError<u64>>> {
    Json(controller.raft.append_entries(request).await)
}

async fn vote(
    State(controller): State<Arc<Controller>>,
    Json(request): Json<VoteRequest<u64>>,
) -> Json<Result<VoteResponse<u64>, RaftError<u64>>> {
    Json(controller.raft.vote(request).await)
}

async fn snapshot(
    State(controller): State<Arc<Controller>>,
    Json(request): Json<InstallSnapshotRequest<ControllerRaft>>,
) -> Json<Result<InstallSnapshotResponse<u64>, RaftError<u64, InstallSnapshotError>>> {
    Json(controller.raft.install_snapshot(request).await)
}

async fn write(
    State(controller): State<Arc<Controller>>,
    Json(command): Json<MetadataCommand>,
) -> Json<LeaderAnswer<Written>> {
    Json(controller.write_locally(command).await)
}

async fn heartbeat(
    State(controller): State<Arc<Controller>>,
    Json(heartbeat): Json<Heartbeat>,
) -> Json<LeaderAnswer<()>> {
    Json(controller.record_heartbeat(heartbeat.broker_id))
}

async fn unreachable(
    State(controller): State<Arc<Controller>>,
    Json(report): Json<Unreachable>,
) -> Json<LeaderAnswer<()>> {
    Json(controller.check_unreachable(report.broker_id).await)
}

async fn status(State(controller): State<Arc<Controller>>) -> Json<Status> {
    Json(controller.status())
}

async fn join(State(controller): State<Arc<Controller>>, Json(join): Json<Join>) -> Json<LeaderAnswer<()>> {
    Json(controller.add_learner(join).await)
}
