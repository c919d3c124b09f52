//! OffsetForLeaderEpoch (KIP-101, KIP-279): for each partition, the largest leader epoch at or below the one asked
//! for and the offset where it ends on this leader. Followers ask before fetching to truncate what the leader does
//! not have; consumers ask to detect log truncation (KIP-320).
//!
//! Kafka's check: CLUSTER_ACTION on the cluster (the followers' right, asked without logging a denial) allows every
//! topic; otherwise each topic needs DESCRIBE (the consumers' right since KIP-320), else its partitions answer
//! TOPIC_AUTHORIZATION_FAILED. Kafka asks so whatever `replica_id` says, and so does this broker.

use std::sync::Arc;

use kafka_protocol::messages::offset_for_leader_epoch_request::OffsetForLeaderPartition;
use kafka_protocol::messages::offset_for_leader_epoch_response::{EpochEndOffset, OffsetForLeaderTopicResult};
use kafka_protocol::messages::{OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse};
use kafka_protocol::ResponseError;

use super::access::Access;
use super::errors::{check_leader_epoch, DeniedTopics};
use crate::broker::Broker;
use crate::security::acl::Operation;
use crate::storage::PartitionLog;

/// Answers an OffsetForLeaderEpoch request.
pub fn handle(
    broker: &Arc<Broker>,
    request: OffsetForLeaderEpochRequest,
    access: Access<'_>,
) -> OffsetForLeaderEpochResponse {
    let denied = match access.cluster_allows(Operation::ClusterAction) {
        true => DeniedTopics::none(),
        false => DeniedTopics::check(access, Operation::Describe, request.topics.iter().map(|t| t.topic.as_str())),
    };
    let topics = request
        .topics
        .into_iter()
        .map(|wanted| {
            let name = wanted.topic.as_str();
            let topic = broker.topics().get(name);
            let partitions = wanted
                .partitions
                .iter()
                .map(|p| {
                    if let Some(error) = denied.error(name) {
                        return unanswered(p).with_error_code(error.code());
                    }
                    let log = topic.as_ref().and_then(|t| t.partition(p.partition));
                    let leadership = || broker.leadership_error(name, p.partition);
                    answer(log.as_deref(), leadership, p)
                })
                .collect();
            OffsetForLeaderTopicResult::default().with_topic(wanted.topic).with_partitions(partitions)
        })
        .collect();
    OffsetForLeaderEpochResponse::default().with_topics(topics)
}

/// One partition's answer: its errors in Kafka's order (unknown, not led here, fenced or unknown current epoch),
/// else the epoch and its end offset, -1 and -1 when the log knows no such epoch.
fn answer(
    log: Option<&PartitionLog>,
    leadership_error: impl FnOnce() -> Option<ResponseError>,
    wanted: &OffsetForLeaderPartition,
) -> EpochEndOffset {
    let response = unanswered(wanted);
    let Some(log) = log else {
        return response.with_error_code(ResponseError::UnknownTopicOrPartition.code());
    };
    if let Some(error) = leadership_error() {
        return response.with_error_code(error.code());
    }
    if let Some(error) = check_leader_epoch(wanted.current_leader_epoch, log.leader_epoch()) {
        return response.with_error_code(error.code());
    }
    match log.end_offset_for_epoch(wanted.leader_epoch) {
        Some((epoch, end_offset)) => response.with_leader_epoch(epoch).with_end_offset(end_offset),
        None => response,
    }
}

/// A partition's answer before any: no epoch, no end offset.
fn unanswered(wanted: &OffsetForLeaderPartition) -> EpochEndOffset {
    EpochEndOffset::default().with_partition(wanted.partition).with_leader_epoch(-1).with_end_offset(-1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::LogActivity;

    fn wanted(current_leader_epoch: i32, leader_epoch: i32) -> OffsetForLeaderPartition {
        OffsetForLeaderPartition::default()
            .with_partition(3)
            .with_current_leader_epoch(current_leader_epoch)
            .with_leader_epoch(leader_epoch)
    }

    fn code(response: &EpochEndOffset) -> Option<ResponseError> {
        (response.error_code != 0).then(|| ResponseError::try_from_code(response.error_code)).flatten()
    }

    #[tokio::test]
    async fn answers_epoch_end_offsets_and_refusals() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = PartitionLog::open(dir.path(), LogActivity::default(), 0).expect("open");
        log.become_leader(2).expect("epoch 2 at 0");
        let batch = crate::storage::batch::tests::encoded_batch(5, 0, kafka_protocol::records::Compression::None);
        log.append(batch, &crate::storage::TopicConfig::default(), 0).expect("append");
        log.become_leader(4).expect("epoch 4 at 5");

        let none = || None;
        let found = answer(Some(&log), none, &wanted(4, 3));
        assert_eq!((code(&found), found.partition, found.leader_epoch, found.end_offset), (None, 3, 2, 5));
        let latest = answer(Some(&log), none, &wanted(-1, 4));
        assert_eq!((latest.leader_epoch, latest.end_offset), (4, 5), "the latest epoch ends at the log end");
        let newer = answer(Some(&log), none, &wanted(-1, 9));
        assert_eq!((code(&newer), newer.leader_epoch, newer.end_offset), (None, -1, -1), "an unknown epoch");

        let unknown = answer(None, none, &wanted(4, 3));
        assert_eq!(code(&unknown), Some(ResponseError::UnknownTopicOrPartition));
        let elsewhere = answer(Some(&log), || Some(ResponseError::NotLeaderOrFollower), &wanted(4, 3));
        assert_eq!(code(&elsewhere), Some(ResponseError::NotLeaderOrFollower));
        assert_eq!(elsewhere.end_offset, -1);
        let fenced = answer(Some(&log), none, &wanted(3, 3));
        assert_eq!(code(&fenced), Some(ResponseError::FencedLeaderEpoch));
        let ahead = answer(Some(&log), none, &wanted(5, 3));
        assert_eq!(code(&ahead), Some(ResponseError::UnknownLeaderEpoch));
    }
}
