//! The broker's errors as the log client reports them: what a retry may fix ([`LogError::Unavailable`]) and what
//! it cannot ([`LogError::Refused`]).

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
            | StorageError::Producer(_) => LogError::Refused(error.to_string()),
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
            | TopicError::InvalidConfig(_) => LogError::Refused(error.to_string()),
        }
    }
}
