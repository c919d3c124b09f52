//! A consumer group member over the Kafka protocol: a librdkafka consumer subscribed with the group's id.
//! librdkafka joins, heartbeats and follows rebalances in its own threads; its rebalance callbacks run while the
//! consumer is polled, and [`GroupContext`] notes whether the member holds an assignment, so that a commit made
//! without one is refused as [`LogError::Rebalanced`] as Kafka's Java consumer refuses it.
//!
//! A pattern is subscribed as `^(pattern)$` (librdkafka takes a topic starting with `^` for a regular
//! expression), with internal topics (`__...`) left out of the consumer's metadata (`topic.blacklist`). Commits
//! are synchronous (`CommitMode::Sync`) on tokio's blocking pool; the consumer is dropped there too, which leaves
//! the group.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::{Offset, TopicPartitionList};
use tokio::time::Instant;

use super::errors::kafka_error;
use super::off_runtime::OffRuntime;
use super::reader::log_record;
use crate::group::check_settings;
use crate::{GroupConsumer, LogError, Subscription, TopicOffset, TopicRecord};

/// Notes whether the member holds an assignment: from each assignment until the next revocation.
#[derive(Debug, Default)]
pub struct GroupContext {
    assigned: AtomicBool,
}

impl ClientContext for GroupContext {}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if !matches!(rebalance, Rebalance::Assign(_)) {
            self.assigned.store(false, Ordering::SeqCst);
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if matches!(rebalance, Rebalance::Assign(_)) {
            self.assigned.store(true, Ordering::SeqCst);
        }
    }
}

/// A member of a consumer group of a Kafka-protocol cluster.
pub struct KafkaGroupConsumer {
    group: String,
    consumer: Arc<OffRuntime<StreamConsumer<GroupContext>>>,
    max_poll_records: usize,
    /// A definite error met after a poll had records to hand out, reported by the next poll.
    pending: Option<LogError>,
}

impl KafkaGroupConsumer {
    /// A member of `group` reading `subscription`, configured by `config` (the group consumers' settings).
    pub fn new(
        config: &ClientConfig,
        group: &str,
        subscription: Subscription,
        max_poll_records: usize,
    ) -> Result<Self, LogError> {
        check_settings(group, &subscription, max_poll_records)?;
        let mut config = config.clone();
        config.set("group.id", group);
        let topics = match subscription {
            Subscription::Topics(topics) => topics,
            Subscription::Pattern(pattern) => {
                config.set("topic.blacklist", "^__.*");
                vec![format!("^({pattern})$")]
            }
        };
        let consumer: StreamConsumer<GroupContext> =
            config.create_with_context(GroupContext::default()).map_err(|e| kafka_error(&e))?;
        let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topics).map_err(|e| kafka_error(&e))?;
        let consumer = Arc::new(OffRuntime::new(consumer));
        Ok(KafkaGroupConsumer { group: group.to_owned(), consumer, max_poll_records, pending: None })
    }

    async fn next(&mut self, max_wait: Duration) -> Result<Vec<TopicRecord>, LogError> {
        if let Some(error) = self.pending.take() {
            return Err(error);
        }
        let deadline = Instant::now() + max_wait;
        let mut stream = self.consumer.stream();
        let mut records = Vec::new();
        // The first record: wait for it, riding out what librdkafka recovers from by itself.
        loop {
            match tokio::time::timeout_at(deadline, stream.next()).await {
                Err(_) => return Ok(records),
                Ok(None) => return Err(LogError::Unavailable("the consumer closed".into())),
                Ok(Some(Ok(message))) => {
                    records.push(topic_record(&message));
                    break;
                }
                Ok(Some(Err(e))) => definite(&self.group, &e)?,
            }
        }
        // Then whatever is already fetched.
        while records.len() < self.max_poll_records {
            match stream.next().now_or_never() {
                Some(Some(Ok(message))) => records.push(topic_record(&message)),
                Some(Some(Err(e))) => {
                    self.pending = definite(&self.group, &e).err();
                    break;
                }
                Some(None) | None => break,
            }
        }
        Ok(records)
    }

    async fn commit_offsets(&mut self, offsets: &[TopicOffset]) -> Result<(), LogError> {
        if offsets.is_empty() {
            return Ok(());
        }
        if !self.consumer.context().assigned.load(Ordering::SeqCst) {
            return Err(LogError::Rebalanced(format!("the member of group {} holds no assignment", self.group)));
        }
        let mut list = TopicPartitionList::new();
        for (topic, partition, offset) in offsets {
            list.add_partition_offset(topic, *partition, Offset::Offset(*offset)).map_err(|e| kafka_error(&e))?;
        }
        let consumer = Arc::clone(&self.consumer);
        tokio::task::spawn_blocking(move || consumer.commit(&list, CommitMode::Sync))
            .await
            .map_err(|e| LogError::Unavailable(format!("the commit task failed: {e}")))?
            .map_err(|e| kafka_error(&e))
    }
}

/// `Ok` for a consumer error librdkafka recovers from by itself (logged), the error otherwise.
fn definite(group: &str, error: &KafkaError) -> Result<(), LogError> {
    match kafka_error(error) {
        // A subscribed topic that does not exist yet is read once it does.
        LogError::UnknownTopic(text) => tracing::debug!(group, error = text, "consuming; waiting for the topic"),
        LogError::Unavailable(text) | LogError::Rebalanced(text) => {
            tracing::warn!(group, error = text, "consuming; librdkafka retries")
        }
        definite => return Err(definite),
    }
    Ok(())
}

impl GroupConsumer for KafkaGroupConsumer {
    fn poll(&mut self, max_wait: Duration) -> BoxFuture<'_, Result<Vec<TopicRecord>, LogError>> {
        self.next(max_wait).boxed()
    }

    fn commit<'a>(&'a mut self, offsets: &'a [TopicOffset]) -> BoxFuture<'a, Result<(), LogError>> {
        self.commit_offsets(offsets).boxed()
    }

    fn assignment(&self) -> Vec<(String, i32)> {
        let assignment = self.consumer.assignment().unwrap_or_default();
        let mut partitions: Vec<(String, i32)> =
            assignment.elements().iter().map(|e| (e.topic().to_owned(), e.partition())).collect();
        partitions.sort();
        partitions
    }

    fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
        let consumer = self.consumer;
        async move {
            // Only the last holder leaves the group; a commit task still running holds the consumer too.
            let Some(consumer) = Arc::try_unwrap(consumer).ok().and_then(OffRuntime::into_inner) else {
                return;
            };
            if let Err(e) = tokio::task::spawn_blocking(move || drop(consumer)).await {
                tracing::warn!(error = %e, "closing a group consumer failed");
            }
        }
        .boxed()
    }
}

/// A consumed message as a topic record.
fn topic_record(message: &BorrowedMessage<'_>) -> TopicRecord {
    TopicRecord { topic: message.topic().to_owned(), record: log_record(message) }
}
