//! Consumer groups with real clients against a real `tidemark broker`: librdkafka members splitting and taking
//! over partitions, offsets surviving a crash of the broker, kcat and kafka-python as members, and the
//! `tidemark group` commands.

use std::collections::{BTreeSet, HashMap};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Message;
use tidemark_tests::{client_config, python, repo_root, run_cli, TidemarkProcess};

/// Flags that make group tests quick: no initial rebalance delay.
const FAST_GROUPS: &[&str] = &["--group-initial-rebalance-delay-ms", "0"];

async fn create_topic(bootstrap: &str, topic: &str, partitions: i32) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> = client_config(bootstrap).create()?;
    let new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    for result in admin.create_topics([&new_topic], &AdminOptions::new()).await? {
        result.map_err(|(t, e)| anyhow::anyhow!("creating {t}: {e}"))?;
    }
    Ok(())
}

/// Produces `values` keyed by themselves (so they spread over the partitions) and waits for every ack.
async fn produce(bootstrap: &str, topic: &str, values: impl Iterator<Item = String>) -> Result<()> {
    let producer: FutureProducer = client_config(bootstrap).set("acks", "all").set("linger.ms", "5").create()?;
    let mut deliveries = Vec::new();
    for value in values {
        let record = FutureRecord::to(topic).key(&value).payload(&value);
        deliveries.push(producer.send_result(record).map_err(|(e, _)| e)?);
    }
    for delivery in deliveries {
        delivery.await?.map_err(|(e, _)| e)?;
    }
    Ok(())
}

/// What a group member saw: (partition, offset, value).
type Seen = Arc<Mutex<Vec<(i32, i64, String)>>>;

/// A librdkafka group member on its own thread: it records each message, commits it synchronously, and
/// publishes how many partitions it holds, until told to stop; then it closes (leaving the group).
struct Member {
    stop: Arc<AtomicBool>,
    assigned: Arc<AtomicUsize>,
    thread: JoinHandle<Result<()>>,
}

impl Member {
    fn start(bootstrap: &str, group: &str, topic: &str, seen: Seen) -> Result<Self> {
        let consumer: BaseConsumer = client_config(bootstrap)
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("heartbeat.interval.ms", "200")
            .set("session.timeout.ms", "10000")
            .create()?;
        consumer.subscribe(&[topic])?;
        let stop = Arc::new(AtomicBool::new(false));
        let assigned = Arc::new(AtomicUsize::new(0));
        let (thread_stop, thread_assigned) = (Arc::clone(&stop), Arc::clone(&assigned));
        let thread = std::thread::spawn(move || -> Result<()> {
            while !thread_stop.load(Ordering::Acquire) {
                if let Some(message) = consumer.poll(Duration::from_millis(50)) {
                    let message = message?;
                    let value = String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned();
                    seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.push((
                        message.partition(),
                        message.offset(),
                        value,
                    ));
                    consumer.commit_message(&message, CommitMode::Sync).context("committing")?;
                }
                thread_assigned.store(consumer.assignment()?.count(), Ordering::Release);
            }
            Ok(())
        });
        Ok(Member { stop, assigned, thread })
    }

    fn assigned(&self) -> usize {
        self.assigned.load(Ordering::Acquire)
    }

    fn stop(self) -> Result<()> {
        self.stop.store(true, Ordering::Release);
        self.thread.join().map_err(|_| anyhow::anyhow!("member thread panicked"))?
    }
}

fn wait_until(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while !condition() {
        if Instant::now() > deadline {
            bail!("timed out waiting until {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn values(range: std::ops::Range<usize>) -> impl Iterator<Item = String> {
    range.map(|i| format!("record-{i}"))
}

/// Every value seen, failing on a (partition, offset) seen twice.
fn exactly_once(seen: &Seen) -> Result<BTreeSet<String>> {
    let seen = seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    let mut positions = BTreeSet::new();
    for (partition, offset, _) in seen.iter() {
        if !positions.insert((*partition, *offset)) {
            bail!("partition {partition} offset {offset} was delivered twice");
        }
    }
    Ok(seen.iter().map(|(_, _, v)| v.clone()).collect())
}

fn seen_count(seen: &Seen) -> usize {
    seen.lock().map_or(0, |s| s.len())
}

#[tokio::test(flavor = "multi_thread")]
async fn two_members_split_six_partitions_and_the_survivor_takes_over_without_loss() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TidemarkProcess::start(dir.path(), FAST_GROUPS)?;
    create_topic(&broker.bootstrap, "split", 6).await?;
    produce(&broker.bootstrap, "split", values(0..300)).await?;
    let seen: Seen = Arc::default();
    let a = Member::start(&broker.bootstrap, "splitters", "split", Arc::clone(&seen))?;
    wait_until("the first member holds all six partitions", Duration::from_secs(30), || a.assigned() == 6)?;
    let b = Member::start(&broker.bootstrap, "splitters", "split", Arc::clone(&seen))?;
    wait_until("the members hold three partitions each", Duration::from_secs(30), || {
        a.assigned() == 3 && b.assigned() == 3
    })?;
    produce(&broker.bootstrap, "split", values(300..600)).await?;
    wait_until("600 records arrived", Duration::from_secs(30), || seen_count(&seen) >= 600)?;

    b.stop()?;
    wait_until("the survivor holds all six partitions", Duration::from_secs(30), || a.assigned() == 6)?;
    produce(&broker.bootstrap, "split", values(600..900)).await?;
    wait_until("900 records arrived", Duration::from_secs(30), || seen_count(&seen) >= 900)?;
    a.stop()?;

    let expected: BTreeSet<String> = values(0..900).collect();
    assert_eq!(exactly_once(&seen)?, expected, "every record once, none lost");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_resumes_from_its_committed_offsets_after_the_broker_crashes() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut broker = TidemarkProcess::start(dir.path(), FAST_GROUPS)?;
    create_topic(&broker.bootstrap, "resume", 2).await?;
    produce(&broker.bootstrap, "resume", values(0..60)).await?;
    let seen: Seen = Arc::default();
    let member = Member::start(&broker.bootstrap, "resumers", "resume", Arc::clone(&seen))?;
    wait_until("60 records arrived", Duration::from_secs(30), || seen_count(&seen) >= 60)?;
    member.stop()?;

    broker.kill9()?;
    let broker = TidemarkProcess::start_on(dir.path(), &broker.bootstrap, FAST_GROUPS)?;
    produce(&broker.bootstrap, "resume", values(60..100)).await?;
    let member = Member::start(&broker.bootstrap, "resumers", "resume", Arc::clone(&seen))?;
    wait_until("the new records arrived", Duration::from_secs(30), || seen_count(&seen) >= 100)?;
    // Anything re-delivered from before the crash would show up as a duplicate below.
    std::thread::sleep(Duration::from_millis(500));
    member.stop()?;
    assert_eq!(exactly_once(&seen)?, values(0..100).collect(), "resumed exactly where the commits left off");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn kcat_and_kafka_python_consume_as_group_members_and_the_cli_shows_and_resets_their_offsets() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TidemarkProcess::start(dir.path(), FAST_GROUPS)?;
    let bootstrap = broker.bootstrap.as_str();
    create_topic(bootstrap, "members", 3).await?;
    produce(bootstrap, "members", values(0..150)).await?;

    let kcat = Command::new("kcat")
        .args(["-b", bootstrap, "-G", "kcat-group", "-X", "auto.offset.reset=earliest", "-e", "-q", "members"])
        .output()
        .context("running kcat (scripts/test installs it)")?;
    assert!(kcat.status.success(), "kcat: {}", String::from_utf8_lossy(&kcat.stderr));
    let consumed: BTreeSet<String> = String::from_utf8_lossy(&kcat.stdout).lines().map(str::to_owned).collect();
    assert_eq!(consumed, values(0..150).collect(), "kcat -G consumed every record");

    let script = repo_root().join("tests/python/kafka_python_group.py");
    let run_python = || -> Result<String> {
        let output = Command::new(python()).arg(&script).args([bootstrap, "members", "py-group", "150"]).output()?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            bail!("kafka-python: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
        }
        Ok(stdout)
    };
    assert!(run_python()?.contains("consumed=150"));

    let listed = run_cli(&["group", "list", "--bootstrap-servers", bootstrap])?;
    assert!(listed.contains("kcat-group") && listed.contains("py-group"), "{listed}");
    let lags = |described: &str| -> HashMap<String, (String, String)> {
        described
            .lines()
            .filter(|l| l.starts_with("members "))
            .map(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                (cols[1].to_owned(), (cols[2].to_owned(), cols[4].to_owned()))
            })
            .collect()
    };
    let described = run_cli(&["group", "describe", "py-group", "--bootstrap-servers", bootstrap])?;
    let rows = lags(&described);
    assert_eq!(rows.len(), 3, "{described}");
    assert!(rows.values().all(|(_, lag)| lag == "0"), "caught up: {described}");

    let reset = run_cli(&[
        "group",
        "reset-offsets",
        "py-group",
        "--topic",
        "members",
        "--to-earliest",
        "--bootstrap-servers",
        bootstrap,
    ])?;
    assert_eq!(reset.lines().count(), 3, "{reset}");
    let described = run_cli(&["group", "describe", "py-group", "--bootstrap-servers", bootstrap])?;
    let rows = lags(&described);
    assert!(rows.values().all(|(current, _)| current == "0"), "reset to the start: {described}");
    let total_lag: i64 = rows.values().map(|(_, lag)| lag.parse::<i64>().unwrap_or(-1)).sum();
    assert_eq!(total_lag, 150, "{described}");
    assert!(run_python()?.contains("consumed=150"), "the group consumes everything again after the reset");
    Ok(())
}

/// Counts the assignments a consumer receives.
struct AssignmentCounter(Arc<AtomicUsize>);

impl rdkafka::ClientContext for AssignmentCounter {}

impl rdkafka::consumer::ConsumerContext for AssignmentCounter {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &rdkafka::consumer::Rebalance<'_>) {
        if matches!(rebalance, rdkafka::consumer::Rebalance::Assign(_)) {
            self.0.fetch_add(1, Ordering::AcqRel);
        }
    }
}

fn static_member(
    bootstrap: &str,
    instance: &str,
    assignments: &Arc<AtomicUsize>,
) -> Result<BaseConsumer<AssignmentCounter>> {
    let consumer: BaseConsumer<AssignmentCounter> = client_config(bootstrap)
        .set("group.id", "statics")
        .set("group.instance.id", instance)
        .set("heartbeat.interval.ms", "200")
        .set("session.timeout.ms", "10000")
        .set("auto.offset.reset", "earliest")
        .create_with_context(AssignmentCounter(Arc::clone(assignments)))?;
    consumer.subscribe(&["static"])?;
    Ok(consumer)
}

fn held(consumer: &BaseConsumer<AssignmentCounter>) -> usize {
    consumer.assignment().map_or(0, |a| a.count())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_static_member_takes_its_partitions_back_without_a_rebalance() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TidemarkProcess::start(dir.path(), FAST_GROUPS)?;
    create_topic(&broker.bootstrap, "static", 4).await?;
    let (a_count, b_count) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let a = static_member(&broker.bootstrap, "instance-a", &a_count)?;
    let b = static_member(&broker.bootstrap, "instance-b", &b_count)?;
    wait_until("the static members hold two partitions each", Duration::from_secs(30), || {
        let _ = (a.poll(Duration::from_millis(10)), b.poll(Duration::from_millis(10)));
        held(&a) == 2 && held(&b) == 2
    })?;
    let a_assignments = a_count.load(Ordering::Acquire);
    drop(b);
    let b = static_member(&broker.bootstrap, "instance-b", &b_count)?;
    wait_until("the restarted member holds its two partitions", Duration::from_secs(30), || {
        let _ = (a.poll(Duration::from_millis(10)), b.poll(Duration::from_millis(10)));
        held(&b) == 2
    })?;
    let quiet_until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < quiet_until {
        let _ = (a.poll(Duration::from_millis(10)), b.poll(Duration::from_millis(10)));
    }
    assert_eq!(held(&a), 2);
    assert_eq!(a_count.load(Ordering::Acquire), a_assignments, "the other member saw no rebalance");
    Ok(())
}
