//! Metadata: brokers, topics and partition leaders; creates missing topics when allowed.

use std::sync::Arc;

use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use uuid::Uuid;

use super::errors::topic_error;
use crate::broker::Broker;
use crate::topics::Topic;

/// Kafka's marker for "authorized operations not requested".
const OPERATIONS_NOT_REQUESTED: i32 = i32::MIN;

/// Answers a Metadata request.
pub async fn handle(broker: &Arc<Broker>, request: MetadataRequest, version: i16) -> MetadataResponse {
    let config = broker.config();
    let node = BrokerId(config.node_id);
    let topics = match request.topics {
        // Version 0 uses an empty list, later versions null, for "all topics".
        None => broker.topics().list().iter().map(|t| describe(t, node)).collect(),
        Some(list) if list.is_empty() && version == 0 => {
            broker.topics().list().iter().map(|t| describe(t, node)).collect()
        }
        Some(list) => {
            let mut topics = Vec::with_capacity(list.len());
            for wanted in list {
                topics.push(match wanted.name {
                    Some(name) => {
                        match broker.topic_or_create(name.as_str(), request.allow_auto_topic_creation).await {
                            Ok(topic) => describe(&topic, node),
                            Err(e) => failed(Some(name), Uuid::nil(), topic_error(&e)),
                        }
                    }
                    None => match broker.topics().get_by_id(wanted.topic_id) {
                        Some(topic) => describe(&topic, node),
                        None => failed(None, wanted.topic_id, ResponseError::UnknownTopicId),
                    },
                });
            }
            topics
        }
    };
    let me = MetadataResponseBroker::default()
        .with_node_id(node)
        .with_host(StrBytes::from_string(config.advertised_host.clone()))
        .with_port(i32::from(config.advertised_port));
    MetadataResponse::default()
        .with_brokers(vec![me])
        .with_cluster_id(Some(StrBytes::from_string(broker.cluster_id().to_owned())))
        .with_controller_id(node)
        .with_topics(topics)
        .with_cluster_authorized_operations(OPERATIONS_NOT_REQUESTED)
}

fn describe(topic: &Topic, node: BrokerId) -> MetadataResponseTopic {
    let partitions = topic
        .partitions()
        .iter()
        .enumerate()
        .map(|(index, log)| {
            MetadataResponsePartition::default()
                .with_partition_index(index as i32)
                .with_leader_id(node)
                .with_leader_epoch(log.leader_epoch())
                .with_replica_nodes(vec![node])
                .with_isr_nodes(vec![node])
        })
        .collect();
    MetadataResponseTopic::default()
        .with_name(Some(TopicName(StrBytes::from_string(topic.name().to_owned()))))
        .with_topic_id(topic.id())
        .with_is_internal(topic.name().starts_with("__"))
        .with_partitions(partitions)
        .with_topic_authorized_operations(OPERATIONS_NOT_REQUESTED)
}

fn failed(name: Option<TopicName>, id: Uuid, error: ResponseError) -> MetadataResponseTopic {
    MetadataResponseTopic::default()
        .with_error_code(error.code())
        .with_name(name)
        .with_topic_id(id)
        .with_topic_authorized_operations(OPERATIONS_NOT_REQUESTED)
}
