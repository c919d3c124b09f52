//! The `mysql` benchmark (issue 7, "Speed"): Tidemark's MySQL source against references measured in the same run
//! on the same server. It starts a throwaway MariaDB (the test harness's: binary log on, `binlog_format=ROW`,
//! `binlog_row_image=FULL`, `binlog_row_metadata=FULL`) and `tidemark up`, then runs:
//!
//! 1. streaming one big transaction and 2. streaming many single-row transactions ([`crate::mysql_stream`]:
//!    `mariadb-binlog --read-from-remote-server` and the connector each read the same binlog, written before
//!    either starts);
//! 3. the snapshot of a large table ([`crate::mysql_snapshot`]: against `mariadb -e "SELECT * FROM t"` to nowhere);
//! 4. latency at a fixed transaction rate ([`crate::mysql_latency`]), and the latency of a small durable append on
//!    the same disk ([`crate::fsync_probe`]) to read it against.
//!
//! [`crate::mysql_report`] prints the figures. The pieces the `pg` benchmark shares live in the `cdc_*` modules.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use tidemark_tests::mariadb::MariaDbServer;

use crate::broker::{self, Broker};
use crate::cdc_latency::Percentiles;
use crate::cdc_up::{load_average, UpClients};
use crate::fsync_probe::APPEND_SYNC_PROBES;
use crate::mysql_latency::LatencyRun;
use crate::mysql_snapshot::SnapshotRun;
use crate::mysql_sql::MySql;
use crate::mysql_stream::{Shape, StreamRun};
use crate::mysql_workload::DATABASE;
use crate::run::{progress, WorkDir};
use crate::server_cpu::ServerCpu;
use crate::settings::env_size;

/// The benchmark's own user on the server (all privileges): it writes the workload and reads positions. The
/// readers use the harness's replication user.
const BENCH_USER: &str = "bench";

/// What the `mysql` benchmark runs; every field comes from a `BENCH_*` environment variable.
#[derive(Debug, Clone)]
pub struct MySqlSettings {
    /// `BENCH_MYSQL_BIG_ROWS`: rows of the one big transaction. Default 1,000,000.
    pub big_rows: u64,
    /// `BENCH_MYSQL_SMALL_TXNS`: single-row transactions of the second run. Default 200,000.
    pub small_txns: u64,
    /// `BENCH_MYSQL_SNAPSHOT_ROWS`: rows of the snapshotted table. Default 2,000,000.
    pub snapshot_rows: u64,
    /// `BENCH_MYSQL_LATENCY_RATE`: transactions per second of the latency run. Default 2,000.
    pub latency_rate: u64,
    /// `BENCH_MYSQL_LATENCY_SECS`: seconds of the latency run. Default 10.
    pub latency_secs: u64,
    /// `BENCH_MYSQL_PERF`: when set, a directory where `perf record -F 499 -g` of `tidemark up` during each
    /// Tidemark run goes (a diagnostic: the profiler slows the figures down).
    pub perf_dir: Option<PathBuf>,
    /// `BENCH_DIR`: where `tidemark up`'s data goes. Default: the system temporary directory. (MariaDB's data goes
    /// where the test harness puts it: `/tmp`.)
    pub dir: PathBuf,
}

impl MySqlSettings {
    /// Reads the settings from the environment.
    pub fn from_env() -> Result<Self> {
        Ok(Self {
            big_rows: env_size("BENCH_MYSQL_BIG_ROWS", 1_000_000)?,
            small_txns: env_size("BENCH_MYSQL_SMALL_TXNS", 200_000)?,
            snapshot_rows: env_size("BENCH_MYSQL_SNAPSHOT_ROWS", 2_000_000)?,
            latency_rate: env_size("BENCH_MYSQL_LATENCY_RATE", 2_000)?,
            latency_secs: env_size("BENCH_MYSQL_LATENCY_SECS", 10)?,
            perf_dir: std::env::var_os("BENCH_MYSQL_PERF").map(PathBuf::from),
            dir: std::env::var_os("BENCH_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir),
        })
    }
}

/// Everything a run needs: the two servers and the clients of both.
pub struct MySqlContext<'a> {
    /// The MariaDB server.
    pub server: &'a MariaDbServer,
    /// A connection to it as the benchmark's user, in the benchmark's database.
    pub sql: &'a MySql,
    /// `mariadbd`'s CPU.
    pub server_cpu: ServerCpu,
    /// `mariadb-binlog`.
    pub mariadb_binlog: &'a Path,
    /// `mariadb`, the command-line client.
    pub mariadb: &'a Path,
    /// `tidemark up` and its clients.
    pub up: UpClients,
}

/// Everything the `mysql` benchmark measured.
pub struct MySqlRuns {
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
    /// `SELECT VERSION()`.
    pub server_version: String,
}

/// A MariaDB client program from `PATH` or `/usr/bin`.
fn program(name: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| anyhow!("{name} is missing: install mariadb-server and mariadb-client"))
}

/// Runs the `mysql` benchmark and prints the report to stdout (progress goes to stderr).
pub fn run(settings: &MySqlSettings, binary: &Path) -> Result<()> {
    let ticks = broker::clock_ticks();
    let load_before = load_average();
    let mariadb_binlog = program("mariadb-binlog")?;
    let mariadb = program("mariadb")?;
    if let Some(dir) = &settings.perf_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    progress("starting a MariaDB server (the test harness's: binary log on, ROW format, FULL images and metadata)");
    let server = MariaDbServer::start().context("starting MariaDB")?;
    server.root_sql(&format!(
        "CREATE DATABASE {DATABASE}; CREATE USER '{BENCH_USER}'@'%' IDENTIFIED BY '{BENCH_USER}'; \
         GRANT ALL ON *.* TO '{BENCH_USER}'@'%';"
    ))?;
    let sql = MySql::connect(&server.host, server.port, BENCH_USER, BENCH_USER, Some(DATABASE))?;
    let server_version = sql.value("SELECT VERSION()")?.unwrap_or_default();
    let server_cpu = ServerCpu::of_process(sql.server_pid()?, ticks)?;

    let work = WorkDir(settings.dir.join(format!("tidemark-bench-mysql-{}", std::process::id())));
    std::fs::create_dir_all(&work.0).with_context(|| format!("creating {}", work.0.display()))?;
    let mut up = Broker::start_up(binary, &work.0.join("data"), &[])?;
    progress(&format!(
        "tidemark up: pid {}, Kafka listener {}; MariaDB on port {}",
        up.pid(),
        up.bootstrap,
        server.port
    ));
    let clients = UpClients::new(&up, ticks, settings.perf_dir.as_deref(), "tidemark-bench-mysql")?;
    let ctx = MySqlContext {
        server: &server,
        sql: &sql,
        server_cpu,
        mariadb_binlog: &mariadb_binlog,
        mariadb: &mariadb,
        up: clients,
    };
    let runs = measure(settings, &ctx);
    up.check_alive()?;
    let (big, small, snapshot, latency) = runs?;
    progress(&format!("disk: {APPEND_SYNC_PROBES} appends of 4 KiB, each followed by fdatasync"));
    let append_sync = crate::fsync_probe::append_sync_latency(&work.0, APPEND_SYNC_PROBES)?;
    let load = (load_before, load_average());
    let runs = MySqlRuns { big, small, snapshot, latency, append_sync, load, server_version };
    let final_sample = broker::sample(Some(up.pid()), ticks)?;
    let problems = up.problems();
    drop(ctx);
    drop(up);
    crate::mysql_report::print(settings, binary, &mariadb_binlog, &runs, final_sample, problems);
    Ok(())
}

/// The four runs, in order; each connector reads the binlog as a replica of its own id.
fn measure(
    settings: &MySqlSettings,
    ctx: &MySqlContext<'_>,
) -> Result<(StreamRun, StreamRun, SnapshotRun, LatencyRun)> {
    let big = crate::mysql_stream::run(ctx, Shape::OneTransaction, "big_txn", settings.big_rows, 5401)?;
    let small = crate::mysql_stream::run(ctx, Shape::RowPerTransaction, "small_txns", settings.small_txns, 5402)?;
    let snapshot = crate::mysql_snapshot::run(ctx, "snap", settings.snapshot_rows, 5403)?;
    let latency = crate::mysql_latency::run(ctx, "latency", settings.latency_rate, settings.latency_secs, 5404)?;
    Ok((big, small, snapshot, latency))
}
