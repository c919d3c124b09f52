//! CreatePartitions: grows a topic, which needs ALTER on it (TOPIC_AUTHORIZATION_FAILED otherwise).

use std::sync::Arc;

use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};
use kafka_protocol::ResponseError;

use super::access::Access;
use super::create_topics::single_node_assignment_error;
use super::errors::topic_error;
use super::message;
use crate::broker::Broker;
use crate::security::acl::Operation;

/// Answers a CreatePartitions request.
pub async fn handle(
    broker: &Arc<Broker>,
    request: CreatePartitionsRequest,
    access: Access<'_>,
) -> CreatePartitionsResponse {
    let mut results = Vec::with_capacity(request.topics.len());
    for topic in request.topics {
        let result = CreatePartitionsTopicResult::default().with_name(topic.name.clone());
        if !access.topic(Operation::Alter, topic.name.as_str()) {
            let error = ResponseError::TopicAuthorizationFailed;
            results.push(result.with_error_code(error.code()).with_error_message(message(error)));
            continue;
        }
        let assignments: Option<Vec<Vec<i32>>> =
            topic.assignments.map(|a| a.iter().map(|a| a.broker_ids.iter().map(|b| b.0).collect()).collect());
        if let Some(error) = single_node_assignment_error(broker, assignments.as_deref()) {
            let code = ResponseError::InvalidReplicaAssignment.code();
            results.push(result.with_error_code(code).with_error_message(message(error)));
            continue;
        }
        let name = topic.name.as_str();
        results.push(match broker.add_partitions(name, topic.count, assignments, request.validate_only).await {
            Ok(()) => result,
            Err(e) => result.with_error_code(topic_error(&e).code()).with_error_message(message(&e)),
        });
    }
    CreatePartitionsResponse::default().with_results(results)
}
