//! Followers that lose their leader, and leaders that lose a follower's connection, tell the active controller,
//! which fences the other broker at once if it crashed (see [`crate::controller::crash_probe`]). Many fetchers
//! fail together when a leader dies, so reports about one broker go out at most every [`REPORT_EVERY`], each in
//! its own task so that no fetcher or connection waits for the controller.
//!
//! Until the controller has decided, a leader whose listener refused this broker's connection is *down* here:
//! Metadata answers from this broker give its partitions no leader (LEADER_NOT_AVAILABLE), so that clients keep
//! asking for the new leader every few hundred milliseconds instead of reconnecting to the dead one with a growing
//! backoff. Only a refused connection counts (nothing listens there), and it counts for [`DOWN_FOR`] at most, or
//! until this broker connects to it again.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::controller::Controller;

/// The shortest time between two reports about the same broker.
const REPORT_EVERY: Duration = Duration::from_millis(500);
/// How long a refused connection marks a broker down here: past it, the controller has fenced the broker (its
/// session expired) or it is back.
const DOWN_FOR: Duration = Duration::from_secs(10);

/// Sends this broker's reports of unreachable brokers to the active controller.
#[derive(Debug)]
pub struct UnreachableLeaders {
    controller: Arc<Controller>,
    last_report: Mutex<HashMap<i32, Instant>>,
    /// Brokers whose listener refused this broker's connection, and when.
    refused: Mutex<HashMap<i32, Instant>>,
}

impl UnreachableLeaders {
    /// Reports through `controller`.
    pub fn new(controller: Arc<Controller>) -> Self {
        UnreachableLeaders { controller, last_report: Mutex::new(HashMap::new()), refused: Mutex::new(HashMap::new()) }
    }

    /// Broker `broker`'s listener refused a connection from this broker: it is down here (see the module docs).
    pub fn refused(&self, broker: i32) {
        self.refused.lock().unwrap_or_else(|p| p.into_inner()).insert(broker, Instant::now());
    }

    /// This broker connected to `broker`: it is no longer down here.
    pub fn connected(&self, broker: i32) {
        self.refused.lock().unwrap_or_else(|p| p.into_inner()).remove(&broker);
    }

    /// The brokers down here: their listener refused a connection within [`DOWN_FOR`], and no connection to them
    /// has succeeded since.
    pub fn down(&self) -> HashSet<i32> {
        let mut refused = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        refused.retain(|_, at| at.elapsed() < DOWN_FOR);
        refused.keys().copied().collect()
    }

    /// Broker `broker` could not be reached: tells the active controller, unless that was done recently.
    pub fn report(&self, broker: i32) {
        let now = Instant::now();
        {
            let mut last_report = self.last_report.lock().unwrap_or_else(|p| p.into_inner());
            let recent = last_report.get(&broker).is_some_and(|at| now.saturating_duration_since(*at) < REPORT_EVERY);
            if recent {
                return;
            }
            last_report.insert(broker, now);
        }
        tracing::debug!(broker, "reporting an unreachable broker to the controller");
        let controller = Arc::clone(&self.controller);
        tokio::spawn(async move {
            if let Err(e) = controller.report_unreachable(broker).await {
                tracing::debug!(broker, error = %e, "reporting an unreachable broker");
            }
        });
    }
}
