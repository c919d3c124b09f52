//! Printing the `broker --tls --sasl` benchmark's figures (SASL_SSL as ratios to PLAINTEXT), its runs and
//! diagnostics.

use std::path::Path;

use crate::report::{thousands, verdict};
use crate::run::BIG;
use crate::secure::{Listener, Run, SecureRuns, SecureSettings, MECHANISM, USER};

/// Goal: SASL_SSL records/s ÷ PLAINTEXT records/s, producing and consuming alike.
const GOAL_VS_PLAINTEXT: f64 = 0.7;
/// WARN/ERROR lines of the broker printed.
const SHOWN_PROBLEMS: usize = 10;

/// One listener's runs summed.
#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    /// Records produced (and consumed: every run reads back what it wrote).
    records: u64,
    /// Their payload bytes.
    bytes: u64,
    /// Producing: first send to last delivery report, seconds.
    produce_secs: f64,
    /// Consuming: first record to last record, seconds.
    consume_secs: f64,
    /// Broker CPU seconds while producing, and while consuming.
    produce_broker_cpu: f64,
    consume_broker_cpu: f64,
    /// This process's (the client's) CPU seconds while producing, and while consuming.
    produce_client_cpu: f64,
    consume_client_cpu: f64,
}

impl Totals {
    /// The runs over `listener`, summed.
    fn of(runs: &[Run], listener: Listener) -> Self {
        let mut totals = Totals::default();
        for run in runs.iter().filter(|r| r.listener == listener) {
            let ((produced, produce_cost), (consumed, consume_cost)) = (&run.produce, &run.consume);
            totals.records += produced.records;
            totals.bytes += produced.bytes;
            totals.produce_secs += produced.elapsed.as_secs_f64();
            totals.consume_secs += consumed.streaming.as_secs_f64();
            totals.produce_broker_cpu += produce_cost.broker_cpu_secs().unwrap_or(0.0);
            totals.consume_broker_cpu += consume_cost.broker_cpu_secs().unwrap_or(0.0);
            totals.produce_client_cpu += produce_cost.bench_cpu_secs();
            totals.consume_client_cpu += consume_cost.bench_cpu_secs();
        }
        totals
    }

    /// Records per second producing.
    fn produce_rate(&self) -> f64 {
        self.records as f64 / self.produce_secs
    }

    /// Records per second consuming.
    fn consume_rate(&self) -> f64 {
        self.records as f64 / self.consume_secs
    }

    /// `cpu` seconds per GB (10^9 bytes) of payload.
    fn per_gb(&self, cpu: f64) -> f64 {
        cpu / (self.bytes as f64 / 1e9)
    }
}

/// `X records/s (Y MB/s)` of 1 KiB records.
fn rate(records_per_s: f64) -> String {
    format!("{} records/s ({:.1} MB/s)", thousands(records_per_s), records_per_s * BIG as f64 / 1e6)
}

/// A figure's line: `what` over SASL_SSL at `secure` records/s as a ratio to PLAINTEXT's `plain`, against the goal.
fn figure(what: &str, secure: f64, plain: f64) -> String {
    let ratio = secure / plain;
    format!(
        "  [{}] {what} over SASL_SSL: {} = {ratio:.2}x PLAINTEXT ({}); goal >= {GOAL_VS_PLAINTEXT}x",
        verdict(ratio, GOAL_VS_PLAINTEXT),
        rate(secure),
        rate(plain),
    )
}

/// `broker CPU X s, client CPU Y s` of a phase, and the broker's share of one core.
fn cpu(cost: &crate::run::Cost, secs: f64) -> String {
    let broker = cost.broker_cpu_secs().unwrap_or(0.0);
    format!(
        "broker CPU {broker:.2} s ({:.0}% of one core), client CPU {:.2} s",
        100.0 * broker / secs.max(f64::EPSILON),
        cost.bench_cpu_secs()
    )
}

/// SASL_SSL's figure ÷ PLAINTEXT's for each round that has both.
fn round_ratios(runs: &[Run], figure: impl Fn(&Run) -> f64) -> Vec<(u64, f64)> {
    let of = |round: u64, listener: Listener| runs.iter().find(|r| r.round == round && r.listener == listener);
    let rounds = runs.iter().map(|r| r.round).max().unwrap_or(0);
    (1..=rounds)
        .filter_map(|round| {
            Some((round, figure(of(round, Listener::SaslSsl)?) / figure(of(round, Listener::Plaintext)?)))
        })
        .collect()
}

/// Prints the report.
pub fn print(settings: &SecureSettings, binary: &Path, work: &Path, measured: &SecureRuns) {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let (_, librdkafka) = rdkafka::util::get_rdkafka_version();
    let runs = &measured.runs;
    let (plain, secure) = (Totals::of(runs, Listener::Plaintext), Totals::of(runs, Listener::SaslSsl));
    let order: Vec<&str> = runs.iter().map(|r| r.listener.protocol()).collect();

    println!("== Tidemark security benchmark: SASL_SSL against PLAINTEXT ==");
    println!("machine: {cpus} CPUs; librdkafka {librdkafka}; broker {}", binary.display());
    println!("data dir: {} (broker data and the run's certificates)", work.display());
    println!(
        "setup: one `tidemark broker` with a PLAINTEXT and a SASL_SSL listener on loopback (TLS: the broker's rustls, a \
         certificate for localhost/127.0.0.1 signed by a CA generated for the run; SASL: {MECHANISM} as the user \
         `{USER}` of --initial-user); each run: a new topic of 1 partition (created through the AdminClient on the \
         PLAINTEXT listener, so both sides' topics have the same settings), {} records of 1 KiB produced (acks=all, \
         linger.ms=5, compression none, enable.idempotence=false, other librdkafka settings default) and then read \
         once from offset 0 by a consumer assigned to the partition; the SASL_SSL clients differ only in \
         security.protocol, sasl.mechanisms, sasl.username, sasl.password and ssl.ca.location; runs in the order {}; \
         MB = 10^6 bytes of record payload",
        thousands(settings.records() as f64),
        order.join(", "),
    );
    println!();
    println!(
        "figures (SASL_SSL as a ratio to PLAINTEXT against the same broker in this run; each side: its runs' records \
         over their summed times)"
    );
    println!("{}", figure("produce 1 KiB records (acks=all)", secure.produce_rate(), plain.produce_rate()));
    println!("{}", figure("consume 1 KiB records", secure.consume_rate(), plain.consume_rate()));
    println!(
        "  [INFO] CPU seconds per GB of payload, SASL_SSL vs PLAINTEXT: producing: broker {:.2} vs {:.2}, client {:.2} \
         vs {:.2}; consuming: broker {:.2} vs {:.2}, client {:.2} vs {:.2}; no goal set in the issue",
        secure.per_gb(secure.produce_broker_cpu),
        plain.per_gb(plain.produce_broker_cpu),
        secure.per_gb(secure.produce_client_cpu),
        plain.per_gb(plain.produce_client_cpu),
        secure.per_gb(secure.consume_broker_cpu),
        plain.per_gb(plain.consume_broker_cpu),
        secure.per_gb(secure.consume_client_cpu),
        plain.per_gb(plain.consume_client_cpu),
    );
    println!(
        "  [INFO] broker peak RSS (VmHWM): {:.1} MiB after {:.2} GB of payload in and out; no goal set in the issue",
        measured.broker_hwm_kib as f64 / 1024.0,
        2.0 * (plain.bytes + secure.bytes) as f64 / 1e9,
    );
    println!();
    println!("runs (in the order they ran; consume rates from the first record to the last)");
    for run in runs {
        let ((produced, produce_cost), (consumed, consume_cost)) = (&run.produce, &run.consume);
        let (produce_secs, consume_secs) = (produced.elapsed.as_secs_f64(), consumed.streaming.as_secs_f64());
        println!(
            "  round {} {}: produce {} x 1 KiB: {} in {produce_secs:.2} s, {}; consume: {} in {consume_secs:.2} s, {}",
            run.round,
            run.listener.protocol(),
            thousands(produced.records as f64),
            rate(produced.records_per_s()),
            cpu(produce_cost, produce_secs),
            rate(consumed.records_per_s()),
            cpu(consume_cost, consume_secs),
        );
    }
    let per_round = |figure: &dyn Fn(&Run) -> f64| -> String {
        let ratios = round_ratios(runs, figure);
        ratios.iter().map(|(round, r)| format!("round {round} {r:.2}x")).collect::<Vec<_>>().join(", ")
    };
    println!("  SASL_SSL ÷ PLAINTEXT per round: produce {}", per_round(&|r| r.produce.0.records_per_s()));
    println!("                                  consume {}", per_round(&|r| r.consume.0.records_per_s()));
    println!();
    println!("diagnostics");
    for run in runs {
        let name = format!("round {} {}", run.round, run.listener.protocol());
        let ((produced, produce_cost), (consumed, consume_cost)) = (&run.produce, &run.consume);
        println!("  {name} produce: {}", produce_cost.describe(produced.bytes));
        println!("    client: {}", produced.stats.describe());
        println!("  {name} consume: {}", consume_cost.describe(consumed.bytes));
        println!("    client: {}", consumed.stats.describe());
    }
    let (count, first) = &measured.problems;
    println!("  broker log: {count} WARN/ERROR lines");
    for line in first.iter().take(SHOWN_PROBLEMS) {
        println!("    {line}");
    }
}
