//! SyncGroup: the leader hands over the assignment; every member waits for its own.

use std::sync::Arc;

use kafka_protocol::messages::{SyncGroupRequest, SyncGroupResponse};
use kafka_protocol::protocol::StrBytes;

use super::group_routing::coordinator_error;
use crate::broker::Broker;
use crate::group::SyncResult;

/// Syncs and waits for the leader's assignment.
pub async fn handle(broker: Arc<Broker>, request: SyncGroupRequest, version: i16) -> SyncGroupResponse {
    let result = match coordinator_error(&broker, request.group_id.as_str()) {
        Some(error) => SyncResult::error(error),
        None => sync(&broker, request).await,
    };
    let response = SyncGroupResponse::default()
        .with_error_code(result.error.map_or(0, |e| e.code()))
        .with_assignment(result.assignment);
    if version >= 5 {
        response
            .with_protocol_type(result.protocol_type.map(StrBytes::from_string))
            .with_protocol_name(result.protocol_name.map(StrBytes::from_string))
    } else {
        response
    }
}

/// Hands the request to the group coordinator.
async fn sync(broker: &Broker, request: SyncGroupRequest) -> SyncResult {
    let assignments = request.assignments.into_iter().map(|a| (a.member_id.to_string(), a.assignment)).collect();
    broker
        .groups()
        .sync(
            request.group_id.as_str(),
            (request.member_id.as_str(), request.group_instance_id.as_deref(), request.generation_id),
            (request.protocol_type.as_deref(), request.protocol_name.as_deref()),
            assignments,
        )
        .await
}
