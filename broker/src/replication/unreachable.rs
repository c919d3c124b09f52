//! Followers that lose their leader, and leaders that lose a follower's connection, tell the active controller,
//! which fences the other broker at once if it crashed (see [`crate::controller::crash_probe`]). Many fetchers
//! fail together when a leader dies, so reports about one broker go out at most every [`REPORT_EVERY`], each in
//! its own task so that no fetcher or connection waits for the controller.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::controller::Controller;

/// The shortest time between two reports about the same broker.
const REPORT_EVERY: Duration = Duration::from_millis(500);

/// Sends this broker's reports of unreachable brokers to the active controller.
#[derive(Debug)]
pub struct UnreachableLeaders {
    controller: Arc<Controller>,
    last_report: Mutex<HashMap<i32, Instant>>,
}

impl UnreachableLeaders {
    /// Reports through `controller`.
    pub fn new(controller: Arc<Controller>) -> Self {
        UnreachableLeaders { controller, last_report: Mutex::new(HashMap::new()) }
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
