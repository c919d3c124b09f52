//! A group's committed offsets as an administrator reads and changes them over the Kafka protocol (Kafka Connect's
//! KIP-875 offsets endpoints for sinks), with what rdkafka 0.39 offers: a consumer that has the group's id but
//! never joins it reads the offsets of every partition in the cluster's metadata (OffsetFetch) and commits new
//! ones from outside group management, which brokers accept only while the group has no members; AdminClient's
//! DeleteGroups removes all of them. rdkafka has no OffsetDelete, so removing only some of a group's offsets is
//! refused.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::{Offset, TopicPartitionList};

use super::errors::{from_code, kafka_error};
use super::off_runtime::OffRuntime;
use super::REQUEST_TIMEOUT;
use crate::{LogError, TopicOffset};

/// The committed offsets of `group`, sorted, through a consumer configured by `config` (blocking).
pub fn group_offsets(config: &ClientConfig, group: &str) -> Result<Vec<TopicOffset>, LogError> {
    committed(&outsider(config, group)?)
}

/// Sets and removes committed offsets of `group`, which must have no members; removing every offset deletes the
/// group, removing some is refused. `config` configures the consumers, `admin` deletes.
pub async fn alter_group_offsets(
    config: &ClientConfig,
    admin: &Arc<OffRuntime<AdminClient<DefaultClientContext>>>,
    group: &str,
    offsets: &[(String, i32, Option<i64>)],
) -> Result<(), LogError> {
    if group.is_empty() {
        return Err(LogError::Refused("a consumer group needs a non-empty id".into()));
    }
    // The last entry of a partition wins.
    let latest: BTreeMap<(String, i32), Option<i64>> =
        offsets.iter().map(|(topic, partition, offset)| ((topic.clone(), *partition), *offset)).collect();
    let removals: BTreeSet<(String, i32)> =
        latest.iter().filter(|(_, offset)| offset.is_none()).map(|(tp, _)| tp.clone()).collect();
    let sets: Vec<TopicOffset> =
        latest.into_iter().filter_map(|((topic, partition), offset)| Some((topic, partition, offset?))).collect();
    if sets.is_empty() && removals.is_empty() {
        return Ok(());
    }
    if !sets.is_empty() && !removals.is_empty() {
        return Err(partial_removal(group));
    }
    let (config, owned_group) = (config.clone(), group.to_owned());
    let committed = tokio::task::spawn_blocking(move || {
        let consumer = outsider(&config, &owned_group)?;
        refuse_active(&consumer, &owned_group)?;
        if sets.is_empty() {
            return committed(&consumer);
        }
        let mut list = TopicPartitionList::new();
        for (topic, partition, offset) in &sets {
            list.add_partition_offset(topic, *partition, Offset::Offset(*offset)).map_err(|e| kafka_error(&e))?;
        }
        match consumer.commit(&list, CommitMode::Sync) {
            Ok(()) => Ok(Vec::new()),
            Err(KafkaError::ConsumerCommit(code)) if refused_for_members(code) => Err(active(&owned_group)),
            Err(e) => Err(kafka_error(&e)),
        }
    })
    .await
    .map_err(|e| LogError::Unavailable(format!("the offsets task failed: {e}")))??;
    if removals.is_empty() {
        return Ok(());
    }
    if committed.iter().any(|(topic, partition, _)| !removals.contains(&(topic.clone(), *partition))) {
        return Err(partial_removal(group));
    }
    let options = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT));
    for result in admin.delete_groups(&[group], &options).await.map_err(|e| kafka_error(&e))? {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::GroupIdNotFound)) => {}
            Err((_, RDKafkaErrorCode::NonEmptyGroup)) => return Err(active(group)),
            Err((name, code)) => return Err(from_code(code, format!("deleting group {name}: {code}"))),
        }
    }
    Ok(())
}

/// A consumer with the group's id that never joins it.
fn outsider(config: &ClientConfig, group: &str) -> Result<BaseConsumer, LogError> {
    let mut config = config.clone();
    config.set("group.id", group);
    config.create().map_err(|e| kafka_error(&e))
}

/// The committed offsets of the consumer's group for every partition of every topic but internal ones, sorted.
fn committed(consumer: &BaseConsumer) -> Result<Vec<TopicOffset>, LogError> {
    let metadata = consumer.fetch_metadata(None, REQUEST_TIMEOUT).map_err(|e| kafka_error(&e))?;
    let mut list = TopicPartitionList::new();
    for topic in metadata.topics() {
        if topic.name().starts_with("__") || topic.error().is_some() {
            continue;
        }
        for partition in topic.partitions() {
            list.add_partition(topic.name(), partition.id());
        }
    }
    if list.count() == 0 {
        return Ok(Vec::new());
    }
    let committed = consumer.committed_offsets(list, REQUEST_TIMEOUT).map_err(|e| kafka_error(&e))?;
    let mut offsets: Vec<TopicOffset> = committed
        .elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(offset) => Some((e.topic().to_owned(), e.partition(), offset)),
            _ => None,
        })
        .collect();
    offsets.sort();
    Ok(offsets)
}

/// Refuses a group that has members (when the cluster says; the broker refuses the change itself otherwise).
fn refuse_active(consumer: &BaseConsumer, group: &str) -> Result<(), LogError> {
    match consumer.fetch_group_list(Some(group), REQUEST_TIMEOUT) {
        Ok(list) if list.groups().iter().any(|g| g.name() == group && !g.members().is_empty()) => Err(active(group)),
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::debug!(group, error = %e, "describing the group failed; the broker will check its members");
            Ok(())
        }
    }
}

/// Whether a commit from outside group management was refused because the group has members.
fn refused_for_members(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::UnknownMemberId | RDKafkaErrorCode::IllegalGeneration | RDKafkaErrorCode::RebalanceInProgress
    )
}

fn active(group: &str) -> LogError {
    LogError::Refused(format!("group {group} has active members; stop them before changing its offsets"))
}

fn partial_removal(group: &str) -> LogError {
    LogError::Refused(format!(
        "removing only some offsets of group {group} is not supported over the Kafka protocol (rdkafka 0.39 has no \
         OffsetDelete): remove all of them (which deletes the group), or set new offsets instead"
    ))
}
