//! OffsetFetch: a group's committed offsets (v1-7 for one group, v8+ for several).
//!
//! As in Kafka, a group needs DESCRIBE (GROUP_AUTHORIZATION_FAILED); a topic asked for by name needs DESCRIBE too
//! (its partitions answer TOPIC_AUTHORIZATION_FAILED), and a request for every topic answers only those the
//! principal may describe.

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

use super::access::Access;
use super::errors::DeniedTopics;
use super::group_routing::refusal;
use crate::broker::Broker;
use crate::group::CommittedOffset;
use crate::security::acl::Operation;

/// Each topic's partitions, with their committed offsets or the error they answer.
type Fetched = BTreeMap<String, Vec<(i32, Result<Option<CommittedOffset>, ResponseError>)>>;

/// Looks the offsets up.
pub fn handle(
    broker: &Arc<Broker>,
    request: OffsetFetchRequest,
    version: i16,
    access: Access<'_>,
) -> OffsetFetchResponse {
    if version >= 8 {
        let groups = request
            .groups
            .into_iter()
            .map(|g| {
                if let Some(error) = refusal(broker, access, Operation::Describe, g.group_id.as_str()) {
                    return OffsetFetchResponseGroup::default().with_group_id(g.group_id).with_error_code(error.code());
                }
                let asked =
                    g.topics.map(|ts| ts.into_iter().map(|t| (t.name.to_string(), t.partition_indexes)).collect());
                let topics = fetch(broker, access, g.group_id.as_str(), asked)
                    .into_iter()
                    .map(|(name, partitions)| {
                        let partitions = partitions
                            .into_iter()
                            .map(|(p, c)| {
                                let (offset, epoch, metadata, error) = fields(c);
                                OffsetFetchResponsePartitions::default()
                                    .with_partition_index(p)
                                    .with_committed_offset(offset)
                                    .with_committed_leader_epoch(epoch)
                                    .with_metadata(Some(metadata))
                                    .with_error_code(error)
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
    if let Some(error) = refusal(broker, access, Operation::Describe, request.group_id.as_str()) {
        return refused(request.topics.unwrap_or_default(), error, version);
    }
    let asked = request.topics.map(|ts| ts.into_iter().map(|t| (t.name.to_string(), t.partition_indexes)).collect());
    let topics = fetch(broker, access, request.group_id.as_str(), asked)
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
            let partitions = t.partition_indexes.into_iter().map(|p| partition(p, Err(error), version)).collect();
            OffsetFetchResponseTopic::default().with_name(t.name).with_partitions(partitions)
        })
        .collect();
    OffsetFetchResponse::default().with_topics(topics)
}

/// One partition's committed offset (v1-7); the leader epoch only from v5.
fn partition(
    index: i32,
    committed: Result<Option<CommittedOffset>, ResponseError>,
    version: i16,
) -> OffsetFetchResponsePartition {
    let (offset, epoch, metadata, error) = fields(committed);
    OffsetFetchResponsePartition::default()
        .with_partition_index(index)
        .with_committed_offset(offset)
        .with_committed_leader_epoch(if version >= 5 { epoch } else { -1 })
        .with_metadata(Some(metadata))
        .with_error_code(error)
}

/// The group's committed offsets of the topics `asked` for (`None`: every topic) that the principal may describe;
/// the partitions of a topic asked for that it may not describe answer TOPIC_AUTHORIZATION_FAILED.
fn fetch(broker: &Broker, access: Access<'_>, group_id: &str, asked: Option<Vec<(String, Vec<i32>)>>) -> Fetched {
    let mut by_topic = Fetched::new();
    let asked = asked.map(|asked| describable(access, asked, &mut by_topic));
    for (topic, partition, committed) in broker.groups().fetch_offsets(group_id, asked.as_deref()) {
        // Every topic asked for: only those the principal may describe, without logging the others.
        if asked.is_some() || access.sees_topic(&topic) {
            by_topic.entry(topic).or_default().push((partition, Ok(committed)));
        }
    }
    by_topic
}

/// The topics asked for that the principal may describe; the partitions of the others go to `fetched` with
/// TOPIC_AUTHORIZATION_FAILED.
fn describable(access: Access<'_>, asked: Vec<(String, Vec<i32>)>, fetched: &mut Fetched) -> Vec<(String, Vec<i32>)> {
    let denied = DeniedTopics::check(access, Operation::Describe, asked.iter().map(|(name, _)| name.as_str()));
    let (refused, allowed): (Vec<_>, Vec<_>) = asked.into_iter().partition(|(name, _)| denied.contains(name));
    for (topic, partitions) in refused {
        let denied = partitions.into_iter().map(|p| (p, Err(ResponseError::TopicAuthorizationFailed)));
        fetched.entry(topic).or_default().extend(denied);
    }
    allowed
}

/// Offset, leader epoch, metadata and error code as the response carries them (-1, -1, "" when nothing is
/// committed).
fn fields(committed: Result<Option<CommittedOffset>, ResponseError>) -> (i64, i32, StrBytes, i16) {
    match committed {
        Ok(Some(c)) => (c.offset, c.leader_epoch, StrBytes::from_string(c.metadata), 0),
        Ok(None) => (-1, -1, StrBytes::default(), 0),
        Err(error) => (-1, -1, StrBytes::default(), error.code()),
    }
}

fn topic_name(name: String) -> TopicName {
    TopicName(StrBytes::from_string(name))
}
