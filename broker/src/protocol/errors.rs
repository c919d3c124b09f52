//! How storage, topic and authorization failures are reported in Kafka's error codes.

use std::collections::HashSet;

use kafka_protocol::ResponseError;

use super::access::Access;
use crate::security::acl::Operation;
use crate::storage::batch::BatchError;
use crate::storage::{ProducerStateError, StorageError};
use crate::topics::TopicError;

/// The Kafka error for a storage failure.
pub fn storage_error(error: &StorageError) -> ResponseError {
    match error {
        StorageError::InvalidBatch(BatchError::CrcMismatch { .. }) => ResponseError::CorruptMessage,
        StorageError::InvalidBatch(BatchError::UnsupportedMagic(_)) => ResponseError::UnsupportedForMessageFormat,
        StorageError::InvalidBatch(_)
        | StorageError::NotOneBatch
        | StorageError::KeylessRecord
        | StorageError::Records(_) => ResponseError::InvalidRecord,
        StorageError::RecordTooLarge { .. } => ResponseError::MessageTooLarge,
        StorageError::OffsetOutOfRange { .. } => ResponseError::OffsetOutOfRange,
        StorageError::Io(_) | StorageError::Offline => ResponseError::KafkaStorageError,
        StorageError::Decode(_) | StorageError::Encode(_) | StorageError::OffsetMismatch { .. } => {
            ResponseError::UnknownServerError
        }
        StorageError::Producer(e) => producer_error(e),
    }
}

/// The Kafka error for an idempotent producer's refused batch, as Kafka 2.7+ answers a produce request.
fn producer_error(error: &ProducerStateError) -> ResponseError {
    match error {
        ProducerStateError::StaleEpoch { .. } => ResponseError::InvalidProducerEpoch,
        ProducerStateError::OutOfOrderSequence { .. } => ResponseError::OutOfOrderSequenceNumber,
        ProducerStateError::UnknownProducer { .. } => ResponseError::UnknownProducerId,
        ProducerStateError::InvalidSequence { .. } => ResponseError::InvalidRecord,
        ProducerStateError::Transactional => ResponseError::InvalidTxnState,
    }
}

/// The Kafka error for a topic operation that failed.
pub fn topic_error(error: &TopicError) -> ResponseError {
    match error {
        TopicError::Unknown(_) => ResponseError::UnknownTopicOrPartition,
        TopicError::AlreadyExists(_) => ResponseError::TopicAlreadyExists,
        TopicError::InvalidName(_) => ResponseError::InvalidTopicException,
        TopicError::InvalidPartitions(_) => ResponseError::InvalidPartitions,
        TopicError::InvalidReplicationFactor(_) => ResponseError::InvalidReplicationFactor,
        TopicError::InvalidReplicaAssignment(_) => ResponseError::InvalidReplicaAssignment,
        TopicError::ControllerUnavailable(_) | TopicError::ControllerManaged(_) => ResponseError::RequestTimedOut,
        TopicError::InvalidConfig(_) => ResponseError::InvalidConfig,
        TopicError::Storage(e) => storage_error(e),
    }
}

/// Checks a client's view of the leader epoch (-1 means the client does not know it).
pub fn check_leader_epoch(client_epoch: i32, leader_epoch: i32) -> Option<ResponseError> {
    match client_epoch {
        e if e < 0 || e == leader_epoch => None,
        e if e < leader_epoch => Some(ResponseError::FencedLeaderEpoch),
        _ => Some(ResponseError::UnknownLeaderEpoch),
    }
}

/// TRANSACTIONAL_ID_AUTHORIZATION_FAILED when the principal may not do `operation` on transactional id `id` (the
/// denial is logged).
pub fn transactional_id_denied(access: Access<'_>, operation: Operation, id: &str) -> Option<ResponseError> {
    (!access.transactional_id(operation, id)).then_some(ResponseError::TransactionalIdAuthorizationFailed)
}

/// The topics of a request that the principal may not act on: every partition of each answers
/// TOPIC_AUTHORIZATION_FAILED, while the other topics proceed.
#[derive(Debug, Default)]
pub struct DeniedTopics(HashSet<String>);

impl DeniedTopics {
    /// None denied.
    pub fn none() -> Self {
        DeniedTopics::default()
    }

    /// Every topic in `names` denied, without asking (a request refused as a whole).
    pub fn all<'n>(names: impl IntoIterator<Item = &'n str>) -> Self {
        DeniedTopics(names.into_iter().map(str::to_owned).collect())
    }

    /// The topics in `names` on which `operation` is denied, each asked (and a denial logged) once, as Kafka's
    /// `filterByAuthorized` does.
    pub fn check<'n>(access: Access<'_>, operation: Operation, names: impl IntoIterator<Item = &'n str>) -> Self {
        let mut asked = HashSet::new();
        let denied = names.into_iter().filter(|name| asked.insert(*name) && !access.topic(operation, name));
        DeniedTopics::all(denied)
    }

    /// TOPIC_AUTHORIZATION_FAILED when topic `name` is denied.
    pub fn error(&self, name: &str) -> Option<ResponseError> {
        self.0.contains(name).then_some(ResponseError::TopicAuthorizationFailed)
    }

    /// Whether topic `name` is denied.
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    /// Whether no topic is denied.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
