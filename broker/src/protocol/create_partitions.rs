//! CreatePartitions: grows a topic.

use std::sync::Arc;

use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};
use kafka_protocol::ResponseError;

use super::errors::topic_error;
use super::message;
use crate::broker::{now_ms, Broker};

/// Answers a CreatePartitions request.
pub async fn handle(broker: &Arc<Broker>, request: CreatePartitionsRequest) -> CreatePartitionsResponse {
    let node = broker.config().node_id;
    let mut results = Vec::with_capacity(request.topics.len());
    for topic in request.topics {
        let result = CreatePartitionsTopicResult::default().with_name(topic.name.clone());
        let foreign = topic.assignments.iter().flatten().any(|a| a.broker_ids.iter().any(|b| b.0 != node));
        if foreign {
            results.push(
                result
                    .with_error_code(ResponseError::InvalidReplicaAssignment.code())
                    .with_error_message(message(format!("replica assignments may only name broker {node}"))),
            );
            continue;
        }
        let name = topic.name.as_str();
        results.push(match broker.topics().add_partitions(name, topic.count, request.validate_only, now_ms()).await {
            Ok(()) => result,
            Err(e) => result.with_error_code(topic_error(&e).code()).with_error_message(message(&e)),
        });
    }
    CreatePartitionsResponse::default().with_results(results)
}
