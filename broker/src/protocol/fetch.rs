//! Fetch: reads stored batches for many partitions as they are on disk, within `max_bytes` and each
//! partition's `partition_max_bytes`, long-polling up to `max_wait_ms` until `min_bytes` are available.
//!
//! A fetch from another broker (`replica_id` >= 0) is a follower replicating: it reads up to the durable offset
//! rather than the high watermark, and its fetch offset tells the leader what the follower holds durably.
//!
//! What a fetch answers counts in the broker's metrics, consumers' and followers' apart.
//!
//! Fetch sessions (KIP-227) are declined the way the protocol allows: every response carries session id 0, so
//! clients keep sending full fetch requests.

use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{BrokerId, FetchRequest, FetchResponse, ResponseKind};
use kafka_protocol::ResponseError;
use tokio::time::Instant;

use super::errors::{check_leader_epoch, storage_error};
use crate::broker::Broker;
use crate::metrics::Fetcher;
use crate::storage::batch::BatchHeader;

const READ_COMMITTED: i8 = 1;

/// Answers a Fetch request, waiting for data as the request allows.
pub async fn handle(broker: Arc<Broker>, request: FetchRequest) -> ResponseKind {
    if request.session_id != 0 || request.session_epoch > 0 {
        let response = FetchResponse::default().with_error_code(ResponseError::FetchSessionIdNotFound.code());
        return ResponseKind::Fetch(response);
    }
    let deadline = Instant::now() + Duration::from_millis(u64::try_from(request.max_wait_ms).unwrap_or(0));
    let mut activity = broker.topics().activity().subscribe();
    let request = Arc::new(request);
    loop {
        activity.borrow_and_update();
        let (broker_ref, request_ref) = (Arc::clone(&broker), Arc::clone(&request));
        let read = tokio::task::spawn_blocking(move || read_all(&broker_ref, &request_ref)).await;
        let (response, bytes, failed) = match read {
            Ok(result) => result,
            Err(e) => {
                tracing::error!(error = %e, "fetch read task failed");
                let response = FetchResponse::default().with_error_code(ResponseError::UnknownServerError.code());
                return ResponseKind::Fetch(response);
            }
        };
        let enough = bytes >= usize::try_from(request.min_bytes).unwrap_or(0).max(1);
        if enough || failed || Instant::now() >= deadline {
            count_out(&broker, &request, &response);
            return ResponseKind::Fetch(response);
        }
        if tokio::time::timeout_at(deadline, activity.changed()).await.is_err() {
            // The deadline passed with nothing new: answer with what there is (usually nothing).
            continue;
        }
    }
}

/// Reads every requested partition once. Returns the response, the bytes of records in it, and whether any
/// partition failed (an error answers at once instead of waiting).
fn read_all(broker: &Broker, request: &FetchRequest) -> (FetchResponse, usize, bool) {
    let mut remaining = usize::try_from(request.max_bytes).unwrap_or(0);
    let mut total = 0usize;
    let mut failed = false;
    let mut topics = Vec::with_capacity(request.topics.len());
    // A broker replicating from this one names itself; consumers send -1.
    let follower = (request.replica_id.0 >= 0).then_some(request.replica_id.0);
    for wanted in &request.topics {
        let topic = broker.topics().get(wanted.topic.as_str());
        let mut partitions = Vec::with_capacity(wanted.partitions.len());
        for p in &wanted.partitions {
            let response = PartitionData::default()
                .with_partition_index(p.partition)
                .with_high_watermark(-1)
                .with_last_stable_offset(-1)
                .with_log_start_offset(-1)
                .with_preferred_read_replica(BrokerId(-1))
                .with_aborted_transactions((request.isolation_level == READ_COMMITTED).then(Vec::new));
            let Some(log) = topic.as_ref().and_then(|t| t.partition(p.partition)) else {
                failed = true;
                partitions.push(response.with_error_code(ResponseError::UnknownTopicOrPartition.code()));
                continue;
            };
            let at = (wanted.topic.as_str(), p.partition);
            let refusal = broker
                .leadership_error(at.0, at.1)
                .or_else(|| check_leader_epoch(p.current_leader_epoch, log.leader_epoch()))
                .or_else(|| follower.and_then(|id| replica_fetched(broker, at, id, p).err()));
            if let Some(error) = refusal {
                failed = true;
                partitions.push(response.with_error_code(error.code()));
                continue;
            }
            let limit = usize::try_from(p.partition_max_bytes).unwrap_or(0).min(remaining);
            let read = match follower {
                Some(_) => log.read_for_replica(p.fetch_offset, limit),
                None => log.read(p.fetch_offset, limit, total == 0),
            };
            match read {
                Ok(read) => {
                    total += read.records.len();
                    remaining = remaining.saturating_sub(read.records.len());
                    partitions.push(
                        response
                            .with_high_watermark(read.high_watermark)
                            .with_last_stable_offset(read.high_watermark)
                            .with_log_start_offset(read.log_start_offset)
                            .with_records(Some(read.records)),
                    );
                }
                Err(e) => {
                    failed = true;
                    tracing::debug!(topic = %wanted.topic.as_str(), partition = p.partition, error = %e, "fetch refused");
                    partitions.push(
                        response
                            .with_error_code(storage_error(&e).code())
                            .with_high_watermark(log.high_watermark())
                            .with_log_start_offset(log.log_start_offset()),
                    );
                }
            }
        }
        topics.push(FetchableTopicResponse::default().with_topic(wanted.topic.clone()).with_partitions(partitions));
    }
    (FetchResponse::default().with_responses(topics), total, failed)
}

/// Counts the records `response` carries in the broker's metrics.
fn count_out(broker: &Broker, request: &FetchRequest, response: &FetchResponse) {
    let fetcher = if request.replica_id.0 >= 0 { Fetcher::Replica } else { Fetcher::Consumer };
    for topic in &response.responses {
        for partition in &topic.partitions {
            let Some(records) = partition.records.as_ref().filter(|r| !r.is_empty()) else { continue };
            broker.metrics().fetched(topic.topic.as_str(), fetcher, records.len(), record_count(records));
        }
    }
}

/// The records in whole stored batches (a fetch reads whole batches only).
fn record_count(mut batches: &[u8]) -> u64 {
    let mut count = 0;
    while let Ok(header) = BatchHeader::parse(batches) {
        count += u64::try_from(header.record_count).unwrap_or(0);
        batches = batches.get(header.total_len()..).unwrap_or_default();
    }
    count
}

/// Records a follower's fetch with the partition's leader state (this broker must lead it in a cluster).
fn replica_fetched(
    broker: &Broker,
    at: (&str, i32),
    follower: i32,
    wanted: &kafka_protocol::messages::fetch_request::FetchPartition,
) -> Result<(), ResponseError> {
    let cluster = broker.cluster().ok_or(ResponseError::NotLeaderOrFollower)?;
    cluster.replicas().follower_fetched(at, follower, wanted.fetch_offset, wanted.current_leader_epoch)
}
