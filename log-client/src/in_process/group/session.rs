//! A member's standing in its group, shared by the consumer, its join task and its heartbeat task: the member id,
//! the generation it holds partitions in, and whether it must rejoin.
//!
//! Heartbeats run every `session timeout / 3` while the member holds a generation. An answer saying the group is
//! rebalancing (REBALANCE_IN_PROGRESS), moved on (ILLEGAL_GENERATION) or forgot the member (UNKNOWN_MEMBER_ID,
//! which also drops the member id) marks the member for rejoining and wakes a waiting poll; the poll rejoins.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use kafka_protocol::ResponseError;
use tidemark_broker::Broker;
use tokio::sync::Notify;

#[derive(Debug, Default)]
struct State {
    /// Empty until the coordinator hands one out.
    member_id: String,
    /// The generation whose assignment the member holds, if any.
    generation: Option<i32>,
    /// A join is in flight.
    joining: bool,
    /// The group asked the member to rejoin.
    rejoin: bool,
}

/// A member's standing in its group.
#[derive(Debug, Default)]
pub struct Session {
    state: Mutex<State>,
    wake: Notify,
}

impl Session {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The member id (empty before the first join).
    pub fn member_id(&self) -> String {
        self.lock().member_id.clone()
    }

    /// Records the member id the coordinator handed out.
    pub fn set_member_id(&self, member_id: &str) {
        member_id.clone_into(&mut self.lock().member_id);
    }

    /// Whether the member must (re)join: it holds no generation or was asked to rejoin, and no join is in flight.
    pub fn needs_join(&self) -> bool {
        let state = self.lock();
        !state.joining && (state.generation.is_none() || state.rejoin)
    }

    /// Starts a join: the member gives up its generation.
    pub fn begin_join(&self) {
        let mut state = self.lock();
        state.joining = true;
        state.rejoin = false;
        state.generation = None;
    }

    /// Ends a join: with the generation joined, or without one when it failed.
    pub fn end_join(&self, generation: Option<i32>) {
        let mut state = self.lock();
        state.joining = false;
        state.generation = generation;
    }

    /// The member id and generation the member holds its assignment in, unless it is joining.
    pub fn generation(&self) -> Option<(String, i32)> {
        let state = self.lock();
        let generation = state.generation.filter(|_| !state.joining)?;
        Some((state.member_id.clone(), generation))
    }

    /// Marks the member for rejoining when `error` (an answer to a request made in `generation`) says so, and wakes
    /// a waiting poll. An answer about a generation the member no longer holds is ignored.
    pub fn group_moved_on(&self, generation: i32, error: ResponseError) {
        let mut state = self.lock();
        if state.generation != Some(generation) || !needs_rejoin(error) {
            return;
        }
        state.rejoin = true;
        if error == ResponseError::UnknownMemberId {
            state.member_id.clear();
        }
        drop(state);
        self.wake.notify_one();
    }

    /// Marks the member for rejoining (its subscription or the partitions of subscribed topics changed).
    pub fn request_rejoin(&self) {
        let mut state = self.lock();
        if state.generation.is_some() && !state.joining {
            state.rejoin = true;
        }
    }

    /// Resolves when the member was marked for rejoining since the last call (or right away when that happened
    /// with nobody waiting).
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Sends one heartbeat for the generation held, if any.
    fn heartbeat(&self, broker: &Broker, group: &str) {
        let held = self.generation();
        let Some((member_id, generation)) = held else {
            return;
        };
        if let Some(error) = broker.groups().heartbeat(group, &member_id, None, generation) {
            tracing::debug!(group, member = member_id, %error, "heartbeat answered with an error");
            self.group_moved_on(generation, error);
        }
    }
}

/// Whether a group error means the member must rejoin to hold partitions again.
pub fn needs_rejoin(error: ResponseError) -> bool {
    matches!(
        error,
        ResponseError::RebalanceInProgress | ResponseError::IllegalGeneration | ResponseError::UnknownMemberId
    )
}

/// Heartbeats for `session` in `group` every `interval`, until aborted.
pub async fn run_heartbeats(broker: Arc<Broker>, group: String, session: Arc<Session>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        session.heartbeat(&broker, &group);
    }
}
