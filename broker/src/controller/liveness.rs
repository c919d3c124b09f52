//! Broker liveness as the active controller sees it: when each broker last heartbeated, and which brokers must be
//! fenced (silent past the session timeout) or unfenced (heartbeating again), KRaft's `BrokerHeartbeatManager`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::controller::image::{ClusterImage, MetadataCommand};

/// Last heartbeat per broker, kept only by the active controller.
#[derive(Debug, Default)]
pub struct Liveness {
    last_seen: HashMap<i32, Instant>,
}

impl Liveness {
    /// Records a heartbeat of `broker` at `now`.
    pub fn heartbeat(&mut self, broker: i32, now: Instant) {
        self.last_seen.insert(broker, now);
    }

    /// Forgets `broker`'s heartbeats: it was fenced for another reason (it crashed), and is unfenced only once it
    /// heartbeats again.
    pub fn forget(&mut self, broker: i32) {
        self.last_seen.remove(&broker);
    }

    /// Starts a term as the active controller: the heartbeats the previous controller received are unknown here,
    /// so every unfenced broker gets a full session from `now` before it can be fenced. Fenced brokers get none:
    /// they must heartbeat to this controller to be unfenced.
    pub fn take_over(&mut self, image: &ClusterImage, now: Instant) {
        self.last_seen.clear();
        for broker in image.live_brokers() {
            self.last_seen.insert(broker.id, now);
        }
    }

    /// The fences and unfences `image` needs at `now`.
    pub fn verdicts(&self, image: &ClusterImage, now: Instant, session_timeout: Duration) -> Vec<MetadataCommand> {
        let alive = |id: i32| {
            self.last_seen.get(&id).is_some_and(|seen| now.saturating_duration_since(*seen) <= session_timeout)
        };
        image
            .brokers
            .values()
            .filter_map(|broker| match (broker.fenced, alive(broker.id)) {
                (false, false) => Some(MetadataCommand::FenceBroker { id: broker.id }),
                (true, true) => Some(MetadataCommand::UnfenceBroker { id: broker.id }),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn image_with(brokers: &[(i32, bool)]) -> ClusterImage {
        let mut image = ClusterImage::default();
        for &(id, fenced) in brokers {
            image
                .apply(&MetadataCommand::RegisterBroker {
                    id,
                    host: "localhost".into(),
                    port: 9092,
                    rack: None,
                    listeners: vec![],
                    cluster_id: "c".into(),
                })
                .unwrap();
            if !fenced {
                image.apply(&MetadataCommand::UnfenceBroker { id }).unwrap();
            }
        }
        image
    }

    #[test]
    fn silent_brokers_are_fenced_and_heartbeating_ones_unfenced() {
        let timeout = Duration::from_secs(9);
        let start = Instant::now();
        let image = image_with(&[(1, false), (2, false), (3, true)]);
        let mut liveness = Liveness::default();
        liveness.take_over(&image, start);
        assert!(liveness.verdicts(&image, start + timeout, timeout).is_empty(), "a new controller grants a session");
        liveness.heartbeat(1, start + Duration::from_secs(5));
        liveness.heartbeat(3, start + Duration::from_secs(5));
        let verdicts = liveness.verdicts(&image, start + Duration::from_secs(10), timeout);
        assert_eq!(
            verdicts,
            [MetadataCommand::FenceBroker { id: 2 }, MetadataCommand::UnfenceBroker { id: 3 }],
            "2 went silent past its session; 3 heartbeats while fenced"
        );
    }
}
