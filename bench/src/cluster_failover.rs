//! Failover time: a producer sends at a fixed rate to a replicated partition while its leader is killed with
//! `kill -9`; the figure is the time from the kill to the first successful delivery report of a record sent after
//! the kill. A dead leader acknowledges none of those, so that report comes from the new leader.

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Result;
use rdkafka::admin::TopicReplication;
use rdkafka::producer::Producer;

use crate::admin::{self, PartitionState};
use crate::cluster_nodes::{Nodes, NODE_IDS};
use crate::produce::{self, Deliveries};

/// Records per second the producer sends.
pub const RATE: u64 = 1_000;
/// Size of the records.
pub const SIZE: usize = 100;
/// Records sent before the kill: one second's worth.
const SENT_BEFORE_KILL: u64 = RATE;
/// The longest the producer keeps sending after the kill.
pub const AFTER_KILL_MAX: Duration = Duration::from_secs(10);
/// The producer stops earlier once records sent after the kill have been delivered for this long.
pub const DELIVERING_FOR: Duration = Duration::from_secs(2);
/// How often (in records sent) the producer checks whether it may stop.
const CHECK_EVERY: u64 = RATE / 10;

/// One trial: a fresh topic led by `victim`, the victim killed under load, then restarted.
#[derive(Debug, Clone)]
pub struct Trial {
    /// The killed leader's node id.
    pub victim: i32,
    /// Kill → first successful delivery report of a record sent after the kill; `None`: there was none.
    pub failover: Option<Duration>,
    /// Records sent in all.
    pub sent: u64,
    /// Records sent after the kill.
    pub sent_after_kill: u64,
    /// Why not every record was delivered; `None` when every one was.
    pub failure: Option<String>,
    /// Kill → the survivors' metadata showing another leader (polled every 100 ms); `None`: not within
    /// [`admin::WAIT`].
    pub elected: Option<Duration>,
    /// The partition's leader once the producer had flushed.
    pub new_leader: i32,
    /// The victim's restart → the victim back in the topic's ISR.
    pub rejoined: Duration,
}

/// Every trial run, and why the trials stopped early if they did.
#[derive(Debug, Clone, Default)]
pub struct Failover {
    /// The trials in order.
    pub trials: Vec<Trial>,
    /// The error that ended the trials before the last one, if any.
    pub aborted: Option<String>,
}

impl Failover {
    /// The trials' failover times, shortest first, a trial without one (`None`) counting as the longest.
    fn sorted(&self) -> Vec<Option<Duration>> {
        let mut times: Vec<Option<Duration>> = self.trials.iter().map(|t| t.failover).collect();
        times.sort_by_key(|time| (time.is_none(), *time));
        times
    }

    /// The median failover time; `None` when it is a trial without one, or there are no trials.
    pub fn median(&self) -> Option<Duration> {
        let times = self.sorted();
        times.get(times.len() / 2).copied().flatten()
    }

    /// The longest failover time; `None` when a trial has none, or there are no trials.
    pub fn max(&self) -> Option<Duration> {
        self.sorted().last().copied().flatten()
    }
}

/// Runs `trials` trials, the victim rotating over the nodes so that the active controller is among them; stops at
/// the first trial that cannot run (recorded in [`Failover::aborted`]).
pub fn run(nodes: &mut Nodes, trials: u64) -> Failover {
    let mut failover = Failover::default();
    for (number, victim) in (1..=trials).zip(NODE_IDS.iter().copied().cycle()) {
        crate::run::progress(&format!("failover trial {number} of {trials}: killing node {victim}, the leader"));
        match trial(nodes, number, victim) {
            Ok(trial) => failover.trials.push(trial),
            Err(e) => {
                failover.aborted = Some(format!("trial {number} (victim node {victim}): {e:#}"));
                break;
            }
        }
    }
    failover
}

/// One trial on topic `bench-failover-NUMBER`, whose one partition has the replicas `[victim, other, other]`.
fn trial(nodes: &mut Nodes, number: u64, victim: i32) -> Result<Trial> {
    let topic = format!("bench-failover-{number}");
    let replicas: Vec<i32> =
        std::iter::once(victim).chain(NODE_IDS.iter().copied().filter(|&id| id != victim)).collect();
    let bootstrap = nodes.bootstrap();
    admin::create_topic(&bootstrap, &topic, 1, TopicReplication::Variable(&[&replicas]))?;
    let state = || admin::partition_state(&bootstrap, &topic);
    let led_in_sync = |s: &PartitionState| s.leader == victim && s.isr.len() == NODE_IDS.len();
    admin::wait_until(&format!("node {victim} leading {topic} with every replica in sync"), state, led_in_sync)?;

    let producer = produce::producer(&bootstrap, true)?;
    produce::wait_for_topic(&producer, &topic)?;
    let context = producer.context().clone();
    let payload = produce::payload(SIZE);
    let interval = Duration::from_secs(1).div_f64(RATE as f64);
    let start = Instant::now();
    let (mut sent, mut killed_ns, mut election) = (0, None, None);
    let killed = loop {
        let due = start + interval.mul_f64(sent as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        match killed_ns {
            None if sent == SENT_BEFORE_KILL => {
                killed_ns = Some(context.now_ns());
                nodes.kill(victim)?;
                election = Some(watch_election(nodes.bootstrap(), topic.clone(), victim));
            }
            Some(killed) if sent % CHECK_EVERY == 0 && sent_long_enough(&context, killed) => break killed,
            _ => {}
        }
        produce::send(&producer, &topic, &payload, context.now_ns())?;
        sent += 1;
    };
    let failure = produce::await_deliveries(&producer, sent).err().map(|e| format!("{e:#}"));
    let failover = context.first_delivery_of_sent_since(killed).map(|ns| Duration::from_nanos(ns - killed));
    let elected = election.and_then(|watch| watch.join().ok()).and_then(Result::ok);
    drop(producer);
    let new_leader = admin::partition_state(&nodes.bootstrap(), &topic)?.leader;

    nodes.start_node(victim)?;
    let bootstrap = nodes.bootstrap();
    let rejoined = admin::wait_until(
        &format!("node {victim} back in the ISR of {topic}"),
        || admin::partition_state(&bootstrap, &topic),
        |s| s.isr.contains(&victim),
    )?;
    Ok(Trial {
        victim,
        failover,
        sent,
        sent_after_kill: sent - SENT_BEFORE_KILL,
        failure,
        elected,
        new_leader,
        rejoined,
    })
}

/// Polls the metadata of `survivors` on a thread of its own until `topic` has a leader other than `victim`, and
/// answers how long that took.
fn watch_election(survivors: String, topic: String, victim: i32) -> JoinHandle<Result<Duration>> {
    std::thread::spawn(move || {
        let state = || admin::partition_state(&survivors, &topic);
        admin::wait_until(&format!("a leader of {topic} other than node {victim}"), state, |s| {
            s.leader >= 0 && s.leader != victim
        })
    })
}

/// Whether the producer may stop, the victim killed at `killed_ns`: [`AFTER_KILL_MAX`] passed since the kill, or
/// records sent after the kill have been delivered for [`DELIVERING_FOR`].
fn sent_long_enough(context: &Deliveries, killed_ns: u64) -> bool {
    let now = context.now_ns();
    let delivering_since = context.first_delivery_of_sent_since(killed_ns);
    now.saturating_sub(killed_ns) >= nanos(AFTER_KILL_MAX)
        || delivering_since.is_some_and(|first| now.saturating_sub(first) >= nanos(DELIVERING_FOR))
}

/// `d` in nanoseconds.
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Failover, Trial};

    fn trial(failover: Option<Duration>) -> Trial {
        Trial {
            victim: 1,
            failover,
            sent: 0,
            sent_after_kill: 0,
            failure: None,
            elected: None,
            new_leader: 2,
            rejoined: Duration::ZERO,
        }
    }

    #[test]
    fn a_trial_without_failover_counts_as_the_longest() {
        let of =
            |times: &[Option<Duration>]| Failover { trials: times.iter().map(|&t| trial(t)).collect(), aborted: None };
        let ms = |t: u64| Some(Duration::from_millis(t));
        assert_eq!((of(&[ms(900), ms(300), ms(600)]).median(), of(&[ms(900), ms(300)]).max()), (ms(600), ms(900)));
        assert_eq!((of(&[None, ms(300), ms(600)]).median(), of(&[None, ms(300)]).max()), (ms(600), None));
        assert_eq!((of(&[]).median(), of(&[]).max()), (None, None));
    }
}
