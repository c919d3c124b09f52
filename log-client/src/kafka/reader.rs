//! Reading one partition over the Kafka protocol: a consumer of its own, assigned to exactly that partition from
//! the reader's offset, outside any group. librdkafka prefetches in the background; a call waits for the first
//! record and then takes whatever else is already there.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::errors::kafka_error;
use super::off_runtime::OffRuntime;
use super::partitions;
use crate::{LogError, LogRecord, PartitionReader};

/// Most records one call hands out.
const MAX_RECORDS: usize = 5000;

/// A reader of one partition of a Kafka-protocol cluster.
pub struct KafkaReader {
    topic: String,
    partition: i32,
    consumer: OffRuntime<StreamConsumer>,
    admin: Arc<OffRuntime<AdminClient<DefaultClientContext>>>,
    /// Whether the partition was found in the cluster's metadata.
    found: bool,
    /// The metadata lookup in progress, kept across calls that ended before it did.
    lookup: Option<JoinHandle<Result<(), LogError>>>,
    /// A definite error met after a call had records to hand out, reported by the next call.
    pending: Option<LogError>,
}

impl KafkaReader {
    /// A reader of `partition` of `topic` from offset `from`, configured by `config`; `admin` looks the partition
    /// up.
    pub fn new(
        config: &ClientConfig,
        admin: Arc<OffRuntime<AdminClient<DefaultClientContext>>>,
        topic: &str,
        partition: i32,
        from: i64,
    ) -> Result<Self, LogError> {
        let consumer: StreamConsumer = config.create().map_err(|e| kafka_error(&e))?;
        let mut assignment = TopicPartitionList::new();
        assignment.add_partition_offset(topic, partition, Offset::Offset(from.max(0))).map_err(|e| kafka_error(&e))?;
        consumer.assign(&assignment).map_err(|e| kafka_error(&e))?;
        let consumer = OffRuntime::new(consumer);
        let topic = topic.to_owned();
        Ok(KafkaReader { topic, partition, consumer, admin, found: false, lookup: None, pending: None })
    }

    /// Whether the partition exists, looked up once; `None` when the lookup did not finish by `deadline`.
    async fn look_up(&mut self, deadline: Instant) -> Option<Result<(), LogError>> {
        if self.found {
            return Some(Ok(()));
        }
        let lookup = self.lookup.get_or_insert_with(|| {
            let (admin, topic, partition) = (Arc::clone(&self.admin), self.topic.clone(), self.partition);
            tokio::task::spawn_blocking(move || {
                if partitions(&admin, &topic)?.contains(&partition) {
                    Ok(())
                } else {
                    Err(LogError::UnknownTopic(format!("{topic} partition {partition}")))
                }
            })
        });
        let joined = tokio::time::timeout_at(deadline, lookup).await.ok()?;
        self.lookup = None;
        let found = joined.unwrap_or_else(|e| Err(LogError::Unavailable(format!("the metadata task failed: {e}"))));
        self.found = found.is_ok();
        Some(found)
    }

    async fn next(&mut self, max_wait: Duration) -> Result<Vec<LogRecord>, LogError> {
        if let Some(error) = self.pending.take() {
            return Err(error);
        }
        let deadline = Instant::now() + max_wait;
        match self.look_up(deadline).await {
            None => return Ok(Vec::new()),
            Some(found) => found?,
        }
        let mut stream = self.consumer.stream();
        let mut records = Vec::new();
        // The first record: wait for it, riding out what librdkafka recovers from by itself.
        loop {
            match tokio::time::timeout_at(deadline, stream.next()).await {
                Err(_) => return Ok(records),
                Ok(None) => return Err(LogError::Unavailable("the consumer closed".into())),
                Ok(Some(Ok(message))) => {
                    records.push(log_record(&message));
                    break;
                }
                Ok(Some(Err(e))) => match kafka_error(&e) {
                    LogError::Unavailable(text) => {
                        tracing::warn!(
                            topic = self.topic,
                            partition = self.partition,
                            error = text,
                            "reading the partition; librdkafka retries"
                        )
                    }
                    definite => return Err(definite),
                },
            }
        }
        // Then whatever is already fetched.
        while records.len() < MAX_RECORDS {
            match stream.next().now_or_never() {
                Some(Some(Ok(message))) => records.push(log_record(&message)),
                Some(Some(Err(e))) => {
                    match kafka_error(&e) {
                        LogError::Unavailable(text) => {
                            tracing::warn!(
                                topic = self.topic,
                                partition = self.partition,
                                error = text,
                                "reading the partition; librdkafka retries"
                            )
                        }
                        definite => self.pending = Some(definite),
                    }
                    break;
                }
                Some(None) | None => break,
            }
        }
        Ok(records)
    }
}

impl PartitionReader for KafkaReader {
    fn next_records(&mut self, max_wait: Duration) -> BoxFuture<'_, Result<Vec<LogRecord>, LogError>> {
        self.next(max_wait).boxed()
    }
}

/// A consumed message as a log record.
pub fn log_record(message: &BorrowedMessage<'_>) -> LogRecord {
    let headers = message.headers().map_or_else(Vec::new, |headers| {
        headers.iter().map(|h| (h.key.to_owned(), h.value.map(Bytes::copy_from_slice))).collect()
    });
    LogRecord {
        partition: message.partition(),
        offset: message.offset(),
        timestamp: message.timestamp().to_millis().unwrap_or(-1),
        key: message.key().map(Bytes::copy_from_slice),
        value: message.payload().map(Bytes::copy_from_slice),
        headers,
    }
}
