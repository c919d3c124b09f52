//! What the leader of one partition knows about its followers, Kafka's `Partition` and `Replica` state on the
//! leader: each follower's log end offset (what its fetches say it has durably) and when it was last caught up;
//! from these the high watermark and the ISR the leader should ask the controller for. Pure: the clock is passed in.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// A follower's progress as its fetches report it.
#[derive(Debug, Clone, Copy)]
struct Progress {
    /// It holds every offset below this durably (its fetch offset). `None` until its first fetch in this epoch.
    log_end_offset: Option<i64>,
    /// The last time it had everything the leader had when it fetched.
    last_caught_up: Instant,
}

/// The leader's view of one partition's followers, for one leader epoch.
#[derive(Debug, Clone)]
pub struct LeaderState {
    leader: i32,
    leader_epoch: i32,
    followers: BTreeMap<i32, Progress>,
}

impl LeaderState {
    /// Leadership of a partition with `replicas`, starting at `now`: every follower gets a full lag allowance
    /// before it can be dropped from the ISR, as Kafka does when a leader is elected.
    pub fn new(leader: i32, leader_epoch: i32, replicas: &[i32], now: Instant) -> Self {
        let followers = replicas
            .iter()
            .filter(|&&replica| replica != leader)
            .map(|&replica| (replica, Progress { log_end_offset: None, last_caught_up: now }))
            .collect();
        LeaderState { leader, leader_epoch, followers }
    }

    /// The leader epoch this state belongs to.
    pub fn leader_epoch(&self) -> i32 {
        self.leader_epoch
    }

    /// A follower fetched at `fetch_offset`: it holds everything below durably. `leader_end` is the leader's log
    /// end offset when the fetch arrived; a follower at it is caught up.
    pub fn fetched(&mut self, follower: i32, fetch_offset: i64, leader_end: i64, now: Instant) {
        if let Some(progress) = self.followers.get_mut(&follower) {
            progress.log_end_offset = Some(fetch_offset);
            if fetch_offset >= leader_end {
                progress.last_caught_up = now;
            }
        }
    }

    /// The limit the ISR puts on the high watermark: the smallest log end offset among the followers in `isr`
    /// (the leader's own durable offset caps it separately); `None` when the leader is the whole ISR. A follower
    /// in the ISR that has not fetched in this epoch yet holds it at 0, so it cannot move before that fetch.
    pub fn isr_limit(&self, isr: &[i32]) -> Option<i64> {
        isr.iter()
            .filter(|&&replica| replica != self.leader)
            .map(|replica| self.followers.get(replica).and_then(|p| p.log_end_offset).unwrap_or(0))
            .min()
    }

    /// The ISR the leader should have now, when it differs from `isr`: members not caught up for longer than
    /// `max_lag` (`replica.lag.time.max.ms`) leave; followers that reached `high_watermark` join (Kafka's
    /// `isFollowerInSync`: caught up to the high watermark and to the start of this leader's epoch). Kept in
    /// `replicas` order.
    pub fn wanted_isr(
        &self,
        replicas: &[i32],
        isr: &[i32],
        (high_watermark, epoch_start): (i64, i64),
        now: Instant,
        max_lag: Duration,
    ) -> Option<Vec<i32>> {
        let in_sync = |replica: &i32| {
            if *replica == self.leader {
                return true;
            }
            let Some(progress) = self.followers.get(replica) else { return false };
            let lagging = now.saturating_duration_since(progress.last_caught_up) > max_lag;
            if isr.contains(replica) {
                !lagging
            } else {
                progress.log_end_offset.is_some_and(|end| end >= high_watermark && end >= epoch_start)
            }
        };
        let wanted: Vec<i32> = replicas.iter().copied().filter(in_sync).collect();
        let current: Vec<i32> = replicas.iter().copied().filter(|r| isr.contains(r)).collect();
        (wanted != current).then_some(wanted)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const LAG: Duration = Duration::from_secs(30);

    #[test]
    fn the_slowest_in_sync_follower_limits_the_high_watermark() {
        let start = Instant::now();
        let mut state = LeaderState::new(1, 4, &[1, 2, 3], start);
        assert_eq!(state.isr_limit(&[1]), None, "a leader alone is not limited");
        assert_eq!(state.isr_limit(&[1, 2, 3]), Some(0), "followers that have not fetched hold it");
        state.fetched(2, 10, 10, start);
        state.fetched(3, 7, 10, start);
        assert_eq!(state.isr_limit(&[1, 2, 3]), Some(7));
        assert_eq!(state.isr_limit(&[1, 2]), Some(10), "a follower out of the ISR does not count");
        state.fetched(9, 100, 100, start);
        assert_eq!(state.isr_limit(&[1, 2]), Some(10), "a broker that is no replica is ignored");
    }

    #[test]
    fn lagging_members_leave_and_caught_up_followers_join() {
        let start = Instant::now();
        let mut state = LeaderState::new(1, 0, &[1, 2, 3], start);
        let replicas = [1, 2, 3];
        assert_eq!(state.wanted_isr(&replicas, &[1, 2, 3], (0, 0), start + LAG, LAG), None, "within the allowance");
        state.fetched(2, 50, 50, start + LAG);
        state.fetched(3, 20, 50, start + LAG);
        let later = start + LAG + Duration::from_secs(1);
        assert_eq!(state.wanted_isr(&replicas, &[1, 2, 3], (50, 0), later, LAG), Some(vec![1, 2]), "3 fell behind");
        assert_eq!(state.wanted_isr(&replicas, &[1, 2], (50, 0), later, LAG), None);
        state.fetched(3, 50, 60, later);
        assert_eq!(state.wanted_isr(&replicas, &[1, 2], (50, 0), later, LAG), Some(vec![1, 2, 3]), "3 reached the HW");
        assert_eq!(
            state.wanted_isr(&replicas, &[1, 2], (50, 55), later, LAG),
            None,
            "but not the start of this leader's epoch"
        );
    }
}
