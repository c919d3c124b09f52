//! The `broker --tls --sasl` benchmark (issue 11): one `tidemark broker` with a PLAINTEXT and a SASL_SSL listener
//! (TLS with a certificate generated for the run, SASL with SCRAM-SHA-512), librdkafka producing 1 KiB records at
//! `acks=all` and then consuming them, over each listener in turn, so that every SASL_SSL figure is a ratio to the
//! PLAINTEXT one measured against the same broker in the same run. [`crate::secure_report`] prints the figures.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rdkafka::admin::TopicReplication;
use tidemark_tests::tls::Certificates;

use crate::admin;
use crate::broker::{self, Broker};
use crate::consume::{self, Consumed, Mode};
use crate::produce::{self, Throughput};
use crate::run::{measured, progress, Cost, WorkDir, BIG};
use crate::settings::env_size;

/// The user the SASL_SSL clients authenticate as, created with `--initial-user`.
pub const USER: &str = "bench";
/// Its password, for a broker that lives as long as the run.
const PASSWORD: &str = "tidemark-bench-password";
/// The environment variable that gives `--initial-user` its password.
const PASSWORD_VAR: &str = "TIDEMARK_INITIAL_USER_PASSWORD";
/// The SASL mechanism of the SASL_SSL clients.
pub const MECHANISM: &str = "SCRAM-SHA-512";

/// What the benchmark runs; every field comes from a `BENCH_*` environment variable.
#[derive(Debug, Clone)]
pub struct SecureSettings {
    /// `BENCH_SECURE_BYTES`: payload of each run's 1 KiB records. Default 1 GiB.
    pub bytes: u64,
    /// `BENCH_SECURE_ROUNDS`: rounds of one PLAINTEXT and one SASL_SSL run each. Default 4.
    pub rounds: u64,
    /// `BENCH_DIR`: where the broker's data and the certificates go. Default: the system temporary directory.
    pub dir: PathBuf,
}

impl SecureSettings {
    /// Reads the settings from the environment.
    pub fn from_env() -> Result<Self> {
        Ok(Self {
            bytes: env_size("BENCH_SECURE_BYTES", 1 << 30)?,
            rounds: env_size("BENCH_SECURE_ROUNDS", 4)?,
            dir: std::env::var_os("BENCH_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir),
        })
    }

    /// 1 KiB records of each run.
    pub fn records(&self) -> u64 {
        (self.bytes / BIG as u64).max(1)
    }
}

/// The listener a run's clients use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// No TLS, no authentication: the reference.
    Plaintext,
    /// TLS and SASL (SCRAM-SHA-512).
    SaslSsl,
}

impl Listener {
    /// The listener's security protocol, as the broker's log and librdkafka's `security.protocol` name it.
    pub fn protocol(self) -> &'static str {
        match self {
            Listener::Plaintext => "PLAINTEXT",
            Listener::SaslSsl => "SASL_SSL",
        }
    }
}

/// One run: a fresh topic produced to and then read once, over one listener.
pub struct Run {
    /// The round it belongs to, from 1.
    pub round: u64,
    /// The listener its clients used.
    pub listener: Listener,
    /// Producing the records and its cost.
    pub produce: (Throughput, Cost),
    /// Reading them back and its cost.
    pub consume: (Consumed, Cost),
}

/// Everything the benchmark measured.
pub struct SecureRuns {
    /// The runs in the order they ran.
    pub runs: Vec<Run>,
    /// Peak RSS of the broker at the end, KiB.
    pub broker_hwm_kib: u64,
    /// The broker's WARN/ERROR line count and the first few of those lines.
    pub problems: (u64, Vec<String>),
}

/// The order of the runs of round `round` (from 1): PLAINTEXT first in odd rounds, SASL_SSL first in even ones
/// (PLAINTEXT, SASL_SSL, SASL_SSL, PLAINTEXT, ...), so that a drift of the machine during the run weighs on both
/// sides alike.
pub fn round_order(round: u64) -> [Listener; 2] {
    if round % 2 == 1 {
        [Listener::Plaintext, Listener::SaslSsl]
    } else {
        [Listener::SaslSsl, Listener::Plaintext]
    }
}

/// Runs the benchmark and prints the report to stdout (progress goes to stderr).
pub fn run(settings: &SecureSettings, binary: &Path) -> Result<()> {
    let ticks = broker::clock_ticks();
    let work = WorkDir(settings.dir.join(format!("tidemark-bench-secure-{}", std::process::id())));
    std::fs::create_dir_all(&work.0).with_context(|| format!("creating {}", work.0.display()))?;
    let certs = Certificates::generate(&work.0, "bench", "bench-client").context("generating the certificates")?;

    let mut args = certs.server_flags();
    args.extend(["--kafka-listen", "SASL_SSL://127.0.0.1:0", "--initial-user", USER].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let protocols = [Listener::Plaintext.protocol(), Listener::SaslSsl.protocol()];
    let data = work.0.join("broker-data");
    let mut broker = Broker::start_listeners(binary, &data, &args, &[(PASSWORD_VAR, PASSWORD)], &protocols)?;
    let plaintext = broker.kafka_listener(Listener::Plaintext.protocol()).context("no PLAINTEXT listener")?.to_owned();
    let secured = broker.kafka_listener(Listener::SaslSsl.protocol()).context("no SASL_SSL listener")?.to_owned();
    progress(&format!("broker: pid {} listening on PLAINTEXT {plaintext} and SASL_SSL {secured}", broker.pid()));

    let ca = certs.ca.to_string_lossy().into_owned();
    let secure_config = [
        ("security.protocol", Listener::SaslSsl.protocol()),
        ("sasl.mechanisms", MECHANISM),
        ("sasl.username", USER),
        ("sasl.password", PASSWORD),
        ("ssl.ca.location", ca.as_str()),
    ];
    let measure = |round: u64, listener: Listener| -> Result<Run> {
        let (bootstrap, extra) = match listener {
            Listener::Plaintext => (plaintext.as_str(), &[][..]),
            Listener::SaslSsl => (secured.as_str(), &secure_config[..]),
        };
        let protocol = listener.protocol();
        let topic = format!("bench-secure-{round}-{}", protocol.to_ascii_lowercase().replace('_', "-"));
        // Created on the PLAINTEXT listener for both runs, so that both topics have the same settings.
        admin::create_topic(&plaintext, &topic, 1, TopicReplication::Fixed(1))?;
        let records = settings.records();
        let pid = Some(broker.pid());
        progress(&format!("round {round}, {protocol}: producing {records} records of {BIG} B to {topic}"));
        let produce = measured(ticks, pid, || produce::throughput_with(bootstrap, extra, &topic, BIG, records))?;
        progress(&format!("round {round}, {protocol}: consuming them"));
        let consume = measured(ticks, pid, || consume::consume_with(bootstrap, extra, &topic, records, Mode::Once))?;
        Ok(Run { round, listener, produce, consume })
    };
    let mut runs = Vec::new();
    let mut failure = None;
    'rounds: for round in 1..=settings.rounds {
        for listener in round_order(round) {
            match measure(round, listener) {
                Ok(run) => runs.push(run),
                Err(e) => {
                    failure = Some(e);
                    break 'rounds;
                }
            }
        }
    }
    broker.check_alive()?;
    if let Some(e) = failure {
        return Err(e.context(format!("broker log:\n{}", broker.log_tail())));
    }
    let broker_hwm_kib = broker::sample(Some(broker.pid()), ticks)?.hwm_kib;
    let problems = broker.problems();
    drop(broker);

    crate::secure_report::print(settings, binary, &work.0, &SecureRuns { runs, broker_hwm_kib, problems });
    Ok(())
}
