//! ListGroups: every group with its protocol type and state (v4+ filters by state, v5+ by type). As in Kafka, a
//! principal with DESCRIBE on the cluster sees every group, any other only the groups it may describe.

use std::sync::Arc;

use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{GroupId, ListGroupsRequest, ListGroupsResponse};
use kafka_protocol::protocol::StrBytes;

use super::access::Access;
use crate::broker::Broker;
use crate::security::acl::Operation;

/// The type of every group this coordinator runs: the classic protocol.
const CLASSIC: &str = "classic";

/// Lists the groups.
pub fn handle(
    broker: &Arc<Broker>,
    request: ListGroupsRequest,
    version: i16,
    access: Access<'_>,
) -> ListGroupsResponse {
    let sees_all = access.cluster_allows(Operation::Describe);
    let state_wanted = |state: &str| {
        request.states_filter.is_empty() || request.states_filter.iter().any(|s| s.eq_ignore_ascii_case(state))
    };
    let type_wanted =
        request.types_filter.is_empty() || request.types_filter.iter().any(|t| t.eq_ignore_ascii_case(CLASSIC));
    let groups = broker
        .groups()
        .list()
        .into_iter()
        .filter(|g| type_wanted && state_wanted(g.state.name()))
        .filter(|g| sees_all || access.sees_group(&g.group_id))
        .map(|g| {
            let listed = ListedGroup::default()
                .with_group_id(GroupId(StrBytes::from_string(g.group_id)))
                .with_protocol_type(StrBytes::from_string(g.protocol_type));
            let listed =
                if version >= 4 { listed.with_group_state(StrBytes::from_static_str(g.state.name())) } else { listed };
            if version >= 5 {
                listed.with_group_type(StrBytes::from_static_str(CLASSIC))
            } else {
                listed
            }
        })
        .collect();
    ListGroupsResponse::default().with_groups(groups)
}
