//! How storage and topic failures are reported in Kafka's error codes.

use kafka_protocol::ResponseError;

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
