//! The Raft RPCs between controller nodes, sent as JSON over HTTP to each node's controller listener
//! (`http.rs` answers them) by a [`PeerClient`], signed when the cluster has a shared secret.

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

use crate::controller::peer_client::{CallError, PeerClient};
use crate::controller::raft_types::ControllerRaft;

/// Paths of the Raft RPCs on a controller listener.
pub const APPEND_PATH: &str = "/raft/append";
/// See [`APPEND_PATH`].
pub const VOTE_PATH: &str = "/raft/vote";
/// See [`APPEND_PATH`].
pub const SNAPSHOT_PATH: &str = "/raft/snapshot";

/// Makes a [`Peer`] per target node; one client (and its connection pool) shared by all.
#[derive(Debug, Clone)]
pub struct Network {
    client: PeerClient,
}

impl Network {
    /// A network sending with `client`.
    pub fn new(client: PeerClient) -> Self {
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
    client: PeerClient,
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
        let sent = self.client.post(&self.address, path, request, Some(option.hard_ttl())).await;
        let answer: Result<Resp, RaftError<u64, E>> = sent.map_err(|e| match e {
            CallError::Connect(_) => RPCError::Unreachable(Unreachable::new(&e)),
            _ => RPCError::Network(NetworkError::new(&e)),
        })?;
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
