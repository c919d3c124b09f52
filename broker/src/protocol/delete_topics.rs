//! DeleteTopics, by name (all versions) or by topic id (v6). Each topic needs DELETE; a topic named by id needs
//! DESCRIBE too, or its name stays hidden (Kafka's rules, TOPIC_AUTHORIZATION_FAILED).

use std::sync::Arc;

use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use uuid::Uuid;

use super::access::Access;
use super::errors::topic_error;
use super::message;
use crate::broker::Broker;
use crate::security::acl::Operation;

/// Answers a DeleteTopics request.
pub async fn handle(broker: &Arc<Broker>, request: DeleteTopicsRequest, access: Access<'_>) -> DeleteTopicsResponse {
    let mut wanted: Vec<(Option<TopicName>, Uuid)> =
        request.topic_names.into_iter().map(|n| (Some(n), Uuid::nil())).collect();
    wanted.extend(request.topics.into_iter().map(|t| (t.name, t.topic_id)));
    let mut responses = Vec::with_capacity(wanted.len());
    for (name, id) in wanted {
        let result = DeletableTopicResult::default().with_name(name.clone()).with_topic_id(id);
        let denied = ResponseError::TopicAuthorizationFailed;
        let name = match name {
            Some(name) => name.as_str().to_owned(),
            None => match broker.topics().get_by_id(id) {
                Some(topic) if !access.topic(Operation::Describe, topic.name()) => {
                    responses.push(result.with_error_code(denied.code()).with_error_message(message(denied)));
                    continue;
                }
                Some(topic) => topic.name().to_owned(),
                None => {
                    responses.push(result.with_error_code(ResponseError::UnknownTopicId.code()));
                    continue;
                }
            },
        };
        let result = result.with_name(Some(TopicName(StrBytes::from_string(name.clone()))));
        if !access.topic(Operation::Delete, &name) {
            responses.push(result.with_error_code(denied.code()).with_error_message(message(denied)));
            continue;
        }
        responses.push(match broker.delete_topic(&name).await {
            Ok(id) => result.with_topic_id(id),
            Err(e) => result.with_error_code(topic_error(&e).code()).with_error_message(message(&e)),
        });
    }
    DeleteTopicsResponse::default().with_responses(responses)
}
