//! The broker's Prometheus metrics, Kafka's broker metrics in Prometheus style:
//!
//! - `tidemark_broker_bytes_in_total{topic}` / `tidemark_broker_records_in_total{topic}` (`BytesInPerSec`,
//!   `MessagesInPerSec`): batches Produce appended (an idempotent producer's retry of a written batch is not
//!   counted again),
//! - `tidemark_broker_bytes_out_total{topic, fetcher}` / `tidemark_broker_records_out_total{topic, fetcher}`
//!   (`BytesOutPerSec`): what Fetch answered, `fetcher` being `consumer` or `replica` (a follower broker),
//! - `tidemark_broker_request_seconds{api}` (`RequestMetrics` `TotalTimeMs`): from a request's frame read to its
//!   response ready; its `_count` is the number of requests per API,
//! - `tidemark_broker_under_replicated_partitions` (`UnderReplicatedPartitions`): partitions this broker leads whose
//!   ISR is smaller than their replica list, from the cluster image when scraped (0 on a single node),
//! - `tidemark_broker_isr_shrinks_total` / `tidemark_broker_isr_expands_total` (`IsrShrinksPerSec`,
//!   `IsrExpandsPerSec`): ISR changes the controller accepted from this broker's leaders.
//!
//! Only Kafka-protocol traffic counts: the registry and the worker of `tidemark up` read and write the log in
//! process, and count in their own metrics. [`BrokerMetrics::register`] adds every metric to a registry that may
//! hold other components' metrics too; the text is OpenMetrics 1.0 (prometheus-client's encoding).

use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::messages::ApiKey;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeLabelValue, EncodeMetric, LabelValueEncoder,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::cluster::Cluster;
use crate::controller::Controller;

/// A topic.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TopicLabels {
    topic: String,
}

/// Who fetched: a consumer or a follower broker.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub enum Fetcher {
    /// A client (`replica_id` -1).
    Consumer,
    /// A broker replicating the partition.
    Replica,
}

impl EncodeLabelValue for Fetcher {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        let name = match self {
            Fetcher::Consumer => "consumer",
            Fetcher::Replica => "replica",
        };
        EncodeLabelValue::encode(&name, encoder)
    }
}

/// A topic and who fetched from it.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FetchLabels {
    topic: String,
    fetcher: Fetcher,
}

/// A Kafka API, labelled by its name (`Produce`, `Fetch`, ...).
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
struct Api(ApiKey);

impl EncodeLabelValue for Api {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_fmt(encoder, format_args!("{:?}", self.0))
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    api: Api,
}

type RequestFamily = Family<ApiLabels, Histogram, fn() -> Histogram>;

fn request_histogram() -> Histogram {
    // 100 µs to about 26 s (a long-polling fetch waits up to its max_wait_ms).
    Histogram::new(exponential_buckets(0.0001, 2.0, 19))
}

/// The ISR changes that the controller accepted from the leaders on this broker (owned by the replica manager,
/// which proposes them).
#[derive(Debug, Clone, Default)]
pub struct IsrChanges {
    shrinks: Counter,
    expands: Counter,
}

impl IsrChanges {
    /// An ISR went from `old` to `new`: a shrink when a member left, an expansion when one joined (both when one
    /// replaced another).
    pub fn changed(&self, old: &[i32], new: &[i32]) {
        if old.iter().any(|id| !new.contains(id)) {
            self.shrinks.inc();
        }
        if new.iter().any(|id| !old.contains(id)) {
            self.expands.inc();
        }
    }
}

/// Counts, when scraped, the partitions this broker leads whose ISR is smaller than their replica list.
#[derive(Debug, Clone)]
struct UnderReplicated {
    /// This broker's id and the controller whose image it follows; `None` on a single node.
    cluster: Option<(i32, Arc<Controller>)>,
}

impl UnderReplicated {
    fn count(&self) -> i64 {
        let Some((node_id, controller)) = &self.cluster else { return 0 };
        let image = controller.image();
        let led = image.topics.values().flat_map(|topic| &topic.partitions).filter(|p| p.leader == *node_id);
        led.filter(|p| p.isr.len() < p.replicas.len()).count() as i64
    }
}

impl Collector for UnderReplicated {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let gauge = ConstGauge::new(self.count());
        let metric = encoder.encode_descriptor(
            "tidemark_broker_under_replicated_partitions",
            "Partitions this broker leads whose ISR is smaller than their replica list",
            None,
            gauge.metric_type(),
        )?;
        gauge.encode(metric)
    }
}

/// Every metric of one broker.
#[derive(Debug)]
pub struct BrokerMetrics {
    bytes_in: Family<TopicLabels, Counter>,
    records_in: Family<TopicLabels, Counter>,
    bytes_out: Family<FetchLabels, Counter>,
    records_out: Family<FetchLabels, Counter>,
    requests: RequestFamily,
    isr: IsrChanges,
    under_replicated: UnderReplicated,
}

impl BrokerMetrics {
    /// The metrics of broker `node_id`, a member of `cluster` when it has one.
    pub fn new(node_id: i32, cluster: Option<&Cluster>) -> Self {
        BrokerMetrics {
            bytes_in: Family::default(),
            records_in: Family::default(),
            bytes_out: Family::default(),
            records_out: Family::default(),
            requests: RequestFamily::new_with_constructor(request_histogram),
            isr: cluster.map(|c| c.replicas().isr_changes().clone()).unwrap_or_default(),
            under_replicated: UnderReplicated { cluster: cluster.map(|c| (node_id, Arc::clone(c.controller()))) },
        }
    }

    /// Adds every broker metric to `registry` (the same series: registering into several registries is fine).
    pub fn register(&self, registry: &mut Registry) {
        registry.register("tidemark_broker_bytes_in", "Bytes produced, by topic", self.bytes_in.clone());
        registry.register("tidemark_broker_records_in", "Records produced, by topic", self.records_in.clone());
        registry.register(
            "tidemark_broker_bytes_out",
            "Bytes fetched, by topic and fetcher (consumer or replica)",
            self.bytes_out.clone(),
        );
        registry.register(
            "tidemark_broker_records_out",
            "Records fetched, by topic and fetcher (consumer or replica)",
            self.records_out.clone(),
        );
        registry.register(
            "tidemark_broker_request_seconds",
            "Seconds from a request's arrival to its response, by API",
            self.requests.clone(),
        );
        registry.register(
            "tidemark_broker_isr_shrinks",
            "ISR shrinks of partitions led here",
            self.isr.shrinks.clone(),
        );
        registry.register(
            "tidemark_broker_isr_expands",
            "ISR expansions of partitions led here",
            self.isr.expands.clone(),
        );
        registry.register_collector(Box::new(self.under_replicated.clone()));
    }

    /// Produce appended a batch of `records` records and `bytes` bytes to `topic`.
    pub fn produced(&self, topic: &str, bytes: usize, records: u64) {
        let labels = TopicLabels { topic: topic.to_owned() };
        self.bytes_in.get_or_create(&labels).inc_by(bytes as u64);
        self.records_in.get_or_create(&labels).inc_by(records);
    }

    /// Fetch answered `bytes` bytes holding `records` records of `topic` to `fetcher`.
    pub fn fetched(&self, topic: &str, fetcher: Fetcher, bytes: usize, records: u64) {
        let labels = FetchLabels { topic: topic.to_owned(), fetcher };
        self.bytes_out.get_or_create(&labels).inc_by(bytes as u64);
        self.records_out.get_or_create(&labels).inc_by(records);
    }

    /// A request to `api` was answered `took` after it arrived.
    pub fn request(&self, api: ApiKey, took: Duration) {
        self.requests.get_or_create(&ApiLabels { api: Api(api) }).observe(took.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(metrics: &BrokerMetrics) -> String {
        let mut registry = Registry::default();
        metrics.register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).expect("encode");
        text
    }

    #[test]
    fn traffic_requests_and_isr_changes_are_rendered() {
        let metrics = BrokerMetrics::new(1, None);
        metrics.produced("orders", 120, 3);
        metrics.produced("orders", 80, 2);
        metrics.fetched("orders", Fetcher::Consumer, 200, 5);
        metrics.fetched("orders", Fetcher::Replica, 200, 5);
        metrics.request(ApiKey::Produce, Duration::from_millis(2));
        metrics.isr.changed(&[1, 2, 3], &[1, 2]);
        metrics.isr.changed(&[1, 2], &[1, 2, 3]);
        metrics.isr.changed(&[1, 2], &[1, 3]);
        let text = render(&metrics);
        for line in [
            r#"tidemark_broker_bytes_in_total{topic="orders"} 200"#,
            r#"tidemark_broker_records_in_total{topic="orders"} 5"#,
            r#"tidemark_broker_bytes_out_total{topic="orders",fetcher="consumer"} 200"#,
            r#"tidemark_broker_records_out_total{topic="orders",fetcher="replica"} 5"#,
            r#"tidemark_broker_request_seconds_count{api="Produce"} 1"#,
            "tidemark_broker_isr_shrinks_total 2",
            "tidemark_broker_isr_expands_total 2",
            "tidemark_broker_under_replicated_partitions 0",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
    }
}
