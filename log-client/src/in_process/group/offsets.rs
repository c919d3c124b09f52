//! A group's committed offsets as an administrator reads and changes them (Kafka Connect's KIP-875 offsets
//! endpoints for sinks), through the broker's group coordinator: reads as OffsetFetch, sets as a commit from
//! outside group management (which the coordinator accepts only while the group has no members), removals as
//! OffsetDelete, and the group deleted once no offset is left.

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;
use tidemark_broker::group::{CommittedOffset, Committer, OffsetCommit};
use tidemark_broker::{now_ms, Broker};

use crate::in_process::errors::group_error;
use crate::{LogError, TopicOffset};

/// The committed offsets of `group`, sorted; internal topics left out.
pub fn group_offsets(broker: &Broker, group: &str) -> Vec<TopicOffset> {
    let mut offsets: Vec<TopicOffset> = broker
        .groups()
        .fetch_offsets(group, None)
        .into_iter()
        .filter(|(topic, _, _)| !topic.starts_with("__"))
        .filter_map(|(topic, partition, committed)| Some((topic, partition, committed?.offset)))
        .collect();
    offsets.sort();
    offsets
}

/// Sets and removes committed offsets of `group`, which must have no members; deletes the group when removals
/// leave it no offset.
pub async fn alter_group_offsets(
    broker: &Broker,
    group: &str,
    offsets: &[(String, i32, Option<i64>)],
) -> Result<(), LogError> {
    let active =
        || LogError::Refused(format!("group {group} has active members; stop them before changing its offsets"));
    if group.is_empty() {
        return Err(LogError::Refused("a consumer group needs a non-empty id".into()));
    }
    if broker.groups().describe(group).is_some_and(|g| !g.members.is_empty()) {
        return Err(active());
    }
    // The last entry of a partition wins.
    let latest: BTreeMap<(&str, i32), Option<i64>> = offsets.iter().map(|(t, p, o)| ((t.as_str(), *p), *o)).collect();
    let sets: Vec<OffsetCommit> = latest
        .iter()
        .filter_map(|(&(topic, partition), offset)| {
            let committed = CommittedOffset {
                offset: (*offset)?,
                leader_epoch: -1,
                metadata: String::new(),
                commit_timestamp: now_ms(),
            };
            Some(OffsetCommit { topic: topic.to_owned(), partition, committed })
        })
        .collect();
    let removals: Vec<(String, i32)> =
        latest.iter().filter(|(_, offset)| offset.is_none()).map(|(&(t, p), _)| (t.to_owned(), p)).collect();

    if !sets.is_empty() {
        let outside = Committer { member_id: String::new(), instance_id: None, generation: -1 };
        let asked: Vec<(String, i32)> = sets.iter().map(|s| (s.topic.clone(), s.partition)).collect();
        let results = match broker.groups().commit(broker.topics(), group, &outside, sets).await {
            Ok(results) => results,
            Err(
                ResponseError::UnknownMemberId | ResponseError::IllegalGeneration | ResponseError::RebalanceInProgress,
            ) => return Err(active()),
            Err(error) => return Err(group_error(error, &format!("setting offsets of group {group}"))),
        };
        check_results(&asked, results, "setting the offset of")?;
    }
    if !removals.is_empty() {
        match broker.groups().delete_offsets(broker.topics(), group, &removals).await {
            Ok(results) => check_results(&removals, results, "removing the offset of")?,
            Err(ResponseError::GroupIdNotFound) => {}
            Err(error) => return Err(group_error(error, &format!("removing offsets of group {group}"))),
        }
        if broker.groups().fetch_offsets(group, None).is_empty() {
            match broker.groups().delete(broker.topics(), group).await {
                None | Some(ResponseError::GroupIdNotFound) => {}
                Some(ResponseError::NonEmptyGroup) => return Err(active()),
                Some(error) => return Err(group_error(error, &format!("deleting group {group}"))),
            }
        }
    }
    Ok(())
}

/// The first per-partition error of a commit or offset deletion, as a log error.
fn check_results(asked: &[(String, i32)], results: Vec<Option<ResponseError>>, doing: &str) -> Result<(), LogError> {
    for ((topic, partition), result) in asked.iter().zip(results) {
        if let Some(error) = result {
            return Err(group_error(error, &format!("{doing} {topic} partition {partition}")));
        }
    }
    Ok(())
}
