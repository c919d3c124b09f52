//! The `pg` benchmark (issue 6, "Speed"): Tidemark's Postgres source against references measured in the same run
//! on the same server. It starts a throwaway Postgres cluster (the test harness's, `wal_level=logical`) and
//! `tidemark up`, then runs:
//!
//! 1. streaming one big transaction and 2. streaming many single-row transactions ([`crate::pg_stream`]:
//!    `pg_recvlogical` and the connector each drain the same WAL, written before either starts);
//! 3. the snapshot of a large table ([`crate::pg_snapshot`]: against binary COPY to nowhere);
//! 4. latency at a fixed transaction rate ([`crate::pg_latency`]), and the latency of a small durable append on
//!    the same disk ([`crate::fsync_probe`]) to read it against.
//!
//! [`crate::pg_report`] prints the figures.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tidemark_tests::postgres::PostgresServer;

use crate::broker::{self, Broker};
use crate::cdc_latency::Percentiles;
use crate::cdc_up::{load_average, UpClients};
use crate::fsync_probe::APPEND_SYNC_PROBES;
use crate::pg_latency::LatencyRun;
use crate::pg_snapshot::SnapshotRun;
use crate::pg_sql::Sql;
use crate::pg_stream::{Shape, StreamRun};
use crate::run::{progress, WorkDir};
use crate::server_cpu::ServerCpu;
use crate::settings::env_size;

/// What the `pg` benchmark runs; every field comes from a `BENCH_*` environment variable.
#[derive(Debug, Clone)]
pub struct PgSettings {
    /// `BENCH_PG_BIG_ROWS`: rows of the one big transaction. Default 1,000,000.
    pub big_rows: u64,
    /// `BENCH_PG_SMALL_TXNS`: single-row transactions of the second run. Default 200,000.
    pub small_txns: u64,
    /// `BENCH_PG_SNAPSHOT_ROWS`: rows of the snapshotted table. Default 2,000,000.
    pub snapshot_rows: u64,
    /// `BENCH_PG_SNAPSHOT_THREADS`: the snapshot connector's `snapshot.max.threads`. Default 1 (the connector's).
    pub snapshot_threads: u64,
    /// `BENCH_PG_LATENCY_RATE`: transactions per second of the latency run. Default 2,000.
    pub latency_rate: u64,
    /// `BENCH_PG_LATENCY_SECS`: seconds of the latency run. Default 10.
    pub latency_secs: u64,
    /// `BENCH_PG_PERF`: when set, a directory where `perf record -F 499 -g` of `tidemark up` during each Tidemark
    /// run goes (a diagnostic: the profiler slows the figures down).
    pub perf_dir: Option<PathBuf>,
    /// `BENCH_DIR`: where `tidemark up`'s data goes. Default: the system temporary directory. (Postgres's cluster
    /// goes where the test harness puts it: the temporary directory, `/tmp` when running as root.)
    pub dir: PathBuf,
}

impl PgSettings {
    /// Reads the settings from the environment.
    pub fn from_env() -> Result<Self> {
        Ok(Self {
            big_rows: env_size("BENCH_PG_BIG_ROWS", 1_000_000)?,
            small_txns: env_size("BENCH_PG_SMALL_TXNS", 200_000)?,
            snapshot_rows: env_size("BENCH_PG_SNAPSHOT_ROWS", 2_000_000)?,
            snapshot_threads: env_size("BENCH_PG_SNAPSHOT_THREADS", 1)?,
            latency_rate: env_size("BENCH_PG_LATENCY_RATE", 2_000)?,
            latency_secs: env_size("BENCH_PG_LATENCY_SECS", 10)?,
            perf_dir: std::env::var_os("BENCH_PG_PERF").map(PathBuf::from),
            dir: std::env::var_os("BENCH_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir),
        })
    }
}

/// Everything a run needs: the two servers and the clients of both.
pub struct PgContext<'a> {
    /// The Postgres server.
    pub server: &'a PostgresServer,
    /// An ordinary connection to it.
    pub sql: &'a Sql,
    /// The Postgres server's CPU.
    pub server_cpu: ServerCpu,
    /// `pg_recvlogical`.
    pub pg_recvlogical: &'a Path,
    /// `tidemark up` and its clients.
    pub up: UpClients,
}

/// Everything the `pg` benchmark measured.
pub struct PgRuns {
    /// One big transaction.
    pub big: StreamRun,
    /// Single-row transactions.
    pub small: StreamRun,
    /// The snapshot.
    pub snapshot: SnapshotRun,
    /// Latency at a fixed rate.
    pub latency: LatencyRun,
    /// 4 KiB append + `fdatasync` next to `tidemark up`'s data, right after the latency run.
    pub append_sync: Percentiles,
    /// `/proc/loadavg` before and after.
    pub load: (String, String),
    /// `SELECT version()`.
    pub postgres_version: String,
}

/// Runs the `pg` benchmark and prints the report to stdout (progress goes to stderr).
pub fn run(settings: &PgSettings, binary: &Path) -> Result<()> {
    let ticks = broker::clock_ticks();
    let load_before = load_average();
    let pg_recvlogical = crate::pg_recv::find_pg_recvlogical()?;
    if let Some(dir) = &settings.perf_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    progress("starting a Postgres cluster (initdb, wal_level=logical)");
    let server = PostgresServer::start().context("starting Postgres")?;
    let sql = Sql::connect(&server.connection_string())?;
    let postgres_version = sql.value("SELECT version()")?.unwrap_or_default();
    let backend: u32 = sql.value("SELECT pg_backend_pid()")?.context("no backend pid")?.parse()?;
    let server_cpu = ServerCpu::of_backend(backend, ticks)?;
    crate::pg_workload::create_publication(&sql)?;

    let work = WorkDir(settings.dir.join(format!("tidemark-bench-pg-{}", std::process::id())));
    std::fs::create_dir_all(&work.0).with_context(|| format!("creating {}", work.0.display()))?;
    let mut up = Broker::start_up(binary, &work.0.join("data"), &[])?;
    progress(&format!(
        "tidemark up: pid {}, Kafka listener {}; Postgres on port {}",
        up.pid(),
        up.bootstrap,
        server.port
    ));
    let clients = UpClients::new(&up, ticks, settings.perf_dir.as_deref(), "tidemark-bench-pg")?;
    let ctx = PgContext { server: &server, sql: &sql, server_cpu, pg_recvlogical: &pg_recvlogical, up: clients };
    let runs = measure(settings, &ctx);
    up.check_alive()?;
    let (big, small, snapshot, latency) = runs?;
    progress(&format!("disk: {APPEND_SYNC_PROBES} appends of 4 KiB, each followed by fdatasync"));
    let append_sync = crate::fsync_probe::append_sync_latency(&work.0, APPEND_SYNC_PROBES)?;
    let load = (load_before, load_average());
    let runs = PgRuns { big, small, snapshot, latency, append_sync, load, postgres_version };
    let final_sample = broker::sample(Some(up.pid()), ticks)?;
    let problems = up.problems();
    drop(ctx);
    drop(up);
    crate::pg_report::print(settings, binary, &pg_recvlogical, &runs, final_sample, problems);
    Ok(())
}

/// The four runs, in order.
fn measure(settings: &PgSettings, ctx: &PgContext<'_>) -> Result<(StreamRun, StreamRun, SnapshotRun, LatencyRun)> {
    let big = crate::pg_stream::run(ctx, Shape::OneTransaction, "big_txn", settings.big_rows)?;
    let small = crate::pg_stream::run(ctx, Shape::RowPerTransaction, "small_txns", settings.small_txns)?;
    let snapshot = crate::pg_snapshot::run(ctx, "snap", settings.snapshot_rows, settings.snapshot_threads)?;
    let latency = crate::pg_latency::run(ctx, "latency", settings.latency_rate, settings.latency_secs)?;
    Ok((big, small, snapshot, latency))
}
