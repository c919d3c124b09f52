//! The broker's errors as the log client reports them: what a retry may fix ([`LogError::Unavailable`]), what it
//! cannot ([`LogError::Refused`]), and the group coordinator's answers ([`group_error`]).

use kafka_protocol::ResponseError;
use tidemark_broker::storage::StorageError;
use tidemark_broker::topics::TopicError;

use crate::LogError;

impl From<StorageError> for LogError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Io(_) | StorageError::Offline => LogError::Unavailable(error.to_string()),
            StorageError::InvalidBatch(_)
            | StorageError::NotOneBatch
            | StorageError::RecordTooLarge { .. }
            | StorageError::OffsetOutOfRange { .. }
            | StorageError::Decode(_)
            | StorageError::Encode(_)
            | StorageError::KeylessRecord
            | StorageError::Records(_)
            | StorageError::Producer(_)
            | StorageError::OffsetMismatch { .. } => LogError::Refused(error.to_string()),
        }
    }
}

impl From<TopicError> for LogError {
    fn from(error: TopicError) -> Self {
        match error {
            TopicError::Unknown(name) => LogError::UnknownTopic(name),
            TopicError::Storage(e) => e.into(),
            TopicError::AlreadyExists(_)
            | TopicError::InvalidName(_)
            | TopicError::InvalidPartitions(_)
            | TopicError::InvalidReplicationFactor(_)
            | TopicError::InvalidReplicaAssignment(_)
            | TopicError::InvalidConfig(_)
            | TopicError::ControllerManaged(_) => LogError::Refused(error.to_string()),
            TopicError::ControllerUnavailable(_) => LogError::Unavailable(error.to_string()),
        }
    }
}

/// The log error for a group coordinator's answer `error` to what `context` describes.
pub fn group_error(error: ResponseError, context: &str) -> LogError {
    let text = format!("{context}: {error}");
    match error {
        ResponseError::RebalanceInProgress
        | ResponseError::IllegalGeneration
        | ResponseError::UnknownMemberId
        | ResponseError::FencedInstanceId => LogError::Rebalanced(text),
        ResponseError::UnknownTopicOrPartition => LogError::UnknownTopic(text),
        ResponseError::CoordinatorNotAvailable
        | ResponseError::CoordinatorLoadInProgress
        | ResponseError::NotCoordinator
        | ResponseError::UnknownServerError => LogError::Unavailable(text),
        _ => LogError::Refused(text),
    }
}
