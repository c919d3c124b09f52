//! Heartbeat: keeps a member's session alive and tells it when to rejoin. Needs READ on the group
//! (GROUP_AUTHORIZATION_FAILED).

use std::sync::Arc;

use kafka_protocol::messages::{HeartbeatRequest, HeartbeatResponse};

use super::access::Access;
use super::group_routing::refusal;
use crate::broker::Broker;
use crate::security::acl::Operation;

/// Records the heartbeat.
pub fn handle(broker: &Arc<Broker>, request: HeartbeatRequest, access: Access<'_>) -> HeartbeatResponse {
    let error = refusal(broker, access, Operation::Read, request.group_id.as_str()).or_else(|| {
        broker.groups().heartbeat(
            request.group_id.as_str(),
            request.member_id.as_str(),
            request.group_instance_id.as_deref(),
            request.generation_id,
        )
    });
    HeartbeatResponse::default().with_error_code(error.map_or(0, |e| e.code()))
}
