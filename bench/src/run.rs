//! The `broker` benchmark: runs the references and the broker, then has [`crate::report`] print the figures.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rdkafka::mocking::MockCluster;

use crate::broker::{self, Broker, MachineSample, ProcSample};
use crate::consume::{self, Consumed, Mode};
use crate::disk::{self, DiskRun};
use crate::latency::{self, Latency};
use crate::produce::{self, Throughput};
use crate::settings::Settings;

/// Size of the large records.
pub const BIG: usize = 1024;
/// Size of the small records.
const SMALL: usize = 100;
/// The disk reference fdatasyncs after every this many bytes.
const DISK_SYNC_EVERY: u64 = 4 << 20;
/// Topic names, the same on the mock and on the broker.
const TOPIC_BIG: &str = "bench-1k";
const TOPIC_SMALL: &str = "bench-100b";
const TOPIC_LATENCY: &str = "bench-latency";

/// A scratch directory removed on drop.
pub struct WorkDir(pub PathBuf);

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The disk references.
pub struct DiskRefs {
    /// fdatasync every 4 MiB, right before the broker's 1 KiB run.
    pub before: DiskRun,
    /// fdatasync every 4 MiB, right after the broker's 1 KiB run.
    pub after: DiskRun,
    /// One fdatasync at the end (information only).
    pub once: DiskRun,
}

impl DiskRefs {
    /// The reference rate: the mean of the runs before and after the broker's.
    pub fn mb_per_s(&self) -> f64 {
        (self.before.mb_per_s() + self.after.mb_per_s()) / 2.0
    }
}

/// CPU and I/O of one phase.
#[derive(Debug, Clone)]
pub struct Cost {
    wall: Duration,
    /// Broker process, if it ran in this phase.
    broker: Option<(ProcSample, ProcSample)>,
    /// This process (the client, and for mock phases the mock cluster's threads).
    bench: (ProcSample, ProcSample),
    /// The whole machine.
    machine: (MachineSample, MachineSample),
}

impl Cost {
    /// CPU seconds (user + system) the broker processes used in the phase, if it measured any.
    pub fn broker_cpu_secs(&self) -> Option<f64> {
        self.broker.map(|(before, after)| after.cpu_secs - before.cpu_secs)
    }

    /// CPU seconds (user + system) this process (the client) used in the phase.
    pub fn bench_cpu_secs(&self) -> f64 {
        self.bench.1.cpu_secs - self.bench.0.cpu_secs
    }

    /// One diagnostics line; `payload` is the phase's payload bytes.
    pub fn describe(&self, payload: u64) -> String {
        let wall = self.wall.as_secs_f64();
        let cpu = |(a, b): (ProcSample, ProcSample)| b.cpu_secs - a.cpu_secs;
        let mut line = format!("{wall:.2} s wall");
        if let Some(samples) = self.broker {
            let (before, after) = samples;
            let written = after.write_bytes.saturating_sub(before.write_bytes);
            let read = after.read_bytes.saturating_sub(before.read_bytes);
            line += &format!(
                ", broker CPU {:.2} s ({:.0}% of one core, {:.0}% of it in the kernel), broker wrote {:.1} MB to storage ({:.2}x payload) and \
                 read {:.1} MB from it, broker RSS at end {:.1} MiB (peak so far {:.1} MiB)",
                cpu(samples),
                100.0 * cpu(samples) / wall,
                100.0 * (after.sys_secs - before.sys_secs) / cpu(samples).max(f64::EPSILON),
                written as f64 / 1e6,
                written as f64 / payload.max(1) as f64,
                read as f64 / 1e6,
                after.rss_kib as f64 / 1024.0,
                after.hwm_kib as f64 / 1024.0,
            );
        }
        let (m0, m1) = self.machine;
        let all = m1.total.saturating_sub(m0.total).max(1) as f64;
        line + &format!(
            ", bench process CPU {:.2} s; machine: {:.1}% steal, {:.1}% iowait",
            cpu(self.bench),
            100.0 * m1.steal.saturating_sub(m0.steal) as f64 / all,
            100.0 * m1.iowait.saturating_sub(m0.iowait) as f64 / all,
        )
    }
}

/// Runs `f`, recording wall time and CPU of this process and of the broker at `broker_pid`.
pub fn measured<T>(ticks: f64, broker_pid: Option<u32>, f: impl FnOnce() -> Result<T>) -> Result<(T, Cost)> {
    measured_brokers(ticks, broker_pid.as_slice(), f)
}

/// Runs `f`, recording wall time and CPU of this process and of the broker processes `pids`, summed (none: no
/// broker figures).
pub fn measured_brokers<T>(ticks: f64, pids: &[u32], f: impl FnOnce() -> Result<T>) -> Result<(T, Cost)> {
    let brokers = || -> Result<Option<ProcSample>> {
        let samples = pids.iter().map(|&pid| broker::sample(Some(pid), ticks)).collect::<Result<Vec<_>>>()?;
        Ok(samples.into_iter().reduce(|a, b| a + b))
    };
    let broker_before = brokers()?;
    let bench_before = broker::sample(None, ticks)?;
    let machine_before = broker::machine_sample()?;
    let start = Instant::now();
    let value = f()?;
    let wall = start.elapsed();
    let broker_after = brokers()?;
    let bench_after = broker::sample(None, ticks)?;
    let machine = (machine_before, broker::machine_sample()?);
    let broker = broker_before.zip(broker_after);
    Ok((value, Cost { wall, broker, bench: (bench_before, bench_after), machine }))
}

/// Prints a progress line to stderr.
pub fn progress(what: &str) {
    eprintln!("bench: {what}");
}

/// Everything measured against one target (the mock cluster or the broker).
pub struct TargetRuns {
    /// The 1 KiB produce run and its cost.
    pub big: (Throughput, Cost),
    /// The 100 B produce run and its cost.
    pub small: (Throughput, Cost),
    /// The consumer run and its cost.
    pub consume: (Consumed, Cost),
    /// The fixed-rate latency run and its cost.
    pub latency: (Latency, Cost),
}

/// What the client workloads run against.
#[derive(Debug, Clone, Copy)]
struct Target<'a> {
    /// `mock` or `broker`, for progress lines.
    name: &'a str,
    /// Its bootstrap servers.
    bootstrap: &'a str,
    /// The broker process to measure, if it is one.
    pid: Option<u32>,
    /// How to consume from it.
    consume_mode: Mode,
}

/// Runs the four client workloads against `bootstrap`, calling `after_big` after the 1 KiB produce run.
fn run_target(
    target: &Target<'_>,
    settings: &Settings,
    big_records: u64,
    ticks: f64,
    after_big: &mut dyn FnMut() -> Result<()>,
) -> Result<TargetRuns> {
    let Target { name, bootstrap, pid, consume_mode } = *target;
    progress(&format!("{name}: producing {big_records} records of {BIG} B"));
    let big = measured(ticks, pid, || produce::throughput(bootstrap, TOPIC_BIG, BIG, big_records))?;
    after_big()?;
    progress(&format!("{name}: producing {} records of {SMALL} B", settings.small_records));
    let small = measured(ticks, pid, || produce::throughput(bootstrap, TOPIC_SMALL, SMALL, settings.small_records))?;
    progress(&format!("{name}: consuming {big_records} records of {BIG} B"));
    let consume = measured(ticks, pid, || consume::consume(bootstrap, TOPIC_BIG, big_records, consume_mode))?;
    progress(&format!("{name}: latency at {} records/s for {} s", settings.latency_rate, settings.latency_secs));
    let latency = measured(ticks, pid, || {
        latency::fixed_rate(bootstrap, TOPIC_LATENCY, BIG, settings.latency_rate, settings.latency_secs)
    })?;
    Ok(TargetRuns { big, small, consume, latency })
}

/// Runs the broker benchmark and prints the report to stdout (progress goes to stderr).
pub fn run_broker_bench(settings: &Settings, binary: &Path) -> Result<()> {
    let ticks = broker::clock_ticks();
    let work = WorkDir(settings.dir.join(format!("tidemark-bench-{}", std::process::id())));
    std::fs::create_dir_all(&work.0).with_context(|| format!("creating {}", work.0.display()))?;
    let big_records = (settings.bytes / BIG as u64).max(1);
    let big_bytes = big_records * BIG as u64;

    let mock_runs = {
        let mock = MockCluster::new(1).context("creating the mock cluster")?;
        for topic in [TOPIC_BIG, TOPIC_SMALL, TOPIC_LATENCY] {
            mock.create_topic(topic, 1, 1).with_context(|| format!("creating {topic} on the mock"))?;
        }
        let mut nothing = || Ok(());
        let bootstrap = mock.bootstrap_servers();
        let target = Target { name: "mock", bootstrap: &bootstrap, pid: None, consume_mode: Mode::Rewind };
        run_target(&target, settings, big_records, ticks, &mut nothing)?
    };

    // The disk reference brackets the broker's 1 KiB run: once right before it, once right after it (the
    // broker is idle then), so that drift of the disk during the run shows.
    // The files stay until the work directory is removed, after the broker stopped (see `disk::sequential`).
    progress(&format!("disk: {big_bytes} bytes, 1 MiB writes, one fdatasync at the end"));
    let once = disk::sequential(&work.0.join("disk-once"), big_bytes, None)?;
    progress(&format!("disk: {big_bytes} bytes, 1 MiB writes, fdatasync every 4 MiB"));
    let before = disk::sequential(&work.0.join("disk-before"), big_bytes, Some(DISK_SYNC_EVERY))?;
    let mut after = None;
    let mut disk_after = || -> Result<()> {
        progress(&format!("disk: {big_bytes} bytes, 1 MiB writes, fdatasync every 4 MiB, again"));
        after = Some(disk::sequential(&work.0.join("disk-after"), big_bytes, Some(DISK_SYNC_EVERY))?);
        Ok(())
    };

    let mut broker = Broker::start(binary, &work.0.join("broker-data"), &[])?;
    progress(&format!("broker: pid {} listening on {}", broker.pid(), broker.bootstrap));
    let bootstrap = broker.bootstrap.clone();
    let pid = broker.pid();
    let target = Target { name: "broker", bootstrap: &bootstrap, pid: Some(pid), consume_mode: Mode::Once };
    let broker_runs = run_target(&target, settings, big_records, ticks, &mut disk_after);
    broker.check_alive()?;
    let broker_runs = broker_runs?;
    let disk = DiskRefs { before, after: after.context("the second disk reference did not run")?, once };
    let final_sample = broker::sample(Some(pid), ticks)?;
    let (problems, first_problems) = broker.problems();
    drop(broker);

    crate::report::print_report(
        settings,
        binary,
        &work.0,
        &disk,
        &mock_runs,
        &broker_runs,
        final_sample,
        (problems, &first_problems),
    );
    Ok(())
}
