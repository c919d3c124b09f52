//! Which broker coordinates a group. Kafka's rule: the leader of the group's partition of `__consumer_offsets`
//! (a single node coordinates every group).
//!
//! FindCoordinator answers with that broker ([`locate`]); every other group API first asks
//! [`coordinator_error`] and refuses a group this broker does not coordinate, without touching the group
//! coordinator. Clients react to NOT_COORDINATOR by looking the coordinator up again, and retry on
//! COORDINATOR_NOT_AVAILABLE, so they follow the coordinator wherever it moves.
//!
//! Before either, as Kafka does, a group API asks whether its principal may act on the group ([`group_denied`]).

use kafka_protocol::ResponseError;
use thiserror::Error;

use super::access::Access;
use crate::broker::Broker;
use crate::controller::image::{BrokerRecord, ClusterImage, NO_LEADER};
use crate::group::offsets_topic::partition_for;
use crate::group::OFFSETS_TOPIC;
use crate::security::acl::Operation;

/// Why no broker coordinates a group right now.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(super) enum Unavailable {
    /// The image has no `__consumer_offsets` yet.
    #[error("{topic} does not exist yet", topic = OFFSETS_TOPIC)]
    NoOffsetsTopic,
    /// The group's partition has no leader (its broker is fenced).
    #[error("partition {0} of {topic} has no leader", topic = OFFSETS_TOPIC)]
    NoLeader(i32),
    /// The group's partition is led by a broker the image does not know.
    #[error("broker {leader}, leader of partition {partition} of {topic}, is not registered", topic = OFFSETS_TOPIC)]
    UnknownLeader {
        /// The group's partition of `__consumer_offsets`.
        partition: i32,
        /// Its leader.
        leader: i32,
    },
}

/// GROUP_AUTHORIZATION_FAILED when the principal may not do `operation` on group `group_id` (the denial is
/// logged).
pub(super) fn group_denied(access: Access<'_>, operation: Operation, group_id: &str) -> Option<ResponseError> {
    (!access.group(operation, group_id)).then_some(ResponseError::GroupAuthorizationFailed)
}

/// Why a group request is refused: the principal may not do `operation` on the group, or this broker does not
/// coordinate it (see [`coordinator_error`]).
pub(super) fn refusal(
    broker: &Broker,
    access: Access<'_>,
    operation: Operation,
    group_id: &str,
) -> Option<ResponseError> {
    group_denied(access, operation, group_id).or_else(|| coordinator_error(broker, group_id))
}

/// Whether this broker may serve `group_id`: `None` on a single node or when it coordinates the group, else the
/// error the group API answers with.
pub(super) fn coordinator_error(broker: &Broker, group_id: &str) -> Option<ResponseError> {
    let cluster = broker.cluster()?;
    coordinator_error_in(&cluster.image(), broker.config().node_id, group_id)
}

/// The leader epoch of the `__consumer_offsets` partition in which this broker coordinates `group_id` (`Some(-1)`
/// on a single node), `None` when it does not: a commit is answered only if this stays the same while it waits, so
/// a coordinator deposed meanwhile acknowledges nothing its successor may lack.
pub(super) fn coordinating_epoch(broker: &Broker, group_id: &str) -> Option<i32> {
    let Some(cluster) = broker.cluster() else { return Some(-1) };
    let partitions = cluster.image().topics.get(OFFSETS_TOPIC)?.partitions.len() as i32;
    broker.leader_epoch_here(OFFSETS_TOPIC, partition_for(group_id, partitions))
}

/// Whether broker `node_id` coordinates `group_id` as `image` has it: `None` when it does, NOT_COORDINATOR when
/// another broker does, COORDINATOR_NOT_AVAILABLE when none does. An empty group id is left to the group
/// coordinator, which answers INVALID_GROUP_ID where Kafka does.
pub(super) fn coordinator_error_in(image: &ClusterImage, node_id: i32, group_id: &str) -> Option<ResponseError> {
    if group_id.is_empty() {
        return None;
    }
    match leader(image, group_id) {
        Ok((_, leader)) if leader == node_id => None,
        Ok(_) => Some(ResponseError::NotCoordinator),
        Err(_) => Some(ResponseError::CoordinatorNotAvailable),
    }
}

/// The broker that coordinates `group_id` as `image` has it.
pub(super) fn locate<'a>(image: &'a ClusterImage, group_id: &str) -> Result<&'a BrokerRecord, Unavailable> {
    let (partition, leader) = leader(image, group_id)?;
    image.brokers.get(&leader).ok_or(Unavailable::UnknownLeader { partition, leader })
}

/// The group's partition of `__consumer_offsets` and its leader.
fn leader(image: &ClusterImage, group_id: &str) -> Result<(i32, i32), Unavailable> {
    let topic = image.topics.get(OFFSETS_TOPIC).ok_or(Unavailable::NoOffsetsTopic)?;
    let count = i32::try_from(topic.partitions.len()).unwrap_or(i32::MAX);
    let partition = partition_for(group_id, count);
    match image.partition(OFFSETS_TOPIC, partition) {
        Some(record) if record.leader != NO_LEADER => Ok((partition, record.leader)),
        _ => Err(Unavailable::NoLeader(partition)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::controller::image::{PartitionRecord, TopicRecord};

    /// Two brokers; `__consumer_offsets` with one partition per entry of `leaders`.
    fn image(leaders: &[i32]) -> ClusterImage {
        let broker = |id: i32| BrokerRecord {
            id,
            host: format!("b{id}"),
            port: 9092,
            rack: None,
            listeners: vec![],
            fenced: false,
        };
        let partition = |&leader: &i32| PartitionRecord {
            replicas: vec![leader],
            isr: vec![leader],
            leader,
            leader_epoch: 0,
            partition_epoch: 0,
        };
        let topic = TopicRecord {
            id: uuid::Uuid::nil(),
            configs: BTreeMap::new(),
            partitions: leaders.iter().map(partition).collect(),
        };
        ClusterImage {
            brokers: [(1, broker(1)), (2, broker(2))].into_iter().collect(),
            topics: [(OFFSETS_TOPIC.to_owned(), topic)].into_iter().collect(),
            ..ClusterImage::default()
        }
    }

    /// A group id whose partition among `count` is `partition`.
    fn group_on(partition: i32, count: i32) -> String {
        (0..).map(|i| format!("group-{i}")).find(|g| partition_for(g, count) == partition).expect("some group")
    }

    #[test]
    fn the_leader_of_the_groups_partition_coordinates_it() {
        let image = image(&[1, 2]);
        let on_second = group_on(1, 2);
        assert_eq!(coordinator_error_in(&image, 2, &on_second), None);
        assert_eq!(coordinator_error_in(&image, 1, &on_second), Some(ResponseError::NotCoordinator));
        assert_eq!(locate(&image, &on_second).map(|b| b.id), Ok(2));
        let on_first = group_on(0, 2);
        assert_eq!(coordinator_error_in(&image, 1, &on_first), None);
        assert_eq!(locate(&image, &on_first).map(|b| b.id), Ok(1));
    }

    #[test]
    fn a_partition_without_leader_makes_the_coordinator_unavailable() {
        let image = image(&[1, NO_LEADER]);
        let group = group_on(1, 2);
        assert_eq!(coordinator_error_in(&image, 1, &group), Some(ResponseError::CoordinatorNotAvailable));
        assert_eq!(locate(&image, &group), Err(Unavailable::NoLeader(1)));
    }

    #[test]
    fn a_leader_the_image_does_not_know_is_unavailable() {
        let image = image(&[7]);
        assert_eq!(locate(&image, "g"), Err(Unavailable::UnknownLeader { partition: 0, leader: 7 }));
        assert_eq!(coordinator_error_in(&image, 7, "g"), None);
    }

    #[test]
    fn without_the_offsets_topic_no_broker_coordinates() {
        let image = ClusterImage::default();
        assert_eq!(coordinator_error_in(&image, 1, "g"), Some(ResponseError::CoordinatorNotAvailable));
        assert_eq!(locate(&image, "g"), Err(Unavailable::NoOffsetsTopic));
    }

    #[test]
    fn an_empty_group_id_is_left_to_the_group_coordinator() {
        assert_eq!(coordinator_error_in(&ClusterImage::default(), 1, ""), None);
    }
}
