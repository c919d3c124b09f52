//! The log client over the Kafka protocol (librdkafka through `rdkafka`), for a separate Tidemark cluster, Apache
//! Kafka or Redpanda.
//!
//! One admin client creates topics and answers metadata and watermark queries; one idempotent producer
//! (`acks=all`, `enable.idempotence=true`, `partitioner=murmur2_random`, so keyed records land where Java clients
//! put them) writes every produce call; each reader is a consumer of its own, assigned to exactly one partition,
//! that never joins a group nor commits, and checks on its first call that its partition exists (librdkafka itself
//! reports a missing topic only after `topic.metadata.propagation.max.ms`). librdkafka's blocking calls (metadata,
//! watermarks) run on tokio's blocking pool, and its clients are dropped there too ([`OffRuntime`]).
//!
//! Settings: `extra_config` goes to every client (security, timeouts, ...), after which the settings the contract
//! rests on are imposed: the producer's `acks`, `enable.idempotence` and `partitioner`, the readers'
//! `enable.auto.commit=false`, `enable.auto.offset.store=false`, `auto.offset.reset=earliest` and
//! `enable.partition.eof=false`, and `allow.auto.create.topics=false` for metadata queries. The readers' `group.id`
//! defaults to `tidemark-log-client` and may be overridden.
//!
//! Group consumers (`group`) are librdkafka consumers subscribed under the group's id, with the readers' imposed
//! settings and defaults `extra_config` may override: `partition.assignment.strategy=range` and
//! `session.timeout.ms=10000` (as the in-process members), and `topic.metadata.refresh.interval.ms=3000`, so that
//! a pattern subscription picks up a new topic within seconds, and the partitions of a member that died go to
//! the others within 10 s rather than librdkafka's 45. A group's offsets are read and changed through consumers that have its id but never
//! join it (`group_offsets`).

mod errors;
mod group;
mod group_offsets;
mod off_runtime;
mod reader;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};

use crate::{
    GroupConsumer, LogClient, LogError, PartitionReader, Position, ProducerRecord, Subscription, TopicOffset, TopicSpec,
};
use errors::{from_code, kafka_error};
use group::KafkaGroupConsumer;
use off_runtime::OffRuntime;
use reader::KafkaReader;

/// The consumer group id readers give librdkafka (which wants one to assign partitions); nothing is committed
/// under it and no group is joined.
const READER_GROUP_ID: &str = "tidemark-log-client";

/// How long a metadata or watermark query, or a topic creation, may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a produce call waits before retrying to enqueue when librdkafka's queue is full and nothing of its own
/// is in flight.
const QUEUE_FULL_BACKOFF: Duration = Duration::from_millis(50);

/// The log of a Kafka-protocol cluster.
pub struct KafkaLog {
    admin: Arc<OffRuntime<AdminClient<DefaultClientContext>>>,
    producer: OffRuntime<FutureProducer>,
    reader_config: ClientConfig,
    /// Settings of group consumers and of the consumers that read and change a group's offsets (`group.id` aside).
    group_config: ClientConfig,
}

impl std::fmt::Debug for KafkaLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The config may hold credentials: not shown.
        f.debug_struct("KafkaLog").finish_non_exhaustive()
    }
}

impl KafkaLog {
    /// A client of the cluster at `bootstrap_servers` (`host:port,...`), with `extra_config` given to every
    /// librdkafka client it makes. Connects lazily: an unreachable cluster shows in the first call.
    pub fn new(bootstrap_servers: &str, extra_config: &BTreeMap<String, String>) -> Result<Self, LogError> {
        let config = |defaults: &[(&str, &str)], imposed: &[(&str, &str)]| {
            let mut config = ClientConfig::new();
            for (key, value) in defaults {
                config.set(*key, *value);
            }
            for (key, value) in extra_config {
                config.set(key, value);
            }
            config.set("bootstrap.servers", bootstrap_servers);
            for (key, value) in imposed {
                config.set(*key, *value);
            }
            config
        };
        let admin = config(&[], &[("allow.auto.create.topics", "false")]).create().map_err(|e| kafka_error(&e))?;
        let producer =
            config(&[], &[("acks", "all"), ("enable.idempotence", "true"), ("partitioner", "murmur2_random")])
                .create()
                .map_err(|e| kafka_error(&e))?;
        let consuming = [
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("auto.offset.reset", "earliest"),
            ("enable.partition.eof", "false"),
        ];
        let reader_config = config(&[("group.id", READER_GROUP_ID)], &consuming);
        let group_config = config(
            &[
                ("partition.assignment.strategy", "range"),
                ("topic.metadata.refresh.interval.ms", "3000"),
                ("session.timeout.ms", "10000"),
            ],
            &consuming,
        );
        Ok(KafkaLog {
            admin: Arc::new(OffRuntime::new(admin)),
            producer: OffRuntime::new(producer),
            reader_config,
            group_config,
        })
    }

    /// Sends every record in order without waiting, then waits for each delivery in order.
    async fn produce_all(&self, topic: &str, records: &[ProducerRecord]) -> Result<Vec<Position>, LogError> {
        let mut positions = Vec::with_capacity(records.len());
        let mut in_flight: VecDeque<DeliveryFuture> = VecDeque::new();
        for record in records {
            let mut next = future_record(topic, record);
            loop {
                match self.producer.send_result(next) {
                    Ok(delivery) => {
                        in_flight.push_back(delivery);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        // Make room: wait for our oldest delivery or, with none in flight (other calls filled the
                        // queue), a moment.
                        next = back;
                        match in_flight.pop_front() {
                            Some(oldest) => positions.push(delivered(oldest.await)?),
                            None => tokio::time::sleep(QUEUE_FULL_BACKOFF).await,
                        }
                    }
                    Err((e, _)) => return Err(kafka_error(&e)),
                }
            }
        }
        for delivery in in_flight {
            positions.push(delivered(delivery.await)?);
        }
        Ok(positions)
    }
}

/// `record` as librdkafka takes it.
fn future_record<'a>(topic: &'a str, record: &'a ProducerRecord) -> FutureRecord<'a, [u8], [u8]> {
    let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
    for (key, value) in &record.headers {
        headers = headers.insert(Header { key, value: value.as_deref() });
    }
    let mut future = FutureRecord::to(topic).headers(headers);
    if let Some(partition) = record.partition {
        future = future.partition(partition);
    }
    if let Some(timestamp) = record.timestamp {
        future = future.timestamp(timestamp);
    }
    if let Some(key) = &record.key {
        future = future.key(key.as_ref());
    }
    if let Some(value) = &record.value {
        future = future.payload(value.as_ref());
    }
    future
}

/// The position of a delivered record, or why it was not delivered.
fn delivered(delivery: <DeliveryFuture as std::future::Future>::Output) -> Result<Position, LogError> {
    match delivery {
        Ok(Ok(delivery)) => Ok(Position { partition: delivery.partition, offset: delivery.offset }),
        Ok(Err((e, _))) => Err(kafka_error(&e)),
        Err(_) => Err(LogError::Unavailable("the producer went away before the delivery report".into())),
    }
}

impl LogClient for KafkaLog {
    fn ensure_topic<'a>(&'a self, spec: &'a TopicSpec) -> BoxFuture<'a, Result<(), LogError>> {
        async move {
            let mut topic =
                NewTopic::new(&spec.name, spec.partitions, TopicReplication::Fixed(spec.replication_factor.into()));
            for (key, value) in &spec.configs {
                topic = topic.set(key, value);
            }
            let options = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT));
            let results = self.admin.create_topics([&topic], &options).await.map_err(|e| kafka_error(&e))?;
            for result in results {
                match result {
                    Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                    Err((name, code)) => return Err(from_code(code, format!("creating topic {name}: {code}"))),
                }
            }
            Ok(())
        }
        .boxed()
    }

    fn produce<'a>(
        &'a self,
        topic: &'a str,
        records: Vec<ProducerRecord>,
    ) -> BoxFuture<'a, Result<Vec<Position>, LogError>> {
        async move { self.produce_all(topic, &records).await }.boxed()
    }

    fn end_offsets<'a>(&'a self, topic: &'a str) -> BoxFuture<'a, Result<Vec<i64>, LogError>> {
        let (admin, topic) = (Arc::clone(&self.admin), topic.to_owned());
        async move {
            tokio::task::spawn_blocking(move || watermarks(&admin, &topic))
                .await
                .map_err(|e| LogError::Unavailable(format!("the metadata task failed: {e}")))?
        }
        .boxed()
    }

    fn reader(&self, topic: &str, partition: i32, from: i64) -> Result<Box<dyn PartitionReader>, LogError> {
        let admin = Arc::clone(&self.admin);
        Ok(Box::new(KafkaReader::new(&self.reader_config, admin, topic, partition, from)?))
    }

    fn group_consumer(
        &self,
        group: &str,
        subscription: Subscription,
        max_poll_records: usize,
    ) -> Result<Box<dyn GroupConsumer>, LogError> {
        Ok(Box::new(KafkaGroupConsumer::new(&self.group_config, group, subscription, max_poll_records)?))
    }

    fn group_offsets<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Result<Vec<TopicOffset>, LogError>> {
        let (config, group) = (self.group_config.clone(), group.to_owned());
        async move {
            tokio::task::spawn_blocking(move || group_offsets::group_offsets(&config, &group))
                .await
                .map_err(|e| LogError::Unavailable(format!("the offsets task failed: {e}")))?
        }
        .boxed()
    }

    fn alter_group_offsets<'a>(
        &'a self,
        group: &'a str,
        offsets: &'a [(String, i32, Option<i64>)],
    ) -> BoxFuture<'a, Result<(), LogError>> {
        group_offsets::alter_group_offsets(&self.group_config, &self.admin, group, offsets).boxed()
    }
}

/// The high watermark of every partition of `topic`, by partition (blocking).
fn watermarks(admin: &AdminClient<DefaultClientContext>, topic: &str) -> Result<Vec<i64>, LogError> {
    partitions(admin, topic)?
        .into_iter()
        .map(|partition| {
            let watermarks = admin.inner().fetch_watermarks(topic, partition, REQUEST_TIMEOUT);
            let (_, high) = watermarks.map_err(|e| kafka_error(&e))?;
            Ok(high)
        })
        .collect()
}

/// The partitions of `topic` in order, from the cluster's metadata (blocking).
fn partitions(admin: &AdminClient<DefaultClientContext>, topic: &str) -> Result<Vec<i32>, LogError> {
    let metadata = admin.inner().fetch_metadata(Some(topic), REQUEST_TIMEOUT).map_err(|e| kafka_error(&e))?;
    let found = metadata.topics().iter().find(|t| t.name() == topic);
    let found = found.ok_or_else(|| LogError::UnknownTopic(topic.to_owned()))?;
    if let Some(error) = found.error() {
        let code = RDKafkaErrorCode::from(error);
        return Err(from_code(code, format!("topic {topic}: {code}")));
    }
    let mut partitions: Vec<i32> = found.partitions().iter().map(|p| p.id()).collect();
    partitions.sort_unstable();
    Ok(partitions)
}
