//! The log client inside the broker's process: direct calls into [`Broker`], no sockets.
//!
//! A produce call groups its records by partition, encodes each partition's records into RecordBatch v2 batches (as
//! a producer would send them, within the topic's `max.message.bytes`), appends them under the partition lock and
//! then waits until they are durable: the same path, and the same acknowledgement, as a Kafka Produce request with
//! `acks=all`. A call that fails part-way may have written some of its records, as a Kafka producer's may; retrying
//! it can write them twice (at least once).
//!
//! Reads go through [`PartitionLog::read`](tidemark_broker::storage::PartitionLog::read) and wait on the broker's
//! [`LogActivity`](tidemark_broker::storage::LogActivity), as a long-polling Fetch does.
//!
//! Group consumers (`group`) are members of the broker's own group coordinator, speaking the classic consumer
//! protocol to it by direct calls; their groups need the broker's group timers running
//! ([`Broker::run_group_timers`], which the Kafka listener starts) to complete rebalances and expire sessions.

mod errors;
mod group;
mod produce;
mod reader;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;
use tidemark_broker::topics::TopicError;
use tidemark_broker::{now_ms, Broker};

use crate::{
    GroupConsumer, LogClient, LogError, PartitionReader, Position, ProducerRecord, Subscription, TopicOffset, TopicSpec,
};
use group::InProcessGroupConsumer;
use reader::InProcessReader;

/// The log of a [`Broker`] in this process.
#[derive(Debug)]
pub struct InProcessLog {
    broker: Arc<Broker>,
    /// Advanced by every produce call: the keyless records of call `n` go to partition `n % partitions`.
    keyless_turn: AtomicU32,
}

impl InProcessLog {
    /// A client of `broker`.
    pub fn new(broker: Arc<Broker>) -> Self {
        InProcessLog { broker, keyless_turn: AtomicU32::new(0) }
    }
}

impl LogClient for InProcessLog {
    fn ensure_topic<'a>(&'a self, spec: &'a TopicSpec) -> BoxFuture<'a, Result<(), LogError>> {
        async move {
            if self.broker.topics().get(&spec.name).is_some() {
                return Ok(());
            }
            // -1 asks for the cluster's default, which is 1 on a single node (as CreateTopics answers).
            let replication_factor = if spec.replication_factor == -1 { 1 } else { spec.replication_factor };
            let created = self
                .broker
                .topics()
                .create(&spec.name, spec.partitions, replication_factor, spec.configs.clone(), false, now_ms())
                .await;
            match created {
                Ok(_) | Err(TopicError::AlreadyExists(_)) => Ok(()),
                Err(e) => Err(e.into()),
            }
        }
        .boxed()
    }

    fn produce<'a>(
        &'a self,
        topic: &'a str,
        records: Vec<ProducerRecord>,
    ) -> BoxFuture<'a, Result<Vec<Position>, LogError>> {
        async move {
            if records.is_empty() {
                return Ok(Vec::new());
            }
            // As a Produce request does: an unknown topic is created when the broker's auto-creation allows it.
            let topic = self.broker.topic_or_create(topic, true).await?;
            let keyless = self.keyless_turn.fetch_add(1, Ordering::Relaxed);
            let count = records.len();
            let by_partition = produce::by_partition(topic.name(), records, topic.partition_count(), keyless)?;
            let config = topic.config();
            let mut positions = vec![Position { partition: -1, offset: -1 }; count];
            let mut appended = Vec::with_capacity(by_partition.len());
            for (partition, records) in by_partition {
                let log = topic
                    .partition(partition)
                    .ok_or_else(|| LogError::UnknownTopic(format!("{} partition {partition}", topic.name())))?;
                let mut end = 0;
                for batch in produce::batches(records, config.max_message_bytes) {
                    let now = now_ms();
                    let (encoded, indexes) = batch.encode(now)?;
                    let info = log.append(encoded, &config, now)?;
                    for (delta, index) in indexes.into_iter().enumerate() {
                        positions[index] = Position { partition, offset: info.base_offset + delta as i64 };
                    }
                    end = info.last_offset + 1;
                }
                appended.push((log, end));
            }
            for (log, end) in appended {
                log.wait_durable(end).await?;
            }
            Ok(positions)
        }
        .boxed()
    }

    fn end_offsets<'a>(&'a self, topic: &'a str) -> BoxFuture<'a, Result<Vec<i64>, LogError>> {
        async move {
            let topic = self.broker.topics().get(topic).ok_or_else(|| LogError::UnknownTopic(topic.to_owned()))?;
            Ok(topic.partitions().iter().map(|log| log.high_watermark()).collect())
        }
        .boxed()
    }

    fn reader(&self, topic: &str, partition: i32, from: i64) -> Result<Box<dyn PartitionReader>, LogError> {
        let log = self
            .broker
            .topics()
            .get(topic)
            .ok_or_else(|| LogError::UnknownTopic(topic.to_owned()))?
            .partition(partition)
            .ok_or_else(|| LogError::UnknownTopic(format!("{topic} partition {partition}")))?;
        let activity = self.broker.topics().activity().subscribe();
        Ok(Box::new(InProcessReader::new(topic, partition, log, activity, from)))
    }

    fn group_consumer(
        &self,
        group: &str,
        subscription: Subscription,
        max_poll_records: usize,
    ) -> Result<Box<dyn GroupConsumer>, LogError> {
        let consumer = InProcessGroupConsumer::new(Arc::clone(&self.broker), group, subscription, max_poll_records)?;
        Ok(Box::new(consumer))
    }

    fn group_offsets<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Result<Vec<TopicOffset>, LogError>> {
        async move { Ok(group::group_offsets(&self.broker, group)) }.boxed()
    }

    fn alter_group_offsets<'a>(
        &'a self,
        group: &'a str,
        offsets: &'a [(String, i32, Option<i64>)],
    ) -> BoxFuture<'a, Result<(), LogError>> {
        group::alter_group_offsets(&self.broker, group, offsets).boxed()
    }
}
