//! A consumer group member inside the broker's process: the classic "consumer" protocol spoken directly to the
//! broker's [`GroupCoordinator`](tidemark_broker::group::GroupCoordinator), no sockets.
//!
//! The member announces its subscription as Kafka's clients do (`ConsumerProtocolSubscription` under the `range`
//! assignor, `protocol`), so Kafka's tools describe it like any consumer. Its first poll joins the group
//! (`join`: a task of its own, so it goes on between polls); when it leads, it computes the range assignment
//! (`assignor`) of every member's subscribed partitions. Each assigned partition is read from the group's
//! committed offset, or from the earliest offset, through the same [`Cursor`]s as the in-process reader, several
//! partitions per poll, waiting on the broker's log activity when none has records.
//!
//! Heartbeats run in the background (`session`); when the group rebalances, the next poll gives up the partitions
//! and rejoins (eager rebalancing). Every few seconds the member looks again at what it subscribes to: a pattern's
//! matches changed, or (for the leader) a subscribed topic's partition count changed, and it rejoins so the
//! assignment follows. Committed offsets and the offsets admin calls (`offsets`) go through the coordinator too.

mod assignor;
mod join;
mod offsets;
mod protocol;
mod session;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use tidemark_broker::group::{CommittedOffset, Committer, OffsetCommit};
use tidemark_broker::{now_ms, Broker};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::errors::group_error;
use super::reader::Cursor;
use crate::group::{check_settings, TopicPattern};
use crate::{GroupConsumer, LogError, Subscription, TopicOffset, TopicRecord};
use join::{partition_count, JoinRequest, Joined};
use session::Session;

pub use offsets::{alter_group_offsets, group_offsets};

/// The session timeout members ask for, within the broker's bounds.
const SESSION_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a rebalance waits for a member to rejoin (at least the session timeout).
const REBALANCE_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a member looks again at its pattern's matches and, leading, at the subscribed partition counts.
const TOPIC_RECHECK: Duration = Duration::from_secs(3);

/// What a member subscribes to.
#[derive(Debug)]
enum Wanted {
    Topics(Vec<String>),
    Pattern(TopicPattern),
}

impl Wanted {
    /// The topics subscribed to now, sorted.
    fn topics(&self, broker: &Broker) -> Vec<String> {
        let mut topics: Vec<String> = match self {
            Wanted::Topics(topics) => topics.clone(),
            Wanted::Pattern(pattern) => {
                broker.topics().list().iter().map(|t| t.name().to_owned()).filter(|t| pattern.matches(t)).collect()
            }
        };
        topics.sort();
        topics.dedup();
        topics
    }
}

/// A member of a consumer group of a broker in this process.
#[derive(Debug)]
pub struct InProcessGroupConsumer {
    broker: Arc<Broker>,
    group: String,
    wanted: Wanted,
    max_poll_records: usize,
    session_timeout: Duration,
    rebalance_timeout: Duration,
    session: Arc<Session>,
    /// Started on the first poll (which runs inside the runtime).
    heartbeats: Option<JoinHandle<()>>,
    /// The join in flight.
    joining: Option<JoinHandle<Result<Joined, LogError>>>,
    /// The topics announced in the last join.
    subscribed: Vec<String>,
    /// For the leader: the partition counts its assignment was computed from.
    watched: Option<BTreeMap<String, i32>>,
    next_recheck: Instant,
    /// The partitions assigned in the generation held.
    assigned: Vec<(String, i32)>,
    /// A cursor per assigned partition still there (a deleted topic's are dropped).
    cursors: Vec<Cursor>,
    /// Which cursor reads first in the next poll, in turn so that no partition starves another.
    turn: usize,
    /// Raised whenever a high watermark advances anywhere on the broker.
    activity: watch::Receiver<u64>,
}

impl InProcessGroupConsumer {
    /// A member of `group` of `broker` reading `subscription`, at most `max_poll_records` records per poll.
    pub fn new(
        broker: Arc<Broker>,
        group: &str,
        subscription: Subscription,
        max_poll_records: usize,
    ) -> Result<Self, LogError> {
        check_settings(group, &subscription, max_poll_records)?;
        let wanted = match subscription {
            Subscription::Topics(topics) => Wanted::Topics(topics),
            Subscription::Pattern(pattern) => Wanted::Pattern(TopicPattern::new(&pattern)?),
        };
        let bounds = &broker.config().groups;
        let session_timeout = SESSION_TIMEOUT.max(bounds.min_session_timeout).min(bounds.max_session_timeout);
        let activity = broker.topics().activity().subscribe();
        Ok(InProcessGroupConsumer {
            group: group.to_owned(),
            wanted,
            max_poll_records,
            session_timeout,
            rebalance_timeout: REBALANCE_TIMEOUT.max(session_timeout),
            session: Arc::new(Session::default()),
            heartbeats: None,
            joining: None,
            subscribed: Vec::new(),
            watched: None,
            next_recheck: Instant::now() + TOPIC_RECHECK,
            assigned: Vec::new(),
            cursors: Vec::new(),
            turn: 0,
            activity,
            broker,
        })
    }

    async fn next(&mut self, max_wait: Duration) -> Result<Vec<TopicRecord>, LogError> {
        let deadline = Instant::now() + max_wait;
        if self.heartbeats.is_none() {
            let (broker, group, session) = (Arc::clone(&self.broker), self.group.clone(), Arc::clone(&self.session));
            let interval = self.session_timeout / 3;
            self.heartbeats = Some(tokio::spawn(session::run_heartbeats(broker, group, session, interval)));
        }
        loop {
            self.recheck();
            if self.joining.is_none() && self.session.needs_join() {
                self.start_join();
            }
            if let Some(joining) = self.joining.as_mut() {
                // The join goes on in its task when this call ends first.
                let Ok(joined) = tokio::time::timeout_at(deadline, joining).await else {
                    return Ok(Vec::new());
                };
                self.joining = None;
                let joined =
                    joined.unwrap_or_else(|e| Err(LogError::Unavailable(format!("the join task failed: {e}"))));
                match joined {
                    Ok(joined) => self.adopt(joined),
                    Err(e) => {
                        self.session.end_join(None);
                        return Err(e);
                    }
                }
                continue;
            }
            // Marked seen before reading, so that data arriving during the read wakes the wait below.
            self.activity.borrow_and_update();
            let records = self.read_round().await?;
            if !records.is_empty() || Instant::now() >= deadline {
                return Ok(records);
            }
            let wake_at = deadline.min(self.next_recheck);
            tokio::select! {
                changed = self.activity.changed() => {
                    if changed.is_err() {
                        return Err(LogError::Unavailable("the broker has shut down".into()));
                    }
                }
                () = self.session.woken() => {}
                () = tokio::time::sleep_until(wake_at) => {}
            }
        }
    }

    /// Gives up the partitions held and starts joining with the topics subscribed to now.
    fn start_join(&mut self) {
        self.assigned.clear();
        self.cursors.clear();
        self.watched = None;
        self.subscribed = self.wanted.topics(&self.broker);
        self.next_recheck = Instant::now() + TOPIC_RECHECK;
        self.session.begin_join();
        let request = JoinRequest {
            broker: Arc::clone(&self.broker),
            group: self.group.clone(),
            session: Arc::clone(&self.session),
            topics: self.subscribed.clone(),
            session_timeout: self.session_timeout,
            rebalance_timeout: self.rebalance_timeout,
        };
        self.joining = Some(tokio::spawn(join::join(request)));
    }

    /// Takes the partitions of a completed join, each from the group's committed offset or the earliest one.
    fn adopt(&mut self, joined: Joined) {
        let mut by_topic: Vec<(String, Vec<i32>)> = Vec::new();
        for (topic, partition) in &joined.assignment {
            match by_topic.last_mut() {
                Some((last, partitions)) if last == topic => partitions.push(*partition),
                _ => by_topic.push((topic.clone(), vec![*partition])),
            }
        }
        let committed = self.broker.groups().fetch_offsets(&self.group, Some(&by_topic));
        self.cursors = committed
            .into_iter()
            .filter_map(|(topic, partition, committed)| {
                let log = self.broker.topics().get(&topic)?.partition(partition)?;
                Some(Cursor::new(&topic, partition, log, committed.map_or(0, |c| c.offset)))
            })
            .collect();
        tracing::debug!(group = self.group, generation = joined.generation, assignment = ?joined.assignment, "joined");
        self.assigned = joined.assignment;
        self.watched = joined.watched;
    }

    /// Every [`TOPIC_RECHECK`], marks the member for rejoining when its assignment no longer fits the topics.
    fn recheck(&mut self) {
        let now = Instant::now();
        if now < self.next_recheck {
            return;
        }
        self.next_recheck = now + TOPIC_RECHECK;
        if self.session.generation().is_none() {
            return;
        }
        let resubscribe =
            matches!(self.wanted, Wanted::Pattern(_)) && self.wanted.topics(&self.broker) != self.subscribed;
        let repartitioned = self
            .watched
            .as_ref()
            .is_some_and(|watched| watched.iter().any(|(topic, &count)| partition_count(&self.broker, topic) != count));
        if resubscribe || repartitioned {
            tracing::info!(group = self.group, resubscribe, repartitioned, "subscribed topics changed; rejoining");
            self.session.request_rejoin();
        }
    }

    /// Records available now from the cursors, up to `max_poll_records`, each cursor moved past what it gave.
    async fn read_round(&mut self) -> Result<Vec<TopicRecord>, LogError> {
        if !self.cursors.iter().any(|c| c.has_news() || c.is_closed()) {
            // Nothing to read: no blocking task needed (the broker wakes readers on any partition's progress).
            return Ok(Vec::new());
        }
        let cursors = self.cursors.clone();
        let first = self.turn % cursors.len();
        self.turn = self.turn.wrapping_add(1);
        let limit = self.max_poll_records;
        let read = tokio::task::spawn_blocking(move || read_cursors(cursors, first, limit))
            .await
            .map_err(|e| LogError::Unavailable(format!("the read task failed: {e}")))?;
        // Positions move only here, so a call dropped while reading loses nothing.
        let (records, moved) = read?;
        for (cursor, moved) in self.cursors.iter_mut().zip(moved) {
            *cursor = moved;
        }
        self.cursors.retain(|cursor| {
            let closed = cursor.is_closed();
            if closed {
                tracing::info!(topic = cursor.topic(), partition = cursor.partition(), "assigned topic was deleted");
            }
            !closed
        });
        Ok(records)
    }

    async fn commit_offsets(&mut self, offsets: &[TopicOffset]) -> Result<(), LogError> {
        if offsets.is_empty() {
            return Ok(());
        }
        let Some((member_id, generation)) = self.session.generation() else {
            return Err(LogError::Rebalanced(format!("the member of group {} holds no assignment", self.group)));
        };
        let commits = offsets
            .iter()
            .map(|(topic, partition, offset)| OffsetCommit {
                topic: topic.clone(),
                partition: *partition,
                committed: CommittedOffset {
                    offset: *offset,
                    leader_epoch: -1,
                    metadata: String::new(),
                    commit_timestamp: now_ms(),
                },
            })
            .collect();
        let committer = Committer { member_id, instance_id: None, generation };
        let committed = self.broker.groups().commit(self.broker.topics(), &self.group, &committer, commits).await;
        let results = committed.map_err(|error| {
            self.session.group_moved_on(generation, error);
            group_error(error, &format!("committing offsets of group {}", self.group))
        })?;
        for ((topic, partition, _), result) in offsets.iter().zip(results) {
            if let Some(error) = result {
                return Err(group_error(error, &format!("committing {topic} partition {partition}")));
            }
        }
        Ok(())
    }
}

/// Reads from `cursors` in turn starting at `first`, up to `limit` records in all; returns them and the cursors
/// moved past them. Cursors of deleted topics are skipped. Blocking: reads files.
fn read_cursors(
    mut cursors: Vec<Cursor>,
    first: usize,
    limit: usize,
) -> Result<(Vec<TopicRecord>, Vec<Cursor>), LogError> {
    let count = cursors.len();
    let mut records = Vec::new();
    for i in 0..count {
        if records.len() >= limit {
            break;
        }
        let cursor = &mut cursors[(first + i) % count];
        if cursor.is_closed() {
            continue;
        }
        let read = cursor.read(limit - records.len())?;
        records.extend(read.into_iter().map(|record| TopicRecord { topic: cursor.topic().to_owned(), record }));
    }
    Ok((records, cursors))
}

impl GroupConsumer for InProcessGroupConsumer {
    fn poll(&mut self, max_wait: Duration) -> BoxFuture<'_, Result<Vec<TopicRecord>, LogError>> {
        self.next(max_wait).boxed()
    }

    fn commit<'a>(&'a mut self, offsets: &'a [TopicOffset]) -> BoxFuture<'a, Result<(), LogError>> {
        self.commit_offsets(offsets).boxed()
    }

    fn assignment(&self) -> Vec<(String, i32)> {
        self.assigned.clone()
    }

    fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
        let (broker, group, member_id) = (Arc::clone(&self.broker), self.group.clone(), self.session.member_id());
        // Stops the heartbeats and any join in flight.
        drop(self);
        async move {
            if member_id.is_empty() {
                return;
            }
            match broker.groups().leave(&group, &[(member_id.clone(), None)]) {
                Ok(results) if results.iter().all(Option::is_none) => {}
                Ok(results) => tracing::debug!(group, member = member_id, ?results, "leaving the group"),
                Err(error) => tracing::debug!(group, member = member_id, %error, "leaving the group"),
            }
        }
        .boxed()
    }
}

impl Drop for InProcessGroupConsumer {
    fn drop(&mut self) {
        if let Some(heartbeats) = self.heartbeats.take() {
            heartbeats.abort();
        }
        if let Some(joining) = self.joining.take() {
            joining.abort();
        }
    }
}
