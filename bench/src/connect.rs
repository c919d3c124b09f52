//! The `connect` benchmark: records per second through `tidemark up`'s connect worker, datagen → Avro (the bundled
//! registry) → broker → consumer group → Avro → file sink, as a ratio to librdkafka producing and then consuming
//! records of the same size against the same broker in the same run. Runs the source and the sink alone too, to
//! show which side limits. [`crate::connect_report`] prints the figures.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::broker::{self, Broker, CONNECT_READY};
use crate::connect_api::ConnectApi;
use crate::connect_pipeline::{self, PipelineRun, Sink, Source};
use crate::connect_ref::{self, RecordSizes, Reference};
use crate::produce;
use crate::run::{measured, progress, Cost, WorkDir};
use crate::settings::env_size;

/// The topic of the end-to-end run (and of the sink-alone run, which reads it again).
const TOPIC: &str = "bench-orders";
/// The topic of the source-alone run.
const TOPIC_SOURCE_ONLY: &str = "bench-orders-source-only";
/// The topic of the librdkafka reference.
const TOPIC_REFERENCE: &str = "bench-connect-ref";

/// What the `connect` benchmark runs; every field comes from a `BENCH_*` environment variable.
#[derive(Debug, Clone)]
pub struct ConnectSettings {
    /// `BENCH_CONNECT_RECORDS`: records datagen generates (`iterations`), and the reference produces. Default 500,000.
    pub records: u64,
    /// `BENCH_CONNECT_BATCH`: datagen's `batch.size` (records per poll). Default 1,000.
    pub batch: u64,
    /// `BENCH_CONNECT_MAX_POLL`: the sink's `consumer.override.max.poll.records`. Default 2,000.
    pub max_poll_records: u64,
    /// `BENCH_CONNECT_FLUSH_MS`: the sink's `offset.flush.interval.ms`. Default 1,000.
    pub flush_ms: u64,
    /// `BENCH_DIR`: where `tidemark up`'s data and the sink's files go. Default: the system temporary directory.
    pub dir: PathBuf,
}

impl ConnectSettings {
    /// Reads the settings from the environment.
    pub fn from_env() -> Result<Self> {
        Ok(Self {
            records: env_size("BENCH_CONNECT_RECORDS", 500_000)?,
            batch: env_size("BENCH_CONNECT_BATCH", 1_000)?,
            max_poll_records: env_size("BENCH_CONNECT_MAX_POLL", 2_000)?,
            flush_ms: env_size("BENCH_CONNECT_FLUSH_MS", 1_000)?,
            dir: std::env::var_os("BENCH_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir),
        })
    }
}

/// Everything the `connect` benchmark measured.
pub struct ConnectRuns {
    /// Source and sink together: the figure.
    pub end_to_end: (PipelineRun, Cost),
    /// The datagen records as stored.
    pub sizes: RecordSizes,
    /// The source alone, into a fresh topic.
    pub source_only: (PipelineRun, Cost),
    /// The sink alone, reading the end-to-end run's topic again under a new group.
    pub sink_only: (PipelineRun, Cost),
    /// librdkafka produce, then consume.
    pub reference: (Reference, Cost),
}

/// Runs the `connect` benchmark and prints the report to stdout (progress goes to stderr).
pub fn run(settings: &ConnectSettings, binary: &Path) -> Result<()> {
    let ticks = broker::clock_ticks();
    let work = WorkDir(settings.dir.join(format!("tidemark-bench-connect-{}", std::process::id())));
    std::fs::create_dir_all(&work.0).with_context(|| format!("creating {}", work.0.display()))?;
    // A sink's group forms as soon as its member joins, as in the other benchmarks (Kafka's default waits 3 s).
    let mut up = Broker::start_up(binary, &work.0.join("data"), &["--group-initial-rebalance-delay-ms", "0"])?;
    let api = ConnectApi::new(up.listener(CONNECT_READY).context("no connect listener")?)?;
    progress(&format!("tidemark up: pid {}, Kafka listener {}", up.pid(), up.bootstrap));
    let runs = measure(settings, &work.0, &up, &api, ticks);
    up.check_alive()?;
    let runs = runs?;
    let final_sample = broker::sample(Some(up.pid()), ticks)?;
    let problems = up.problems();
    drop(up);
    crate::connect_report::print(settings, binary, &work.0, &runs, final_sample, problems);
    Ok(())
}

/// The runs, in order: end to end, the record sizes, the source alone, the sink alone, the reference.
fn measure(settings: &ConnectSettings, work: &Path, up: &Broker, api: &ConnectApi, ticks: f64) -> Result<ConnectRuns> {
    let records = settings.records;
    let pid = Some(up.pid());
    // The topics exist before the clock starts (auto-created by a metadata request, one partition).
    let creator = produce::producer(&up.bootstrap, false)?;
    for topic in [TOPIC, TOPIC_SOURCE_ONLY] {
        produce::wait_for_topic(&creator, topic)?;
    }
    drop(creator);
    let source = |name: &str, topic: &str| Source {
        name: name.to_owned(),
        topic: topic.to_owned(),
        records,
        batch: settings.batch,
    };
    let sink = |name: &str, file: &str| Sink {
        name: name.to_owned(),
        topic: TOPIC.to_owned(),
        file: work.join(file),
        max_poll_records: settings.max_poll_records,
        flush_ms: settings.flush_ms,
    };

    progress(&format!("end to end: datagen -> {TOPIC} -> file sink, {records} records"));
    let (source_e2e, sink_e2e) = (source("bench-source", TOPIC), sink("bench-sink", "out.jsonl"));
    let end_to_end = measured(ticks, pid, || connect_pipeline::run(api, Some(&source_e2e), Some(&sink_e2e), records))?;
    progress("reading the datagen records back to measure their size");
    let sizes = connect_ref::read_partition(&up.bootstrap, TOPIC, records)?.sizes;
    progress(&format!("source alone: datagen -> {TOPIC_SOURCE_ONLY}, {records} records"));
    let source_alone = source("bench-source-only", TOPIC_SOURCE_ONLY);
    let source_only = measured(ticks, pid, || connect_pipeline::run(api, Some(&source_alone), None, records))?;
    progress(&format!("sink alone: {TOPIC} (already full) -> file sink, {records} records"));
    let sink_alone = sink("bench-sink-only", "out-sink-only.jsonl");
    let sink_only = measured(ticks, pid, || connect_pipeline::run(api, None, Some(&sink_alone), records))?;
    let (key_size, value_size) = (sizes.mean_key().round() as usize, sizes.mean_value().round() as usize);
    progress(&format!("reference: librdkafka produce then consume, {records} records of {key_size} + {value_size} B"));
    let reference =
        measured(ticks, pid, || connect_ref::run(&up.bootstrap, TOPIC_REFERENCE, records, key_size, value_size))?;
    Ok(ConnectRuns { end_to_end, sizes, source_only, sink_only, reference })
}
