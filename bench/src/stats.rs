//! librdkafka statistics (`statistics.interval.ms`) folded into a few diagnostic numbers, and the client
//! contexts that collect them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;
use rdkafka::statistics::{Statistics, Window};
use rdkafka::ClientContext;

/// How often librdkafka emits statistics, in milliseconds.
pub const STATS_INTERVAL_MS: &str = "1000";

/// Aggregates of librdkafka's per-interval statistics windows over a whole run.
#[derive(Debug, Default, Clone)]
pub struct ClientStats {
    /// Number of statistics snapshots seen.
    pub snapshots: u64,
    /// Request round-trip time: sum of (window average × count), in microseconds, and the count.
    rtt_sum_us: f64,
    rtt_count: i64,
    /// Largest per-interval p99 of the request round-trip time, in microseconds.
    pub rtt_p99_max_us: i64,
    /// Producer queue latency (enqueue → request written): weighted sum and count.
    int_latency_sum_us: f64,
    int_latency_count: i64,
    /// Produce batches: weighted byte-size sum, record-count sum and number of batches.
    batch_bytes_sum: f64,
    batch_records_sum: f64,
    batches: i64,
    /// Cumulative request counts from the last snapshot.
    pub produce_requests: i64,
    /// Cumulative Fetch request count from the last snapshot.
    pub fetch_requests: i64,
    /// Cumulative retries from the last snapshot.
    pub retries: u64,
    /// Cumulative disconnects from the last snapshot.
    pub disconnects: i64,
}

impl ClientStats {
    /// Folds one snapshot in.
    fn add(&mut self, stats: &Statistics) {
        self.snapshots += 1;
        let (mut produce, mut fetch, mut retries, mut disconnects) = (0, 0, 0, 0);
        // Only real brokers: bootstrap and coordinator pseudo-entries have negative node ids.
        for broker in stats.brokers.values().filter(|b| b.nodeid >= 0) {
            if let Some(rtt) = &broker.rtt {
                add_window(&mut self.rtt_sum_us, &mut self.rtt_count, rtt);
                self.rtt_p99_max_us = self.rtt_p99_max_us.max(rtt.p99);
            }
            if let Some(latency) = &broker.int_latency {
                add_window(&mut self.int_latency_sum_us, &mut self.int_latency_count, latency);
            }
            produce += broker.req.get("Produce").copied().unwrap_or(0);
            fetch += broker.req.get("Fetch").copied().unwrap_or(0);
            retries += broker.txretries;
            disconnects += broker.disconnects.unwrap_or(0);
        }
        self.produce_requests = produce;
        self.fetch_requests = fetch;
        self.retries = retries;
        self.disconnects = disconnects;
        for topic in stats.topics.values() {
            let (bytes, records) = (&topic.batchsize, &topic.batchcnt);
            if bytes.cnt > 0 && records.cnt > 0 {
                self.batch_bytes_sum += bytes.avg as f64 * bytes.cnt as f64;
                self.batch_records_sum += records.avg as f64 * records.cnt as f64;
                self.batches += bytes.cnt;
            }
        }
    }

    /// Mean request round-trip time in milliseconds, if any request was timed.
    pub fn rtt_avg_ms(&self) -> Option<f64> {
        (self.rtt_count > 0).then(|| self.rtt_sum_us / self.rtt_count as f64 / 1000.0)
    }

    /// Mean time a record waited in the producer before its request was written, in milliseconds.
    pub fn int_latency_avg_ms(&self) -> Option<f64> {
        (self.int_latency_count > 0).then(|| self.int_latency_sum_us / self.int_latency_count as f64 / 1000.0)
    }

    /// Mean produce batch: (bytes, records).
    pub fn batch_avg(&self) -> Option<(f64, f64)> {
        (self.batches > 0)
            .then(|| (self.batch_bytes_sum / self.batches as f64, self.batch_records_sum / self.batches as f64))
    }

    /// One line for the diagnostics section.
    pub fn describe(&self) -> String {
        if self.snapshots == 0 {
            return "no librdkafka statistics (run shorter than one interval)".to_string();
        }
        let mut parts = Vec::new();
        if self.produce_requests > 0 {
            parts.push(format!("{} Produce requests", self.produce_requests));
        }
        if self.fetch_requests > 0 {
            parts.push(format!("{} Fetch requests", self.fetch_requests));
        }
        if let Some(rtt) = self.rtt_avg_ms() {
            parts.push(format!("rtt avg {rtt:.2} ms (worst 1 s p99 {:.2} ms)", self.rtt_p99_max_us as f64 / 1000.0));
        }
        if let Some(queued) = self.int_latency_avg_ms() {
            parts.push(format!("in-client queue avg {queued:.2} ms"));
        }
        if let Some((bytes, records)) = self.batch_avg() {
            parts.push(format!("batch avg {:.0} KiB / {records:.0} records", bytes / 1024.0));
        }
        parts.push(format!("retries {}, disconnects {}", self.retries, self.disconnects));
        parts.join(", ")
    }
}

/// Adds a window's (average × count) and count to running sums.
fn add_window(sum: &mut f64, count: &mut i64, window: &Window) {
    if window.cnt > 0 {
        *sum += window.avg as f64 * window.cnt as f64;
        *count += window.cnt;
    }
}

/// Collects statistics and client-level errors for one client.
#[derive(Debug, Default)]
pub struct Collector {
    stats: Mutex<ClientStats>,
    errors: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Collector {
    /// Records a statistics snapshot.
    pub fn on_stats(&self, stats: &Statistics) {
        if let Ok(mut aggregate) = self.stats.lock() {
            aggregate.add(stats);
        }
    }

    /// Records a client-level error (e.g. a broker connection failure).
    pub fn on_error(&self, error: &KafkaError, reason: &str) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut first) = self.first_error.lock() {
            first.get_or_insert_with(|| format!("{error}: {reason}"));
        }
    }

    /// The statistics so far.
    pub fn stats(&self) -> ClientStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Number of client-level errors and the first one.
    pub fn errors(&self) -> (u64, Option<String>) {
        let first = self.first_error.lock().ok().and_then(|f| f.clone());
        (self.errors.load(Ordering::Relaxed), first)
    }
}

/// Consumer context: statistics and errors only.
#[derive(Debug, Default)]
pub struct ConsumerStats {
    /// Where statistics and errors go.
    pub collector: Collector,
}

impl ClientContext for ConsumerStats {
    fn stats(&self, statistics: Statistics) {
        self.collector.on_stats(&statistics);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.collector.on_error(&error, reason);
    }
}

impl ConsumerContext for ConsumerStats {}
