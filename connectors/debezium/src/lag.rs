//! A source's lag behind its database ([`SourceLag`]): measured by the pump (the background task reading the
//! database) as it reads, and read by the task, cheaply, whenever the runtime asks ([`SourceTask::lag`]).
//!
//! [`SourceTask::lag`]: tidemark_connect::connector::SourceTask::lag

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tidemark_connect::connector::SourceLag;

use crate::event::now_us;

/// How often a pump measures a lag that costs a query (a Postgres slot's WAL bytes).
pub const MEASURE_EVERY: Duration = Duration::from_secs(5);

/// Not measured yet.
const UNKNOWN: u64 = u64::MAX;

/// A source's latest lag measurements, shared by its pump and its task.
#[derive(Debug, Clone)]
pub struct LagMeter(Arc<Measured>);

#[derive(Debug)]
struct Measured {
    bytes: AtomicU64,
    micros: AtomicU64,
}

impl Default for LagMeter {
    fn default() -> Self {
        LagMeter(Arc::new(Measured { bytes: AtomicU64::new(UNKNOWN), micros: AtomicU64::new(UNKNOWN) }))
    }
}

impl LagMeter {
    /// The pump read a change the database wrote at `written_us` (µs since the Unix epoch, the database's clock):
    /// the lag in seconds is how long ago that was (never below 0, whatever the clocks' skew).
    pub fn change_read(&self, written_us: i64) {
        let behind = u64::try_from(now_us().saturating_sub(written_us)).unwrap_or(0);
        self.0.micros.store(behind.min(UNKNOWN - 1), Ordering::Relaxed);
    }

    /// The database holds `bytes` of change log beyond the source's acknowledged position.
    pub fn bytes_behind(&self, bytes: u64) {
        self.0.bytes.store(bytes.min(UNKNOWN - 1), Ordering::Relaxed);
    }

    /// The latest measurements.
    pub fn lag(&self) -> SourceLag {
        let known = |value: u64| (value != UNKNOWN).then_some(value);
        SourceLag {
            bytes: known(self.0.bytes.load(Ordering::Relaxed)),
            seconds: known(self.0.micros.load(Ordering::Relaxed)).map(|micros| micros as f64 / 1e6),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_known_until_measured() {
        let meter = LagMeter::default();
        assert_eq!(meter.lag(), SourceLag::default());
        meter.bytes_behind(4096);
        meter.clone().change_read(now_us() - 2_000_000);
        let lag = meter.lag();
        assert_eq!(lag.bytes, Some(4096));
        let seconds = lag.seconds.unwrap_or_default();
        assert!((2.0..3.0).contains(&seconds), "{seconds}");
        meter.change_read(now_us() + 60_000_000);
        assert_eq!(meter.lag().seconds, Some(0.0), "a change from the future (clock skew) is no lag");
    }
}
