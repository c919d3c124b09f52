//! A follower's connection to a partition leader: the two Kafka requests replication needs, Fetch (with this
//! broker's id as `replica_id`) and OffsetForLeaderEpoch, on one [`KafkaConnection`].
//! Brokers talk to each other in the protocol clients use, as Kafka's replica fetchers do; nothing else reaches
//! this connection, so a request and its response alternate (no pipelining).

use bytes::Bytes;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::offset_for_leader_epoch_request::{OffsetForLeaderPartition, OffsetForLeaderTopic};
use kafka_protocol::messages::{
    ApiKey, BrokerId, FetchRequest, FetchResponse, OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use thiserror::Error;

use crate::client::{ClientError, ClientSecurity, KafkaConnection};

/// Fetch version used between brokers: the newest this broker serves.
const FETCH_VERSION: i16 = 12;
/// OffsetForLeaderEpoch version used between brokers.
const EPOCH_VERSION: i16 = 4;

/// A request to the leader failed.
#[derive(Debug, Error)]
pub enum LeaderCallError {
    /// The connection failed.
    #[error("connection to the leader: {0}")]
    Io(#[from] std::io::Error),
    /// The leader's answer could not be read.
    #[error("undecodable answer from the leader: {0}")]
    Protocol(String),
    /// The leader answered with an error for the partition.
    #[error("the leader answered {0:?}")]
    Refused(ResponseError),
    /// The fetch offset is below the leader's log start (retention deleted what this replica lacks).
    #[error("the leader's log starts at {0}, past this replica's log end")]
    BehindLogStart(i64),
}

/// What a fetch from the leader brought.
#[derive(Debug)]
pub struct Fetched {
    /// Whole record batches as the leader stores them.
    pub records: Bytes,
    /// The leader's high watermark.
    pub high_watermark: i64,
}

impl From<ClientError> for LeaderCallError {
    fn from(error: ClientError) -> Self {
        match error {
            ClientError::Io(io) => LeaderCallError::Io(io),
            other => LeaderCallError::Protocol(other.to_string()),
        }
    }
}

/// One connection from this broker (`replica_id`) to a leader.
#[derive(Debug)]
pub struct LeaderConnection {
    connection: KafkaConnection,
    replica_id: i32,
}

impl LeaderConnection {
    /// Connects to the leader's inter-broker listener at `address`, secured (and authenticated) by `security`.
    pub async fn connect(address: &str, security: &ClientSecurity, replica_id: i32) -> Result<Self, LeaderCallError> {
        let connection = KafkaConnection::connect(address, security, "tidemark-replica-fetcher").await?;
        Ok(LeaderConnection { connection, replica_id })
    }

    /// Fetches `topic`-`partition` from `fetch_offset` (everything below it is durable here), waiting up to
    /// `max_wait_ms` for data.
    pub async fn fetch(
        &mut self,
        (topic, partition): (&str, i32),
        leader_epoch: i32,
        fetch_offset: i64,
        max_wait_ms: i32,
        max_bytes: i32,
    ) -> Result<Fetched, LeaderCallError> {
        let wanted = FetchPartition::default()
            .with_partition(partition)
            .with_current_leader_epoch(leader_epoch)
            .with_fetch_offset(fetch_offset)
            .with_last_fetched_epoch(-1)
            .with_log_start_offset(-1)
            .with_partition_max_bytes(max_bytes);
        let request = FetchRequest::default()
            .with_replica_id(BrokerId(self.replica_id))
            .with_max_wait_ms(max_wait_ms)
            .with_min_bytes(1)
            .with_max_bytes(max_bytes)
            .with_session_epoch(-1)
            .with_topics(vec![FetchTopic::default().with_topic(topic_name(topic)).with_partitions(vec![wanted])]);
        let response: FetchResponse = self.connection.call(ApiKey::Fetch, FETCH_VERSION, &request).await?;
        let data = response
            .responses
            .into_iter()
            .flat_map(|t| t.partitions)
            .find(|p| p.partition_index == partition)
            .ok_or_else(|| LeaderCallError::Protocol("the fetch answer lacks the partition".to_owned()))?;
        if data.error_code == ResponseError::OffsetOutOfRange.code() && fetch_offset < data.log_start_offset {
            return Err(LeaderCallError::BehindLogStart(data.log_start_offset));
        }
        refused(data.error_code)?;
        Ok(Fetched { records: data.records.unwrap_or_default(), high_watermark: data.high_watermark })
    }

    /// KIP-101/279: the leader's largest epoch at or below `epoch` and where it ends (for an epoch older than all
    /// it knows, that epoch and the start of its first); `None` when it answers UNDEFINED_EPOCH.
    pub async fn end_offset_for_epoch(
        &mut self,
        (topic, partition): (&str, i32),
        current_leader_epoch: i32,
        epoch: i32,
    ) -> Result<Option<(i32, i64)>, LeaderCallError> {
        let wanted = OffsetForLeaderPartition::default()
            .with_partition(partition)
            .with_current_leader_epoch(current_leader_epoch)
            .with_leader_epoch(epoch);
        let request =
            OffsetForLeaderEpochRequest::default().with_replica_id(BrokerId(self.replica_id)).with_topics(vec![
                OffsetForLeaderTopic::default().with_topic(topic_name(topic)).with_partitions(vec![wanted]),
            ]);
        let response: OffsetForLeaderEpochResponse =
            self.connection.call(ApiKey::OffsetForLeaderEpoch, EPOCH_VERSION, &request).await?;
        let answer = response
            .topics
            .into_iter()
            .flat_map(|t| t.partitions)
            .find(|p| p.partition == partition)
            .ok_or_else(|| LeaderCallError::Protocol("the epoch answer lacks the partition".to_owned()))?;
        refused(answer.error_code)?;
        Ok((answer.leader_epoch >= 0 && answer.end_offset >= 0).then_some((answer.leader_epoch, answer.end_offset)))
    }
}

fn topic_name(topic: &str) -> TopicName {
    TopicName(StrBytes::from_string(topic.to_owned()))
}

fn refused(code: i16) -> Result<(), LeaderCallError> {
    match ResponseError::try_from_code(code) {
        None => Ok(()),
        Some(error) => Err(LeaderCallError::Refused(error)),
    }
}
