//! OffsetCommit: stores a group's consumed positions; answered once they are on every in-sync replica of the
//! group's `__consumer_offsets` partition, by a coordinator that still leads it in the same epoch.
//!
//! As in Kafka, committing needs READ on the group (else every partition answers GROUP_AUTHORIZATION_FAILED) and
//! READ on each topic (else its partitions answer TOPIC_AUTHORIZATION_FAILED while the others are committed).

use std::future::Future;
use std::sync::Arc;

use kafka_protocol::messages::offset_commit_response::{OffsetCommitResponsePartition, OffsetCommitResponseTopic};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};
use kafka_protocol::ResponseError;

use super::access::Access;
use super::errors::DeniedTopics;
use super::group_routing::{coordinating_epoch, coordinator_error, group_denied};
use crate::broker::{now_ms, Broker};
use crate::group::{CommittedOffset, Committer, OffsetCommit};
use crate::security::acl::Operation;

/// Asks what the principal may commit now; the answer waits for the offsets to be stored.
pub fn handle(
    broker: &Arc<Broker>,
    request: OffsetCommitRequest,
    access: Access<'_>,
) -> impl Future<Output = OffsetCommitResponse> + 'static {
    let denied = group_denied(access, Operation::Read, request.group_id.as_str());
    // The topics are asked about only once the group is allowed, as Kafka does.
    let denied_topics = match denied {
        Some(_) => DeniedTopics::none(),
        None => DeniedTopics::check(access, Operation::Read, request.topics.iter().map(|t| t.name.as_str())),
    };
    commit(Arc::clone(broker), request, denied, denied_topics)
}

/// Validates and stores the offsets of the allowed topics, unless the group is `denied`.
async fn commit(
    broker: Arc<Broker>,
    request: OffsetCommitRequest,
    denied: Option<ResponseError>,
    denied_topics: DeniedTopics,
) -> OffsetCommitResponse {
    let committer = Committer {
        member_id: request.member_id.to_string(),
        instance_id: request.group_instance_id.as_ref().map(|i| i.to_string()),
        generation: request.generation_id_or_member_epoch,
    };
    let commit_timestamp = now_ms();
    let offsets: Vec<OffsetCommit> = request
        .topics
        .iter()
        .filter(|t| !denied_topics.contains(t.name.as_str()))
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
    let allowed = offsets.len();
    let group_id = request.group_id.as_str();
    let epoch = coordinating_epoch(&broker, group_id);
    let results = match denied.or_else(|| coordinator_error(&broker, group_id)) {
        Some(error) => Err(error),
        // Every topic denied: Kafka answers without asking the coordinator.
        None if offsets.is_empty() && !denied_topics.is_empty() => Ok(Vec::new()),
        None => match broker.groups().commit(broker.topics(), group_id, &committer, offsets).await {
            // Deposed while the commit waited for its replicas: the new coordinator may not have it.
            Ok(_) if coordinating_epoch(&broker, group_id) != epoch => Err(ResponseError::NotCoordinator),
            answered => answered,
        },
    };
    let mut codes = match results {
        Ok(results) => results.into_iter().map(|r| r.map_or(0, |e| e.code())).collect::<Vec<i16>>().into_iter(),
        Err(error) => vec![error.code(); allowed].into_iter(),
    };
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
                    OffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(code)
                })
                .collect();
            OffsetCommitResponseTopic::default().with_name(t.name).with_partitions(partitions)
        })
        .collect();
    OffsetCommitResponse::default().with_topics(topics)
}
