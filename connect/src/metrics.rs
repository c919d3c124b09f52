//! The worker's Prometheus metrics (`GET /metrics`), per connector and task, named after Kafka Connect's own:
//!
//! - `connect_source_records_polled_total` / `connect_source_records_written_total` (`source-record-poll-total`,
//!   `source-record-write-total`),
//! - `connect_sink_records_read_total` / `connect_sink_records_put_total` (`sink-record-read-total`,
//!   `sink-record-send-total`),
//! - `connect_record_errors_total{stage}` (`total-record-errors`) and `connect_dead_letters_total`
//!   (`deadletterqueue-produce-requests`),
//! - `connect_batch_seconds`: a source batch from poll to durable, a sink batch's `put` (`poll-batch-avg-time-ms`,
//!   `put-batch-avg-time-ms`),
//! - `connect_sink_lag_records{topic, partition}`: a sink's consumer lag, the log's end offset minus the group's
//!   committed offset, measured when scraped,
//! - `connect_source_lag_bytes` / `connect_source_lag_seconds`: a source's lag behind its database as its task
//!   measured it ([`SourceLag`]; Debezium's `MilliSecondsBehindSource`), read after every poll.
//!
//! Other components' metrics join the same text through [`ConnectMetrics::include`] (`tidemark up` serves the
//! broker's and the registry's here). The text is OpenMetrics 1.0 (prometheus-client's encoding), which Prometheus
//! scrapes as such.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};

use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::connector::SourceLag;
use crate::runtime::errors::Stage;

/// The media type of [`ConnectMetrics::render`]'s text.
pub const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A task's labels.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TaskLabels {
    connector: String,
    task: String,
}

/// A task's labels and the stage a record failed in.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    connector: String,
    task: String,
    stage: String,
}

/// A sink's partition.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LagLabels {
    connector: String,
    topic: String,
    partition: String,
}

type BatchFamily = Family<TaskLabels, Histogram, fn() -> Histogram>;

fn batch_histogram() -> Histogram {
    // 1 ms to about 33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// Every metric of one worker.
pub struct ConnectMetrics {
    registry: Registry,
    polled: Family<TaskLabels, Counter>,
    written: Family<TaskLabels, Counter>,
    read: Family<TaskLabels, Counter>,
    put: Family<TaskLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    dead_letters: Family<TaskLabels, Counter>,
    batches: BatchFamily,
    lag: Family<LagLabels, Gauge>,
    source_lag_bytes: Family<TaskLabels, Gauge>,
    source_lag_seconds: Family<TaskLabels, Gauge<f64, AtomicU64>>,
    /// Other components' metrics, rendered after the worker's. The lock also serializes scrapes, which reset the
    /// lag family before filling it.
    included: Mutex<Vec<Registry>>,
}

impl Default for ConnectMetrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let polled = Family::default();
        let written = Family::default();
        let read = Family::default();
        let put = Family::default();
        let errors = Family::default();
        let dead_letters = Family::default();
        let batches = BatchFamily::new_with_constructor(batch_histogram);
        let lag = Family::default();
        let source_lag_bytes = Family::default();
        let source_lag_seconds = Family::default();
        registry.register("connect_source_records_polled", "Records source tasks polled", polled.clone());
        registry.register("connect_source_records_written", "Records source tasks wrote durably", written.clone());
        registry.register("connect_sink_records_read", "Records sink tasks read from the log", read.clone());
        registry.register("connect_sink_records_put", "Records handed to sink tasks", put.clone());
        registry.register("connect_record_errors", "Records that failed, by stage", errors.clone());
        registry.register("connect_dead_letters", "Records written to the dead-letter topic", dead_letters.clone());
        registry.register(
            "connect_batch_seconds",
            "Seconds per batch (source: poll to durable; sink: put)",
            batches.clone(),
        );
        registry.register("connect_sink_lag_records", "Records a sink has yet to commit", lag.clone());
        registry.register(
            "connect_source_lag_bytes",
            "Change log bytes a source's database holds beyond the source's acknowledged position",
            source_lag_bytes.clone(),
        );
        registry.register(
            "connect_source_lag_seconds",
            "Seconds between a source's latest change being written and being read",
            source_lag_seconds.clone(),
        );
        ConnectMetrics {
            registry,
            polled,
            written,
            read,
            put,
            errors,
            dead_letters,
            batches,
            lag,
            source_lag_bytes,
            source_lag_seconds,
            included: Mutex::new(Vec::new()),
        }
    }
}

impl ConnectMetrics {
    /// The metrics of one task (its series appear once it counts something).
    pub fn task(self: &Arc<Self>, connector: &str, task: u32) -> TaskMetrics {
        TaskMetrics {
            labels: TaskLabels { connector: connector.to_owned(), task: task.to_string() },
            all: Arc::clone(self),
        }
    }

    /// Renders `registry` (another component's metrics) after the worker's, in the same text.
    pub fn include(&self, registry: Registry) {
        self.included().push(registry);
    }

    fn included(&self) -> MutexGuard<'_, Vec<Registry>> {
        self.included.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The text exposition of every metric, with each sink's lag given as (connector, topic, partition, lag).
    pub fn render(&self, lags: &[(String, String, i32, i64)]) -> String {
        let included = self.included();
        self.lag.clear();
        for (connector, topic, partition, lag) in lags {
            let labels =
                LagLabels { connector: connector.clone(), topic: topic.clone(), partition: partition.to_string() };
            self.lag.get_or_create(&labels).set(*lag);
        }
        let mut text = String::new();
        let encoded = std::iter::once(&self.registry)
            .chain(included.iter())
            .try_for_each(|registry| encode_registry(&mut text, registry))
            .and_then(|()| encode_eof(&mut text));
        if let Err(e) = encoded {
            tracing::warn!(error = %e, "encoding metrics failed");
        }
        text
    }
}

/// One task's metrics. Each call finds its series by the task's labels (one hash lookup), once per batch.
#[derive(Clone)]
pub struct TaskMetrics {
    labels: TaskLabels,
    all: Arc<ConnectMetrics>,
}

impl TaskMetrics {
    /// A source task polled `n` records.
    pub fn polled(&self, n: usize) {
        self.all.polled.get_or_create(&self.labels).inc_by(n as u64);
    }

    /// A source task's `n` records are durable.
    pub fn written(&self, n: usize) {
        self.all.written.get_or_create(&self.labels).inc_by(n as u64);
    }

    /// A sink task read `n` records.
    pub fn read(&self, n: usize) {
        self.all.read.get_or_create(&self.labels).inc_by(n as u64);
    }

    /// `n` records were handed to a sink task.
    pub fn put(&self, n: usize) {
        self.all.put.get_or_create(&self.labels).inc_by(n as u64);
    }

    /// A batch took `seconds`.
    pub fn batch(&self, seconds: f64) {
        self.all.batches.get_or_create(&self.labels).observe(seconds);
    }

    /// A record failed in `stage`.
    pub fn error(&self, stage: Stage) {
        let labels = ErrorLabels {
            connector: self.labels.connector.clone(),
            task: self.labels.task.clone(),
            stage: stage.as_str().to_owned(),
        };
        self.all.errors.get_or_create(&labels).inc();
    }

    /// A record was written to the dead-letter topic.
    pub fn dead_letter(&self) {
        self.all.dead_letters.get_or_create(&self.labels).inc();
    }

    /// A source task reported its lag; what it cannot tell leaves no series.
    pub fn source_lag(&self, lag: SourceLag) {
        if let Some(bytes) = lag.bytes {
            self.all.source_lag_bytes.get_or_create(&self.labels).set(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
        if let Some(seconds) = lag.seconds {
            self.all.source_lag_seconds.get_or_create(&self.labels).set(seconds);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_lag_are_rendered() {
        let metrics = Arc::new(ConnectMetrics::default());
        let task = metrics.task("orders-sink", 0);
        task.read(5);
        task.put(4);
        task.error(Stage::ValueConverter);
        task.dead_letter();
        task.batch(0.002);
        let text = metrics.render(&[("orders-sink".into(), "orders".into(), 2, 17)]);
        for line in [
            r#"connect_sink_records_read_total{connector="orders-sink",task="0"} 5"#,
            r#"connect_sink_records_put_total{connector="orders-sink",task="0"} 4"#,
            r#"connect_record_errors_total{connector="orders-sink",task="0",stage="VALUE_CONVERTER"} 1"#,
            r#"connect_dead_letters_total{connector="orders-sink",task="0"} 1"#,
            r#"connect_batch_seconds_count{connector="orders-sink",task="0"} 1"#,
            r#"connect_sink_lag_records{connector="orders-sink",topic="orders",partition="2"} 17"#,
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
        assert!(!metrics.render(&[]).contains("connect_sink_lag_records{"), "lag is measured afresh each scrape");
    }

    #[test]
    fn source_lag_and_included_registries_are_rendered_in_one_text() {
        let metrics = Arc::new(ConnectMetrics::default());
        let task = metrics.task("pg", 0);
        task.source_lag(SourceLag { bytes: Some(4096), seconds: None });
        task.source_lag(SourceLag { bytes: None, seconds: Some(0.25) });
        let mut other = Registry::default();
        let counter: Counter = Counter::default();
        counter.inc();
        other.register("tidemark_other", "Another component's counter", counter);
        metrics.include(other);
        let text = metrics.render(&[]);
        for line in [
            r#"connect_source_lag_bytes{connector="pg",task="0"} 4096"#,
            r#"connect_source_lag_seconds{connector="pg",task="0"} 0.25"#,
            "tidemark_other_total 1",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
        assert_eq!(text.matches("# EOF").count(), 1, "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
