//! Heartbeat: keeps a member's session alive and tells it when to rejoin.

use std::sync::Arc;

use kafka_protocol::messages::{HeartbeatRequest, HeartbeatResponse};

use super::group_routing::coordinator_error;
use crate::broker::Broker;

/// Records the heartbeat.
pub fn handle(broker: &Arc<Broker>, request: HeartbeatRequest) -> HeartbeatResponse {
    let error = coordinator_error(broker, request.group_id.as_str()).or_else(|| {
        broker.groups().heartbeat(
            request.group_id.as_str(),
            request.member_id.as_str(),
            request.group_instance_id.as_deref(),
            request.generation_id,
        )
    });
    HeartbeatResponse::default().with_error_code(error.map_or(0, |e| e.code()))
}
