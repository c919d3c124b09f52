//! SyncGroup: the leader hands over the assignment; every member waits for its own. Needs READ on the group
//! (GROUP_AUTHORIZATION_FAILED).

use std::future::Future;
use std::sync::Arc;

use kafka_protocol::messages::{SyncGroupRequest, SyncGroupResponse};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use super::access::Access;
use super::group_routing::{coordinator_error, group_denied};
use crate::broker::Broker;
use crate::group::SyncResult;
use crate::security::acl::Operation;

/// Asks whether the principal may sync now; the answer waits for the leader's assignment.
pub fn handle(
    broker: &Arc<Broker>,
    request: SyncGroupRequest,
    version: i16,
    access: Access<'_>,
) -> impl Future<Output = SyncGroupResponse> + 'static {
    let denied = group_denied(access, Operation::Read, request.group_id.as_str());
    respond(Arc::clone(broker), request, version, denied)
}

/// Syncs, unless `denied`.
async fn respond(
    broker: Arc<Broker>,
    request: SyncGroupRequest,
    version: i16,
    denied: Option<ResponseError>,
) -> SyncGroupResponse {
    let result = match denied.or_else(|| coordinator_error(&broker, request.group_id.as_str())) {
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
