//! Rebalance time: a third librdkafka member joins a group of two consuming a 12-partition topic that a producer
//! keeps busy; the figure is the time from the newcomer's `subscribe` until every member has received a record
//! under its new assignment. Measured on Tidemark and, as the reference, on librdkafka's mock cluster (which has its
//! own group coordinator), with the same clients and settings.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use rdkafka::admin::TopicReplication;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::ClientContext;

use crate::admin;
use crate::broker::Broker;
use crate::groups::{Figure, Section};

/// The topic the members share.
const TOPIC: &str = "bench-rebalance";
/// The goal: every member consuming again within this long of the join.
const GOAL: Duration = Duration::from_secs(1);

/// Partitions of the benchmark topic.
pub const PARTITIONS: i32 = 12;
/// Librdkafka settings of every member: a heartbeat well below the 1 s goal, since members learn of a
/// rebalance from their next heartbeat (true of Kafka's own brokers too).
const MEMBER_SETTINGS: &[(&str, &str)] = &[
    ("heartbeat.interval.ms", "100"),
    ("session.timeout.ms", "6000"),
    ("fetch.wait.max.ms", "100"),
    ("auto.offset.reset", "latest"),
    ("enable.auto.commit", "true"),
];
/// How long one phase (a member settling, a rebalance) may take before the run fails.
const PHASE_TIMEOUT: Duration = Duration::from_secs(60);

/// The rebalance times of one target.
#[derive(Debug, Clone)]
pub struct RebalanceRun {
    /// One sample per trial: join to the last member consuming again.
    pub samples: Vec<Duration>,
}

impl RebalanceRun {
    /// The median sample.
    pub fn median(&self) -> Duration {
        let mut sorted = self.samples.clone();
        sorted.sort();
        sorted.get(sorted.len() / 2).copied().unwrap_or_default()
    }

    /// The slowest sample.
    pub fn max(&self) -> Duration {
        self.samples.iter().copied().max().unwrap_or_default()
    }
}

/// When a member was last assigned partitions and when it first received a record after that.
#[derive(Debug, Default, Clone, Copy)]
struct Progress {
    assigned_at: Option<Instant>,
    partitions: usize,
    consuming_since: Option<Instant>,
}

/// Records each assignment's time.
struct Tracker(Arc<Mutex<Progress>>);

impl ClientContext for Tracker {}

impl ConsumerContext for Tracker {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Ok(mut progress) = self.0.lock() {
            match rebalance {
                Rebalance::Assign(list) => {
                    *progress =
                        Progress { assigned_at: Some(Instant::now()), partitions: list.count(), consuming_since: None }
                }
                Rebalance::Revoke(_) | Rebalance::Error(_) => *progress = Progress::default(),
            }
        }
    }
}

/// A member polling on its own thread until stopped; closing it leaves the group.
struct Member {
    progress: Arc<Mutex<Progress>>,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Result<()>>,
}

impl Member {
    fn start(bootstrap: &str, group: &str, topic: &str) -> Result<Self> {
        let progress = Arc::new(Mutex::new(Progress::default()));
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", bootstrap).set("group.id", group);
        for (key, value) in MEMBER_SETTINGS {
            config.set(*key, *value);
        }
        let consumer: BaseConsumer<Tracker> =
            config.create_with_context(Tracker(Arc::clone(&progress))).context("creating a member")?;
        consumer.subscribe(&[topic])?;
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_stop, thread_progress) = (Arc::clone(&stop), Arc::clone(&progress));
        let thread = std::thread::spawn(move || -> Result<()> {
            while !thread_stop.load(Ordering::Acquire) {
                if let Some(message) = consumer.poll(Duration::from_millis(10)) {
                    message?;
                    let mut progress = thread_progress.lock().map_err(|_| anyhow!("poisoned"))?;
                    if progress.assigned_at.is_some() && progress.consuming_since.is_none() {
                        progress.consuming_since = Some(Instant::now());
                    }
                }
            }
            Ok(())
        });
        Ok(Member { progress, stop, thread })
    }

    fn progress(&self) -> Progress {
        self.progress.lock().map(|p| *p).unwrap_or_default()
    }

    fn stop(self) -> Result<()> {
        self.stop.store(true, Ordering::Release);
        self.thread.join().map_err(|_| anyhow!("member thread panicked"))?
    }
}

/// Keeps every partition of the topic supplied with records until stopped.
struct Feeder {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Result<()>>,
}

impl Feeder {
    fn start(bootstrap: &str, topic: &str) -> Result<Self> {
        let producer: BaseProducer =
            ClientConfig::new().set("bootstrap.servers", bootstrap).set("linger.ms", "1").create()?;
        let topic = topic.to_owned();
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = Arc::clone(&stop);
        let thread = std::thread::spawn(move || -> Result<()> {
            let mut n: u64 = 0;
            while !thread_stop.load(Ordering::Acquire) {
                let partition = (n % PARTITIONS as u64) as i32;
                let payload = n.to_be_bytes();
                let record = BaseRecord::<(), [u8]>::to(&topic).partition(partition).payload(&payload);
                if producer.send(record).is_ok() {
                    n += 1;
                }
                producer.poll(Duration::from_millis(1));
            }
            producer.flush(Duration::from_secs(5))?;
            Ok(())
        });
        Ok(Feeder { stop, thread })
    }

    fn stop(self) -> Result<()> {
        self.stop.store(true, Ordering::Release);
        self.thread.join().map_err(|_| anyhow!("feeder thread panicked"))?
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + PHASE_TIMEOUT;
    while !done() {
        if Instant::now() > deadline {
            bail!("timed out waiting until {what}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

/// Whether every member holds `each` partitions and consumes under that assignment.
fn settled(members: &[&Member], each: usize) -> bool {
    members.iter().map(|m| m.progress()).all(|p| p.partitions == each && p.consuming_since.is_some())
}

/// Runs `trials` joins of a third member on the 12-partition `topic` (which must exist) at `bootstrap`.
pub fn measure(bootstrap: &str, topic: &str, group: &str, trials: usize) -> Result<RebalanceRun> {
    let feeder = Feeder::start(bootstrap, topic)?;
    let first = Member::start(bootstrap, group, topic)?;
    let second = Member::start(bootstrap, group, topic)?;
    let each = (PARTITIONS / 2) as usize;
    wait_until("two members consume six partitions each", || settled(&[&first, &second], each))?;
    let mut samples = Vec::with_capacity(trials);
    for _ in 0..trials {
        let joined_at = Instant::now();
        let third = Member::start(bootstrap, group, topic)?;
        let members = [&first, &second, &third];
        let third_each = (PARTITIONS / 3) as usize;
        wait_until("three members consume four partitions each", || {
            members.iter().map(|m| m.progress()).all(|p| p.assigned_at.is_some_and(|at| at > joined_at))
                && settled(&members, third_each)
        })?;
        let last = members.iter().filter_map(|m| m.progress().consuming_since).max().unwrap_or(joined_at);
        samples.push(last - joined_at);
        third.stop()?;
        wait_until("the two members settle again", || settled(&[&first, &second], each))?;
    }
    first.stop()?;
    second.stop()?;
    feeder.stop()?;
    Ok(RebalanceRun { samples })
}

/// Measures the rebalance time on a fresh Tidemark broker (with `group.initial.rebalance.delay.ms=0`) and on
/// librdkafka's mock cluster, and reports the figure.
pub fn run(binary: &Path, work: &Path) -> Result<(Vec<Figure>, Section)> {
    let trials: usize = match std::env::var("BENCH_REBALANCE_TRIALS") {
        Ok(text) => text.parse().context("BENCH_REBALANCE_TRIALS must be a count")?,
        Err(_) => 5,
    };
    eprintln!("rebalance: {trials} joins on the mock cluster");
    let mock = MockCluster::new(1).context("creating the mock cluster")?;
    mock.create_topic(TOPIC, PARTITIONS, 1).context("creating the topic on the mock")?;
    let reference = measure(&mock.bootstrap_servers(), TOPIC, "bench-rebalance", trials)?;
    drop(mock);

    eprintln!("rebalance: {trials} joins on tidemark");
    let mut broker = Broker::start(binary, &work.join("rebalance-data"), &["--group-initial-rebalance-delay-ms", "0"])?;
    admin::create_topic(&broker.bootstrap, TOPIC, PARTITIONS, TopicReplication::Fixed(1))?;
    let measured = measure(&broker.bootstrap, TOPIC, "bench-rebalance", trials)?;
    broker.check_alive()?;

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let verdict = if measured.max() <= GOAL { "PASS" } else { "MISS" };
    let figure = Figure {
        verdict,
        text: format!(
            "rebalance: every member consuming again {:.0} ms (median; max {:.0} ms over {trials} joins) after a third \
             member joins a group of two on {PARTITIONS} partitions = {:.2}x the mock cluster's {:.0} ms \
             (goal: within {} ms)",
            ms(measured.median()),
            ms(measured.max()),
            measured.median().as_secs_f64() / reference.median().as_secs_f64().max(f64::EPSILON),
            ms(reference.median()),
            GOAL.as_millis()
        ),
    };
    let samples =
        |run: &RebalanceRun| run.samples.iter().map(|d| format!("{:.0}", ms(*d))).collect::<Vec<_>>().join(", ");
    let section = Section {
        title: "rebalance".to_owned(),
        lines: vec![
            format!(
                "workload: a producer feeds all {PARTITIONS} partitions; two librdkafka members consume; a third \
                 subscribes, and the figure runs from its subscribe until every member has a record under its new \
                 assignment; the third then leaves and the two settle before the next join"
            ),
            format!("member settings: {MEMBER_SETTINGS:?} (members learn of a rebalance at their next heartbeat)"),
            format!("tidemark (ms): {}", samples(&measured)),
            format!("mock cluster (ms): {}", samples(&reference)),
        ],
    };
    Ok((vec![figure], section))
}
