//! Metadata: brokers, topics and partition leaders; creates missing topics when allowed.
//!
//! Kafka's rules: a request for every topic lists only those the principal may DESCRIBE (the others are left out
//! silently); a topic named, by name or id, that it may not describe answers TOPIC_AUTHORIZATION_FAILED without
//! revealing whether it exists. A missing topic that would be auto-created needs CREATE on the cluster or on the
//! topic, else it answers TOPIC_AUTHORIZATION_FAILED too; without auto-creation it is UNKNOWN_TOPIC_OR_PARTITION.

use std::collections::HashSet;
use std::sync::Arc;

use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use uuid::Uuid;

use super::access::Access;
use super::create_topics::may_create;
use super::errors::topic_error;
use crate::broker::Broker;
use crate::controller::image::{ClusterImage, PartitionRecord, NO_LEADER};
use crate::security::acl::Operation;
use crate::security::listener::SecurityProtocol;
use crate::topics::Topic;

/// Kafka's marker for "authorized operations not requested".
const OPERATIONS_NOT_REQUESTED: i32 = i32::MIN;

/// Answers a Metadata request: brokers are named by their endpoints on the listener it came on.
pub async fn handle(
    broker: &Arc<Broker>,
    request: MetadataRequest,
    version: i16,
    access: Access<'_>,
) -> MetadataResponse {
    let view = View::of(broker);
    let topics = match request.topics {
        // Version 0 uses an empty list, later versions null, for "all topics".
        None => view.all_topics(broker, access),
        Some(list) if list.is_empty() && version == 0 => view.all_topics(broker, access),
        Some(list) => {
            let mut topics = Vec::with_capacity(list.len());
            for wanted in list {
                topics.push(match wanted.name {
                    Some(name) => named(broker, access, name, request.allow_auto_topic_creation).await,
                    None => match broker.topics().get_by_id(wanted.topic_id) {
                        Some(topic) if !access.topic(Operation::Describe, topic.name()) => {
                            failed(None, wanted.topic_id, ResponseError::TopicAuthorizationFailed)
                        }
                        Some(topic) => view.describe(&topic),
                        None => failed(None, wanted.topic_id, ResponseError::UnknownTopicId),
                    },
                });
            }
            topics
        }
    };
    MetadataResponse::default()
        .with_brokers(view.brokers(broker, access.session().listener))
        .with_cluster_id(Some(StrBytes::from_string(broker.cluster_id())))
        // In a cluster, as in KRaft, clients send admin requests to any broker, which forwards them to the active
        // controller: this broker is the one to name.
        .with_controller_id(BrokerId(broker.config().node_id))
        .with_topics(topics)
        .with_cluster_authorized_operations(OPERATIONS_NOT_REQUESTED)
}

/// A topic asked for by name, created if missing and allowed (see the module's rules).
async fn named(broker: &Broker, access: Access<'_>, name: TopicName, allow_create: bool) -> MetadataResponseTopic {
    let topic = name.as_str();
    let creates = allow_create && broker.config().auto_create_topics && broker.topics().get(topic).is_none();
    if !access.topic(Operation::Describe, topic) || (creates && !may_create(access, topic)) {
        return failed(Some(name), Uuid::nil(), ResponseError::TopicAuthorizationFailed);
    }
    match broker.topic_or_create(topic, allow_create).await {
        Ok(topic) => View::of(broker).describe(&topic),
        Err(e) => failed(Some(name), Uuid::nil(), topic_error(&e)),
    }
}

/// Where the answer comes from: a single node leads everything it holds; a cluster member answers from the
/// controller's image.
enum View {
    SingleNode(BrokerId),
    /// The image, and the brokers down here (see [`crate::replication::unreachable`]).
    Cluster(Arc<ClusterImage>, HashSet<i32>),
}

impl View {
    fn of(broker: &Broker) -> Self {
        match broker.cluster() {
            Some(cluster) => View::Cluster(cluster.image(), cluster.replicas().brokers_down()),
            None => View::SingleNode(BrokerId(broker.config().node_id)),
        }
    }

    /// Every topic the principal may describe.
    fn all_topics(&self, broker: &Broker, access: Access<'_>) -> Vec<MetadataResponseTopic> {
        let topics = broker.topics().list();
        topics.iter().filter(|topic| access.sees_topic(topic.name())).map(|topic| self.describe(topic)).collect()
    }

    fn brokers(&self, broker: &Broker, listener: SecurityProtocol) -> Vec<MetadataResponseBroker> {
        let config = broker.config();
        let me = config.advertised(listener).map(|me| (config.node_id, me.host.as_str(), me.port, None));
        let mut brokers: Vec<_> = match self {
            View::SingleNode(_) => me.into_iter().collect(),
            View::Cluster(image, _) => image
                .live_brokers()
                .filter_map(|b| b.endpoint(listener.name()).map(|(host, port)| (b.id, host, port, b.rack.as_deref())))
                .collect(),
        };
        if brokers.is_empty() {
            // Not registered yet: clients still need one broker to talk to.
            brokers.extend(me);
        }
        brokers
            .into_iter()
            .map(|(id, host, port, rack)| {
                MetadataResponseBroker::default()
                    .with_node_id(BrokerId(id))
                    .with_host(StrBytes::from_string(host.to_owned()))
                    .with_port(i32::from(port))
                    .with_rack(rack.map(|r| StrBytes::from_string(r.to_owned())))
            })
            .collect()
    }

    fn describe(&self, topic: &Topic) -> MetadataResponseTopic {
        let partitions = match self {
            View::SingleNode(node) => topic
                .partitions()
                .iter()
                .enumerate()
                .map(|(index, log)| {
                    MetadataResponsePartition::default()
                        .with_partition_index(index as i32)
                        .with_leader_id(*node)
                        .with_leader_epoch(log.leader_epoch())
                        .with_replica_nodes(vec![*node])
                        .with_isr_nodes(vec![*node])
                })
                .collect(),
            View::Cluster(image, down) => match image.topics.get(topic.name()) {
                Some(record) => {
                    record.partitions.iter().enumerate().map(|(i, p)| partition(image, down, i, p)).collect()
                }
                None => return failed(Some(topic_name(topic)), topic.id(), ResponseError::UnknownTopicOrPartition),
            },
        };
        MetadataResponseTopic::default()
            .with_name(Some(topic_name(topic)))
            .with_topic_id(topic.id())
            .with_is_internal(topic.name().starts_with("__"))
            .with_partitions(partitions)
            .with_topic_authorized_operations(OPERATIONS_NOT_REQUESTED)
    }
}

/// A partition as the controller's image has it; a partition without a leader, or whose leader is `down` here,
/// answers LEADER_NOT_AVAILABLE so that clients retry soon, and replicas on fenced brokers are listed as offline.
fn partition(
    image: &ClusterImage,
    down: &HashSet<i32>,
    index: usize,
    record: &PartitionRecord,
) -> MetadataResponsePartition {
    let ids = |brokers: &[i32]| brokers.iter().copied().map(BrokerId).collect::<Vec<_>>();
    let offline: Vec<i32> =
        record.replicas.iter().copied().filter(|id| image.brokers.get(id).is_none_or(|b| b.fenced)).collect();
    let leader = if down.contains(&record.leader) { NO_LEADER } else { record.leader };
    let error = if leader == NO_LEADER { ResponseError::LeaderNotAvailable.code() } else { 0 };
    MetadataResponsePartition::default()
        .with_error_code(error)
        .with_partition_index(index as i32)
        .with_leader_id(BrokerId(leader))
        .with_leader_epoch(record.leader_epoch)
        .with_replica_nodes(ids(&record.replicas))
        .with_isr_nodes(ids(&record.isr))
        .with_offline_replicas(ids(&offline))
}

fn topic_name(topic: &Topic) -> TopicName {
    TopicName(StrBytes::from_string(topic.name().to_owned()))
}

fn failed(name: Option<TopicName>, id: Uuid, error: ResponseError) -> MetadataResponseTopic {
    MetadataResponseTopic::default()
        .with_error_code(error.code())
        .with_name(name)
        .with_topic_id(id)
        .with_topic_authorized_operations(OPERATIONS_NOT_REQUESTED)
}
