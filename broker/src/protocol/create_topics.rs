//! CreateTopics. Each topic needs CREATE on the cluster or on the topic (TOPIC_AUTHORIZATION_FAILED otherwise); a
//! created topic's configs are answered only to a principal that may describe them, as Kafka answers.

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::create_topics_response::{CreatableTopicConfigs, CreatableTopicResult};
use kafka_protocol::messages::{CreateTopicsRequest, CreateTopicsResponse};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use super::access::Access;
use super::configs::source;
use super::errors::topic_error;
use super::message;
use crate::broker::Broker;
use crate::security::acl::{Operation, ResourceType};

/// Answers a CreateTopics request.
pub async fn handle(broker: &Arc<Broker>, request: CreateTopicsRequest, access: Access<'_>) -> CreateTopicsResponse {
    let mut results = Vec::with_capacity(request.topics.len());
    for topic in request.topics {
        results.push(create(broker, topic, request.validate_only, access).await);
    }
    CreateTopicsResponse::default().with_topics(results)
}

/// Whether the principal may create topic `name`: CREATE on the cluster (asked without logging a denial) or else
/// on the topic.
pub(super) fn may_create(access: Access<'_>, name: &str) -> bool {
    access.cluster_allows(Operation::Create) || access.topic(Operation::Create, name)
}

async fn create(
    broker: &Arc<Broker>,
    wanted: CreatableTopic,
    validate_only: bool,
    access: Access<'_>,
) -> CreatableTopicResult {
    let result = CreatableTopicResult::default()
        .with_name(wanted.name.clone())
        .with_num_partitions(-1)
        .with_replication_factor(-1);
    if !may_create(access, wanted.name.as_str()) {
        let error = ResponseError::TopicAuthorizationFailed;
        return result.with_error_code(error.code()).with_error_message(message(error));
    }
    let partitions = if wanted.assignments.is_empty() {
        match wanted.num_partitions {
            -1 => broker.config().default_partitions,
            n => n,
        }
    } else {
        if wanted.num_partitions != -1 || wanted.replication_factor != -1 {
            return result
                .with_error_code(ResponseError::InvalidReplicaAssignment.code())
                .with_error_message(message("replica assignments exclude a partition count and a replication factor"));
        }
        wanted.assignments.len() as i32
    };
    let assignments: Option<Vec<Vec<i32>>> = (!wanted.assignments.is_empty())
        .then(|| wanted.assignments.iter().map(|a| a.broker_ids.iter().map(|b| b.0).collect()).collect());
    if let Some(error) = single_node_assignment_error(broker, assignments.as_deref()) {
        return result
            .with_error_code(ResponseError::InvalidReplicaAssignment.code())
            .with_error_message(message(error));
    }
    let replication_factor = match (wanted.replication_factor, &assignments) {
        (-1, Some(lists)) => lists.first().map_or(1, |replicas| replicas.len() as i16),
        (-1, None) => broker.config().default_replication_factor,
        (n, _) => n,
    };
    let overrides: BTreeMap<String, String> =
        wanted.configs.into_iter().filter_map(|c| c.value.map(|v| (c.name.to_string(), v.to_string()))).collect();
    let name = wanted.name.as_str();
    match broker.create_topic(name, partitions, replication_factor, assignments, overrides, validate_only).await {
        Ok(topic)
            if !broker.authorizer().allows(access.session(), Operation::DescribeConfigs, ResourceType::Topic, name) =>
        {
            result
                .with_topic_id(topic.id())
                .with_topic_config_error_code(ResponseError::TopicAuthorizationFailed.code())
        }
        Ok(topic) => {
            let configs = topic
                .config()
                .describe()
                .into_iter()
                .map(|(name, value, origin, _)| {
                    CreatableTopicConfigs::default()
                        .with_name(StrBytes::from_static_str(name))
                        .with_value(Some(StrBytes::from_string(value)))
                        .with_config_source(source(origin))
                })
                .collect();
            result
                .with_topic_id(topic.id())
                .with_num_partitions(partitions)
                .with_replication_factor(replication_factor)
                .with_configs(Some(configs))
        }
        Err(e) => result.with_error_code(topic_error(&e).code()).with_error_message(message(&e)),
    }
}

/// On a single node, replica assignments may name only this broker (a cluster's controller checks its own).
pub(super) fn single_node_assignment_error(broker: &Broker, assignments: Option<&[Vec<i32>]>) -> Option<String> {
    let node = broker.config().node_id;
    let foreign = assignments.unwrap_or_default().iter().flatten().any(|&b| b != node);
    (broker.cluster().is_none() && foreign).then(|| format!("replica assignments may only name broker {node}"))
}
