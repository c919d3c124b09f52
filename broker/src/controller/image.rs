//! The cluster metadata image and the commands that change it, KRaft's model: brokers with their fencing, topics
//! with their partitions' replicas, ISR, leaders and epochs.
//!
//! [`ClusterImage::apply`] runs in the state machine of every controller node, so it is deterministic: no clocks,
//! no randomness, ordered maps only; all it uses is in the command or the image.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::assignment::place_replicas;
use crate::security::acl::AclBinding;
use crate::security::authorizer::Acls;
use crate::security::users::{apply_changes, CredentialChange, UserCredentials};

/// The leader of a partition none of whose in-sync replicas can lead.
pub const NO_LEADER: i32 = -1;

/// The topic config that allows electing a replica outside the ISR when no ISR member is alive.
const UNCLEAN_LEADER_ELECTION: &str = "unclean.leader.election.enable";

/// Cluster metadata as the controller quorum agreed it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterImage {
    /// Registered brokers by id.
    pub brokers: BTreeMap<i32, BrokerRecord>,
    /// Topics by name.
    pub topics: BTreeMap<String, TopicRecord>,
    /// The cluster's id: the one the first broker to register brought from its `meta.properties`; every broker
    /// reports it from then on.
    #[serde(default)]
    pub cluster_id: Option<String>,
    /// The first producer id no broker has claimed yet (KRaft's AllocateProducerIds).
    #[serde(default)]
    pub next_producer_id: i64,
    /// The block of producer ids each broker claimed last: its first id (the block is
    /// [`crate::producer_ids::BLOCK_SIZE`] long).
    #[serde(default)]
    pub producer_id_blocks: BTreeMap<i32, i64>,
    /// The SASL/SCRAM users every broker authenticates.
    #[serde(default)]
    pub scram_credentials: UserCredentials,
    /// The ACLs every broker authorizes with.
    #[serde(default)]
    pub acls: Acls,
}

/// A registered broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerRecord {
    /// The broker id.
    pub id: i32,
    /// The advertised host.
    pub host: String,
    /// The advertised port.
    pub port: u16,
    /// The rack, if configured.
    pub rack: Option<String>,
    /// Every listener's advertised endpoint (`host`/`port` is the first's); empty for a registration from before
    /// brokers had several listeners.
    #[serde(default)]
    pub listeners: Vec<Endpoint>,
    /// Fenced brokers lead nothing: not registered yet as caught up, or no longer heartbeating.
    pub fenced: bool,
}

/// A broker's advertised endpoint on one listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// The listener's name (its security protocol, e.g. `SASL_SSL`).
    pub listener: String,
    /// The advertised host.
    pub host: String,
    /// The advertised port.
    pub port: u16,
}

impl BrokerRecord {
    /// Where clients of listener `listener` reach this broker; `None` when it has no such listener.
    pub fn endpoint(&self, listener: &str) -> Option<(&str, u16)> {
        if self.listeners.is_empty() {
            return Some((&self.host, self.port));
        }
        self.listeners.iter().find(|e| e.listener == listener).map(|e| (e.host.as_str(), e.port))
    }
}

/// A topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicRecord {
    /// The topic id.
    pub id: uuid::Uuid,
    /// The config overrides.
    pub configs: BTreeMap<String, String>,
    /// The partitions, by index.
    pub partitions: Vec<PartitionRecord>,
}

/// One partition's replicas and leadership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionRecord {
    /// The assigned replicas, preferred leader first.
    pub replicas: Vec<i32>,
    /// The in-sync replicas; never empty.
    pub isr: Vec<i32>,
    /// The leader, or [`NO_LEADER`].
    pub leader: i32,
    /// Bumped whenever the leader changes.
    pub leader_epoch: i32,
    /// Bumped on any change to the partition.
    pub partition_epoch: i32,
}

/// A change to the cluster metadata, proposed to the quorum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MetadataCommand {
    /// A broker (re)starts: records its endpoint. It is fenced until its heartbeats unfence it, so a restarted
    /// broker leads nothing until it is caught up.
    RegisterBroker {
        /// The broker id.
        id: i32,
        /// The advertised host.
        host: String,
        /// The advertised port.
        port: u16,
        /// The rack, if configured.
        rack: Option<String>,
        /// Every listener's advertised endpoint.
        #[serde(default)]
        listeners: Vec<Endpoint>,
        /// The cluster id in the broker's `meta.properties`; the first registration's becomes the cluster's.
        cluster_id: String,
    },
    /// A broker stopped heartbeating (or shut down).
    FenceBroker {
        /// The broker id.
        id: i32,
    },
    /// Moves the leadership of every partition whose preferred replica (the first) is live, in sync and not the
    /// leader back to it (Kafka's preferred leader election, run by `auto.leader.rebalance.enable`).
    ElectPreferredLeaders,
    /// A registered broker heartbeats again.
    UnfenceBroker {
        /// The broker id.
        id: i32,
    },
    /// A topic; `id` chosen by the proposer. `assignments` = explicit replica lists per partition (CreateTopics'
    /// manual assignment) or None = the controller places `partitions` x `replication_factor` replicas.
    CreateTopic {
        /// The topic name.
        name: String,
        /// The topic id.
        id: uuid::Uuid,
        /// The partition count; -1 with `assignments` takes the count from them.
        partitions: i32,
        /// The replication factor when the controller places replicas (ignored with `assignments`).
        replication_factor: i16,
        /// Manual replica lists, one per partition.
        assignments: Option<Vec<Vec<i32>>>,
        /// The config overrides.
        configs: BTreeMap<String, String>,
    },
    /// Adds partitions to reach `count` (CreatePartitions), placed like CreateTopic, with the topic's current
    /// replication factor (length of partition 0's replicas) unless `assignments` gives the new ones.
    CreatePartitions {
        /// The topic name.
        name: String,
        /// The partition count wanted.
        count: i32,
        /// Manual replica lists for the new partitions only.
        assignments: Option<Vec<Vec<i32>>>,
    },
    /// Replaces a topic's config overrides.
    AlterTopicConfigs {
        /// The topic name.
        name: String,
        /// The new overrides, replacing all the old ones.
        configs: BTreeMap<String, String>,
    },
    /// Deletes a topic.
    DeleteTopic {
        /// The topic name.
        name: String,
    },
    /// A broker claims the next block of producer ids for the idempotent producers it serves, so that ids are
    /// unique across the cluster.
    AllocateProducerIds {
        /// The broker claiming them.
        broker: i32,
    },
    /// A partition's leader changes its ISR (Kafka's AlterPartition): refused unless the leader and both epochs
    /// are still current, so a deposed leader can change nothing.
    ChangeIsr {
        /// The topic name.
        topic: String,
        /// The partition index.
        partition: i32,
        /// The leader proposing it.
        leader: i32,
        /// The leader epoch it leads in.
        leader_epoch: i32,
        /// The partition epoch it last saw.
        partition_epoch: i32,
        /// The new ISR: the leader and replicas that are caught up, all unfenced.
        isr: Vec<i32>,
    },
    /// Users' SCRAM credentials added, replaced or removed (Kafka's AlterUserScramCredentials).
    AlterScramCredentials {
        /// The changes, applied in order.
        changes: Vec<CredentialChange>,
    },
    /// ACLs added (CreateAcls).
    CreateAcls {
        /// The ACLs.
        acls: Vec<AclBinding>,
    },
    /// ACLs removed (DeleteAcls).
    DeleteAcls {
        /// The ACLs.
        acls: Vec<AclBinding>,
    },
}

/// Why a command was refused; kept in the log's results so every node answers alike.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum MetadataError {
    /// CreateTopic of a name already taken.
    #[error("Topic '{0}' already exists.")]
    TopicAlreadyExists(String),
    /// The topic does not exist.
    #[error("Topic '{0}' does not exist.")]
    UnknownTopic(String),
    /// The broker is not registered.
    #[error("Broker {0} is not registered.")]
    UnknownBroker(i32),
    /// A partition count out of range.
    #[error("{0}")]
    InvalidPartitions(String),
    /// More replicas asked for than there are live brokers, or fewer than one.
    #[error("Replication factor {requested} is invalid: there are {available} unfenced brokers.")]
    InvalidReplicationFactor {
        /// The replication factor asked for.
        requested: i16,
        /// The unfenced brokers.
        available: usize,
    },
    /// A manual assignment that cannot be used.
    #[error("{0}")]
    InvalidReplicaAssignment(String),
    /// An ISR change from a leader that is no longer current, or with a stale partition epoch.
    #[error("{0}")]
    StaleIsrChange(String),
    /// An ISR change naming a replica that cannot be in it.
    #[error("{0}")]
    IneligibleReplica(String),
}

impl ClusterImage {
    /// Applies one command; the image is unchanged when it is refused.
    pub fn apply(&mut self, command: &MetadataCommand) -> Result<(), MetadataError> {
        match command {
            MetadataCommand::RegisterBroker { id, host, port, rack, listeners, cluster_id } => {
                self.cluster_id.get_or_insert_with(|| cluster_id.clone());
                let (host, port, rack, listeners) = (host.clone(), *port, rack.clone(), listeners.clone());
                let record = BrokerRecord { id: *id, host, port, rack, listeners, fenced: true };
                self.brokers.insert(*id, record);
                self.fence_broker(*id)
            }
            MetadataCommand::FenceBroker { id } => self.fence_broker(*id),
            MetadataCommand::UnfenceBroker { id } => self.unfence_broker(*id),
            MetadataCommand::ElectPreferredLeaders => {
                self.elect_preferred_leaders();
                Ok(())
            }
            MetadataCommand::CreateTopic { name, id, partitions, replication_factor, assignments, configs } => {
                self.create_topic(name, *id, *partitions, *replication_factor, assignments.as_deref(), configs)
            }
            MetadataCommand::CreatePartitions { name, count, assignments } => {
                self.create_partitions(name, *count, assignments.as_deref())
            }
            MetadataCommand::AlterTopicConfigs { name, configs } => {
                let topic = self.topics.get_mut(name).ok_or_else(|| MetadataError::UnknownTopic(name.clone()))?;
                topic.configs = configs.clone();
                Ok(())
            }
            MetadataCommand::DeleteTopic { name } => {
                self.topics.remove(name).map(|_| ()).ok_or_else(|| MetadataError::UnknownTopic(name.clone()))
            }
            MetadataCommand::AllocateProducerIds { broker } => {
                let first = self.next_producer_id;
                self.next_producer_id = first.saturating_add(crate::producer_ids::BLOCK_SIZE);
                self.producer_id_blocks.insert(*broker, first);
                Ok(())
            }
            MetadataCommand::ChangeIsr { topic, partition, leader, leader_epoch, partition_epoch, isr } => {
                self.change_isr(topic, *partition, (*leader, *leader_epoch, *partition_epoch), isr)
            }
            MetadataCommand::AlterScramCredentials { changes } => {
                apply_changes(&mut self.scram_credentials, changes);
                Ok(())
            }
            MetadataCommand::CreateAcls { acls } => {
                self.acls.extend(acls.iter().cloned());
                Ok(())
            }
            MetadataCommand::DeleteAcls { acls } => {
                self.acls.retain(|acl| !acls.contains(acl));
                Ok(())
            }
        }
    }

    /// Kafka's AlterPartition checks: the proposer still leads in that epoch and saw the latest partition epoch;
    /// the new ISR holds the leader and only unfenced replicas.
    fn change_isr(
        &mut self,
        topic: &str,
        index: i32,
        (leader, leader_epoch, partition_epoch): (i32, i32, i32),
        isr: &[i32],
    ) -> Result<(), MetadataError> {
        let live = self.live_ids();
        let record = self.topics.get_mut(topic).ok_or_else(|| MetadataError::UnknownTopic(topic.to_owned()))?;
        let partition = usize::try_from(index)
            .ok()
            .and_then(|i| record.partitions.get_mut(i))
            .ok_or_else(|| MetadataError::InvalidPartitions(format!("{topic} has no partition {index}")))?;
        if partition.leader != leader || partition.leader_epoch != leader_epoch {
            return Err(MetadataError::StaleIsrChange(format!(
                "{topic}-{index} is led by {} in epoch {}, not by {leader} in epoch {leader_epoch}",
                partition.leader, partition.leader_epoch
            )));
        }
        if partition.partition_epoch != partition_epoch {
            return Err(MetadataError::StaleIsrChange(format!(
                "{topic}-{index} is at partition epoch {}, not {partition_epoch}",
                partition.partition_epoch
            )));
        }
        let eligible = |r: &i32| partition.replicas.contains(r) && live.contains(r);
        if !isr.contains(&leader) || !isr.iter().all(eligible) {
            return Err(MetadataError::IneligibleReplica(format!(
                "ISR {isr:?} of {topic}-{index} must hold its leader {leader} and only unfenced replicas of {:?}",
                partition.replicas
            )));
        }
        let mut ordered: Vec<i32> = partition.replicas.iter().copied().filter(|r| isr.contains(r)).collect();
        ordered.dedup();
        if ordered != partition.isr {
            partition.isr = ordered;
            partition.partition_epoch = partition.partition_epoch.saturating_add(1);
        }
        Ok(())
    }

    /// A partition of a topic, if both exist.
    pub fn partition(&self, topic: &str, partition: i32) -> Option<&PartitionRecord> {
        self.topics.get(topic)?.partitions.get(usize::try_from(partition).ok()?)
    }

    /// Unfenced brokers, by id.
    pub fn live_brokers(&self) -> impl Iterator<Item = &BrokerRecord> {
        self.brokers.values().filter(|broker| !broker.fenced)
    }

    fn live_ids(&self) -> BTreeSet<i32> {
        self.live_brokers().map(|broker| broker.id).collect()
    }

    /// Fences the broker: out of every ISR it is not the last member of, and its leaderships elected anew.
    fn fence_broker(&mut self, id: i32) -> Result<(), MetadataError> {
        self.brokers.get_mut(&id).ok_or(MetadataError::UnknownBroker(id))?.fenced = true;
        let live = self.live_ids();
        for topic in self.topics.values_mut() {
            let unclean = allows_unclean_election(&topic.configs);
            for partition in topic.partitions.iter_mut().filter(|p| p.isr.contains(&id) || p.leader == id) {
                let before = partition.clone();
                if partition.isr.len() > 1 {
                    partition.isr.retain(|&replica| replica != id);
                }
                if partition.leader == id {
                    partition.leader = NO_LEADER;
                }
                partition.elect(&live, unclean);
                partition.bump_epochs(&before);
            }
        }
        Ok(())
    }

    /// The partitions (topic, index) whose preferred replica could lead them and does not.
    pub fn preferred_leader_imbalance(&self) -> Vec<(&str, usize)> {
        let live = self.live_ids();
        self.topics
            .iter()
            .flat_map(|(name, topic)| topic.partitions.iter().enumerate().map(move |(i, p)| (name.as_str(), i, p)))
            .filter(|(_, _, partition)| partition.preferred_leader_eligible(&live))
            .map(|(name, index, _)| (name, index))
            .collect()
    }

    fn elect_preferred_leaders(&mut self) {
        let live = self.live_ids();
        for partition in self.topics.values_mut().flat_map(|topic| topic.partitions.iter_mut()) {
            if partition.preferred_leader_eligible(&live) {
                let before = partition.clone();
                partition.leader = partition.replicas[0];
                partition.bump_epochs(&before);
            }
        }
    }

    /// Unfences the broker and elects a leader for the leaderless partitions it (or, unclean, anyone) can lead.
    fn unfence_broker(&mut self, id: i32) -> Result<(), MetadataError> {
        self.brokers.get_mut(&id).ok_or(MetadataError::UnknownBroker(id))?.fenced = false;
        let live = self.live_ids();
        for topic in self.topics.values_mut() {
            let unclean = allows_unclean_election(&topic.configs);
            for partition in topic.partitions.iter_mut().filter(|p| p.leader == NO_LEADER) {
                let before = partition.clone();
                partition.elect(&live, unclean);
                partition.bump_epochs(&before);
            }
        }
        Ok(())
    }

    fn create_topic(
        &mut self,
        name: &str,
        id: uuid::Uuid,
        partitions: i32,
        replication_factor: i16,
        assignments: Option<&[Vec<i32>]>,
        configs: &BTreeMap<String, String>,
    ) -> Result<(), MetadataError> {
        if self.topics.contains_key(name) {
            return Err(MetadataError::TopicAlreadyExists(name.to_owned()));
        }
        let manual_count = assignments.is_some() && partitions == -1;
        if partitions < 1 && !manual_count {
            return Err(invalid_count(partitions));
        }
        let replicas = match assignments {
            Some(lists) => {
                if !manual_count && usize::try_from(partitions).ok() != Some(lists.len()) {
                    let message = format!("{} replica lists were given for {partitions} partitions.", lists.len());
                    return Err(MetadataError::InvalidReplicaAssignment(message));
                }
                if lists.is_empty() {
                    return Err(invalid_count(0));
                }
                self.check_assignment(lists, 0, lists[0].len())?;
                lists.to_vec()
            }
            None => {
                let live: Vec<i32> = self.live_ids().into_iter().collect();
                let rf = usize::try_from(replication_factor).unwrap_or(0);
                if rf < 1 || rf > live.len() {
                    let error = MetadataError::InvalidReplicationFactor {
                        requested: replication_factor,
                        available: live.len(),
                    };
                    return Err(error);
                }
                place_replicas(name, &live, 0, partitions, rf)
            }
        };
        let live = self.live_ids();
        let partitions = replicas.into_iter().map(|replicas| PartitionRecord::new(replicas, &live)).collect();
        self.topics.insert(name.to_owned(), TopicRecord { id, configs: configs.clone(), partitions });
        Ok(())
    }

    fn create_partitions(
        &mut self,
        name: &str,
        count: i32,
        assignments: Option<&[Vec<i32>]>,
    ) -> Result<(), MetadataError> {
        let topic = self.topics.get(name).ok_or_else(|| MetadataError::UnknownTopic(name.to_owned()))?;
        let current = topic.partitions.len();
        let wanted = usize::try_from(count).unwrap_or(0);
        if wanted < current {
            let message =
                format!("Topic currently has {current} partitions, which is higher than the requested {count}.");
            return Err(MetadataError::InvalidPartitions(message));
        }
        if wanted == current {
            return Err(MetadataError::InvalidPartitions(format!("Topic already has {current} partitions.")));
        }
        let rf = topic.partitions.first().map_or(0, |partition| partition.replicas.len());
        let live = self.live_ids();
        let replicas = match assignments {
            Some(lists) => {
                if lists.len() != wanted - current {
                    let message = format!(
                        "Increasing the number of partitions by {} but {} assignments provided.",
                        wanted - current,
                        lists.len()
                    );
                    return Err(MetadataError::InvalidReplicaAssignment(message));
                }
                self.check_assignment(lists, current, rf)?;
                lists.to_vec()
            }
            None => {
                if rf > live.len() {
                    let requested = i16::try_from(rf).unwrap_or(i16::MAX);
                    return Err(MetadataError::InvalidReplicationFactor { requested, available: live.len() });
                }
                let brokers: Vec<i32> = live.iter().copied().collect();
                let first = i32::try_from(current).unwrap_or(i32::MAX);
                place_replicas(name, &brokers, first, count.saturating_sub(first), rf)
            }
        };
        let new = replicas.into_iter().map(|replicas| PartitionRecord::new(replicas, &live));
        if let Some(topic) = self.topics.get_mut(name) {
            topic.partitions.extend(new);
        }
        Ok(())
    }

    /// Checks manual replica lists for partitions `first..`: each has `rf` distinct registered brokers.
    fn check_assignment(&self, lists: &[Vec<i32>], first: usize, rf: usize) -> Result<(), MetadataError> {
        for (index, replicas) in lists.iter().enumerate() {
            let partition = first + index;
            let distinct: BTreeSet<i32> = replicas.iter().copied().collect();
            let message = if replicas.is_empty() {
                format!("Partition {partition} has an empty replica list.")
            } else if distinct.len() != replicas.len() {
                format!("Partition {partition} has duplicate replicas: {replicas:?}.")
            } else if let Some(broker) = replicas.iter().find(|b| !self.brokers.contains_key(b)) {
                format!("Partition {partition} is assigned to broker {broker}, which is not registered.")
            } else if replicas.len() != rf {
                format!("Partition {partition} has {} replicas, other partitions have {rf}.", replicas.len())
            } else {
                continue;
            };
            return Err(MetadataError::InvalidReplicaAssignment(message));
        }
        Ok(())
    }
}

impl PartitionRecord {
    /// A new partition: every replica in the ISR, led by the first unfenced replica.
    fn new(replicas: Vec<i32>, live: &BTreeSet<i32>) -> Self {
        let leader = replicas.iter().copied().find(|replica| live.contains(replica)).unwrap_or(NO_LEADER);
        PartitionRecord { isr: replicas.clone(), replicas, leader, leader_epoch: 0, partition_epoch: 0 }
    }

    /// Elects a leader if there is none: the first replica (in replicas order) in the ISR and unfenced; failing
    /// that, when `unclean` and no ISR member is unfenced, the first unfenced replica, which becomes the whole ISR.
    fn elect(&mut self, live: &BTreeSet<i32>, unclean: bool) {
        if self.leader != NO_LEADER {
            return;
        }
        if let Some(&leader) = self.replicas.iter().find(|r| self.isr.contains(r) && live.contains(r)) {
            self.leader = leader;
        } else if unclean && !self.isr.iter().any(|r| live.contains(r)) {
            if let Some(&leader) = self.replicas.iter().find(|r| live.contains(r)) {
                self.leader = leader;
                self.isr = vec![leader];
            }
        }
    }

    /// Whether the preferred replica (the first) is live and in sync but does not lead.
    fn preferred_leader_eligible(&self, live: &BTreeSet<i32>) -> bool {
        self.replicas.first().is_some_and(|&preferred| {
            self.leader != preferred && self.isr.contains(&preferred) && live.contains(&preferred)
        })
    }

    /// Bumps the leader epoch if the leader changed since `before`, the partition epoch if anything did.
    fn bump_epochs(&mut self, before: &PartitionRecord) {
        let changed = self != before;
        if self.leader != before.leader {
            self.leader_epoch = self.leader_epoch.saturating_add(1);
        }
        if changed {
            self.partition_epoch = self.partition_epoch.saturating_add(1);
        }
    }
}

fn allows_unclean_election(configs: &BTreeMap<String, String>) -> bool {
    configs.get(UNCLEAN_LEADER_ELECTION).is_some_and(|value| value == "true")
}

fn invalid_count(partitions: i32) -> MetadataError {
    MetadataError::InvalidPartitions(format!("Number of partitions must be at least 1, was {partitions}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn register(id: i32) -> MetadataCommand {
        MetadataCommand::RegisterBroker {
            id,
            host: format!("host{id}"),
            port: 9092,
            rack: None,
            listeners: vec![],
            cluster_id: "c".into(),
        }
    }

    fn create(name: &str, partitions: i32, rf: i16, assignments: Option<Vec<Vec<i32>>>) -> MetadataCommand {
        let id = uuid::Uuid::from_u128(7);
        let configs = BTreeMap::new();
        MetadataCommand::CreateTopic { name: name.into(), id, partitions, replication_factor: rf, assignments, configs }
    }

    fn apply(image: &mut ClusterImage, commands: &[MetadataCommand]) {
        for command in commands {
            image.apply(command).expect("applied");
        }
    }

    /// Brokers 1..=3 registered and unfenced, topic "t" with one partition on replicas [1, 2, 3].
    fn cluster() -> ClusterImage {
        let mut image = ClusterImage::default();
        for id in 1..=3 {
            apply(&mut image, &[register(id), MetadataCommand::UnfenceBroker { id }]);
        }
        apply(&mut image, &[create("t", -1, -1, Some(vec![vec![1, 2, 3]]))]);
        image
    }

    fn refused(image: &mut ClusterImage, command: MetadataCommand) -> MetadataError {
        let before = image.clone();
        let error = image.apply(&command).expect_err("refused");
        assert_eq!(*image, before, "a refused command changed the image");
        error
    }

    fn fence(id: i32) -> MetadataCommand {
        MetadataCommand::FenceBroker { id }
    }

    fn unfence(id: i32) -> MetadataCommand {
        MetadataCommand::UnfenceBroker { id }
    }

    fn part(image: &ClusterImage) -> (Vec<i32>, i32, i32, i32) {
        let p = image.partition("t", 0).expect("partition");
        (p.isr.clone(), p.leader, p.leader_epoch, p.partition_epoch)
    }

    fn unclean(image: &mut ClusterImage) {
        let configs = BTreeMap::from([(UNCLEAN_LEADER_ELECTION.to_owned(), "true".to_owned())]);
        apply(image, &[MetadataCommand::AlterTopicConfigs { name: "t".into(), configs }]);
    }

    #[test]
    fn a_new_broker_registers_fenced() {
        let mut image = ClusterImage::default();
        apply(&mut image, &[register(4)]);
        assert!(image.brokers[&4].fenced);
        assert_eq!(image.live_brokers().count(), 0);
        apply(&mut image, &[unfence(4)]);
        assert_eq!(image.live_brokers().map(|b| b.id).collect::<Vec<_>>(), [4]);
    }

    #[test]
    fn a_reregistering_broker_is_updated_and_fenced_like_fence_broker() {
        let mut image = cluster();
        let register = MetadataCommand::RegisterBroker {
            id: 1,
            host: "new".into(),
            port: 9093,
            rack: Some("a".into()),
            listeners: vec![],
            cluster_id: "other".into(),
        };
        apply(&mut image, &[register]);
        let broker = &image.brokers[&1];
        assert_eq!(
            (broker.host.as_str(), broker.port, broker.rack.as_deref(), broker.fenced),
            ("new", 9093, Some("a"), true)
        );
        let mut fenced = cluster();
        apply(&mut fenced, &[fence(1)]);
        assert_eq!(image.topics, fenced.topics);
    }

    #[test]
    fn fencing_the_leader_shrinks_the_isr_and_elects_the_next_replica() {
        let mut image = cluster();
        assert_eq!(part(&image), (vec![1, 2, 3], 1, 0, 0));
        apply(&mut image, &[fence(1)]);
        assert_eq!(part(&image), (vec![2, 3], 2, 1, 1));
        // A follower: only the partition epoch moves.
        apply(&mut image, &[fence(3)]);
        assert_eq!(part(&image), (vec![2], 2, 1, 2));
    }

    #[test]
    fn the_last_isr_member_stays_and_the_partition_goes_leaderless() {
        let mut image = cluster();
        apply(&mut image, &[fence(1), fence(2), fence(3)]);
        assert_eq!(part(&image), (vec![3], NO_LEADER, 3, 3));
        // It comes back as leader when it is unfenced; the others are out of the ISR and do not.
        apply(&mut image, &[unfence(1)]);
        assert_eq!(part(&image), (vec![3], NO_LEADER, 3, 3));
        apply(&mut image, &[unfence(3)]);
        assert_eq!(part(&image), (vec![3], 3, 4, 4));
    }

    #[test]
    fn fencing_is_idempotent() {
        let mut image = cluster();
        apply(&mut image, &[fence(2)]);
        let once = image.clone();
        apply(&mut image, &[fence(2)]);
        assert_eq!(image, once);
    }

    #[test]
    fn unknown_brokers_are_refused() {
        let mut image = cluster();
        assert_eq!(refused(&mut image, fence(9)), MetadataError::UnknownBroker(9));
        assert_eq!(refused(&mut image, unfence(9)), MetadataError::UnknownBroker(9));
    }

    #[test]
    fn unclean_election_on_unfence_only_when_enabled() {
        let mut image = cluster();
        apply(&mut image, &[fence(1), fence(2), fence(3), unfence(1)]);
        assert_eq!(part(&image).1, NO_LEADER);
        unclean(&mut image);
        apply(&mut image, &[unfence(2)]);
        // Broker 1 is the first unfenced replica in replicas order.
        assert_eq!(part(&image), (vec![1], 1, 4, 4));
    }

    #[test]
    fn unclean_election_on_fence_after_the_clean_one_fails() {
        let mut image = cluster();
        unclean(&mut image);
        // ISR down to [1] with 2 back but not caught up; then 1 goes too.
        apply(&mut image, &[fence(2), fence(3), unfence(2)]);
        assert_eq!(part(&image), (vec![1], 1, 0, 2));
        apply(&mut image, &[fence(1)]);
        assert_eq!(part(&image), (vec![2], 2, 1, 3));
    }

    #[test]
    fn create_topic_places_replicas_over_unfenced_brokers() {
        let mut image = cluster();
        apply(&mut image, &[register(4), create("orders", 6, 3, None)]);
        let topic = &image.topics["orders"];
        assert_eq!(topic.id, uuid::Uuid::from_u128(7));
        assert_eq!(topic.partitions.len(), 6);
        for (p, expected) in topic.partitions.iter().zip(place_replicas("orders", &[1, 2, 3], 0, 6, 3)) {
            assert_eq!(p, &PartitionRecord::new(expected.clone(), &BTreeSet::from([1, 2, 3])));
            assert_eq!(
                (p.isr.clone(), p.leader, p.leader_epoch, p.partition_epoch),
                (expected.clone(), expected[0], 0, 0)
            );
        }
    }

    #[test]
    fn create_topic_refusals() {
        let mut image = cluster();
        assert_eq!(refused(&mut image, create("t", 1, 1, None)), MetadataError::TopicAlreadyExists("t".into()));
        assert!(matches!(refused(&mut image, create("x", 0, 1, None)), MetadataError::InvalidPartitions(_)));
        assert!(matches!(refused(&mut image, create("x", -1, 1, None)), MetadataError::InvalidPartitions(_)));
        apply(&mut image, &[fence(3)]);
        let error = refused(&mut image, create("x", 1, 3, None));
        assert_eq!(error, MetadataError::InvalidReplicationFactor { requested: 3, available: 2 });
        let error = refused(&mut image, create("x", 1, 0, None));
        assert_eq!(error, MetadataError::InvalidReplicationFactor { requested: 0, available: 2 });
    }

    #[test]
    fn manual_assignments_are_validated() {
        let mut image = cluster();
        for bad in [vec![vec![1], vec![]], vec![vec![1, 1]], vec![vec![1, 9]], vec![vec![1, 2], vec![3]]] {
            let error = refused(&mut image, create("x", -1, -1, Some(bad)));
            assert!(matches!(error, MetadataError::InvalidReplicaAssignment(_)), "{error}");
        }
        let error = refused(&mut image, create("x", 2, -1, Some(vec![vec![1]])));
        assert!(matches!(error, MetadataError::InvalidReplicaAssignment(_)));
        assert!(matches!(refused(&mut image, create("x", -1, -1, Some(vec![]))), MetadataError::InvalidPartitions(_)));
    }

    #[test]
    fn manual_assignments_may_name_fenced_brokers() {
        let mut image = cluster();
        apply(&mut image, &[register(4), register(5), create("x", 2, -1, Some(vec![vec![4, 2], vec![4, 5]]))]);
        let partitions = &image.topics["x"].partitions;
        assert_eq!((partitions[0].isr.clone(), partitions[0].leader), (vec![4, 2], 2));
        assert_eq!((partitions[1].isr.clone(), partitions[1].leader), (vec![4, 5], NO_LEADER));
        apply(&mut image, &[unfence(4)]);
        let partitions = &image.topics["x"].partitions;
        assert_eq!((partitions[0].leader, partitions[1].leader, partitions[1].leader_epoch), (2, 4, 1));
    }

    #[test]
    fn create_partitions_continues_the_placement() {
        let mut image = cluster();
        apply(&mut image, &[create("orders", 2, 2, None)]);
        let grow = MetadataCommand::CreatePartitions { name: "orders".into(), count: 5, assignments: None };
        apply(&mut image, &[grow]);
        let replicas: Vec<Vec<i32>> = image.topics["orders"].partitions.iter().map(|p| p.replicas.clone()).collect();
        assert_eq!(replicas, place_replicas("orders", &[1, 2, 3], 0, 5, 2));
        let manual =
            MetadataCommand::CreatePartitions { name: "orders".into(), count: 6, assignments: Some(vec![vec![3, 1]]) };
        apply(&mut image, &[manual]);
        assert_eq!(image.partition("orders", 5).map(|p| p.leader), Some(3));
        assert_eq!(image.partition("orders", 6), None);
        assert_eq!(image.partition("orders", -1), None);
    }

    #[test]
    fn create_partitions_refusals() {
        let mut image = cluster();
        let grow = |name: &str, count, assignments| MetadataCommand::CreatePartitions {
            name: name.into(),
            count,
            assignments,
        };
        assert_eq!(refused(&mut image, grow("x", 2, None)), MetadataError::UnknownTopic("x".into()));
        apply(&mut image, &[grow("t", 3, None)]);
        let error = refused(&mut image, grow("t", 2, None));
        assert_eq!(error.to_string(), "Topic currently has 3 partitions, which is higher than the requested 2.");
        assert!(matches!(refused(&mut image, grow("t", 3, None)), MetadataError::InvalidPartitions(_)));
        let error = refused(&mut image, grow("t", 4, Some(vec![vec![1, 2]])));
        assert!(matches!(error, MetadataError::InvalidReplicaAssignment(_)), "{error}");
        let error = refused(&mut image, grow("t", 5, Some(vec![vec![1, 2, 3]])));
        assert!(matches!(error, MetadataError::InvalidReplicaAssignment(_)), "{error}");
        apply(&mut image, &[fence(1)]);
        let error = refused(&mut image, grow("t", 4, None));
        assert_eq!(error, MetadataError::InvalidReplicationFactor { requested: 3, available: 2 });
    }

    #[test]
    fn configs_are_replaced_and_topics_deleted() {
        let mut image = cluster();
        let configs = BTreeMap::from([("retention.ms".to_owned(), "1000".to_owned())]);
        apply(&mut image, &[MetadataCommand::AlterTopicConfigs { name: "t".into(), configs: configs.clone() }]);
        assert_eq!(image.topics["t"].configs, configs);
        let alter = MetadataCommand::AlterTopicConfigs { name: "x".into(), configs };
        assert_eq!(refused(&mut image, alter), MetadataError::UnknownTopic("x".into()));
        apply(&mut image, &[MetadataCommand::DeleteTopic { name: "t".into() }]);
        assert!(image.topics.is_empty());
        let delete = MetadataCommand::DeleteTopic { name: "t".into() };
        assert_eq!(refused(&mut image, delete), MetadataError::UnknownTopic("t".into()));
    }

    #[test]
    fn only_the_current_leader_changes_the_isr() {
        let mut image = cluster();
        let current = image.partition("t", 0).expect("t-0").clone();
        let change = |leader, leader_epoch, partition_epoch, isr: Vec<i32>| MetadataCommand::ChangeIsr {
            topic: "t".into(),
            partition: 0,
            leader,
            leader_epoch,
            partition_epoch,
            isr,
        };
        let shrink = change(current.leader, current.leader_epoch, current.partition_epoch, vec![current.leader]);
        apply(&mut image, std::slice::from_ref(&shrink));
        assert_eq!(image.partition("t", 0).expect("t-0").isr, [current.leader]);
        assert_eq!(image.partition("t", 0).expect("t-0").partition_epoch, current.partition_epoch + 1);
        assert!(matches!(refused(&mut image, shrink), MetadataError::StaleIsrChange(_)), "a stale partition epoch");
        let epoch = current.partition_epoch + 1;
        let deposed = change(3, current.leader_epoch, epoch, vec![3]);
        assert!(matches!(refused(&mut image, deposed), MetadataError::StaleIsrChange(_)), "not the leader");
        let without_leader = change(current.leader, current.leader_epoch, epoch, vec![2, 3]);
        assert!(matches!(refused(&mut image, without_leader), MetadataError::IneligibleReplica(_)));
        apply(&mut image, &[MetadataCommand::FenceBroker { id: 3 }]);
        let epoch = image.partition("t", 0).expect("t-0").partition_epoch;
        let fenced = change(current.leader, current.leader_epoch, epoch, vec![1, 3]);
        assert!(matches!(refused(&mut image, fenced), MetadataError::IneligibleReplica(_)), "3 is fenced");
        apply(&mut image, &[change(current.leader, current.leader_epoch, epoch, vec![2, 1])]);
        assert_eq!(image.partition("t", 0).expect("t-0").isr, [1, 2], "replicas order");
    }

    #[test]
    fn leadership_returns_to_the_preferred_replica_once_it_is_back_in_sync() {
        let mut image = cluster();
        apply(&mut image, &[fence(1), unfence(1)]);
        let (isr, leader, leader_epoch, partition_epoch) = part(&image);
        assert_eq!((isr.clone(), leader), (vec![2, 3], 2), "1 returned but is not in sync yet");
        assert!(image.preferred_leader_imbalance().is_empty(), "only an in-sync preferred replica may lead");
        apply(&mut image, &[MetadataCommand::ElectPreferredLeaders]);
        assert_eq!(part(&image), (isr, leader, leader_epoch, partition_epoch), "nothing to elect");

        let rejoin = MetadataCommand::ChangeIsr {
            topic: "t".into(),
            partition: 0,
            leader: 2,
            leader_epoch,
            partition_epoch,
            isr: vec![1, 2, 3],
        };
        apply(&mut image, &[rejoin]);
        assert_eq!(image.preferred_leader_imbalance(), [("t", 0)]);
        apply(&mut image, &[MetadataCommand::ElectPreferredLeaders]);
        let (_, leader, epoch_after, _) = part(&image);
        assert_eq!((leader, epoch_after), (1, leader_epoch + 1), "led by 1 again, in a new epoch");
        assert!(image.preferred_leader_imbalance().is_empty());
    }

    #[test]
    fn the_image_round_trips_through_json() {
        let image = cluster();
        let json = serde_json::to_string(&image).expect("serialised");
        assert_eq!(serde_json::from_str::<ClusterImage>(&json).expect("parsed"), image);
    }
}
