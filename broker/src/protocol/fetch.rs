//! Fetch: reads stored batches for many partitions as they are on disk, within `max_bytes` and each
//! partition's `partition_max_bytes`, long-polling up to `max_wait_ms` until `min_bytes` are available.
//!
//! A fetch from another broker (`replica_id` >= 0) is a follower replicating: it reads up to the durable offset
//! rather than the high watermark, and its fetch offset tells the leader what the follower holds durably.
//!
//! What a fetch answers counts in the broker's metrics, consumers' and followers' apart.
//!
//! Authorization, as Kafka's: a consumer needs READ on each topic, else its partitions answer
//! TOPIC_AUTHORIZATION_FAILED while the other topics are read. A follower needs CLUSTER_ACTION on the cluster, else
//! every partition answers TOPIC_AUTHORIZATION_FAILED: current Kafka answers so (brokers before 2.x answered
//! CLUSTER_AUTHORIZATION_FAILED at the top, which responses before v7 cannot carry), and librdkafka hands a
//! partition's TOPIC_AUTHORIZATION_FAILED to the application as a consumer error, where a top-level fetch error is
//! only logged. The rights are asked once, before the long poll; a fetch left with nothing it may read answers at
//! once.
//!
//! Fetch sessions (KIP-227) are declined the way the protocol allows: every response carries session id 0, so
//! clients keep sending full fetch requests.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{BrokerId, FetchRequest, FetchResponse, ResponseKind};
use kafka_protocol::ResponseError;
use tokio::time::Instant;

use super::access::Access;
use super::errors::{check_leader_epoch, storage_error, DeniedTopics};
use crate::broker::Broker;
use crate::metrics::Fetcher;
use crate::security::acl::Operation;
use crate::storage::batch::BatchHeader;

const READ_COMMITTED: i8 = 1;

/// Asks what the principal may read now; the answer waits for data as the request allows.
pub fn handle(broker: &Arc<Broker>, request: FetchRequest, access: Access<'_>) -> BoxFuture<'static, ResponseKind> {
    let denied = denied_topics(access, &request);
    Box::pin(respond(Arc::clone(broker), request, denied))
}

/// The topics the fetch may not read: all of them for a follower without CLUSTER_ACTION on the cluster, else
/// those a consumer may not READ.
fn denied_topics(access: Access<'_>, request: &FetchRequest) -> DeniedTopics {
    let names = request.topics.iter().map(|t| t.topic.as_str());
    match request.replica_id.0 >= 0 {
        false => DeniedTopics::check(access, Operation::Read, names),
        true if access.cluster(Operation::ClusterAction) => DeniedTopics::none(),
        true => DeniedTopics::all(names),
    }
}

/// Answers a Fetch request, waiting for data as the request allows.
async fn respond(broker: Arc<Broker>, request: FetchRequest, denied: DeniedTopics) -> ResponseKind {
    if request.session_id != 0 || request.session_epoch > 0 {
        let response = FetchResponse::default().with_error_code(ResponseError::FetchSessionIdNotFound.code());
        return ResponseKind::Fetch(response);
    }
    let deadline = Instant::now() + Duration::from_millis(u64::try_from(request.max_wait_ms).unwrap_or(0));
    let nothing_to_read = !denied.is_empty() && request.topics.iter().all(|t| denied.contains(t.topic.as_str()));
    let mut activity = broker.topics().activity().subscribe();
    let (request, denied) = (Arc::new(request), Arc::new(denied));
    loop {
        activity.borrow_and_update();
        let (broker_ref, request_ref, denied_ref) = (Arc::clone(&broker), Arc::clone(&request), Arc::clone(&denied));
        let read = tokio::task::spawn_blocking(move || read_all(&broker_ref, &request_ref, &denied_ref)).await;
        let (response, bytes, failed) = match read {
            Ok(result) => result,
            Err(e) => {
                tracing::error!(error = %e, "fetch read task failed");
                let response = FetchResponse::default().with_error_code(ResponseError::UnknownServerError.code());
                return ResponseKind::Fetch(response);
            }
        };
        let enough = bytes >= usize::try_from(request.min_bytes).unwrap_or(0).max(1);
        if enough || failed || nothing_to_read || Instant::now() >= deadline {
            count_out(&broker, &request, &response);
            return ResponseKind::Fetch(response);
        }
        if tokio::time::timeout_at(deadline, activity.changed()).await.is_err() {
            // The deadline passed with nothing new: answer with what there is (usually nothing).
            continue;
        }
    }
}

/// Reads every requested partition once, but those of `denied` topics. Returns the response, the bytes of records
/// in it, and whether any partition failed (an error answers at once instead of waiting; a denied topic does not,
/// as in Kafka, where only the partitions it may read decide when a fetch is answered).
fn read_all(broker: &Broker, request: &FetchRequest, denied: &DeniedTopics) -> (FetchResponse, usize, bool) {
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
            if let Some(error) = denied.error(wanted.topic.as_str()) {
                partitions.push(response.with_error_code(error.code()));
                continue;
            }
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
