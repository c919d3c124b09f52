//! Produce: validates and appends one batch per partition in request order, then answers once the batches are
//! durable here (`acks=1`) or on every in-sync replica (`acks=all`: the high watermark passed them; the same on a
//! single node), or at once with `acks=0`. `acks=all` is refused with NOT_ENOUGH_REPLICAS while the partition has
//! fewer in-sync replicas than its `min.insync.replicas`. An idempotent producer's
//! retry of a batch already written is answered with the original base offset, once that batch is durable.
//! Appended batches count in the broker's metrics.
//!
//! Each topic needs WRITE; the partitions of a topic the principal may not write answer TOPIC_AUTHORIZATION_FAILED
//! while the other topics proceed. A missing topic is created only for a principal that may create it.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse, ResponseKind};
use kafka_protocol::ResponseError;

use super::access::Access;
use super::create_topics::may_create;
use super::errors::{storage_error, topic_error};
use super::{message, Reply};
use crate::broker::{now_ms, Broker};
use crate::security::acl::Operation;
use crate::storage::{AppendInfo, PartitionLog};
use crate::topics::Topic;

struct Appended {
    log: Arc<PartitionLog>,
    info: AppendInfo,
    /// The partition, and the leader epoch this broker appended in (see [`Broker::leader_epoch_here`]).
    at: (String, i32, Option<i32>),
}

/// Appends every partition's batch now and returns a reply that waits for durability.
pub async fn handle(broker: &Arc<Broker>, request: ProduceRequest, _version: i16, access: Access<'_>) -> Reply {
    let acks = request.acks;
    let mut topics = Vec::with_capacity(request.topic_data.len());
    let mut pending: Vec<(usize, usize, Appended)> = Vec::new();
    for (t, topic_data) in request.topic_data.into_iter().enumerate() {
        let name = topic_data.name.as_str().to_owned();
        let topic = target(broker, access, &name, acks).await;
        let mut partitions = Vec::with_capacity(topic_data.partition_data.len());
        for (p, data) in topic_data.partition_data.into_iter().enumerate() {
            let response = PartitionProduceResponse::default()
                .with_index(data.index)
                .with_base_offset(-1)
                .with_log_append_time_ms(-1)
                .with_log_start_offset(-1);
            let outcome = match &topic {
                Err((error, text)) => Err((*error, text.clone())),
                Ok(topic) => match (broker.leadership_error(&name, data.index), topic.partition(data.index)) {
                    (Some(error), _) => {
                        Err((error, format!("broker {} does not lead {name}-{}", broker.config().node_id, data.index)))
                    }
                    (None, None) => {
                        Err((ResponseError::UnknownTopicOrPartition, format!("{name} has no partition {}", data.index)))
                    }
                    (None, Some(_)) if acks == -1 && broker.in_sync_replicas(&name, data.index) < min_insync(topic) => {
                        Err((
                            ResponseError::NotEnoughReplicas,
                            format!(
                                "{name}-{} has {} in-sync replicas; min.insync.replicas is {}",
                                data.index,
                                broker.in_sync_replicas(&name, data.index),
                                min_insync(topic)
                            ),
                        ))
                    }
                    (None, Some(log)) => {
                        let batch = BytesMut::from(data.records.as_deref().unwrap_or_default());
                        let bytes = batch.len();
                        log.append(batch, &topic.config(), now_ms())
                            .map(|info| (log, info, bytes))
                            .map_err(|e| (storage_error(&e), e.to_string()))
                    }
                },
            };
            match outcome {
                Ok((log, info, bytes)) => {
                    if info.duplicate {
                        tracing::debug!(
                            topic = name,
                            partition = data.index,
                            base_offset = info.base_offset,
                            "duplicate batch"
                        );
                    } else {
                        let records = u64::try_from(info.last_offset - info.base_offset + 1).unwrap_or(0);
                        broker.metrics().produced(&name, bytes, records);
                    }
                    let at = (name.clone(), data.index, broker.leader_epoch_here(&name, data.index));
                    pending.push((t, p, Appended { log, info, at }));
                }
                Err((error, text)) => {
                    tracing::debug!(topic = name, partition = data.index, error = text, "produce refused");
                    partitions.push(response.with_error_code(error.code()).with_error_message(message(text)));
                    continue;
                }
            }
            partitions.push(response);
        }
        topics.push(TopicProduceResponse::default().with_name(topic_data.name).with_partition_responses(partitions));
    }
    if acks == 0 {
        return Reply::Nothing;
    }
    let timeout = Duration::from_millis(u64::try_from(request.timeout_ms).unwrap_or(0).max(1));
    let broker = Arc::clone(broker);
    Reply::Later(Box::pin(async move {
        for (t, p, appended) in pending {
            let end = appended.info.last_offset + 1;
            let (topic, partition, epoch) = &appended.at;
            // acks=all waits for every in-sync replica (the high watermark), acks=1 for this broker's disk. A
            // leader deposed meanwhile stops waiting: the batch may be truncated away, and the client retries with
            // the new leader.
            let acknowledged = async {
                match acks {
                    -1 => tokio::select! {
                        waited = appended.log.wait_high_watermark(end) => Some(waited),
                        () = broker.leadership_lost(topic, *partition, *epoch) => None,
                    },
                    _ => Some(appended.log.wait_durable(end).await),
                }
            };
            let waited = tokio::time::timeout(timeout, acknowledged).await;
            let response = &mut topics[t].partition_responses[p];
            let waited = match waited {
                Ok(None) => {
                    response.error_code = ResponseError::NotLeaderOrFollower.code();
                    continue;
                }
                Ok(Some(result)) => Ok(result),
                Err(elapsed) => Err(elapsed),
            };
            match waited {
                // A leader deposed meanwhile may have had the batch truncated away, and the high watermark it then
                // followed says nothing about it: only a leader still in the epoch it appended in may answer.
                Ok(Ok(())) if acks == -1 && broker.leader_epoch_here(topic, *partition) != *epoch => {
                    response.error_code = ResponseError::NotLeaderOrFollower.code();
                }
                Ok(Ok(())) => {
                    response.base_offset = appended.info.base_offset;
                    response.log_start_offset = appended.info.log_start_offset;
                }
                Ok(Err(e)) => response.error_code = storage_error(&e).code(),
                Err(_) => response.error_code = ResponseError::RequestTimedOut.code(),
            }
        }
        ResponseKind::Produce(ProduceResponse::default().with_responses(topics))
    }))
}

/// The topic a produce appends to, or why none of its partitions may be appended to: the principal may not write
/// it (asked first, as Kafka does), `acks` is invalid, or it is missing and may not be created.
async fn target(
    broker: &Broker,
    access: Access<'_>,
    name: &str,
    acks: i16,
) -> Result<Arc<Topic>, (ResponseError, String)> {
    if !access.topic(Operation::Write, name) {
        let error = ResponseError::TopicAuthorizationFailed;
        return Err((error, error.to_string()));
    }
    if !matches!(acks, -1..=1) {
        return Err((ResponseError::InvalidRequiredAcks, format!("acks must be -1, 0 or 1, not {acks}")));
    }
    if let Some(topic) = broker.topics().get(name) {
        return Ok(topic);
    }
    // Auto-creation needs CREATE, as it does through Metadata: WRITE alone creates nothing.
    let create = broker.config().auto_create_topics && may_create(access, name);
    broker.topic_or_create(name, create).await.map_err(|e| (topic_error(&e), e.to_string()))
}

fn min_insync(topic: &Topic) -> usize {
    usize::try_from(topic.config().min_insync_replicas).unwrap_or(1)
}
