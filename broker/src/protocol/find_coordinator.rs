//! FindCoordinator: this broker coordinates every group (a single node). Transactions are not served.

use std::sync::Arc;

use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use super::message;
use crate::broker::Broker;

/// `key_type` of a group coordinator lookup (1 asks for a transaction coordinator).
const GROUP_KEY_TYPE: i8 = 0;

/// Answers with this broker for groups, after making sure `__consumer_offsets` exists.
pub async fn handle(broker: &Arc<Broker>, request: FindCoordinatorRequest, version: i16) -> FindCoordinatorResponse {
    let keys = if version >= 4 { request.coordinator_keys } else { vec![request.key] };
    let ready = broker.groups().offsets_topic(broker.topics()).await.err();
    let config = broker.config();
    let coordinators: Vec<Coordinator> = keys
        .into_iter()
        .map(|key| {
            let error = if request.key_type != GROUP_KEY_TYPE {
                Some((ResponseError::InvalidRequest, "tidemark has no transaction coordinator".to_owned()))
            } else if key.is_empty() {
                Some((ResponseError::InvalidGroupId, "the group id is empty".to_owned()))
            } else {
                ready.map(|e| (e, "__consumer_offsets is not available".to_owned()))
            };
            let coordinator = Coordinator::default().with_key(key);
            match error {
                Some((code, text)) => coordinator
                    .with_node_id(BrokerId(-1))
                    .with_host(StrBytes::default())
                    .with_port(-1)
                    .with_error_code(code.code())
                    .with_error_message(message(text)),
                None => coordinator
                    .with_node_id(BrokerId(config.node_id))
                    .with_host(StrBytes::from_string(config.advertised_host.clone()))
                    .with_port(i32::from(config.advertised_port)),
            }
        })
        .collect();
    if version >= 4 {
        return FindCoordinatorResponse::default().with_coordinators(coordinators);
    }
    let Some(c) = coordinators.into_iter().next() else {
        return FindCoordinatorResponse::default();
    };
    let response = FindCoordinatorResponse::default()
        .with_error_code(c.error_code)
        .with_node_id(c.node_id)
        .with_host(c.host)
        .with_port(c.port);
    if version >= 1 {
        response.with_error_message(c.error_message)
    } else {
        response
    }
}
