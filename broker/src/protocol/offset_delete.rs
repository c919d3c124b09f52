//! OffsetDelete: removes a group's committed offsets for topics it no longer subscribes to.

use std::sync::Arc;

use kafka_protocol::messages::offset_delete_response::{OffsetDeleteResponsePartition, OffsetDeleteResponseTopic};
use kafka_protocol::messages::{OffsetDeleteRequest, OffsetDeleteResponse};

use super::group_routing::coordinator_error;
use crate::broker::Broker;

/// Deletes the offsets, answering once the deletion is durable.
pub async fn handle(broker: Arc<Broker>, request: OffsetDeleteRequest) -> OffsetDeleteResponse {
    let partitions: Vec<(String, i32)> = request
        .topics
        .iter()
        .flat_map(|t| t.partitions.iter().map(|p| (t.name.to_string(), p.partition_index)))
        .collect();
    let deleted = match coordinator_error(&broker, request.group_id.as_str()) {
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
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    OffsetDeleteResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(codes.next().unwrap_or_default())
                })
                .collect();
            OffsetDeleteResponseTopic::default().with_name(t.name).with_partitions(partitions)
        })
        .collect();
    OffsetDeleteResponse::default().with_topics(topics)
}
