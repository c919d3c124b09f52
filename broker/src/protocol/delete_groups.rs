//! DeleteGroups: removes empty groups and their committed offsets.

use std::sync::Arc;

use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::{DeleteGroupsRequest, DeleteGroupsResponse};

use super::group_routing::coordinator_error;
use crate::broker::Broker;

/// Deletes each group, answering once the deletions are durable.
pub async fn handle(broker: Arc<Broker>, request: DeleteGroupsRequest) -> DeleteGroupsResponse {
    let mut results = Vec::with_capacity(request.groups_names.len());
    for group_id in request.groups_names {
        let error = match coordinator_error(&broker, group_id.as_str()) {
            Some(error) => Some(error),
            None => broker.groups().delete(broker.topics(), group_id.as_str()).await,
        };
        results.push(
            DeletableGroupResult::default().with_group_id(group_id).with_error_code(error.map_or(0, |e| e.code())),
        );
    }
    DeleteGroupsResponse::default().with_results(results)
}
