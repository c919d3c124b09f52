//! Compaction rewrite rate. A partition log of keyed 1 KiB updates (ten per key on average, so about a tenth
//! survives) is written in process with Tidemark's storage, then one cleaner pass over its rolled segments is
//! timed: the rate is segment bytes cleaned per second of the whole pass (planning, mapping keys, rewriting,
//! syncing and swapping). The reference is a plain sequential copy of the same segment files in the same
//! directory: 1 MiB reads and writes and an fdatasync per file, as the cleaner syncs what it writes. It runs once
//! right before and once right after the pass; the reference rate is their mean. Both read segment files that
//! were just written, so both read from the page cache.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::{Bytes, BytesMut};
use kafka_protocol::records::Compression;
use tidemark_broker::now_ms;
use tidemark_broker::storage::compaction::{self, CleanerConfig, PassStats};
use tidemark_broker::storage::encode::{encode_batch, NewRecord, ProducerStamp};
use tidemark_broker::storage::{LogActivity, PartitionLog, TopicConfig};
use tokio::runtime::Runtime;

use crate::groups::{Figure, Section};
use crate::report::{thousands, verdict};
use crate::settings::env_size;

/// Goal: compaction MB/s ÷ plain copy MB/s.
const GOAL_VS_COPY: f64 = 0.3;
/// Value size of every record.
const VALUE_BYTES: usize = 1024;
/// Records per produced batch (about 66 KB, a batch librdkafka builds under load).
const BATCH_RECORDS: u64 = 64;
/// Largest `segment.bytes` of a benchmark log; smaller logs get a sixteenth of their size, so that most of a log
/// is in rolled segments whatever its size.
const MAX_SEGMENT_BYTES: u64 = 64 << 20;
/// Reads and writes of the copy reference.
const COPY_CHUNK: usize = 1 << 20;

/// What the compaction benchmark runs; read from `BENCH_*` environment variables.
#[derive(Debug, Clone)]
pub struct CompactionSettings {
    /// `BENCH_COMPACTION_BYTES`: record payload of the main log (default 1 GiB); the other logs get a quarter.
    pub bytes: u64,
    /// `BENCH_DIR`: where the logs and copies go (default: the system temporary directory).
    pub dir: PathBuf,
}

impl CompactionSettings {
    /// Reads the settings from the environment.
    pub fn from_env() -> Result<Self> {
        Ok(CompactionSettings {
            bytes: env_size("BENCH_COMPACTION_BYTES", 1 << 30)?,
            dir: std::env::var_os("BENCH_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir),
        })
    }
}

/// A log to write and compact.
#[derive(Debug, Clone, Copy)]
struct Workload {
    /// Directory name and label in the report.
    name: &'static str,
    codec: Compression,
    records: u64,
    /// Updates per key on average: a pass keeps about one record in this many.
    updates_per_key: u64,
}

impl Workload {
    fn keys(&self) -> u64 {
        (self.records / self.updates_per_key).max(1)
    }

    fn segment_bytes(&self) -> u64 {
        (self.records * VALUE_BYTES as u64 / 16).clamp(1 << 20, MAX_SEGMENT_BYTES)
    }

    fn topic_config(&self) -> Result<TopicConfig> {
        let overrides = [("cleanup.policy", "compact".to_owned()), ("segment.bytes", self.segment_bytes().to_string())]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        Ok(TopicConfig::from_overrides(&overrides)?)
    }
}

/// A timed copy of segment files.
#[derive(Debug, Clone, Copy)]
struct CopyRun {
    bytes: u64,
    elapsed: Duration,
}

impl CopyRun {
    fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64()
    }
}

/// One log written and compacted.
#[derive(Debug, Clone)]
struct CompactionRun {
    workload: Workload,
    write_elapsed: Duration,
    pass: PassStats,
}

impl CompactionRun {
    fn mb_per_s(&self) -> f64 {
        self.pass.bytes_in as f64 / 1e6 / self.pass.elapsed.as_secs_f64()
    }
}

/// A log written, its rolled segment files, and how long writing took.
struct Written {
    log: Arc<PartitionLog>,
    segment_files: Vec<PathBuf>,
    elapsed: Duration,
}

/// Runs the compaction benchmark in `work`: returns its figures and its section of the report.
pub fn run(settings: &CompactionSettings, work: &Path) -> Result<(Vec<Figure>, Section)> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let records = (settings.bytes / VALUE_BYTES as u64).max(BATCH_RECORDS);
    let main = Workload { name: "tenth-survives", codec: Compression::None, records, updates_per_key: 10 };
    let others = [
        Workload { name: "half-survives", records: (records / 4).max(BATCH_RECORDS), updates_per_key: 2, ..main },
        Workload { name: "lz4", codec: Compression::Lz4, records: (records / 4).max(BATCH_RECORDS), ..main },
    ];

    let written = write_log(&runtime, &work.join(main.name), main)?;
    progress("copying the segment files (reference, before)");
    let before = copy_files(&written.segment_files, &work.join("copy-before"))?;
    let main_run = compact(&written, main)?;
    progress("copying the segment files again (reference, after)");
    let copies: Vec<PathBuf> = written
        .segment_files
        .iter()
        .filter_map(|f| f.file_name())
        .map(|name| work.join("copy-before").join(name))
        .collect();
    let after = copy_files(&copies, &work.join("copy-after"))?;
    let mut runs = vec![main_run];
    for workload in others {
        let written = write_log(&runtime, &work.join(workload.name), workload)?;
        runs.push(compact(&written, workload)?);
    }
    Ok(report(&runs, before, after))
}

fn progress(what: &str) {
    eprintln!("bench: {what}");
}

/// Writes the workload's log in `dir`, durably.
fn write_log(runtime: &Runtime, dir: &Path, workload: Workload) -> Result<Written> {
    progress(&format!("writing {} records of {VALUE_BYTES} B to {}", workload.records, dir.display()));
    let config = workload.topic_config()?;
    let started = Instant::now();
    let log = runtime.block_on(async {
        let log = PartitionLog::open(dir, LogActivity::default(), now_ms())?;
        let mut random = XorShift(0x2545_f491_4f6c_dd1d);
        let mut end = 0;
        for first in (0..workload.records).step_by(BATCH_RECORDS as usize) {
            let count = BATCH_RECORDS.min(workload.records - first);
            let batch = random_batch(&mut random, count, workload.keys(), workload.codec)?;
            end = log.append(batch, &config, now_ms())?.last_offset + 1;
        }
        log.wait_durable(end).await?;
        anyhow::Ok(log)
    })?;
    let elapsed = started.elapsed();
    Ok(Written { log, segment_files: rolled_segment_files(dir)?, elapsed })
}

/// A producer's batch of `count` updates to random keys among `keys`, with random (incompressible) values.
fn random_batch(random: &mut XorShift, count: u64, keys: u64, codec: Compression) -> Result<BytesMut> {
    let timestamp = now_ms();
    let records: Vec<NewRecord> = (0..count)
        .map(|_| {
            let key = Bytes::from(format!("key-{:010}", random.next() % keys));
            (timestamp, Some(key), Some(random.bytes(VALUE_BYTES)))
        })
        .collect();
    Ok(encode_batch(records, ProducerStamp::NONE, codec)?)
}

/// The log files of the rolled segments (every one but the active, last one).
fn rolled_segment_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut logs: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    logs.sort();
    logs.pop();
    Ok(logs)
}

/// Copies `files` into `to` in 1 MiB reads and writes, syncing each copy and the directory.
fn copy_files(files: &[PathBuf], to: &Path) -> Result<CopyRun> {
    std::fs::create_dir_all(to)?;
    let mut buffer = vec![0u8; COPY_CHUNK];
    let mut bytes = 0u64;
    let start = Instant::now();
    for path in files {
        let name = path.file_name().context("a segment file has a name")?;
        let mut input = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let mut output = File::create(to.join(name))?;
        loop {
            let n = input.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            output.write_all(&buffer[..n])?;
            bytes += n as u64;
        }
        output.sync_data()?;
    }
    File::open(to)?.sync_all()?;
    Ok(CopyRun { bytes, elapsed: start.elapsed() })
}

/// Runs one cleaner pass over a written log.
fn compact(written: &Written, workload: Workload) -> Result<CompactionRun> {
    progress(&format!("cleaning the {} log", workload.name));
    let config = workload.topic_config()?;
    let pass = compaction::clean(&written.log, &config, &CleanerConfig::default(), now_ms(), &|| false)?
        .context("the cleaner found nothing to clean")?;
    if pass.segments_in != written.segment_files.len() {
        bail!("the pass read {} segments of {}", pass.segments_in, written.segment_files.len());
    }
    Ok(CompactionRun { workload, write_elapsed: written.elapsed, pass })
}

fn report(runs: &[CompactionRun], before: CopyRun, after: CopyRun) -> (Vec<Figure>, Section) {
    let copy = (before.mb_per_s() + after.mb_per_s()) / 2.0;
    let ratio = |run: &CompactionRun| run.mb_per_s() / copy;
    let mut figures = Vec::new();
    if let Some((main, others)) = runs.split_first() {
        figures.push(Figure {
            verdict: verdict(ratio(main), GOAL_VS_COPY),
            text: format!(
                "compaction rewrite rate ({}): {:.1} MB/s = {:.2}x a plain sequential copy of the same segment \
                 files ({copy:.1} MB/s); goal >= {GOAL_VS_COPY}x",
                describe(&main.workload),
                main.mb_per_s(),
                ratio(main),
            ),
        });
        figures.extend(others.iter().map(|run| Figure {
            verdict: "INFO",
            text: format!(
                "compaction rewrite rate ({}): {:.1} MB/s = {:.2}x the same copy rate",
                describe(&run.workload),
                run.mb_per_s(),
                ratio(run),
            ),
        }));
    }
    let mut lines = vec![
        format!(
            "workloads: 1 partition, batches of {BATCH_RECORDS} records of {VALUE_BYTES} B random values under \
             keys drawn uniformly; one cleaner pass over every rolled segment, timed from the start of planning \
             to the last swap; MB/s = segment bytes read by the pass per second"
        ),
        format!(
            "copy reference: the {:.1} MB of segment files of the first log, 1 MiB reads and writes, fdatasync per \
             file: {copy:.1} MB/s = mean of {:.1} MB/s right before and {:.1} MB/s right after its pass",
            before.bytes as f64 / 1e6,
            before.mb_per_s(),
            after.mb_per_s(),
        ),
    ];
    lines.extend(runs.iter().map(|run| {
        format!(
            "{}: {} records over {} keys, segment.bytes {:.0} MiB, written in {:.2} s; pass: {} segments \
             ({:.1} MB) in {:.2} s -> {} segments ({:.1} MB), {} records removed",
            run.workload.name,
            thousands(run.workload.records as f64),
            thousands(run.workload.keys() as f64),
            run.workload.segment_bytes() as f64 / f64::from(1 << 20),
            run.write_elapsed.as_secs_f64(),
            run.pass.segments_in,
            run.pass.bytes_in as f64 / 1e6,
            run.pass.elapsed.as_secs_f64(),
            run.pass.segments_out,
            run.pass.bytes_out as f64 / 1e6,
            thousands(run.pass.records_removed as f64),
        )
    }));
    (figures, Section { title: "compaction".to_owned(), lines })
}

/// The workload in a few words.
fn describe(workload: &Workload) -> String {
    let codec = match workload.codec {
        Compression::None => "uncompressed",
        _ => "lz4 batches, decompressed and recompressed",
    };
    format!("{codec}, about 1 record in {} survives", workload.updates_per_key)
}

/// A xorshift64 generator: fast, deterministic, good enough for keys and incompressible values.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, len: usize) -> Bytes {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(len);
        Bytes::from(out)
    }
}
