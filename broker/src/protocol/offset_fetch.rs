//! OffsetFetch: a group's committed offsets (v1-7 for one group, v8+ for several).

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions, OffsetFetchResponseTopic,
    OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{OffsetFetchRequest, OffsetFetchResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

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
    let asked = request.topics.map(|ts| ts.into_iter().map(|t| (t.name.to_string(), t.partition_indexes)).collect());
    let topics = fetch(broker, request.group_id.as_str(), asked)
        .into_iter()
        .map(|(name, partitions)| {
            let partitions = partitions
                .into_iter()
                .map(|(p, c)| {
                    let (offset, epoch, metadata) = fields(c);
                    OffsetFetchResponsePartition::default()
                        .with_partition_index(p)
                        .with_committed_offset(offset)
                        .with_committed_leader_epoch(if version >= 5 { epoch } else { -1 })
                        .with_metadata(Some(metadata))
                })
                .collect();
            OffsetFetchResponseTopic::default().with_name(topic_name(name)).with_partitions(partitions)
        })
        .collect();
    OffsetFetchResponse::default().with_topics(topics)
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
