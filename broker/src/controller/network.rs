//! The Raft RPCs between controller nodes, sent as JSON over HTTP to each node's controller listener
//! (`http.rs` answers them).

use std::error::Error;

use openraft::error::{Infallible, InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest,
    VoteResponse,
};
use openraft::BasicNode;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::controller::raft_types::ControllerRaft;

/// Paths of the Raft RPCs on a controller listener.
pub const APPEND_PATH: &str = "/raft/append";
/// See [`APPEND_PATH`].
pub const VOTE_PATH: &str = "/raft/vote";
/// See [`APPEND_PATH`].
pub const SNAPSHOT_PATH: &str = "/raft/snapshot";

/// Makes a [`Peer`] per target node; one HTTP client (and its connection pool) shared by all.
#[derive(Debug, Clone)]
pub struct Network {
    client: reqwest::Client,
}

impl Network {
    /// A network sending with `client`.
    pub fn new(client: reqwest::Client) -> Self {
        Network { client }
    }
}

impl RaftNetworkFactory<ControllerRaft> for Network {
    type Network = Peer;

    async fn new_client(&mut self, target: u64, node: &BasicNode) -> Peer {
        Peer { client: self.client.clone(), target, address: node.addr.clone() }
    }
}

/// The connection to one other controller node.
#[derive(Debug)]
pub struct Peer {
    client: reqwest::Client,
    target: u64,
    address: String,
}

type RpcResult<T, E> = Result<T, RPCError<u64, BasicNode, RaftError<u64, E>>>;

impl Peer {
    async fn call<Req, Resp, E>(&self, path: &str, request: &Req, option: &RPCOption) -> RpcResult<Resp, E>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: Error + DeserializeOwned,
    {
        let url = format!("http://{}{path}", self.address);
        let sent = self.client.post(url).timeout(option.hard_ttl()).json(request).send().await;
        let response = sent.map_err(|e| match e.is_connect() {
            true => RPCError::Unreachable(Unreachable::new(&e)),
            false => RPCError::Network(NetworkError::new(&e)),
        })?;
        let answer: Result<Resp, RaftError<u64, E>> =
            response.json().await.map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        answer.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

impl RaftNetwork<ControllerRaft> for Peer {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<ControllerRaft>,
        option: RPCOption,
    ) -> RpcResult<AppendEntriesResponse<u64>, Infallible> {
        self.call(APPEND_PATH, &rpc, &option).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<ControllerRaft>,
        option: RPCOption,
    ) -> RpcResult<InstallSnapshotResponse<u64>, InstallSnapshotError> {
        self.call(SNAPSHOT_PATH, &rpc, &option).await
    }

    async fn vote(&mut self, rpc: VoteRequest<u64>, option: RPCOption) -> RpcResult<VoteResponse<u64>, Infallible> {
        self.call(VOTE_PATH, &rpc, &option).await
    }
}
