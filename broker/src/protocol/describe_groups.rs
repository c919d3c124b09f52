//! DescribeGroups: state, protocol and members (with assignments once stable) of each group asked for. Each group
//! needs DESCRIBE (GROUP_AUTHORIZATION_FAILED).

use std::sync::Arc;

use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::{DescribeGroupsRequest, DescribeGroupsResponse};
use kafka_protocol::protocol::StrBytes;

use super::access::Access;
use super::group_routing::refusal;
use crate::broker::Broker;
use crate::security::acl::Operation;

/// Describes the groups; an unknown group is reported as Kafka does, in state `Dead` with no members.
pub fn handle(
    broker: &Arc<Broker>,
    request: DescribeGroupsRequest,
    version: i16,
    access: Access<'_>,
) -> DescribeGroupsResponse {
    let groups = request
        .groups
        .into_iter()
        .map(|group_id| {
            let described = DescribedGroup::default().with_authorized_operations(i32::MIN);
            if let Some(error) = refusal(broker, access, Operation::Describe, group_id.as_str()) {
                return described.with_group_id(group_id).with_error_code(error.code());
            }
            let Some(description) = broker.groups().describe(group_id.as_str()) else {
                return described.with_group_id(group_id).with_group_state(StrBytes::from_static_str("Dead"));
            };
            let members = description
                .members
                .into_iter()
                .map(|m| {
                    let member = DescribedGroupMember::default()
                        .with_member_id(StrBytes::from_string(m.member_id))
                        .with_client_id(StrBytes::from_string(m.client_id))
                        .with_client_host(StrBytes::from_string(m.client_host))
                        .with_member_metadata(m.metadata)
                        .with_member_assignment(m.assignment);
                    if version >= 4 {
                        member.with_group_instance_id(m.instance_id.map(StrBytes::from_string))
                    } else {
                        member
                    }
                })
                .collect();
            described
                .with_group_id(group_id)
                .with_group_state(StrBytes::from_static_str(description.state.name()))
                .with_protocol_type(StrBytes::from_string(description.protocol_type))
                .with_protocol_data(StrBytes::from_string(description.protocol))
                .with_members(members)
        })
        .collect();
    DescribeGroupsResponse::default().with_groups(groups)
}
