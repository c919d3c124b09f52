//! Replication of partitions between the brokers of a cluster, Kafka's model: each partition's leader (elected by
//! the controller) takes writes; followers fetch from it and append what they get with its offsets and epochs.
//!
//! - [`leader_state`]: on the leader, each follower's progress; the high watermark limit and the ISR it implies.
//! - [`fetcher`]: on a follower, truncation by leader epoch, then fetching.
//! - [`leader_client`]: the two Kafka requests a follower sends to its leader.
//! - [`unreachable`]: a follower that cannot reach its leader, or a leader whose follower's connection dropped,
//!   tells the controller, which fences a crashed broker at once.
//!
//! [`ReplicaManager`] starts and stops fetchers and leader states as the controller's image changes, takes
//! followers' fetches on the leader, and proposes ISR changes to the controller (a deposed leader's proposals are
//! refused there, by epoch).
//!
//! **Invariant: an `acks=all` write is acknowledged only once every ISR member holds it durably.** The leader's
//! high watermark is the smallest of its own durable offset and the fetch offsets of the followers in the ISR
//! (a follower fetches at N only once everything below N is durable there); produce waits for the high watermark.

pub mod fetcher;
pub mod leader_client;
pub mod leader_state;
pub mod unreachable;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kafka_protocol::ResponseError;
use tokio::task::JoinHandle;

use crate::client::ClientSecurity;
use crate::controller::image::{ClusterImage, MetadataCommand, NO_LEADER};
use crate::controller::Controller;
use crate::metrics::IsrChanges;
use crate::replication::fetcher::FollowTarget;
use crate::replication::leader_state::LeaderState;
use crate::replication::unreachable::UnreachableLeaders;
use crate::storage::PartitionLog;
use crate::topics::TopicManager;

/// A partition: topic name and index.
type PartitionKey = (String, i32);

/// A partition this broker leads.
#[derive(Debug)]
struct Led {
    state: LeaderState,
    /// The log end offset when this broker started leading: a follower must reach it to join the ISR.
    epoch_start: i64,
    log: Arc<PartitionLog>,
}

/// A partition this broker follows.
#[derive(Debug)]
struct Following {
    leader: i32,
    leader_epoch: i32,
    task: JoinHandle<()>,
}

/// This broker's replicas: the partitions it leads and those it follows.
#[derive(Debug)]
pub struct ReplicaManager {
    node_id: i32,
    controller: Arc<Controller>,
    /// `replica.lag.time.max.ms`: an ISR member not caught up for this long leaves the ISR.
    max_lag: Duration,
    led: Mutex<HashMap<PartitionKey, Led>>,
    following: Mutex<HashMap<PartitionKey, Following>>,
    /// ISR changes proposed and not yet answered, one at a time per partition.
    proposing: Arc<Mutex<HashSet<PartitionKey>>>,
    /// Where followers report leaders they cannot reach.
    unreachable: Arc<UnreachableLeaders>,
    /// The ISR changes made, for the metrics.
    isr_changes: IsrChanges,
    /// How followers connect to leaders' inter-broker listeners.
    inter_broker: ClientSecurity,
}

impl ReplicaManager {
    /// The replicas of broker `node_id`, changing ISRs through `controller`; its followers fetch from leaders'
    /// inter-broker listeners secured by `inter_broker`.
    pub fn new(node_id: i32, controller: Arc<Controller>, max_lag: Duration, inter_broker: ClientSecurity) -> Self {
        ReplicaManager {
            inter_broker,
            node_id,
            max_lag,
            led: Mutex::new(HashMap::new()),
            following: Mutex::new(HashMap::new()),
            proposing: Arc::new(Mutex::new(HashSet::new())),
            unreachable: Arc::new(UnreachableLeaders::new(Arc::clone(&controller))),
            controller,
            isr_changes: IsrChanges::default(),
        }
    }

    /// Starts leading, starts following, or stops, for every partition as `image` says; `topics` holds the local
    /// logs (already following the image).
    pub fn apply(&self, image: &ClusterImage, topics: &TopicManager) {
        let now = Instant::now();
        let mut led = lock(&self.led);
        let mut following = lock(&self.following);
        let mut wanted_leading = HashSet::new();
        let mut wanted_following = HashSet::new();
        for (name, record) in &image.topics {
            let Some(topic) = topics.get(name) else { continue };
            for (index, partition) in record.partitions.iter().enumerate() {
                let key = (name.clone(), index as i32);
                let Some(log) = topic.partition(index as i32) else { continue };
                if !partition.replicas.contains(&self.node_id) || partition.leader == NO_LEADER {
                    continue;
                }
                if partition.leader == self.node_id {
                    let current = led.get(&key).is_some_and(|l| l.state.leader_epoch() == partition.leader_epoch);
                    if !current {
                        let state = LeaderState::new(self.node_id, partition.leader_epoch, &partition.replicas, now);
                        led.insert(
                            key.clone(),
                            Led { state, epoch_start: log.log_end_offset(), log: Arc::clone(&log) },
                        );
                    }
                    if let Some(l) = led.get(&key) {
                        l.log.set_high_watermark_limit(l.state.isr_limit(&partition.isr));
                    }
                    wanted_leading.insert(key);
                    continue;
                }
                let current = following
                    .get(&key)
                    .is_some_and(|f| f.leader == partition.leader && f.leader_epoch == partition.leader_epoch);
                if !current {
                    let Some(leader) = image.brokers.get(&partition.leader) else { continue };
                    let Some((host, port)) = leader.endpoint(self.inter_broker.protocol.name()) else {
                        tracing::warn!(leader = partition.leader, listener = %self.inter_broker.protocol,
                            "the leader has no inter-broker listener of this protocol; every broker must list the same \
                             protocol first in --kafka-listen");
                        continue;
                    };
                    let target = FollowTarget {
                        replica_id: self.node_id,
                        leader_id: partition.leader,
                        topic: Arc::clone(&topic),
                        partition: index as i32,
                        leader_address: format!("{host}:{port}"),
                        security: self.inter_broker.clone(),
                        leader_epoch: partition.leader_epoch,
                    };
                    let task = tokio::spawn(fetcher::follow(target, log, Arc::clone(&self.unreachable)));
                    let follower = Following { leader: partition.leader, leader_epoch: partition.leader_epoch, task };
                    if let Some(old) = following.insert(key.clone(), follower) {
                        old.task.abort();
                    }
                }
                wanted_following.insert(key);
            }
        }
        led.retain(|key, _| wanted_leading.contains(key));
        following.retain(|key, f| {
            let keep = wanted_following.contains(key);
            if !keep {
                f.task.abort();
            }
            keep
        });
    }

    /// Whether this broker has taken up the leadership of `topic`-`partition` in `leader_epoch`: its epoch
    /// started and its followers tracked, so that an `acks=all` write waits for them. Until then the partition
    /// refuses clients as if led elsewhere (they retry).
    pub fn is_leading(&self, topic: &str, partition: i32, leader_epoch: i32) -> bool {
        lock(&self.led).get(&(topic.to_owned(), partition)).is_some_and(|led| led.state.leader_epoch() == leader_epoch)
    }

    /// On the leader: follower `follower` fetched `topic`-`partition` at `fetch_offset`. Moves the high watermark
    /// and, when the follower caught up, proposes it back into the ISR. An error when this broker does not lead
    /// the partition (in the epoch the follower named, when it named one).
    pub fn follower_fetched(
        &self,
        (topic, partition): (&str, i32),
        follower: i32,
        fetch_offset: i64,
        follower_epoch: i32,
    ) -> Result<(), ResponseError> {
        let image = self.controller.image();
        let record = image.partition(topic, partition).ok_or(ResponseError::UnknownTopicOrPartition)?;
        if !record.replicas.contains(&follower) {
            return Err(ResponseError::NotLeaderOrFollower);
        }
        let mut led = lock(&self.led);
        let key = (topic.to_owned(), partition);
        let led = led.get_mut(&key).ok_or(ResponseError::NotLeaderOrFollower)?;
        if follower_epoch >= 0 && follower_epoch != led.state.leader_epoch() {
            return Err(match follower_epoch < led.state.leader_epoch() {
                true => ResponseError::FencedLeaderEpoch,
                false => ResponseError::UnknownLeaderEpoch,
            });
        }
        led.state.fetched(follower, fetch_offset, led.log.log_end_offset(), Instant::now());
        led.log.set_high_watermark_limit(led.state.isr_limit(&record.isr));
        self.review_isr(&image, &key, led);
        Ok(())
    }

    /// Shrinks the ISR of every led partition whose members fell behind; run periodically, since a follower
    /// that stopped fetching sends nothing that would trigger it.
    pub fn review_all(&self) {
        let image = self.controller.image();
        let mut led = lock(&self.led);
        for (key, partition) in led.iter_mut() {
            self.review_isr(&image, key, partition);
        }
    }

    /// Proposes the ISR `led` wants, if it differs from the image's and no proposal for it is in flight.
    fn review_isr(&self, image: &ClusterImage, key: &PartitionKey, led: &mut Led) {
        let Some(record) = image.partition(&key.0, key.1) else { return };
        let marks = (led.log.high_watermark(), led.epoch_start);
        let Some(mut isr) = led.state.wanted_isr(&record.replicas, &record.isr, marks, Instant::now(), self.max_lag)
        else {
            return;
        };
        // A fenced broker cannot join (the controller would refuse); it joins once it is unfenced.
        isr.retain(|id| image.brokers.get(id).is_some_and(|b| !b.fenced));
        if isr == record.isr {
            return;
        }
        if !lock(&self.proposing).insert(key.clone()) {
            return;
        }
        let (old_isr, new_isr) = (record.isr.clone(), isr.clone());
        let command = MetadataCommand::ChangeIsr {
            topic: key.0.clone(),
            partition: key.1,
            leader: self.node_id,
            leader_epoch: record.leader_epoch,
            partition_epoch: record.partition_epoch,
            isr,
        };
        let (controller, proposing, key) = (Arc::clone(&self.controller), Arc::clone(&self.proposing), key.clone());
        let isr_changes = self.isr_changes.clone();
        tokio::spawn(async move {
            tracing::info!(?command, "proposing an ISR change");
            match controller.propose(command).await {
                Ok(_) => isr_changes.changed(&old_isr, &new_isr),
                Err(e) => tracing::warn!(topic = key.0, partition = key.1, error = %e, "the ISR change was not made"),
            }
            lock(&proposing).remove(&key);
        });
    }

    /// Broker `replica` lost its connection to this one, which it fetched through (it may have crashed): the
    /// controller is asked to check it, so that a dead follower leaves the ISRs it holds up without waiting out its
    /// session.
    pub fn replica_unreachable(&self, replica: i32) {
        self.unreachable.report(replica);
    }

    /// The brokers whose listener refused this broker's fetch connection lately (see [`unreachable`]): Metadata
    /// answers give their partitions no leader until the controller has elected another.
    pub fn brokers_down(&self) -> HashSet<i32> {
        self.unreachable.down()
    }

    /// The ISR changes the controller accepted from the partitions this broker leads.
    pub fn isr_changes(&self) -> &IsrChanges {
        &self.isr_changes
    }

    /// Stops every fetcher.
    pub fn stop(&self) {
        for (_, following) in lock(&self.following).drain() {
            following.task.abort();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
