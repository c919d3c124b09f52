//! DeleteGroups: removes empty groups and their committed offsets. Each group needs DELETE
//! (GROUP_AUTHORIZATION_FAILED).

use std::future::Future;
use std::sync::Arc;

use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::{DeleteGroupsRequest, DeleteGroupsResponse};
use kafka_protocol::ResponseError;

use super::access::Access;
use super::group_routing::{coordinator_error, group_denied};
use crate::broker::Broker;
use crate::security::acl::Operation;

/// Asks which groups the principal may delete now; the answer waits for the deletions to be durable.
pub fn handle(
    broker: &Arc<Broker>,
    request: DeleteGroupsRequest,
    access: Access<'_>,
) -> impl Future<Output = DeleteGroupsResponse> + 'static {
    let denials = request.groups_names.iter().map(|g| group_denied(access, Operation::Delete, g.as_str())).collect();
    delete(Arc::clone(broker), request, denials)
}

/// Deletes each group that is not denied.
async fn delete(
    broker: Arc<Broker>,
    request: DeleteGroupsRequest,
    denials: Vec<Option<ResponseError>>,
) -> DeleteGroupsResponse {
    let mut results = Vec::with_capacity(request.groups_names.len());
    for (group_id, denied) in request.groups_names.into_iter().zip(denials) {
        let error = match denied.or_else(|| coordinator_error(&broker, group_id.as_str())) {
            Some(error) => Some(error),
            None => broker.groups().delete(broker.topics(), group_id.as_str()).await,
        };
        results.push(
            DeletableGroupResult::default().with_group_id(group_id).with_error_code(error.map_or(0, |e| e.code())),
        );
    }
    DeleteGroupsResponse::default().with_results(results)
}
