//! librdkafka's errors as the log client reports them: a missing topic or partition, what a retry may fix
//! ([`LogError::Unavailable`]), what it cannot ([`LogError::Refused`]), and a group that moved on
//! ([`LogError::Rebalanced`]).

use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use crate::LogError;

/// The log error for a failed librdkafka call.
pub fn kafka_error(error: &KafkaError) -> LogError {
    let text = error.to_string();
    match error {
        KafkaError::ClientConfig(..)
        | KafkaError::ClientCreation(_)
        | KafkaError::AdminOpCreation(_)
        | KafkaError::Nul(_) => LogError::Refused(text),
        KafkaError::AdminOp(code) => from_code(*code, text),
        _ => match error.rdkafka_error_code() {
            Some(code) => from_code(code, text),
            None => LogError::Unavailable(text),
        },
    }
}

/// The log error for an error code, with `text` as its message.
pub fn from_code(code: RDKafkaErrorCode, text: String) -> LogError {
    use RDKafkaErrorCode as Code;
    match code {
        Code::UnknownTopicOrPartition | Code::UnknownTopic | Code::UnknownPartition | Code::UnknownTopicId => {
            LogError::UnknownTopic(text)
        }
        Code::InvalidMessage
        | Code::InvalidMessageSize
        | Code::MessageSizeTooLarge
        | Code::InvalidTopic
        | Code::MessageBatchTooLarge
        | Code::InvalidRequiredAcks
        | Code::TopicAuthorizationFailed
        | Code::ClusterAuthorizationFailed
        | Code::InvalidTimestamp
        | Code::UnsupportedVersion
        | Code::TopicAlreadyExists
        | Code::InvalidPartitions
        | Code::InvalidReplicationFactor
        | Code::InvalidReplicaAssignment
        | Code::InvalidConfig
        | Code::InvalidRequest
        | Code::UnsupportedForMessageFormat
        | Code::PolicyViolation
        | Code::UnsupportedCompressionType
        | Code::InvalidRecord
        | Code::SaslAuthenticationFailed
        | Code::Authentication
        | Code::BadMessage
        | Code::InvalidArgument
        | Code::InvalidType
        | Code::NotImplemented
        | Code::UnsupportedFeature => LogError::Refused(text),
        Code::RebalanceInProgress | Code::IllegalGeneration | Code::UnknownMemberId | Code::FencedInstanceId => {
            LogError::Rebalanced(text)
        }
        _ => LogError::Unavailable(text),
    }
}
