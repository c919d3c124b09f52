//! OffsetDelete: removes a group's committed offsets for topics it no longer subscribes to.
//!
//! As in Kafka, it needs DELETE on the group (GROUP_AUTHORIZATION_FAILED for the whole request) and READ on each
//! topic (its partitions answer TOPIC_AUTHORIZATION_FAILED while the others are deleted).

use std::future::Future;
use std::sync::Arc;

use kafka_protocol::messages::offset_delete_response::{OffsetDeleteResponsePartition, OffsetDeleteResponseTopic};
use kafka_protocol::messages::{OffsetDeleteRequest, OffsetDeleteResponse};
use kafka_protocol::ResponseError;

use super::access::Access;
use super::errors::DeniedTopics;
use super::group_routing::{coordinator_error, group_denied};
use crate::broker::Broker;
use crate::security::acl::Operation;

/// Asks what the principal may delete now; the answer waits for the deletion to be durable.
pub fn handle(
    broker: &Arc<Broker>,
    request: OffsetDeleteRequest,
    access: Access<'_>,
) -> impl Future<Output = OffsetDeleteResponse> + 'static {
    let denied = group_denied(access, Operation::Delete, request.group_id.as_str());
    // The topics are asked about only once the group is allowed, as Kafka does.
    let denied_topics = match denied {
        Some(_) => DeniedTopics::none(),
        None => DeniedTopics::check(access, Operation::Read, request.topics.iter().map(|t| t.name.as_str())),
    };
    delete(Arc::clone(broker), request, denied, denied_topics)
}

/// Deletes the offsets of the allowed topics, unless the group is `denied`.
async fn delete(
    broker: Arc<Broker>,
    request: OffsetDeleteRequest,
    denied: Option<ResponseError>,
    denied_topics: DeniedTopics,
) -> OffsetDeleteResponse {
    let partitions: Vec<(String, i32)> = request
        .topics
        .iter()
        .filter(|t| !denied_topics.contains(t.name.as_str()))
        .flat_map(|t| t.partitions.iter().map(|p| (t.name.to_string(), p.partition_index)))
        .collect();
    let deleted = match denied.or_else(|| coordinator_error(&broker, request.group_id.as_str())) {
        Some(error) => Err(error),
        None => broker.groups().delete_offsets(broker.topics(), request.group_id.as_str(), &partitions).await,
    };
    let results = match deleted {
        Ok(results) => results,
        Err(error) => return OffsetDeleteResponse::default().with_error_code(error.code()),
    };
    let mut codes = results.into_iter().map(|r| r.map_or(0, |e| e.code()));
    let topics = request
        .topics
        .into_iter()
        .map(|t| {
            let denied = denied_topics.error(t.name.as_str());
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let code = denied.map_or_else(|| codes.next().unwrap_or_default(), |e| e.code());
                    OffsetDeleteResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(code)
                })
                .collect();
            OffsetDeleteResponseTopic::default().with_name(t.name).with_partitions(partitions)
        })
        .collect();
    OffsetDeleteResponse::default().with_topics(topics)
}
