//! A follower replica of one partition: truncates its log where it diverges from the leader's (KIP-101, with
//! KIP-279's rule for epochs the leader lacks), then fetches from the leader and appends what it gets with the
//! leader's offsets and epochs, until the replica manager stops it (the leader or its epoch changed).
//!
//! **Invariant: a follower asks for offset N only once everything below N is durable here.** The leader counts a
//! fetch at N as "this replica holds everything below N", and acknowledges `acks=all` writes on that basis.

use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::ResponseError;
use thiserror::Error;

use crate::broker::now_ms;
use crate::client::ClientSecurity;
use crate::replication::leader_client::{LeaderCallError, LeaderConnection};
use crate::replication::unreachable::UnreachableLeaders;
use crate::storage::{PartitionLog, StorageError};
use crate::topics::Topic;

/// How long a fetch waits at the leader for data.
const FETCH_MAX_WAIT_MS: i32 = 500;
/// Most bytes one fetch brings.
const FETCH_MAX_BYTES: i32 = 8 * 1024 * 1024;
/// Pauses between attempts after a failure, growing to the last.
const BACKOFF: [Duration; 4] =
    [Duration::from_millis(50), Duration::from_millis(200), Duration::from_millis(500), Duration::from_secs(1)];
/// The pause while the leader has not yet taken up the leadership the controller gave it (it applies the same
/// metadata a moment later): short and not growing, since `acks=all` writes wait for this follower.
const NOT_READY_PAUSE: Duration = Duration::from_millis(50);

/// Why a round of replication stopped.
#[derive(Debug, Error)]
enum FollowError {
    /// Talking to the leader failed.
    #[error(transparent)]
    Leader(#[from] LeaderCallError),
    /// This replica's log failed.
    #[error("the local log: {0}")]
    Storage(#[from] StorageError),
}

/// What one follower replica follows.
#[derive(Debug, Clone)]
pub struct FollowTarget {
    /// This broker's id, sent as `replica_id`.
    pub replica_id: i32,
    /// The leader's broker id.
    pub leader_id: i32,
    /// The topic.
    pub topic: Arc<Topic>,
    /// The partition index.
    pub partition: i32,
    /// The leader's inter-broker listener, `host:port`.
    pub leader_address: String,
    /// How to connect and authenticate to it.
    pub security: ClientSecurity,
    /// The leader's epoch, as the controller elected it.
    pub leader_epoch: i32,
}

/// Replicates until aborted; failures (the leader not reachable, not yet aware it leads) are retried. A leader
/// that cannot be reached is reported to `unreachable`.
pub async fn follow(target: FollowTarget, log: Arc<PartitionLog>, unreachable: Arc<UnreachableLeaders>) {
    let mut failures = 0usize;
    loop {
        let outcome = replicate(&target, &log, &unreachable, &mut failures).await;
        let mut pause = BACKOFF[failures.min(BACKOFF.len() - 1)];
        match outcome {
            Err(FollowError::Leader(LeaderCallError::Refused(
                ResponseError::FencedLeaderEpoch
                | ResponseError::NotLeaderOrFollower
                | ResponseError::UnknownLeaderEpoch
                | ResponseError::UnknownTopicOrPartition,
            ))) => {
                tracing::debug!(
                    topic = target.topic.name(),
                    partition = target.partition,
                    "the leader is not ready yet"
                );
                pause = NOT_READY_PAUSE;
            }
            Err(e) => {
                failures += 1;
                if let FollowError::Leader(LeaderCallError::Io(io)) = &e {
                    if io.kind() == std::io::ErrorKind::ConnectionRefused {
                        unreachable.refused(target.leader_id);
                    }
                    unreachable.report(target.leader_id);
                }
                tracing::warn!(
                    topic = target.topic.name(),
                    partition = target.partition,
                    leader = target.leader_address,
                    error = %e,
                    "replicating from the leader; retrying"
                );
            }
        }
        tokio::time::sleep(pause).await;
    }
}

/// One connection's worth of replication: truncation, then fetches until something fails.
async fn replicate(
    target: &FollowTarget,
    log: &Arc<PartitionLog>,
    unreachable: &UnreachableLeaders,
    failures: &mut usize,
) -> Result<std::convert::Infallible, FollowError> {
    let mut leader = LeaderConnection::connect(&target.leader_address, &target.security, target.replica_id).await?;
    unreachable.connected(target.leader_id);
    truncate_to_leader(target, log, &mut leader).await?;
    let at = (target.topic.name(), target.partition);
    loop {
        let offset = log.log_end_offset();
        log.wait_durable(offset).await?;
        let fetched = match leader.fetch(at, target.leader_epoch, offset, FETCH_MAX_WAIT_MS, FETCH_MAX_BYTES).await {
            Err(LeaderCallError::BehindLogStart(log_start)) => {
                // Nothing this replica has is still on the leader: start over at the leader's log start.
                tracing::info!(
                    topic = at.0,
                    partition = at.1,
                    log_start,
                    "restarting a follower log at the leader's start"
                );
                off_the_runtime(log, move |log| log.truncate_fully_and_start_at(log_start)).await?;
                continue;
            }
            fetched => fetched?,
        };
        if !fetched.records.is_empty() {
            log.append_replicated(&fetched.records, &target.topic.config(), now_ms())?;
        }
        log.set_high_watermark_limit(Some(fetched.high_watermark));
        *failures = 0;
    }
}

/// Cuts this replica's log back to where it agrees with the leader: asks the leader where this replica's latest
/// epoch ends there (KIP-101); when the leader answers with an older epoch, this replica's own end of that epoch
/// also bounds the cut (KIP-279), so a log that diverged in an epoch the leader never saw is cut before it.
async fn truncate_to_leader(
    target: &FollowTarget,
    log: &Arc<PartitionLog>,
    leader: &mut LeaderConnection,
) -> Result<(), FollowError> {
    let local_epoch = log.leader_epoch();
    let at = (target.topic.name(), target.partition);
    let Some((epoch, leader_end)) = leader.end_offset_for_epoch(at, target.leader_epoch, local_epoch).await? else {
        tracing::warn!(
            topic = target.topic.name(),
            partition = target.partition,
            local_epoch,
            "the leader knows no epoch as old as this replica's; keeping the log as it is"
        );
        return Ok(());
    };
    let local_end = match epoch == local_epoch {
        true => log.log_end_offset(),
        false => log.end_offset_for_epoch(epoch).map_or(leader_end, |(_, end)| end),
    };
    let keep = leader_end.min(local_end);
    if keep < log.log_end_offset() {
        tracing::info!(
            topic = target.topic.name(),
            partition = target.partition,
            from = log.log_end_offset(),
            to = keep,
            epoch,
            "truncating a diverged follower log"
        );
        off_the_runtime(log, move |log| log.truncate_to(keep)).await?;
    }
    Ok(())
}

/// Runs a truncation of `log` on a blocking thread: it may wait for a compaction pass of the partition and reads
/// batch headers back, which must not hold up the runtime's threads.
async fn off_the_runtime(
    log: &Arc<PartitionLog>,
    truncate: impl FnOnce(&PartitionLog) -> Result<(), StorageError> + Send + 'static,
) -> Result<(), StorageError> {
    let log = Arc::clone(log);
    tokio::task::spawn_blocking(move || truncate(&log)).await.map_err(|e| StorageError::Io(std::io::Error::other(e)))?
}
