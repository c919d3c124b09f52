//! One member of a classic group, and the answers the coordinator gives to JoinGroup and SyncGroup.

use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::ResponseError;
use tokio::sync::oneshot;

/// A member as it presents itself in a JoinGroup request.
#[derive(Debug, Clone)]
pub struct JoinParams {
    /// Its member id; empty on its first join.
    pub member_id: String,
    /// Its `group.instance.id` when it is a static member.
    pub instance_id: Option<String>,
    /// The client id it connected with.
    pub client_id: String,
    /// The address it connected from.
    pub client_host: String,
    /// `session.timeout.ms`.
    pub session_timeout: Duration,
    /// `max.poll.interval.ms` for consumers: how long a rebalance waits for it.
    pub rebalance_timeout: Duration,
    /// The protocol type (`consumer`, `connect`, ...).
    pub protocol_type: String,
    /// The protocols (assignors) it supports, most preferred first, with its metadata for each.
    pub protocols: Vec<(String, Bytes)>,
    /// Whether the client understands MEMBER_ID_REQUIRED (JoinGroup v4+, KIP-394).
    pub requires_known_member_id: bool,
}

/// One member as the leader sees it in its JoinGroup answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedMember {
    /// The member id.
    pub member_id: String,
    /// Its `group.instance.id`, if static.
    pub instance_id: Option<String>,
    /// Its metadata for the chosen protocol.
    pub metadata: Bytes,
}

/// The answer to a JoinGroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinResult {
    /// The error, if the join failed.
    pub error: Option<ResponseError>,
    /// The generation the member joined.
    pub generation: i32,
    /// The group's protocol type.
    pub protocol_type: Option<String>,
    /// The chosen protocol.
    pub protocol_name: Option<String>,
    /// The leader's member id.
    pub leader: String,
    /// The member's id (a new one for a first join).
    pub member_id: String,
    /// Every member with its metadata, for the leader only.
    pub members: Vec<JoinedMember>,
    /// The leader need not compute an assignment: the group is stable and keeps its assignment (KIP-814).
    pub skip_assignment: bool,
}

impl JoinResult {
    /// A failed join.
    pub fn error(error: ResponseError, member_id: &str) -> Self {
        JoinResult {
            error: Some(error),
            generation: -1,
            protocol_type: None,
            protocol_name: None,
            leader: String::new(),
            member_id: member_id.to_owned(),
            members: Vec::new(),
            skip_assignment: false,
        }
    }
}

/// The answer to a SyncGroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncResult {
    /// The error, if the sync failed.
    pub error: Option<ResponseError>,
    /// The group's protocol type.
    pub protocol_type: Option<String>,
    /// The chosen protocol.
    pub protocol_name: Option<String>,
    /// The member's assignment.
    pub assignment: Bytes,
}

impl SyncResult {
    /// A failed sync.
    pub fn error(error: ResponseError) -> Self {
        SyncResult { error: Some(error), protocol_type: None, protocol_name: None, assignment: Bytes::new() }
    }
}

/// A member of a group.
#[derive(Debug)]
pub struct Member {
    /// The member id.
    pub id: String,
    /// Its `group.instance.id`, if static.
    pub instance_id: Option<String>,
    /// The client id it connected with.
    pub client_id: String,
    /// The address it connected from.
    pub client_host: String,
    /// `session.timeout.ms`.
    pub session_timeout: Duration,
    /// How long a rebalance waits for it.
    pub rebalance_timeout: Duration,
    /// Supported protocols with metadata, most preferred first.
    pub protocols: Vec<(String, Bytes)>,
    /// The assignment the leader gave it in the current generation.
    pub assignment: Bytes,
    /// When it joined: the first member to join leads.
    pub join_order: u64,
    /// It is expired when no heartbeat arrives before this.
    pub heartbeat_deadline: Instant,
    /// Its parked JoinGroup, during a rebalance.
    pub pending_join: Option<oneshot::Sender<JoinResult>>,
    /// Its parked SyncGroup, while the leader computes the assignment.
    pub pending_sync: Option<oneshot::Sender<SyncResult>>,
}

impl Member {
    /// A new member from its JoinGroup.
    pub fn new(id: String, params: &JoinParams, join_order: u64, now: Instant) -> Self {
        Member {
            id,
            instance_id: params.instance_id.clone(),
            client_id: params.client_id.clone(),
            client_host: params.client_host.clone(),
            session_timeout: params.session_timeout,
            rebalance_timeout: params.rebalance_timeout,
            protocols: params.protocols.clone(),
            assignment: Bytes::new(),
            join_order,
            heartbeat_deadline: now + params.session_timeout,
            pending_join: None,
            pending_sync: None,
        }
    }

    /// Takes the settings of a later JoinGroup.
    pub fn update(&mut self, params: &JoinParams) {
        self.client_id.clone_from(&params.client_id);
        self.client_host.clone_from(&params.client_host);
        self.session_timeout = params.session_timeout;
        self.rebalance_timeout = params.rebalance_timeout;
        self.protocols.clone_from(&params.protocols);
    }

    /// Its metadata for `protocol`.
    pub fn metadata(&self, protocol: &str) -> Bytes {
        self.protocols.iter().find(|(name, _)| name == protocol).map(|(_, m)| m.clone()).unwrap_or_default()
    }

    /// Whether it supports `protocol`.
    pub fn supports(&self, protocol: &str) -> bool {
        self.protocols.iter().any(|(name, _)| name == protocol)
    }

    /// Records a heartbeat (or any request that proves it alive).
    pub fn touch(&mut self, now: Instant) {
        self.heartbeat_deadline = now + self.session_timeout;
    }

    /// Answers its parked requests with `error`, as when it is removed or fenced.
    pub fn fail_pending(&mut self, error: ResponseError) {
        if let Some(tx) = self.pending_join.take() {
            let _ = tx.send(JoinResult::error(error, &self.id));
        }
        if let Some(tx) = self.pending_sync.take() {
            let _ = tx.send(SyncResult::error(error));
        }
    }
}
