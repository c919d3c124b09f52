//! A broker as a member of a cluster: it registers with the controller quorum and heartbeats, changes topics by
//! proposing them to the quorum, keeps its local logs as the quorum's [`ClusterImage`] says, and answers clients
//! from that image (who leads which partition).
//!
//! **Invariant: a broker changes its local topics only as the image says.** Creating, deleting and altering go
//! through [`Controller::propose`]; the local [`TopicManager`] follows the image once this broker applied the write.
//! A broker that restarts applies the metadata log up to its own registration before it follows the image, so an
//! image not yet caught up never deletes a topic.
//!
//! Partitions are replicated by [`crate::replication`]: this module tells its [`ReplicaManager`] which partitions
//! this broker leads and follows whenever the image changes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::broker::now_ms;
use crate::client::ClientSecurity;
use crate::controller::image::{ClusterImage, Endpoint, MetadataCommand, MetadataError, NO_LEADER};
use crate::controller::{Controller, ProposeError};
use crate::group::{GroupCoordinator, OFFSETS_TOPIC};
use crate::replication::ReplicaManager;
use crate::topics::{Topic, TopicError, TopicManager};

/// How long a controlled shutdown waits for the controller to fence this broker.
const CONTROLLED_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// This broker's membership of a cluster.
#[derive(Debug)]
pub struct Cluster {
    controller: Arc<Controller>,
    node_id: i32,
    heartbeat_interval: Duration,
    /// How often the ISRs of led partitions are reviewed for lagging members.
    review_interval: Duration,
    /// The partitions this broker leads and follows.
    replicas: ReplicaManager,
    /// The `__consumer_offsets` partitions whose groups this broker coordinates (leads).
    coordinating: std::sync::Mutex<std::collections::BTreeSet<i32>>,
    /// Serialises following: the image only moves forward, so the latest one, applied by one task at a time,
    /// never undoes a newer one.
    following: tokio::sync::Mutex<()>,
}

/// Who answers for a partition in a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leadership {
    /// This broker leads it, in this leader epoch.
    Here(i32),
    /// Another broker leads it, or none does right now.
    Elsewhere,
    /// The image has no such topic or partition.
    Unknown,
}

impl Cluster {
    /// Membership through `controller` for broker `node_id`, heartbeating every `heartbeat_interval`; followers
    /// not caught up for `replica_max_lag` leave the ISR of the partitions it leads; its followers connect to
    /// leaders with `inter_broker`.
    pub fn new(
        controller: Arc<Controller>,
        node_id: i32,
        heartbeat_interval: Duration,
        replica_max_lag: Duration,
        inter_broker: ClientSecurity,
    ) -> Self {
        let replicas = ReplicaManager::new(node_id, Arc::clone(&controller), replica_max_lag, inter_broker);
        let review_interval = (replica_max_lag / 4).max(Duration::from_millis(100));
        Cluster {
            controller,
            node_id,
            heartbeat_interval,
            review_interval,
            replicas,
            coordinating: std::sync::Mutex::new(std::collections::BTreeSet::new()),
            following: tokio::sync::Mutex::new(()),
        }
    }

    /// The partitions this broker leads and follows.
    pub fn replicas(&self) -> &ReplicaManager {
        &self.replicas
    }

    /// The controller quorum member on this node.
    pub fn controller(&self) -> &Arc<Controller> {
        &self.controller
    }

    /// The metadata as this broker last applied it.
    pub fn image(&self) -> Arc<ClusterImage> {
        self.controller.image()
    }

    /// Who leads `partition` of `topic`: this broker only once it has taken the leadership up (its epoch started,
    /// its followers tracked), not as soon as the image names it.
    pub fn leadership(&self, topic: &str, partition: i32) -> Leadership {
        match self.image().partition(topic, partition) {
            None => Leadership::Unknown,
            Some(p) if p.leader == self.node_id && self.replicas.is_leading(topic, partition, p.leader_epoch) => {
                Leadership::Here(p.leader_epoch)
            }
            Some(_) => Leadership::Elsewhere,
        }
    }

    /// Registers this broker with its listeners' endpoints, the first being where other brokers reach it (offering `cluster_id`, which the first broker's registration makes
    /// the cluster's), follows the image into the local `topics` and heartbeats, until the
    /// process ends. Registration is retried until a controller accepts it.
    pub async fn run(
        &self,
        listeners: Vec<Endpoint>,
        cluster_id: String,
        topics: &TopicManager,
        groups: &GroupCoordinator,
    ) {
        let (host, port) = listeners.first().map(|e| (e.host.clone(), e.port)).unwrap_or_default();
        let registration =
            MetadataCommand::RegisterBroker { id: self.node_id, host, port, rack: None, listeners, cluster_id };
        let index = loop {
            match self.controller.propose(registration.clone()).await {
                Ok(index) => break index,
                Err(e) => tracing::warn!(error = %e, "registering with the controller quorum; retrying"),
            }
        };
        if let Err(e) = self.controller.wait_applied(index).await {
            tracing::warn!(error = %e, "waiting for the metadata log to reach this broker's registration");
        }
        tracing::info!(node_id = self.node_id, "registered with the controller quorum");
        let mut image = self.controller.watch();
        let mut heartbeats = tokio::time::interval(self.heartbeat_interval);
        heartbeats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut reviews = tokio::time::interval(self.review_interval);
        reviews.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            image.borrow_and_update();
            if let Err(e) = self.follow(topics, groups).await {
                tracing::error!(error = %e, "applying the cluster's metadata to the local log");
            }
            tokio::select! {
                _ = heartbeats.tick() => {
                    if let Err(e) = self.controller.heartbeat(self.node_id).await {
                        tracing::warn!(error = %e, "heartbeat to the active controller");
                    }
                }
                _ = reviews.tick() => self.replicas.review_all(),
                changed = image.changed() => if changed.is_err() { return },
            }
        }
    }

    /// A controlled shutdown: asks the controller to fence this broker now, so its partitions get new leaders at
    /// once instead of after the session timeout, then stops this node's controller member.
    pub async fn leave(&self) {
        let fence = self.controller.propose(MetadataCommand::FenceBroker { id: self.node_id });
        match tokio::time::timeout(CONTROLLED_SHUTDOWN_TIMEOUT, fence).await {
            Ok(Ok(_)) => tracing::info!(node_id = self.node_id, "fenced for a controlled shutdown"),
            Ok(Err(e)) => tracing::warn!(error = %e, "controlled shutdown: fencing this broker"),
            Err(_) => tracing::warn!("controlled shutdown: no controller answered in time"),
        }
        self.replicas.stop();
        self.controller.shutdown().await;
    }

    /// Makes the local topics match the latest image, and starts the leader epochs this broker was elected with.
    async fn follow(&self, topics: &TopicManager, groups: &GroupCoordinator) -> Result<(), TopicError> {
        let _one_at_a_time = self.following.lock().await;
        let image = self.image();
        for (name, record) in &image.topics {
            let topic =
                topics.follow(name, record.id, record.partitions.len() as i32, &record.configs, now_ms()).await?;
            for (index, partition) in record.partitions.iter().enumerate() {
                if partition.leader == self.node_id && partition.leader != NO_LEADER {
                    if let Some(log) = topic.partition(index as i32) {
                        log.become_leader(partition.leader_epoch)?;
                    }
                }
            }
        }
        topics.forget_unless(|name, id| image.topics.get(name).is_some_and(|record| record.id == id)).await?;
        self.replicas.apply(&image, topics);
        self.hand_over_groups(&image, topics, groups)
    }

    /// Loads the groups of the `__consumer_offsets` partitions this broker now leads and lets go of those it no
    /// longer leads: a group's coordinator moves with its partition's leadership.
    fn hand_over_groups(
        &self,
        image: &ClusterImage,
        topics: &TopicManager,
        groups: &GroupCoordinator,
    ) -> Result<(), TopicError> {
        let (Some(record), Some(topic)) = (image.topics.get(OFFSETS_TOPIC), topics.get(OFFSETS_TOPIC)) else {
            return Ok(());
        };
        let count = record.partitions.len() as i32;
        let led: std::collections::BTreeSet<i32> =
            (0..count).filter(|&p| matches!(self.leadership(OFFSETS_TOPIC, p), Leadership::Here(_))).collect();
        let mut coordinating = self.coordinating.lock().unwrap_or_else(|p| p.into_inner());
        for &partition in led.difference(&coordinating) {
            if let Some(log) = topic.partition(partition) {
                groups.load_partition(&log, partition, count)?;
                tracing::info!(partition, "coordinating the groups of a __consumer_offsets partition");
            }
        }
        for &partition in coordinating.difference(&led) {
            groups.unload_partition(partition, count);
        }
        *coordinating = led;
        Ok(())
    }

    /// Creates a topic through the controller; answers once this broker holds it.
    pub async fn create_topic(
        &self,
        (topics, groups): (&TopicManager, &GroupCoordinator),
        name: &str,
        partitions: i32,
        replication_factor: i16,
        assignments: Option<Vec<Vec<i32>>>,
        configs: BTreeMap<String, String>,
    ) -> Result<Arc<Topic>, TopicError> {
        let command = create_command(name, partitions, replication_factor, assignments, configs);
        self.write(command, topics, groups).await?;
        topics.get(name).ok_or_else(|| TopicError::Unknown(name.to_owned()))
    }

    /// Checks a topic creation as the controller would apply it to the current image (the name is free, enough
    /// live brokers for the replication factor, a valid assignment), without proposing it: CreateTopics'
    /// `validate_only`.
    pub fn check_create_topic(
        &self,
        name: &str,
        partitions: i32,
        replication_factor: i16,
        assignments: Option<Vec<Vec<i32>>>,
        configs: BTreeMap<String, String>,
    ) -> Result<(), TopicError> {
        let command = create_command(name, partitions, replication_factor, assignments, configs);
        let mut image = ClusterImage::clone(&self.image());
        image.apply(&command).map_err(|refusal| topic_error(ProposeError::Refused(refusal)))
    }

    /// Sends `command` to the controller, then brings the local topics up to the image that holds it.
    pub async fn write(
        &self,
        command: MetadataCommand,
        topics: &TopicManager,
        groups: &GroupCoordinator,
    ) -> Result<(), TopicError> {
        let index = self.controller.propose(command).await.map_err(topic_error)?;
        self.controller.wait_applied(index).await.map_err(topic_error)?;
        self.follow(topics, groups).await
    }
}

/// The command creating a topic, with a new topic id.
fn create_command(
    name: &str,
    partitions: i32,
    replication_factor: i16,
    assignments: Option<Vec<Vec<i32>>>,
    configs: BTreeMap<String, String>,
) -> MetadataCommand {
    let name = name.to_owned();
    MetadataCommand::CreateTopic { name, id: Uuid::new_v4(), partitions, replication_factor, assignments, configs }
}

/// The topic error for a write the controller refused or could not take.
fn topic_error(error: ProposeError) -> TopicError {
    match error {
        ProposeError::Unavailable(why) => TopicError::ControllerUnavailable(why),
        ProposeError::Refused(refusal) => match refusal {
            MetadataError::TopicAlreadyExists(name) => TopicError::AlreadyExists(name),
            MetadataError::UnknownTopic(name) => TopicError::Unknown(name),
            MetadataError::InvalidPartitions(why) => TopicError::InvalidPartitions(why),
            e @ MetadataError::InvalidReplicationFactor { .. } => TopicError::InvalidReplicationFactor(e.to_string()),
            e @ (MetadataError::InvalidReplicaAssignment(_)
            | MetadataError::UnknownBroker(_)
            | MetadataError::StaleIsrChange(_)
            | MetadataError::IneligibleReplica(_)) => TopicError::InvalidReplicaAssignment(e.to_string()),
        },
    }
}
