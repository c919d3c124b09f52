//! OffsetCommit: stores a group's consumed positions; answered once they are on every in-sync replica of the
//! group's `__consumer_offsets` partition, by a coordinator that still leads it in the same epoch.

use std::sync::Arc;

use kafka_protocol::messages::offset_commit_response::{OffsetCommitResponsePartition, OffsetCommitResponseTopic};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};

use kafka_protocol::ResponseError;

use super::group_routing::{coordinating_epoch, coordinator_error};
use crate::broker::{now_ms, Broker};
use crate::group::{CommittedOffset, Committer, OffsetCommit};

/// Validates and stores the offsets.
pub async fn handle(broker: Arc<Broker>, request: OffsetCommitRequest) -> OffsetCommitResponse {
    let committer = Committer {
        member_id: request.member_id.to_string(),
        instance_id: request.group_instance_id.as_ref().map(|i| i.to_string()),
        generation: request.generation_id_or_member_epoch,
    };
    let commit_timestamp = now_ms();
    let offsets: Vec<OffsetCommit> = request
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions.iter().map(|p| OffsetCommit {
                topic: t.name.to_string(),
                partition: p.partition_index,
                committed: CommittedOffset {
                    offset: p.committed_offset,
                    leader_epoch: p.committed_leader_epoch,
                    metadata: p.committed_metadata.as_deref().unwrap_or_default().to_owned(),
                    commit_timestamp,
                },
            })
        })
        .collect();
    let group_id = request.group_id.as_str();
    let epoch = coordinating_epoch(&broker, group_id);
    let results = match coordinator_error(&broker, group_id) {
        Some(error) => Err(error),
        None => match broker.groups().commit(broker.topics(), group_id, &committer, offsets).await {
            // Deposed while the commit waited for its replicas: the new coordinator may not have it.
            Ok(_) if coordinating_epoch(&broker, group_id) != epoch => Err(ResponseError::NotCoordinator),
            answered => answered,
        },
    };
    let mut codes = match results {
        Ok(results) => results.into_iter().map(|r| r.map_or(0, |e| e.code())).collect::<Vec<i16>>().into_iter(),
        Err(error) => vec![error.code(); request.topics.iter().map(|t| t.partitions.len()).sum()].into_iter(),
    };
    let topics = request
        .topics
        .into_iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    OffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(codes.next().unwrap_or_default())
                })
                .collect();
            OffsetCommitResponseTopic::default().with_name(t.name).with_partitions(partitions)
        })
        .collect();
    OffsetCommitResponse::default().with_topics(topics)
}
