//! Printing the `cluster` benchmark's figures, its runs, the failover trials and diagnostics.

use std::path::Path;
use std::time::Duration;

use crate::cdc_latency::Percentiles;
use crate::cdc_report::percentiles;
use crate::cluster::{ClusterRuns, ClusterSettings, TargetRuns};
use crate::cluster_failover::{Failover, Trial, AFTER_KILL_MAX, DELIVERING_FOR, RATE, SIZE};
use crate::cluster_nodes::Problems;
use crate::latency::Latency;
use crate::report::{thousands, verdict};
use crate::run::BIG;

/// Goal: cluster (replication factor 3) records/s ÷ single-node records/s.
const GOAL_VS_SINGLE: f64 = 0.5;
/// Goal: every failover faster than this.
const GOAL_FAILOVER: Duration = Duration::from_secs(3);
/// WARN/ERROR lines printed per node.
const SHOWN_PROBLEMS: usize = 5;

/// Whole milliseconds, or `none` when the moment never came.
fn millis(d: Option<Duration>) -> String {
    d.map_or("none".to_owned(), |d| format!("{} ms", thousands(d.as_secs_f64() * 1000.0)))
}

/// `p50 X, p99 Y, max Z` of a latency run.
fn latency_percentiles(l: &Latency) -> String {
    percentiles(&Percentiles { p50: l.p50, p99: l.p99, max: l.max })
}

/// The failover figure's verdict: every trial ran, and every one's failover time is under the goal.
fn failover_verdict(failover: &Failover) -> &'static str {
    let all_ran = !failover.trials.is_empty() && failover.aborted.is_none();
    if all_ran && failover.max().is_some_and(|max| max < GOAL_FAILOVER) {
        "PASS"
    } else {
        "MISS"
    }
}

/// One trial's line.
fn trial_line(number: usize, trial: &Trial) -> String {
    format!(
        "trial {number}: victim node {}: {}; sent {} records ({} after the kill), {}; another leader in the \
         survivors' metadata {} after the kill, node {} once flushed; the victim was back in the ISR {:.1} s after \
         its restart",
        trial.victim,
        millis(trial.failover),
        thousands(trial.sent as f64),
        thousands(trial.sent_after_kill as f64),
        trial.failure.as_deref().map_or("every one delivered".to_owned(), |f| format!("NOT ALL DELIVERED: {f}")),
        millis(trial.elected),
        trial.new_leader,
        trial.rejoined.as_secs_f64(),
    )
}

/// One target's runs.
fn print_target(name: &str, runs: &TargetRuns) {
    let (throughput, latency) = (&runs.throughput.0, &runs.latency.0);
    println!(
        "  {name}: produce {} x 1 KiB: {} records/s ({:.1} MB/s); latency at {:.0} records/s: {}",
        thousands(throughput.records as f64),
        thousands(throughput.records_per_s()),
        throughput.mb_per_s(),
        latency.achieved_rate,
        latency_percentiles(latency),
    );
}

/// A process's or a node's log problems.
fn print_problems(name: &str, (count, first): &Problems) {
    println!("  {name} log: {count} WARN/ERROR lines");
    for line in first.iter().take(SHOWN_PROBLEMS) {
        println!("    {line}");
    }
}

/// Prints the report.
pub fn print(settings: &ClusterSettings, binary: &Path, work: &Path, runs: &ClusterRuns) {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let (_, librdkafka) = rdkafka::util::get_rdkafka_version();
    let (single, cluster) = (&runs.single, &runs.cluster);
    let (failover, failover_cost) = &runs.failover;

    println!("== Tidemark cluster benchmark ==");
    println!("machine: {cpus} CPUs; librdkafka {librdkafka}; broker {}", binary.display());
    println!("data dir: {}", work.display());
    println!(
        "setup: single node: one `tidemark broker`; cluster: three `tidemark broker` processes on loopback, every \
         one a broker and a controller voter, with the default settings (no session, heartbeat or lag flags); \
         topics of 1 partition created through the AdminClient and used once every replica is in sync; producer \
         acks=all, linger.ms=5, compression none, enable.idempotence=false, other librdkafka settings default; \
         MB = 10^6 bytes of record payload"
    );
    println!();
    println!("figures (ratios to references measured in this run)");
    let (t_single, t_cluster) = (&single.throughput.0, &cluster.throughput.0);
    let ratio = t_cluster.records_per_s() / t_single.records_per_s();
    println!(
        "  [{}] produce 1 KiB records, replication factor 3: {} records/s = {ratio:.2}x single node ({} records/s); \
         goal >= {GOAL_VS_SINGLE}x",
        verdict(ratio, GOAL_VS_SINGLE),
        thousands(t_cluster.records_per_s()),
        thousands(t_single.records_per_s()),
    );
    let (l_single, l_cluster) = (&single.latency.0, &cluster.latency.0);
    println!(
        "  [INFO] latency at {} records/s, replication factor 3: p99 {:.2} ms = {:.2}x single node (p99 {:.2} ms); \
         no goal set in the issue",
        thousands(settings.latency_rate as f64),
        l_cluster.p99.as_secs_f64() * 1000.0,
        l_cluster.p99.as_secs_f64() / l_single.p99.as_secs_f64(),
        l_single.p99.as_secs_f64() * 1000.0,
    );
    let failed = failover.trials.iter().filter(|t| t.failure.is_some()).count();
    println!(
        "  [{}] failover, kill -9 of the leader to the first delivery of a record sent after the kill: median {}, \
         max {} over {} trials{}; {}; goal: every trial < {} ms with default settings",
        failover_verdict(failover),
        millis(failover.median()),
        millis(failover.max()),
        failover.trials.len(),
        failover.aborted.as_ref().map_or("", |_| " (trials stopped early, see below)"),
        if failed == 0 { "every record delivered".to_owned() } else { format!("{failed} trials LOST RECORDS") },
        GOAL_FAILOVER.as_millis(),
    );
    println!();
    println!("runs");
    print_target("single node (replication factor 1)", single);
    print_target("cluster (replication factor 3)", cluster);
    println!(
        "  failover: each trial creates a topic whose replicas are [victim, other, other], so that the victim leads \
         it; a producer that knows all three nodes sends {SIZE} B records at {RATE} records/s (acks=all); the \
         victim gets SIGKILL after 1 s and is restarted on its data once the producer has flushed; the producer \
         sends until {} s after the kill, or until records sent after it have been delivered for {} s; meanwhile a \
         thread polls the survivors' metadata every 100 ms for another leader",
        AFTER_KILL_MAX.as_secs(),
        DELIVERING_FOR.as_secs(),
    );
    for (number, trial) in failover.trials.iter().enumerate() {
        println!("    {}", trial_line(number + 1, trial));
    }
    if let Some(aborted) = &failover.aborted {
        println!("    stopped: {aborted}");
    }
    println!();
    println!("diagnostics (cluster phases: the three broker processes summed)");
    let rows = [
        ("single node produce", &single.throughput.1, t_single.bytes, t_single.stats.describe()),
        ("single node latency", &single.latency.1, l_single.records * BIG as u64, l_single.stats.describe()),
        ("cluster produce", &cluster.throughput.1, t_cluster.bytes, t_cluster.stats.describe()),
        ("cluster latency", &cluster.latency.1, l_cluster.records * BIG as u64, l_cluster.stats.describe()),
    ];
    for (name, cost, payload, client) in rows {
        println!("  {name}: {}", cost.describe(payload));
        println!("    client: {client}");
    }
    let failover_payload: u64 = failover.trials.iter().map(|t| t.sent * SIZE as u64).sum();
    println!("  failover (no broker figures: processes die and restart): {}", failover_cost.describe(failover_payload));
    print_problems("single node", &runs.single_problems);
    for (id, problems) in &runs.node_problems {
        print_problems(&format!("node {id} (killed processes included)"), problems);
    }
}
