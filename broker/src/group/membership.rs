//! The classic group protocol's state machine (Kafka's `ClassicGroup`): members join, one leader assigns,
//! everyone syncs, heartbeats keep members alive. Pure logic with the clock passed in; the coordinator does I/O.
//!
//! States: `Empty` → `PreparingRebalance` (waiting for every member to (re)join) → `CompletingRebalance`
//! (waiting for the leader's SyncGroup) → `Stable`. A join, a leave or an expired session sends a stable group
//! back to `PreparingRebalance`. Each completed join phase bumps the generation; requests from an older
//! generation are refused (ILLEGAL_GENERATION), and a static member replaced by a newer instance of itself is
//! fenced (FENCED_INSTANCE_ID).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::ResponseError;
use tokio::sync::oneshot;

use super::member::{JoinParams, JoinResult, JoinedMember, Member, SyncResult};
use super::offsets_topic::{StoredGroup, StoredMember};

/// A group's state, named as Kafka names it in DescribeGroups and ListGroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    /// No members.
    Empty,
    /// Waiting for members to (re)join.
    PreparingRebalance,
    /// Waiting for the leader's assignment.
    CompletingRebalance,
    /// Members have their assignments.
    Stable,
}

impl GroupState {
    /// Kafka's name for the state.
    pub fn name(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
        }
    }
}

/// What a JoinGroup or SyncGroup gets: an answer now, or one that arrives when the phase completes.
#[derive(Debug)]
pub enum Answer<T> {
    /// Answered at once.
    Now(T),
    /// Answered when the rebalance phase completes.
    Later(oneshot::Receiver<T>),
}

/// The membership of one group.
#[derive(Debug)]
pub struct Membership {
    state: GroupState,
    generation: i32,
    protocol_type: Option<String>,
    protocol: Option<String>,
    leader: Option<String>,
    members: BTreeMap<String, Member>,
    /// `group.instance.id` → current member id.
    static_members: HashMap<String, String>,
    /// Member ids handed out with MEMBER_ID_REQUIRED, valid until the instant given.
    pending_members: HashMap<String, Instant>,
    rebalance_started: Instant,
    initial_delay_until: Option<Instant>,
    sync_deadline: Option<Instant>,
    next_join_order: u64,
    /// A rebalance completed or the group emptied since the coordinator last stored it.
    changed: bool,
}

/// Coordinator-wide settings the state machine needs.
#[derive(Debug, Clone, Copy)]
pub struct RebalanceSettings {
    /// `group.initial.rebalance.delay.ms`.
    pub initial_delay: Duration,
}

impl Membership {
    /// An empty group.
    pub fn new(now: Instant) -> Self {
        Membership {
            state: GroupState::Empty,
            generation: 0,
            protocol_type: None,
            protocol: None,
            leader: None,
            members: BTreeMap::new(),
            static_members: HashMap::new(),
            pending_members: HashMap::new(),
            rebalance_started: now,
            initial_delay_until: None,
            sync_deadline: None,
            next_join_order: 0,
            changed: false,
        }
    }

    /// A group as stored after its last rebalance: its members keep their ids, generation and assignments and
    /// get a fresh session timeout to resume heartbeating.
    pub fn restore(stored: StoredGroup, now: Instant) -> Self {
        let mut group = Membership::new(now);
        group.generation = stored.generation;
        group.protocol_type = Some(stored.protocol_type).filter(|t| !t.is_empty());
        group.protocol = stored.protocol;
        group.leader = stored.leader;
        for (order, m) in stored.members.into_iter().enumerate() {
            let protocol = group.protocol.clone().unwrap_or_default();
            let params = JoinParams {
                member_id: m.member_id.clone(),
                instance_id: m.instance_id.clone(),
                client_id: m.client_id,
                client_host: m.client_host,
                session_timeout: millis(m.session_timeout_ms),
                rebalance_timeout: millis(m.rebalance_timeout_ms),
                protocol_type: String::new(),
                protocols: vec![(protocol, m.subscription)],
                requires_known_member_id: true,
            };
            let mut member = Member::new(m.member_id.clone(), &params, order as u64, now);
            member.assignment = m.assignment;
            if let Some(instance) = m.instance_id {
                group.static_members.insert(instance, m.member_id.clone());
            }
            group.members.insert(m.member_id, member);
        }
        group.next_join_order = group.members.len() as u64;
        group.state = if group.members.is_empty() { GroupState::Empty } else { GroupState::Stable };
        group
    }

    /// The group as it should be stored, if it changed since the last call.
    pub fn take_changes(&mut self, now_ms: i64) -> Option<StoredGroup> {
        if !std::mem::take(&mut self.changed) {
            return None;
        }
        let protocol = self.protocol.clone().unwrap_or_default();
        let members = self
            .members_in_join_order()
            .map(|m| StoredMember {
                member_id: m.id.clone(),
                instance_id: m.instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                rebalance_timeout_ms: m.rebalance_timeout.as_millis() as i32,
                session_timeout_ms: m.session_timeout.as_millis() as i32,
                subscription: m.metadata(&protocol),
                assignment: m.assignment.clone(),
            })
            .collect();
        Some(StoredGroup {
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            generation: self.generation,
            protocol: self.protocol.clone(),
            leader: self.leader.clone(),
            state_timestamp: now_ms,
            members,
        })
    }

    /// The current state.
    pub fn state(&self) -> GroupState {
        self.state
    }

    /// The current generation.
    pub fn generation(&self) -> i32 {
        self.generation
    }

    /// The protocol type, once a member has joined.
    pub fn protocol_type(&self) -> Option<&str> {
        self.protocol_type.as_deref()
    }

    /// The chosen protocol, while the group has members.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Whether the group has no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.pending_members.is_empty()
    }

    /// The members, the first to join first.
    pub fn members_in_join_order(&self) -> impl Iterator<Item = &Member> {
        let mut members: Vec<&Member> = self.members.values().collect();
        members.sort_by_key(|m| m.join_order);
        members.into_iter()
    }

    /// Handles a JoinGroup.
    pub fn join(&mut self, params: JoinParams, now: Instant, settings: RebalanceSettings) -> Answer<JoinResult> {
        if let Some(error) = self.check_protocols(&params) {
            return Answer::Now(JoinResult::error(error, &params.member_id));
        }
        if params.member_id.is_empty() {
            return self.join_unknown_member(params, now, settings);
        }
        let member_id = params.member_id.clone();
        if self.pending_members.remove(&member_id).is_some() {
            return self.add_member_and_rebalance(member_id, params, now, settings);
        }
        if let Some(error) = self.fencing_error(&member_id, params.instance_id.as_deref()) {
            return Answer::Now(JoinResult::error(error, &member_id));
        }
        let Some(member) = self.members.get_mut(&member_id) else {
            return Answer::Now(JoinResult::error(ResponseError::UnknownMemberId, &member_id));
        };
        let unchanged = member.protocols == params.protocols;
        member.update(&params);
        member.touch(now);
        let is_leader = self.leader.as_deref() == Some(member_id.as_str());
        match self.state {
            GroupState::PreparingRebalance => self.park_join(&member_id, now),
            GroupState::CompletingRebalance if unchanged => Answer::Now(self.join_result(&member_id, false)),
            GroupState::Stable if unchanged && !is_leader => Answer::Now(self.join_result(&member_id, false)),
            GroupState::CompletingRebalance | GroupState::Stable => {
                self.prepare_rebalance(now, settings);
                self.park_join(&member_id, now)
            }
            GroupState::Empty => Answer::Now(JoinResult::error(ResponseError::UnknownMemberId, &member_id)),
        }
    }

    fn join_unknown_member(
        &mut self,
        params: JoinParams,
        now: Instant,
        settings: RebalanceSettings,
    ) -> Answer<JoinResult> {
        let Some(instance) = params.instance_id.clone() else {
            let member_id = format!("{}-{}", params.client_id, uuid::Uuid::new_v4());
            if params.requires_known_member_id {
                self.pending_members.insert(member_id.clone(), now + params.session_timeout);
                return Answer::Now(JoinResult::error(ResponseError::MemberIdRequired, &member_id));
            }
            return self.add_member_and_rebalance(member_id, params, now, settings);
        };
        let member_id = format!("{instance}-{}", uuid::Uuid::new_v4());
        let Some(old_id) = self.static_members.get(&instance).cloned() else {
            return self.add_member_and_rebalance(member_id, params, now, settings);
        };
        // A known static member restarted: the new instance replaces (and fences) the old member id without a
        // rebalance when nothing about its subscription changed.
        let Some(mut member) = self.members.remove(&old_id) else {
            return self.add_member_and_rebalance(member_id, params, now, settings);
        };
        member.fail_pending(ResponseError::FencedInstanceId);
        let unchanged = member.protocols == params.protocols;
        member.id.clone_from(&member_id);
        member.update(&params);
        member.touch(now);
        self.members.insert(member_id.clone(), member);
        self.static_members.insert(instance, member_id.clone());
        if self.leader.as_deref() == Some(old_id.as_str()) {
            self.leader = Some(member_id.clone());
        }
        match self.state {
            GroupState::Stable if unchanged => {
                self.changed = true;
                let skip = self.leader.as_deref() == Some(member_id.as_str());
                Answer::Now(self.join_result(&member_id, skip))
            }
            GroupState::PreparingRebalance => self.park_join(&member_id, now),
            _ => {
                self.prepare_rebalance(now, settings);
                self.park_join(&member_id, now)
            }
        }
    }

    fn add_member_and_rebalance(
        &mut self,
        member_id: String,
        params: JoinParams,
        now: Instant,
        settings: RebalanceSettings,
    ) -> Answer<JoinResult> {
        let member = Member::new(member_id.clone(), &params, self.next_join_order, now);
        self.next_join_order += 1;
        if let Some(instance) = &params.instance_id {
            self.static_members.insert(instance.clone(), member_id.clone());
        }
        if self.protocol_type.is_none() {
            self.protocol_type = Some(params.protocol_type.clone());
        }
        self.members.insert(member_id.clone(), member);
        if self.state == GroupState::PreparingRebalance {
            // New members joining during the initial delay extend it, up to the rebalance timeout.
            if let Some(until) = self.initial_delay_until {
                let extended = (now + settings.initial_delay).min(self.rebalance_deadline());
                self.initial_delay_until = Some(until.max(extended));
            }
        } else {
            self.prepare_rebalance(now, settings);
        }
        self.park_join(&member_id, now)
    }

    fn park_join(&mut self, member_id: &str, now: Instant) -> Answer<JoinResult> {
        let (tx, rx) = oneshot::channel();
        if let Some(member) = self.members.get_mut(member_id) {
            if let Some(previous) = member.pending_join.replace(tx) {
                let _ = previous.send(JoinResult::error(ResponseError::RebalanceInProgress, member_id));
            }
        }
        self.try_complete_join(now);
        Answer::Later(rx)
    }

    /// Refuses protocols the group cannot agree on (INCONSISTENT_GROUP_PROTOCOL).
    fn check_protocols(&self, params: &JoinParams) -> Option<ResponseError> {
        if params.protocol_type.is_empty() || params.protocols.is_empty() {
            return Some(ResponseError::InconsistentGroupProtocol);
        }
        if self.members.is_empty() {
            return None;
        }
        if self.protocol_type.as_deref() != Some(params.protocol_type.as_str()) {
            return Some(ResponseError::InconsistentGroupProtocol);
        }
        let others = self.members.values().filter(|m| m.id != params.member_id);
        let common = |name: &str| others.clone().all(|m| m.supports(name));
        if params.protocols.iter().any(|(name, _)| common(name)) {
            None
        } else {
            Some(ResponseError::InconsistentGroupProtocol)
        }
    }

    /// FENCED_INSTANCE_ID when `instance_id` now belongs to another member id.
    fn fencing_error(&self, member_id: &str, instance_id: Option<&str>) -> Option<ResponseError> {
        let current = self.static_members.get(instance_id?)?;
        (current != member_id).then_some(ResponseError::FencedInstanceId)
    }

    fn rebalance_deadline(&self) -> Instant {
        let longest = self.members.values().map(|m| m.rebalance_timeout).max().unwrap_or_default();
        self.rebalance_started + longest
    }

    fn prepare_rebalance(&mut self, now: Instant, settings: RebalanceSettings) {
        for member in self.members.values_mut() {
            if let Some(tx) = member.pending_sync.take() {
                let _ = tx.send(SyncResult::error(ResponseError::RebalanceInProgress));
            }
        }
        let initial = self.state == GroupState::Empty;
        self.state = GroupState::PreparingRebalance;
        self.rebalance_started = now;
        self.sync_deadline = None;
        self.initial_delay_until = (initial && !settings.initial_delay.is_zero())
            .then(|| (now + settings.initial_delay).min(self.rebalance_deadline()));
    }

    /// Completes the join phase once every member has rejoined (after the initial delay), or once the rebalance
    /// timeout has passed, removing the members that did not rejoin.
    fn try_complete_join(&mut self, now: Instant) {
        if self.state != GroupState::PreparingRebalance {
            return;
        }
        let all_joined = self.members.values().all(|m| m.pending_join.is_some());
        let delay_over = self.initial_delay_until.is_none_or(|until| now >= until);
        let timed_out = now >= self.rebalance_deadline();
        if !(timed_out || all_joined && delay_over) {
            return;
        }
        let laggards: Vec<String> =
            self.members.values().filter(|m| m.pending_join.is_none()).map(|m| m.id.clone()).collect();
        for id in laggards {
            tracing::info!(member = id, "member did not rejoin within the rebalance timeout; removed");
            self.remove_member(&id);
        }
        self.initial_delay_until = None;
        self.generation += 1;
        self.changed = true;
        if self.members.is_empty() {
            self.state = GroupState::Empty;
            self.protocol = None;
            self.leader = None;
            return;
        }
        self.protocol = self.select_protocol();
        if !self.leader.as_ref().is_some_and(|l| self.members.contains_key(l)) {
            let first = self.members_in_join_order().next().map(|m| m.id.clone());
            self.leader = first;
        }
        self.state = GroupState::CompletingRebalance;
        self.sync_deadline = Some(now + self.rebalance_deadline().saturating_duration_since(self.rebalance_started));
        let ids: Vec<String> = self.members.keys().cloned().collect();
        for id in ids {
            let result = self.join_result(&id, false);
            if let Some(member) = self.members.get_mut(&id) {
                member.assignment = Bytes::new();
                member.touch(now);
                if let Some(tx) = member.pending_join.take() {
                    let _ = tx.send(result);
                }
            }
        }
    }

    /// The protocol every member supports that most members prefer (Kafka's vote): each member votes for its most
    /// preferred candidate; ties go to the first member's preference.
    fn select_protocol(&self) -> Option<String> {
        let first = self.members_in_join_order().next()?;
        let candidates: Vec<&str> = first
            .protocols
            .iter()
            .map(|(name, _)| name.as_str())
            .filter(|name| self.members.values().all(|m| m.supports(name)))
            .collect();
        let mut votes = vec![0usize; candidates.len()];
        for member in self.members.values() {
            if let Some(i) = member.protocols.iter().find_map(|(name, _)| candidates.iter().position(|c| c == name)) {
                votes[i] += 1;
            }
        }
        let best = (0..candidates.len()).max_by_key(|&i| (votes[i], std::cmp::Reverse(i)))?;
        Some(candidates[best].to_owned())
    }

    fn join_result(&self, member_id: &str, skip_assignment: bool) -> JoinResult {
        let protocol = self.protocol.clone().unwrap_or_default();
        let is_leader = self.leader.as_deref() == Some(member_id);
        let members = if is_leader {
            self.members_in_join_order()
                .map(|m| JoinedMember {
                    member_id: m.id.clone(),
                    instance_id: m.instance_id.clone(),
                    metadata: m.metadata(&protocol),
                })
                .collect()
        } else {
            Vec::new()
        };
        JoinResult {
            error: None,
            generation: self.generation,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol.clone(),
            leader: self.leader.clone().unwrap_or_default(),
            member_id: member_id.to_owned(),
            members,
            skip_assignment,
        }
    }

    /// Checks that a request comes from a current member of the current generation.
    fn check_member(&self, member_id: &str, instance_id: Option<&str>, generation: i32) -> Option<ResponseError> {
        if let Some(error) = self.fencing_error(member_id, instance_id) {
            return Some(error);
        }
        if !self.members.contains_key(member_id) {
            return Some(ResponseError::UnknownMemberId);
        }
        (generation != self.generation).then_some(ResponseError::IllegalGeneration)
    }

    /// Handles a SyncGroup. `assignments` are the leader's, ignored from anyone else.
    pub fn sync(
        &mut self,
        member_id: &str,
        instance_id: Option<&str>,
        generation: i32,
        protocol: (Option<&str>, Option<&str>),
        assignments: Vec<(String, Bytes)>,
        now: Instant,
    ) -> Answer<SyncResult> {
        if let Some(error) = self.check_member(member_id, instance_id, generation) {
            return Answer::Now(SyncResult::error(error));
        }
        let (protocol_type, protocol_name) = protocol;
        if protocol_type.is_some_and(|t| Some(t) != self.protocol_type.as_deref())
            || protocol_name.is_some_and(|n| Some(n) != self.protocol.as_deref())
        {
            return Answer::Now(SyncResult::error(ResponseError::InconsistentGroupProtocol));
        }
        if let Some(member) = self.members.get_mut(member_id) {
            member.touch(now);
        }
        match self.state {
            GroupState::Empty => Answer::Now(SyncResult::error(ResponseError::UnknownMemberId)),
            GroupState::PreparingRebalance => Answer::Now(SyncResult::error(ResponseError::RebalanceInProgress)),
            GroupState::Stable => Answer::Now(self.sync_result(member_id)),
            GroupState::CompletingRebalance => {
                let (tx, rx) = oneshot::channel();
                if let Some(member) = self.members.get_mut(member_id) {
                    member.pending_sync = Some(tx);
                }
                if self.leader.as_deref() == Some(member_id) {
                    self.complete_sync(assignments);
                }
                Answer::Later(rx)
            }
        }
    }

    fn sync_result(&self, member_id: &str) -> SyncResult {
        SyncResult {
            error: None,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol.clone(),
            assignment: self.members.get(member_id).map(|m| m.assignment.clone()).unwrap_or_default(),
        }
    }

    fn complete_sync(&mut self, assignments: Vec<(String, Bytes)>) {
        let mut assignments: HashMap<String, Bytes> = assignments.into_iter().collect();
        for member in self.members.values_mut() {
            member.assignment = assignments.remove(&member.id).unwrap_or_default();
        }
        self.state = GroupState::Stable;
        self.sync_deadline = None;
        self.changed = true;
        let ids: Vec<String> = self.members.keys().cloned().collect();
        for id in ids {
            let result = self.sync_result(&id);
            if let Some(tx) = self.members.get_mut(&id).and_then(|m| m.pending_sync.take()) {
                let _ = tx.send(result);
            }
        }
    }

    /// Handles a Heartbeat.
    pub fn heartbeat(
        &mut self,
        member_id: &str,
        instance_id: Option<&str>,
        generation: i32,
        now: Instant,
    ) -> Option<ResponseError> {
        if let Some(error) = self.check_member(member_id, instance_id, generation) {
            return Some(error);
        }
        if let Some(member) = self.members.get_mut(member_id) {
            member.touch(now);
        }
        match self.state {
            GroupState::Empty => Some(ResponseError::UnknownMemberId),
            GroupState::PreparingRebalance => Some(ResponseError::RebalanceInProgress),
            GroupState::CompletingRebalance | GroupState::Stable => None,
        }
    }

    /// Handles one member of a LeaveGroup: by member id, or by instance id for a static member.
    pub fn leave(
        &mut self,
        member_id: &str,
        instance_id: Option<&str>,
        now: Instant,
        settings: RebalanceSettings,
    ) -> Option<ResponseError> {
        let id = match instance_id {
            Some(instance) => match self.static_members.get(instance) {
                Some(current) if member_id.is_empty() || current == member_id => current.clone(),
                Some(_) => return Some(ResponseError::FencedInstanceId),
                None => return Some(ResponseError::UnknownMemberId),
            },
            None if self.pending_members.remove(member_id).is_some() => return None,
            None if self.members.contains_key(member_id) => member_id.to_owned(),
            None => return Some(ResponseError::UnknownMemberId),
        };
        tracing::info!(member = id, "member left the group");
        self.remove_member(&id);
        self.after_removal(now, settings);
        None
    }

    fn remove_member(&mut self, id: &str) {
        if let Some(mut member) = self.members.remove(id) {
            member.fail_pending(ResponseError::UnknownMemberId);
            if let Some(instance) = &member.instance_id {
                self.static_members.remove(instance);
            }
        }
    }

    fn after_removal(&mut self, now: Instant, settings: RebalanceSettings) {
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.prepare_rebalance(now, settings);
                self.try_complete_join(now);
            }
            GroupState::PreparingRebalance => self.try_complete_join(now),
            GroupState::Empty => {}
        }
    }

    /// Expires members whose session timed out and completes phases whose deadline passed.
    pub fn tick(&mut self, now: Instant, settings: RebalanceSettings) {
        self.pending_members.retain(|_, deadline| now < *deadline);
        let expired: Vec<String> = self
            .members
            .values()
            .filter(|m| m.pending_join.is_none() && m.pending_sync.is_none() && now >= m.heartbeat_deadline)
            .map(|m| m.id.clone())
            .collect();
        for id in &expired {
            tracing::info!(member = id, "member session expired; removed");
            self.remove_member(id);
        }
        if !expired.is_empty() {
            self.after_removal(now, settings);
        }
        match self.state {
            GroupState::PreparingRebalance => self.try_complete_join(now),
            GroupState::CompletingRebalance if self.sync_deadline.is_some_and(|d| now >= d) => {
                let unsynced: Vec<String> =
                    self.members.values().filter(|m| m.pending_sync.is_none()).map(|m| m.id.clone()).collect();
                for id in &unsynced {
                    tracing::info!(member = id, "member did not sync within the rebalance timeout; removed");
                    self.remove_member(id);
                }
                self.prepare_rebalance(now, settings);
                self.try_complete_join(now);
            }
            _ => {}
        }
    }

    /// Checks an OffsetCommit from `member_id` of `generation` (-1 and no member for a simple commit by a client
    /// outside group management, allowed only while the group has no members).
    pub fn check_commit(&self, member_id: &str, instance_id: Option<&str>, generation: i32) -> Option<ResponseError> {
        if let Some(error) = self.fencing_error(member_id, instance_id) {
            return Some(error);
        }
        if generation < 0 && self.state == GroupState::Empty {
            return None;
        }
        if self.state == GroupState::CompletingRebalance {
            return Some(ResponseError::RebalanceInProgress);
        }
        if !self.members.contains_key(member_id) {
            return Some(ResponseError::UnknownMemberId);
        }
        (generation != self.generation).then_some(ResponseError::IllegalGeneration)
    }

    /// The topics the members subscribe to, when the group uses the consumer protocol.
    pub fn subscribed_topics(&self) -> Vec<String> {
        if self.protocol_type.as_deref() != Some("consumer") {
            return Vec::new();
        }
        let protocol = self.protocol.clone().unwrap_or_default();
        let mut topics: Vec<String> = self
            .members
            .values()
            .flat_map(|m| super::consumer_protocol::subscribed_topics(&m.metadata(&protocol)))
            .collect();
        topics.sort();
        topics.dedup();
        topics
    }
}

fn millis(ms: i32) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_DELAY: RebalanceSettings = RebalanceSettings { initial_delay: Duration::ZERO };

    fn params(member_id: &str, protocols: &[&str]) -> JoinParams {
        JoinParams {
            member_id: member_id.to_owned(),
            instance_id: None,
            client_id: "client".into(),
            client_host: "/127.0.0.1".into(),
            session_timeout: Duration::from_secs(10),
            rebalance_timeout: Duration::from_secs(5),
            protocol_type: "consumer".into(),
            protocols: protocols.iter().map(|p| (p.to_string(), Bytes::new())).collect(),
            requires_known_member_id: false,
        }
    }

    fn now_result(answer: Answer<JoinResult>) -> JoinResult {
        match answer {
            Answer::Now(result) => result,
            Answer::Later(mut rx) => rx.try_recv().expect("answered"),
        }
    }

    #[test]
    fn the_join_phase_waits_for_every_member_and_drops_laggards_at_the_rebalance_timeout() {
        let t0 = Instant::now();
        let mut group = Membership::new(t0);
        let a = now_result(group.join(params("", &["range"]), t0, NO_DELAY));
        assert_eq!((a.error, a.generation), (None, 1));
        let sync =
            group.sync(&a.member_id, None, 1, (None, None), vec![(a.member_id.clone(), Bytes::from_static(b"x"))], t0);
        assert!(matches!(sync, Answer::Later(_)));
        assert_eq!(group.state(), GroupState::Stable);

        let Answer::Later(mut b) = group.join(params("", &["range"]), t0, NO_DELAY) else { panic!("b waits") };
        assert_eq!(group.state(), GroupState::PreparingRebalance);
        assert!(b.try_recv().is_err(), "the join phase waits for the old member to rejoin");
        group.tick(t0 + Duration::from_secs(6), NO_DELAY);
        let b = b.try_recv().expect("completed at the rebalance timeout");
        assert_eq!(b.generation, 2);
        assert_eq!(b.leader, b.member_id, "the member that did not rejoin is gone; the newcomer leads");
        assert_eq!(group.members_in_join_order().count(), 1);
    }

    #[test]
    fn the_protocol_most_members_prefer_wins_among_those_all_support() {
        let t0 = Instant::now();
        let mut group = Membership::new(t0);
        let settings = RebalanceSettings { initial_delay: Duration::from_millis(100) };
        let answers: Vec<Answer<JoinResult>> =
            [&["roundrobin", "range"][..], &["range", "roundrobin"], &["range", "sticky"]]
                .iter()
                .map(|protocols| group.join(params("", protocols), t0, settings))
                .collect();
        assert_eq!(group.state(), GroupState::PreparingRebalance, "the initial delay holds the first rebalance");
        group.tick(t0 + Duration::from_millis(150), settings);
        let results: Vec<JoinResult> = answers.into_iter().map(now_result).collect();
        assert!(results.iter().all(|r| r.protocol_name.as_deref() == Some("range") && r.generation == 1));
        assert_eq!(results.iter().filter(|r| !r.members.is_empty()).count(), 1, "only the leader gets the members");
    }

    #[test]
    fn a_member_with_no_common_protocol_is_refused() {
        let t0 = Instant::now();
        let mut group = Membership::new(t0);
        now_result(group.join(params("", &["range"]), t0, NO_DELAY));
        let refused = now_result(group.join(params("", &["cooperative-sticky"]), t0, NO_DELAY));
        assert_eq!(refused.error, Some(ResponseError::InconsistentGroupProtocol));
    }
}
