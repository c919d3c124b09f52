//! InitProducerId: a producer id and epoch for an idempotent producer.
//!
//! Without a producer id the client gets a fresh one with epoch 0. With its producer id and current epoch (v3+,
//! KIP-360) the epoch is bumped, so the producer may restart its sequences at 0 after a batch it cannot account
//! for; the partitions fence the older epoch. The epochs are not remembered here: a bump only needs the id to be
//! one this cluster handed out, a retried bump gets the same answer, and a stale producer that bumps from an old
//! epoch is still refused by every partition that saw a newer one. An exhausted epoch, or an id this cluster never
//! handed out, gets a fresh id instead, as Kafka does.
//!
//! Kafka's checks come first: a transactional id needs WRITE on it (TRANSACTIONAL_ID_AUTHORIZATION_FAILED); an
//! idempotent producer needs IDEMPOTENT_WRITE on the cluster or, since Kafka 2.8 (KIP-679), WRITE on some topic
//! (CLUSTER_AUTHORIZATION_FAILED).

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse};
use kafka_protocol::ResponseError;

use super::access::Access;
use super::errors::transactional_id_denied;
use crate::broker::Broker;
use crate::producer_ids::ProducerIds;
use crate::security::acl::{Operation, ResourceType};

/// Answers one InitProducerId request.
pub async fn handle(broker: &Broker, request: InitProducerIdRequest, access: Access<'_>) -> InitProducerIdResponse {
    let response = InitProducerIdResponse::default().with_producer_id((-1).into()).with_producer_epoch(-1);
    if let Err(error) = authorized(broker, access, &request) {
        return response.with_error_code(error.code());
    }
    match assign(broker.producer_ids(), &request).await {
        Ok((producer_id, epoch)) => response.with_producer_id(producer_id.into()).with_producer_epoch(epoch),
        Err(error) => response.with_error_code(error.code()),
    }
}

fn authorized(broker: &Broker, access: Access<'_>, request: &InitProducerIdRequest) -> Result<(), ResponseError> {
    match &request.transactional_id {
        Some(id) => transactional_id_denied(access, Operation::Write, id).map_or(Ok(()), Err),
        None if access.cluster_allows(Operation::IdempotentWrite) || writes_some_topic(broker, access) => Ok(()),
        None => {
            // Asked again to log the denial.
            access.cluster(Operation::IdempotentWrite);
            Err(ResponseError::ClusterAuthorizationFailed)
        }
    }
}

/// Whether the principal may write to some existing topic (asked without logging denials).
fn writes_some_topic(broker: &Broker, access: Access<'_>) -> bool {
    let writes = |name: &str| broker.authorizer().allows(access.session(), Operation::Write, ResourceType::Topic, name);
    broker.topics().list().iter().any(|topic| writes(topic.name()))
}

async fn assign(ids: &ProducerIds, request: &InitProducerIdRequest) -> Result<(i64, i16), ResponseError> {
    if let Some(transactional_id) = &request.transactional_id {
        // Tidemark has no transaction coordinator. INVALID_REQUEST is not retriable, so the client fails at once
        // instead of retrying until its timeout (COORDINATOR_NOT_AVAILABLE would make it retry), and Kafka defines
        // it as a request "sent to an incompatible broker", which is the truth; an authorization error would send
        // the operator looking at ACLs. The response has no message field, so the reason goes to the log.
        tracing::warn!(
            transactional_id = transactional_id.as_str(),
            "refused InitProducerId: Tidemark has no transactions; use an idempotent producer without transactional.id"
        );
        return Err(ResponseError::InvalidRequest);
    }
    let current = match (request.producer_id.0, request.producer_epoch) {
        (-1, -1) => None,
        (producer_id, epoch) if producer_id >= 0 && epoch >= 0 => Some((producer_id, epoch)),
        // Kafka requires both or neither.
        _ => return Err(ResponseError::InvalidRequest),
    };
    match current {
        Some((producer_id, epoch)) if ids.was_issued(producer_id) && epoch < i16::MAX - 1 => {
            Ok((producer_id, epoch + 1))
        }
        _ => ids.next_id().await.map(|producer_id| (producer_id, 0)).map_err(|e| {
            tracing::error!(error = %e, "could not claim a block of producer ids");
            ResponseError::KafkaStorageError
        }),
    }
}
