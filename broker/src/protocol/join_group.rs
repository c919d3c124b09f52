//! JoinGroup: a member joins (or rejoins) a group; the answer waits for the rebalance to complete. Joining needs READ
//! on the group (GROUP_AUTHORIZATION_FAILED).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::{JoinGroupRequest, JoinGroupResponse};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use super::access::Access;
use super::group_routing::{coordinator_error, group_denied};
use crate::broker::Broker;
use crate::group::{JoinParams, JoinResult};
use crate::security::acl::Operation;

/// Asks whether the principal may join now; the answer waits for the group's join phase to complete.
pub fn handle(
    broker: &Arc<Broker>,
    request: JoinGroupRequest,
    version: i16,
    client: (String, String),
    access: Access<'_>,
) -> impl Future<Output = JoinGroupResponse> + 'static {
    let denied = group_denied(access, Operation::Read, request.group_id.as_str());
    join(Arc::clone(broker), request, version, client, denied)
}

/// Joins, unless `denied`.
async fn join(
    broker: Arc<Broker>,
    request: JoinGroupRequest,
    version: i16,
    client: (String, String),
    denied: Option<ResponseError>,
) -> JoinGroupResponse {
    if let Some(error) = denied.or_else(|| coordinator_error(&broker, request.group_id.as_str())) {
        return response(JoinResult::error(error, request.member_id.as_str()), version);
    }
    let (client_id, client_host) = client;
    let millis = |ms: i32| Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    let params = JoinParams {
        member_id: request.member_id.to_string(),
        instance_id: request.group_instance_id.map(|i| i.to_string()),
        client_id,
        client_host,
        session_timeout: millis(request.session_timeout_ms),
        // JoinGroup v0 has no rebalance timeout; Kafka uses the session timeout.
        rebalance_timeout: millis(if version >= 1 { request.rebalance_timeout_ms } else { request.session_timeout_ms }),
        protocol_type: request.protocol_type.to_string(),
        protocols: request.protocols.into_iter().map(|p| (p.name.to_string(), p.metadata)).collect(),
        requires_known_member_id: version >= 4,
    };
    let result = broker.groups().join(broker.topics(), request.group_id.as_str(), params).await;
    response(result, version)
}

fn response(result: JoinResult, version: i16) -> JoinGroupResponse {
    let members = result
        .members
        .into_iter()
        .map(|m| {
            let member = JoinGroupResponseMember::default()
                .with_member_id(StrBytes::from_string(m.member_id))
                .with_metadata(m.metadata);
            if version >= 5 {
                member.with_group_instance_id(m.instance_id.map(StrBytes::from_string))
            } else {
                member
            }
        })
        .collect();
    let response = JoinGroupResponse::default()
        .with_error_code(result.error.map_or(0, |e| e.code()))
        .with_generation_id(result.generation)
        // Non-nullable before v7: an empty name stands for none.
        .with_protocol_name(Some(StrBytes::from_string(result.protocol_name.unwrap_or_default())))
        .with_leader(StrBytes::from_string(result.leader))
        .with_member_id(StrBytes::from_string(result.member_id))
        .with_members(members);
    let response = if version >= 7 {
        response.with_protocol_type(result.protocol_type.map(StrBytes::from_string))
    } else {
        response
    };
    if version >= 9 {
        response.with_skip_assignment(result.skip_assignment)
    } else {
        response
    }
}
