//! LeaveGroup: members leave at once (v0-2: one member id; v3+: a batch, by member or instance id). Needs READ on
//! the group (GROUP_AUTHORIZATION_FAILED for the whole request).

use std::sync::Arc;

use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::{LeaveGroupRequest, LeaveGroupResponse};

use super::access::Access;
use super::group_routing::refusal;
use crate::broker::Broker;
use crate::security::acl::Operation;

/// Removes the members and rebalances the group.
pub fn handle(
    broker: &Arc<Broker>,
    request: LeaveGroupRequest,
    version: i16,
    access: Access<'_>,
) -> LeaveGroupResponse {
    let members: Vec<(String, Option<String>)> = if version >= 3 {
        request
            .members
            .iter()
            .map(|m| (m.member_id.to_string(), m.group_instance_id.as_ref().map(|i| i.to_string())))
            .collect()
    } else {
        vec![(request.member_id.to_string(), None)]
    };
    let left = match refusal(broker, access, Operation::Read, request.group_id.as_str()) {
        Some(error) => Err(error),
        None => broker.groups().leave(request.group_id.as_str(), &members),
    };
    let results = match left {
        Ok(results) => results,
        Err(error) => return LeaveGroupResponse::default().with_error_code(error.code()),
    };
    if version < 3 {
        return LeaveGroupResponse::default()
            .with_error_code(results.first().copied().flatten().map_or(0, |e| e.code()));
    }
    let responses = request
        .members
        .into_iter()
        .zip(results)
        .map(|(m, error)| {
            MemberResponse::default()
                .with_member_id(m.member_id)
                .with_group_instance_id(m.group_instance_id)
                .with_error_code(error.map_or(0, |e| e.code()))
        })
        .collect();
    LeaveGroupResponse::default().with_members(responses)
}
