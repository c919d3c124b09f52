//! The group coordinator: every group's membership and committed offsets, kept in memory and stored in
//! `__consumer_offsets` (created on first use, replayed at start-up).
//!
//! Committed offsets are acknowledged only once their record is durable, and become visible to OffsetFetch at
//! the same moment. Group membership is stored after each completed rebalance without waiting for the fsync: a
//! lost membership record only makes members rejoin.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use kafka_protocol::ResponseError;
use tokio::sync::OnceCell;

use super::committed::CommittedOffsets;
use super::log_store;
use super::member::{JoinParams, JoinResult, SyncResult};
use super::membership::{Answer, GroupState, Membership, RebalanceSettings};
use super::offsets_topic::{partition_for, CommittedOffset, OffsetsKey, StoredGroup, OFFSETS_TOPIC};
use crate::broker::now_ms;
use crate::config::GroupConfig;
use crate::storage::{PartitionLog, StorageError};
use crate::topics::{Topic, TopicError, TopicManager};

#[derive(Debug)]
struct Group {
    membership: Membership,
    offsets: CommittedOffsets,
}

impl Group {
    fn new(now: Instant) -> Self {
        Group { membership: Membership::new(now), offsets: CommittedOffsets::default() }
    }

    /// An empty group with no offsets need not be kept.
    fn is_forgettable(&self) -> bool {
        self.membership.state() == GroupState::Empty && self.membership.is_empty() && self.offsets.is_empty()
    }
}

/// A group as ListGroups shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupListing {
    /// The group id.
    pub group_id: String,
    /// Its protocol type (empty for a group that only commits offsets).
    pub protocol_type: String,
    /// Its state.
    pub state: GroupState,
}

/// A member as DescribeGroups shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDescription {
    /// The member id.
    pub member_id: String,
    /// Its `group.instance.id`, if static.
    pub instance_id: Option<String>,
    /// The client id.
    pub client_id: String,
    /// The address it connected from.
    pub client_host: String,
    /// Its metadata for the chosen protocol.
    pub metadata: Bytes,
    /// Its assignment.
    pub assignment: Bytes,
}

/// A group as DescribeGroups shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    /// Its state.
    pub state: GroupState,
    /// Its protocol type.
    pub protocol_type: String,
    /// The chosen protocol, while it has members.
    pub protocol: String,
    /// The members (with assignments once stable).
    pub members: Vec<MemberDescription>,
}

/// One partition's offset in an OffsetCommit.
#[derive(Debug, Clone)]
pub struct OffsetCommit {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// What to store.
    pub committed: CommittedOffset,
}

/// Who sends an OffsetCommit.
#[derive(Debug, Clone)]
pub struct Committer {
    /// The member id (empty for a commit from outside group management).
    pub member_id: String,
    /// The `group.instance.id`, if static.
    pub instance_id: Option<String>,
    /// The generation (-1 from outside group management).
    pub generation: i32,
}

/// The coordinator of every group on this broker.
#[derive(Debug)]
pub struct GroupCoordinator {
    config: GroupConfig,
    groups: Mutex<HashMap<String, Group>>,
    offsets_topic: OnceCell<Arc<Topic>>,
}

/// The per-partition results of a commit or offset deletion, in request order.
pub type PartitionResults = Vec<Option<ResponseError>>;

impl GroupCoordinator {
    /// Loads every group from `__consumer_offsets` if it exists.
    pub fn load(config: GroupConfig, topics: &TopicManager) -> Result<Self, StorageError> {
        let coordinator =
            GroupCoordinator { config, groups: Mutex::new(HashMap::new()), offsets_topic: OnceCell::new() };
        if let Some(topic) = topics.get(OFFSETS_TOPIC) {
            for (partition, log) in topic.partitions().iter().enumerate() {
                coordinator.load_partition(log, partition as i32, topic.partition_count())?;
            }
            tracing::info!(groups = coordinator.lock().len(), "group coordinator loaded __consumer_offsets");
            let _ = coordinator.offsets_topic.set(topic);
        }
        Ok(coordinator)
    }

    /// Takes over the groups of one `__consumer_offsets` partition (of `partitions`) from its log, replacing what
    /// was held for them: at start-up, and in a cluster when this broker becomes the partition's leader. Reads up
    /// to the durable end, which a new leader holds even before its high watermark has caught up.
    pub fn load_partition(&self, log: &PartitionLog, partition: i32, partitions: i32) -> Result<(), StorageError> {
        let now = Instant::now();
        let mut replayed = HashMap::new();
        let mut stored_groups: HashMap<String, Option<StoredGroup>> = HashMap::new();
        log_store::replay(log, |key, value, position| {
            replay_record(&mut replayed, &mut stored_groups, key, value, position, now);
        })?;
        for (id, stored) in stored_groups {
            let group = replayed.entry(id).or_insert_with(|| Group::new(now));
            if let Some(stored) = stored {
                group.membership = Membership::restore(stored, now);
            }
        }
        replayed.retain(|_, g| !g.is_forgettable());
        let mut groups = self.lock();
        groups.retain(|id, _| partition_for(id, partitions) != partition);
        groups.extend(replayed);
        Ok(())
    }

    /// Lets go of the groups of one `__consumer_offsets` partition: this broker no longer leads it, and their
    /// members now find the new coordinator.
    pub fn unload_partition(&self, partition: i32, partitions: i32) {
        self.lock().retain(|id, _| partition_for(id, partitions) != partition);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Group>> {
        self.groups.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn settings(&self) -> RebalanceSettings {
        RebalanceSettings { initial_delay: self.config.initial_rebalance_delay }
    }

    /// `__consumer_offsets`, created (compacted, `offsets.topic.num.partitions` partitions) on first use. In a
    /// cluster the topic arrives through the controller instead, and the local topics refuse to create it.
    pub async fn offsets_topic(&self, topics: &TopicManager) -> Result<Arc<Topic>, ResponseError> {
        let created = self
            .offsets_topic
            .get_or_try_init(|| async {
                if let Some(topic) = topics.get(OFFSETS_TOPIC) {
                    return Ok(topic);
                }
                let overrides = offsets_topic_overrides();
                let partitions = self.config.offsets_topic_partitions;
                match topics.create(OFFSETS_TOPIC, partitions, 1, overrides, false, now_ms()).await {
                    Err(TopicError::AlreadyExists(_)) => {
                        topics.get(OFFSETS_TOPIC).ok_or(TopicError::Unknown(OFFSETS_TOPIC.into()))
                    }
                    other => other,
                }
            })
            .await;
        created.cloned().map_err(|e| {
            tracing::error!(error = %e, "cannot create __consumer_offsets");
            ResponseError::CoordinatorNotAvailable
        })
    }

    /// Stores the group's membership if a rebalance completed or it emptied. Not awaited: see the module docs.
    fn store_membership(&self, group_id: &str, group: &mut Group) {
        let Some(stored) = group.membership.take_changes(now_ms()) else {
            return;
        };
        let Some(topic) = self.offsets_topic.get() else {
            return;
        };
        let key = OffsetsKey::Group { group: group_id.to_owned() }.encode();
        let partition = partition_for(group_id, topic.partition_count());
        if let Err(e) = log_store::append(topic, partition, &[(key, Some(stored.encode()))]) {
            tracing::warn!(group = group_id, error = %e, "storing group membership failed");
        }
    }

    /// Handles a JoinGroup.
    pub async fn join(&self, topics: &TopicManager, group_id: &str, params: JoinParams) -> JoinResult {
        if group_id.is_empty() {
            return JoinResult::error(ResponseError::InvalidGroupId, &params.member_id);
        }
        if params.session_timeout < self.config.min_session_timeout
            || params.session_timeout > self.config.max_session_timeout
        {
            return JoinResult::error(ResponseError::InvalidSessionTimeout, &params.member_id);
        }
        if let Err(error) = self.offsets_topic(topics).await {
            return JoinResult::error(error, &params.member_id);
        }
        let member_id = params.member_id.clone();
        let answer = {
            let mut groups = self.lock();
            let group = groups.entry(group_id.to_owned()).or_insert_with(|| Group::new(Instant::now()));
            let answer = group.membership.join(params, Instant::now(), self.settings());
            self.store_membership(group_id, group);
            answer
        };
        match answer {
            Answer::Now(result) => result,
            Answer::Later(rx) => {
                rx.await.unwrap_or_else(|_| JoinResult::error(ResponseError::RebalanceInProgress, &member_id))
            }
        }
    }

    /// Handles a SyncGroup.
    pub async fn sync(
        &self,
        group_id: &str,
        member: (&str, Option<&str>, i32),
        protocol: (Option<&str>, Option<&str>),
        assignments: Vec<(String, Bytes)>,
    ) -> SyncResult {
        let (member_id, instance_id, generation) = member;
        if group_id.is_empty() {
            return SyncResult::error(ResponseError::InvalidGroupId);
        }
        let answer = {
            let mut groups = self.lock();
            let Some(group) = groups.get_mut(group_id) else {
                return SyncResult::error(ResponseError::UnknownMemberId);
            };
            let answer =
                group.membership.sync(member_id, instance_id, generation, protocol, assignments, Instant::now());
            self.store_membership(group_id, group);
            answer
        };
        match answer {
            Answer::Now(result) => result,
            Answer::Later(rx) => rx.await.unwrap_or_else(|_| SyncResult::error(ResponseError::RebalanceInProgress)),
        }
    }

    /// Handles a Heartbeat.
    pub fn heartbeat(
        &self,
        group_id: &str,
        member_id: &str,
        instance_id: Option<&str>,
        generation: i32,
    ) -> Option<ResponseError> {
        if group_id.is_empty() {
            return Some(ResponseError::InvalidGroupId);
        }
        let mut groups = self.lock();
        let Some(group) = groups.get_mut(group_id) else {
            return Some(ResponseError::UnknownMemberId);
        };
        group.membership.heartbeat(member_id, instance_id, generation, Instant::now())
    }

    /// Handles a LeaveGroup: one result per member.
    pub fn leave(
        &self,
        group_id: &str,
        members: &[(String, Option<String>)],
    ) -> Result<PartitionResults, ResponseError> {
        if group_id.is_empty() {
            return Err(ResponseError::InvalidGroupId);
        }
        let mut groups = self.lock();
        let Some(group) = groups.get_mut(group_id) else {
            return Err(ResponseError::UnknownMemberId);
        };
        let now = Instant::now();
        let results = members
            .iter()
            .map(|(member_id, instance_id)| {
                group.membership.leave(member_id, instance_id.as_deref(), now, self.settings())
            })
            .collect();
        self.store_membership(group_id, group);
        Ok(results)
    }

    /// Handles an OffsetCommit: validates the committer, stores the offsets, and answers once they are durable.
    pub async fn commit(
        &self,
        topics: &TopicManager,
        group_id: &str,
        committer: &Committer,
        offsets: Vec<OffsetCommit>,
    ) -> Result<PartitionResults, ResponseError> {
        if group_id.is_empty() {
            return Err(ResponseError::InvalidGroupId);
        }
        let offsets_topic = self.offsets_topic(topics).await?;
        let results: PartitionResults = offsets.iter().map(|o| self.check_partition(topics, o)).collect();
        let accepted: Vec<&OffsetCommit> =
            offsets.iter().zip(&results).filter(|(_, r)| r.is_none()).map(|(o, _)| o).collect();
        let (log, info) = {
            let mut groups = self.lock();
            let exists = groups.contains_key(group_id);
            if !exists && committer.generation >= 0 {
                return Err(ResponseError::IllegalGeneration);
            }
            let group = groups.entry(group_id.to_owned()).or_insert_with(|| Group::new(Instant::now()));
            let refused = group.membership.check_commit(
                &committer.member_id,
                committer.instance_id.as_deref(),
                committer.generation,
            );
            if let Some(error) = refused {
                if group.is_forgettable() {
                    groups.remove(group_id);
                }
                return Err(error);
            }
            if accepted.is_empty() {
                return Ok(results);
            }
            let records: Vec<(Bytes, Option<Bytes>)> = accepted
                .iter()
                .map(|o| {
                    let key = OffsetsKey::Offset {
                        group: group_id.to_owned(),
                        topic: o.topic.clone(),
                        partition: o.partition,
                    };
                    (key.encode(), Some(o.committed.encode()))
                })
                .collect();
            let partition = partition_for(group_id, offsets_topic.partition_count());
            log_store::append(&offsets_topic, partition, &records).map_err(|e| commit_failure(&e))?
        };
        wait_replicated(&log, info.last_offset + 1).await?;
        let mut groups = self.lock();
        let group = groups.entry(group_id.to_owned()).or_insert_with(|| Group::new(Instant::now()));
        for (i, o) in accepted.into_iter().enumerate() {
            group.offsets.apply(&o.topic, o.partition, Some(o.committed.clone()), info.base_offset + i as i64);
        }
        Ok(results)
    }

    fn check_partition(&self, topics: &TopicManager, commit: &OffsetCommit) -> Option<ResponseError> {
        if commit.committed.metadata.len() > self.config.offset_metadata_max_bytes {
            return Some(ResponseError::OffsetMetadataTooLarge);
        }
        match topics.get(&commit.topic) {
            Some(topic) if topic.partition(commit.partition).is_some() => None,
            _ => Some(ResponseError::UnknownTopicOrPartition),
        }
    }

    /// The committed offsets of a group: of the partitions asked for, or all of them when `partitions` is `None`.
    pub fn fetch_offsets(
        &self,
        group_id: &str,
        partitions: Option<&[(String, Vec<i32>)]>,
    ) -> Vec<(String, i32, Option<CommittedOffset>)> {
        let groups = self.lock();
        let offsets = groups.get(group_id).map(|g| &g.offsets);
        match partitions {
            Some(asked) => asked
                .iter()
                .flat_map(|(topic, ps)| ps.iter().map(move |&p| (topic.clone(), p)))
                .map(|(topic, p)| {
                    let committed = offsets.and_then(|o| o.get(&topic, p)).cloned();
                    (topic, p, committed)
                })
                .collect(),
            None => offsets
                .map(|o| o.iter().map(|(t, p, c)| (t.to_owned(), p, Some(c.clone()))).collect())
                .unwrap_or_default(),
        }
    }

    /// Every group on this coordinator.
    pub fn list(&self) -> Vec<GroupListing> {
        let groups = self.lock();
        let mut listing: Vec<GroupListing> = groups
            .iter()
            .map(|(id, g)| GroupListing {
                group_id: id.clone(),
                protocol_type: g.membership.protocol_type().unwrap_or_default().to_owned(),
                state: g.membership.state(),
            })
            .collect();
        listing.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        listing
    }

    /// A group's state and members, or `None` when the group does not exist.
    pub fn describe(&self, group_id: &str) -> Option<GroupDescription> {
        let groups = self.lock();
        let group = groups.get(group_id)?;
        let m = &group.membership;
        let protocol = m.protocol().unwrap_or_default().to_owned();
        let stable = m.state() == GroupState::Stable;
        let members = m
            .members_in_join_order()
            .map(|member| MemberDescription {
                member_id: member.id.clone(),
                instance_id: member.instance_id.clone(),
                client_id: member.client_id.clone(),
                client_host: member.client_host.clone(),
                metadata: member.metadata(&protocol),
                assignment: if stable { member.assignment.clone() } else { Bytes::new() },
            })
            .collect();
        Some(GroupDescription {
            state: m.state(),
            protocol_type: m.protocol_type().unwrap_or_default().to_owned(),
            protocol,
            members,
        })
    }

    /// Deletes an empty group and its offsets (tombstones in `__consumer_offsets`, durable before the answer).
    pub async fn delete(&self, topics: &TopicManager, group_id: &str) -> Option<ResponseError> {
        let offsets_topic = match self.offsets_topic(topics).await {
            Ok(topic) => topic,
            Err(error) => return Some(error),
        };
        let (log, info) = {
            let mut groups = self.lock();
            let Some(group) = groups.get(group_id) else {
                return Some(ResponseError::GroupIdNotFound);
            };
            if !group.membership.is_empty() || group.membership.state() != GroupState::Empty {
                return Some(ResponseError::NonEmptyGroup);
            }
            let mut records: Vec<(Bytes, Option<Bytes>)> = group
                .offsets
                .iter()
                .map(|(topic, partition, _)| {
                    (OffsetsKey::Offset { group: group_id.into(), topic: topic.into(), partition }.encode(), None)
                })
                .collect();
            records.push((OffsetsKey::Group { group: group_id.into() }.encode(), None));
            let partition = partition_for(group_id, offsets_topic.partition_count());
            let appended = log_store::append(&offsets_topic, partition, &records);
            match appended {
                Ok(appended) => {
                    groups.remove(group_id);
                    appended
                }
                Err(e) => return Some(commit_failure(&e)),
            }
        };
        wait_replicated(&log, info.last_offset + 1).await.err()
    }

    /// Deletes committed offsets of topics the group does not subscribe to (OffsetDelete).
    pub async fn delete_offsets(
        &self,
        topics: &TopicManager,
        group_id: &str,
        partitions: &[(String, i32)],
    ) -> Result<PartitionResults, ResponseError> {
        let offsets_topic = self.offsets_topic(topics).await?;
        let (log, info, results) = {
            let mut groups = self.lock();
            let Some(group) = groups.get_mut(group_id) else {
                return Err(ResponseError::GroupIdNotFound);
            };
            let subscribed = group.membership.subscribed_topics();
            let results: PartitionResults = partitions
                .iter()
                .map(|(topic, _)| subscribed.contains(topic).then_some(ResponseError::GroupSubscribedToTopic))
                .collect();
            let doomed: Vec<&(String, i32)> = partitions
                .iter()
                .zip(&results)
                .filter(|((topic, p), r)| r.is_none() && group.offsets.get(topic, *p).is_some())
                .map(|(tp, _)| tp)
                .collect();
            if doomed.is_empty() {
                return Ok(results);
            }
            let records: Vec<(Bytes, Option<Bytes>)> = doomed
                .iter()
                .map(|(topic, p)| {
                    (OffsetsKey::Offset { group: group_id.into(), topic: topic.clone(), partition: *p }.encode(), None)
                })
                .collect();
            let partition = partition_for(group_id, offsets_topic.partition_count());
            let (log, info) = log_store::append(&offsets_topic, partition, &records).map_err(|e| commit_failure(&e))?;
            for (i, (topic, p)) in doomed.iter().enumerate() {
                group.offsets.apply(topic, *p, None, info.base_offset + i as i64);
            }
            (log, info, results)
        };
        wait_replicated(&log, info.last_offset + 1).await?;
        Ok(results)
    }

    /// Expires sessions, completes rebalances whose deadline passed and forgets groups that never formed.
    /// Called periodically.
    pub fn tick(&self) {
        let now = Instant::now();
        let mut groups = self.lock();
        for (id, group) in groups.iter_mut() {
            group.membership.tick(now, self.settings());
            self.store_membership(id, group);
        }
        // Refused joins and commits can leave groups that never formed a generation and hold nothing; they need
        // not be kept. A group that had members stays (Empty) as in Kafka.
        groups.retain(|_, group| !group.is_forgettable() || group.membership.generation() > 0);
    }
}

fn replay_record(
    groups: &mut HashMap<String, Group>,
    stored_groups: &mut HashMap<String, Option<StoredGroup>>,
    key: &[u8],
    value: Option<&Bytes>,
    position: i64,
    now: Instant,
) {
    let key = match OffsetsKey::decode(key) {
        Ok(key) => key,
        Err(e) => {
            tracing::warn!(offset = position, error = %e, "skipping an unreadable __consumer_offsets key");
            return;
        }
    };
    match key {
        OffsetsKey::Offset { group, topic, partition } => {
            let value = value.map(|v| CommittedOffset::decode(v));
            let committed = match value {
                Some(Ok(committed)) => Some(committed),
                None => None,
                Some(Err(e)) => {
                    tracing::warn!(offset = position, error = %e, "skipping an unreadable committed offset");
                    return;
                }
            };
            groups
                .entry(group)
                .or_insert_with(|| Group::new(now))
                .offsets
                .apply(&topic, partition, committed, position);
        }
        OffsetsKey::Group { group } => {
            let stored = value.and_then(|v| {
                StoredGroup::decode(v)
                    .map_err(|e| tracing::warn!(error = %e, "skipping unreadable group metadata"))
                    .ok()
            });
            stored_groups.insert(group, stored);
        }
    }
}

/// Waits until the write is on every in-sync replica of its `__consumer_offsets` partition (the high watermark;
/// on a single node, this broker's disk), so that a coordinator that moves finds it.
async fn wait_replicated(log: &PartitionLog, end: i64) -> Result<(), ResponseError> {
    log.wait_high_watermark(end).await.map_err(|e| commit_failure(&e))
}

/// Kafka's mapping of a failed write to `__consumer_offsets` for the group APIs.
fn commit_failure(error: &StorageError) -> ResponseError {
    tracing::error!(error = %error, "writing __consumer_offsets failed");
    match error {
        StorageError::Offline => ResponseError::CoordinatorNotAvailable,
        _ => ResponseError::UnknownServerError,
    }
}

/// The config overrides `__consumer_offsets` is created with: compacted, as Kafka's.
pub fn offsets_topic_overrides() -> BTreeMap<String, String> {
    BTreeMap::from([("cleanup.policy".to_owned(), "compact".to_owned())])
}
