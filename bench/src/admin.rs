//! A broker's or a cluster's metadata through librdkafka: topics created with the AdminClient, and polling the
//! metadata until it shows what a benchmark waits for (live brokers, a partition's leader and in-sync replicas).

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;

/// How long a topic creation or a wait for the metadata may take.
pub const WAIT: Duration = Duration::from_secs(60);

/// Leader and in-sync replicas of one partition, as the metadata shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionState {
    /// The leader's node id, -1 without one.
    pub leader: i32,
    /// The in-sync replicas' node ids.
    pub isr: Vec<i32>,
}

/// An AdminClient of the brokers at `bootstrap`.
fn admin(bootstrap: &str) -> Result<AdminClient<DefaultClientContext>> {
    ClientConfig::new().set("bootstrap.servers", bootstrap).create().context("creating the admin client")
}

/// Creates `name` with `partitions` partitions, replicated as `replication` says.
pub fn create_topic(bootstrap: &str, name: &str, partitions: i32, replication: TopicReplication<'_>) -> Result<()> {
    let admin = admin(bootstrap)?;
    let topic = NewTopic::new(name, partitions, replication);
    let options = AdminOptions::new().operation_timeout(Some(WAIT));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    for result in runtime.block_on(admin.create_topics([&topic], &options))? {
        result.map_err(|(t, e)| anyhow!("creating {t}: {e}"))?;
    }
    Ok(())
}

/// Number of brokers the metadata lists.
pub fn brokers(bootstrap: &str) -> Result<usize> {
    Ok(admin(bootstrap)?.inner().fetch_metadata(None, Duration::from_secs(5))?.brokers().len())
}

/// Leader and ISR of partition 0 of `topic`.
pub fn partition_state(bootstrap: &str, topic: &str) -> Result<PartitionState> {
    let metadata = admin(bootstrap)?.inner().fetch_metadata(Some(topic), Duration::from_secs(5))?;
    let partition = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .and_then(|t| t.partitions().iter().find(|p| p.id() == 0))
        .with_context(|| format!("no partition 0 of {topic} in the metadata"))?;
    Ok(PartitionState { leader: partition.leader(), isr: partition.isr().to_vec() })
}

/// Calls `read` every 100 ms until `check` holds of its answer (a failed read counts as "not yet"), for up to
/// [`WAIT`]; answers how long that took. The error names `what` and the last answer.
pub fn wait_until<T: std::fmt::Debug>(
    what: &str,
    read: impl Fn() -> Result<T>,
    check: impl Fn(&T) -> bool,
) -> Result<Duration> {
    let start = Instant::now();
    loop {
        let current = read();
        if current.as_ref().is_ok_and(&check) {
            return Ok(start.elapsed());
        }
        if start.elapsed() > WAIT {
            bail!("waited {WAIT:?} for {what}; last answer: {current:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
