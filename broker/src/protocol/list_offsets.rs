//! ListOffsets: the earliest offset, the latest (the high watermark), the record with the largest timestamp, or
//! the first record at or after a timestamp. Each topic needs DESCRIBE, else its partitions answer
//! TOPIC_AUTHORIZATION_FAILED (Kafka's rule).

use std::sync::Arc;

use kafka_protocol::messages::list_offsets_response::{ListOffsetsPartitionResponse, ListOffsetsTopicResponse};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};
use kafka_protocol::ResponseError;

use super::access::Access;
use super::errors::{check_leader_epoch, storage_error, DeniedTopics};
use crate::broker::Broker;
use crate::security::acl::Operation;
use crate::storage::{PartitionLog, StorageError};

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;

/// Answers a ListOffsets request.
pub fn handle(
    broker: &Arc<Broker>,
    request: ListOffsetsRequest,
    version: i16,
    access: Access<'_>,
) -> ListOffsetsResponse {
    let denied = DeniedTopics::check(access, Operation::Describe, request.topics.iter().map(|t| t.name.as_str()));
    let topics = request
        .topics
        .into_iter()
        .map(|wanted| {
            let topic = broker.topics().get(wanted.name.as_str());
            let partitions = wanted
                .partitions
                .into_iter()
                .map(|p| {
                    let response = ListOffsetsPartitionResponse::default()
                        .with_partition_index(p.partition_index)
                        .with_timestamp(-1)
                        .with_offset(-1)
                        .with_leader_epoch(-1);
                    if let Some(error) = denied.error(wanted.name.as_str()) {
                        return response.with_error_code(error.code());
                    }
                    let Some(log) = topic.as_ref().and_then(|t| t.partition(p.partition_index)) else {
                        return response.with_error_code(ResponseError::UnknownTopicOrPartition.code());
                    };
                    if let Some(error) = broker.leadership_error(wanted.name.as_str(), p.partition_index) {
                        return response.with_error_code(error.code());
                    }
                    let epoch = log.leader_epoch();
                    // The leader epoch is part of the response from v4 on only.
                    let reported_epoch = if version >= 4 { epoch } else { -1 };
                    if let Some(error) = check_leader_epoch(p.current_leader_epoch, epoch) {
                        return response.with_error_code(error.code());
                    }
                    match lookup(&log, p.timestamp) {
                        Ok((timestamp, offset)) => {
                            response.with_timestamp(timestamp).with_offset(offset).with_leader_epoch(reported_epoch)
                        }
                        Err(e) => response.with_error_code(storage_error(&e).code()),
                    }
                })
                .collect();
            ListOffsetsTopicResponse::default().with_name(wanted.name).with_partitions(partitions)
        })
        .collect();
    ListOffsetsResponse::default().with_topics(topics)
}

/// The (timestamp, offset) answer for one partition; (-1, -1) when no record matches.
fn lookup(log: &PartitionLog, timestamp: i64) -> Result<(i64, i64), StorageError> {
    let found = match timestamp {
        LATEST => return Ok((-1, log.high_watermark())),
        EARLIEST => return Ok((-1, log.log_start_offset())),
        MAX_TIMESTAMP => log.offset_of_max_timestamp()?,
        t => log.offset_for_timestamp(t)?,
    };
    Ok(found.map_or((-1, -1), |f| (f.timestamp, f.offset)))
}
