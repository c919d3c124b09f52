//! OffsetFetch: a group's committed offsets (v1-7 for one group, v8+ for several).

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions, OffsetFetchResponseTopic,
    OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{OffsetFetchRequest, OffsetFetchResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use super::group_routing::coordinator_error;
use crate::broker::Broker;
use crate::group::CommittedOffset;

type Fetched = BTreeMap<String, Vec<(i32, Option<CommittedOffset>)>>;

/// Looks the offsets up.
pub fn handle(broker: &Arc<Broker>, request: OffsetFetchRequest, version: i16) -> OffsetFetchResponse {
    if version >= 8 {
        let groups = request
            .groups
            .into_iter()
            .map(|g| {
                if let Some(error) = coordinator_error(broker, g.group_id.as_str()) {
                    return OffsetFetchResponseGroup::default().with_group_id(g.group_id).with_error_code(error.code());
                }
                let asked =
                    g.topics.map(|ts| ts.into_iter().map(|t| (t.name.to_string(), t.partition_indexes)).collect());
                let topics = fetch(broker, g.group_id.as_str(), asked)
                    .into_iter()
                    .map(|(name, partitions)| {
                        let partitions = partitions
                            .into_iter()
                            .map(|(p, c)| {
                                let (offset, epoch, metadata) = fields(c);
                                OffsetFetchResponsePartitions::default()
                                    .with_partition_index(p)
                                    .with_committed_offset(offset)
                                    .with_committed_leader_epoch(epoch)
                                    .with_metadata(Some(metadata))
                            })
                            .collect();
                        OffsetFetchResponseTopics::default().with_name(topic_name(name)).with_partitions(partitions)
                    })
                    .collect();
                OffsetFetchResponseGroup::default().with_group_id(g.group_id).with_topics(topics)
            })
            .collect();
        return OffsetFetchResponse::default().with_groups(groups);
    }
    if let Some(error) = coordinator_error(broker, request.group_id.as_str()) {
        return refused(request.topics.unwrap_or_default(), error, version);
    }
    let asked = request.topics.map(|ts| ts.into_iter().map(|t| (t.name.to_string(), t.partition_indexes)).collect());
    let topics = fetch(broker, request.group_id.as_str(), asked)
        .into_iter()
        .map(|(name, partitions)| {
            let partitions = partitions.into_iter().map(|(p, c)| partition(p, c, version)).collect();
            OffsetFetchResponseTopic::default().with_name(topic_name(name)).with_partitions(partitions)
        })
        .collect();
    OffsetFetchResponse::default().with_topics(topics)
}

/// The answer (v1-7) of a broker that does not coordinate the group: the error at the top from v2, on every
/// partition asked for in v1, which has no top-level error.
fn refused(asked: Vec<OffsetFetchRequestTopic>, error: ResponseError, version: i16) -> OffsetFetchResponse {
    if version >= 2 {
        return OffsetFetchResponse::default().with_error_code(error.code());
    }
    let topics = asked
        .into_iter()
        .map(|t| {
            let partitions = t
                .partition_indexes
                .into_iter()
                .map(|p| partition(p, None, version).with_error_code(error.code()))
                .collect();
            OffsetFetchResponseTopic::default().with_name(t.name).with_partitions(partitions)
        })
        .collect();
    OffsetFetchResponse::default().with_topics(topics)
}

/// One partition's committed offset (v1-7); the leader epoch only from v5.
fn partition(index: i32, committed: Option<CommittedOffset>, version: i16) -> OffsetFetchResponsePartition {
    let (offset, epoch, metadata) = fields(committed);
    OffsetFetchResponsePartition::default()
        .with_partition_index(index)
        .with_committed_offset(offset)
        .with_committed_leader_epoch(if version >= 5 { epoch } else { -1 })
        .with_metadata(Some(metadata))
}

fn fetch(broker: &Broker, group_id: &str, asked: Option<Vec<(String, Vec<i32>)>>) -> Fetched {
    let mut by_topic = Fetched::new();
    for (topic, partition, committed) in broker.groups().fetch_offsets(group_id, asked.as_deref()) {
        by_topic.entry(topic).or_default().push((partition, committed));
    }
    by_topic
}

/// Offset, leader epoch and metadata as the response carries them (-1, -1, "" when nothing is committed).
fn fields(committed: Option<CommittedOffset>) -> (i64, i32, StrBytes) {
    match committed {
        Some(c) => (c.offset, c.leader_epoch, StrBytes::from_string(c.metadata)),
        None => (-1, -1, StrBytes::default()),
    }
}

fn topic_name(name: String) -> TopicName {
    TopicName(StrBytes::from_string(name))
}
