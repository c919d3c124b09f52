//! The `sink` benchmark (issue 8, "Speed"): the JDBC sink's rows per second into a Postgres table with a primary
//! key, as a ratio to `COPY ... FROM STDIN` of the same rows into an empty table of the same definition, measured in
//! the same run on the same server. It starts a throwaway Postgres cluster (the test harness's) and `tidemark up`,
//! writes two topics before any clock starts (rows `1..=N` at revision 1, then the same keys at revision 2, as Avro
//! through the bundled registry: [`crate::sink_topics`]), and runs:
//!
//! 1. `COPY` of the revision-1 rows into an empty table ([`crate::sink_refs`]), right before Tidemark;
//! 2. the sink over the first topic into the empty target (inserts), then 3. over the second (upserts over existing
//!    keys), each a new connector timed from its creation until the table shows every record ([`crate::sink_pass`]);
//! 4. `COPY` into an empty table again, right after Tidemark (the reference is the mean of the two);
//! 5. the database-side upsert (COPY into a temporary table, `INSERT ... ON CONFLICT DO UPDATE` from it), and the
//!    sink's own statements sent by the benchmark without the worker, with two other ways of writing the same
//!    transactions, for the reading.
//!
//! The target must equal the references row for row after each pass. [`crate::sink_report`] prints the figures.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use tidemark_tests::postgres::PostgresServer;

use crate::broker::{self, Broker, REGISTRY_READY};
use crate::cdc_up::{load_average, UpClients};
use crate::pg_sql::Sql;
use crate::run::{progress, WorkDir};
use crate::server_cpu::ServerCpu;
use crate::settings::env_size;
use crate::sink_pass::SinkPass;
use crate::sink_refs::{CopyUpsert, Method, Statements, Timed};
use crate::sink_topics::Produced;

/// The worker's default `consumer.override.max.poll.records`: the most records one `put` gets.
pub const DEFAULT_MAX_POLL: u64 = 500;
/// The sink's default `batch.size`: the most rows one statement writes.
pub const DEFAULT_BATCH: u64 = 500;
/// The sink's target table.
pub const TARGET: &str = "sink_target";
/// The topics of the two passes.
const INSERT_TOPIC: &str = "sink_inserts";
const UPSERT_TOPIC: &str = "sink_upserts";

/// What the `sink` benchmark runs; every field comes from a `BENCH_*` environment variable.
#[derive(Debug, Clone)]
pub struct SinkSettings {
    /// `BENCH_SINK_ROWS`: rows (and records per topic). Default 1,000,000.
    pub rows: u64,
    /// `BENCH_SINK_MAX_POLL`: the connector's `consumer.override.max.poll.records`; unset: the worker's default
    /// ([`DEFAULT_MAX_POLL`]).
    pub max_poll: Option<u64>,
    /// `BENCH_SINK_BATCH`: the connector's `batch.size`; unset: the sink's default ([`DEFAULT_BATCH`]).
    pub batch_size: Option<u64>,
    /// `BENCH_SINK_PERF`: when set, a directory where `perf record -F 499 -g` of `tidemark up` during each pass
    /// goes (a diagnostic: the profiler slows the figures down).
    pub perf_dir: Option<PathBuf>,
    /// `BENCH_DIR`: where `tidemark up`'s data goes. Default: the system temporary directory. (Postgres's cluster
    /// goes where the test harness puts it: `/tmp` when running as root.)
    pub dir: PathBuf,
}

impl SinkSettings {
    /// Reads the settings from the environment.
    pub fn from_env() -> Result<Self> {
        let optional = |name: &str| std::env::var_os(name).map(|_| env_size(name, 1)).transpose();
        Ok(Self {
            rows: env_size("BENCH_SINK_ROWS", 1_000_000)?,
            max_poll: optional("BENCH_SINK_MAX_POLL")?,
            batch_size: optional("BENCH_SINK_BATCH")?,
            perf_dir: std::env::var_os("BENCH_SINK_PERF").map(PathBuf::from),
            dir: std::env::var_os("BENCH_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir),
        })
    }

    /// Records per `put` (and per transaction).
    pub fn per_put(&self) -> u64 {
        self.max_poll.unwrap_or(DEFAULT_MAX_POLL)
    }

    /// Rows per statement.
    pub fn per_statement(&self) -> u64 {
        self.batch_size.unwrap_or(DEFAULT_BATCH)
    }
}

/// Everything a run needs.
pub struct SinkContext<'a> {
    /// The settings.
    pub settings: &'a SinkSettings,
    /// The Postgres server.
    pub server: &'a PostgresServer,
    /// The benchmark's connection to it.
    pub sql: &'a Sql,
    /// The Postgres server's CPU.
    pub server_cpu: ServerCpu,
    /// `tidemark up` and its clients.
    pub up: UpClients,
}

/// Everything the `sink` benchmark measured.
pub struct SinkRuns {
    /// The two topics as produced.
    pub topics: (Produced, Produced),
    /// COPY into an empty table right before Tidemark, and right after.
    pub copy: (Timed, Timed),
    /// Bytes of COPY text of one revision.
    pub copy_bytes: u64,
    /// The sink's insert pass and its upsert pass.
    pub inserts: SinkPass,
    /// The upsert pass.
    pub upserts: SinkPass,
    /// COPY into a temporary table plus `INSERT ... ON CONFLICT DO UPDATE`.
    pub db_upsert: CopyUpsert,
    /// The sink's statements, and two other ways of writing the same transactions, from the benchmark: into an
    /// empty table, then over its keys.
    pub statements: Vec<(Method, Statements, Statements)>,
    /// The target's size on disk after each pass (`pg_table_size` + indexes).
    pub target_bytes: (u64, u64),
    /// `/proc/loadavg` before and after.
    pub load: (String, String),
    /// `SELECT version()`.
    pub postgres_version: String,
}

/// Runs the `sink` benchmark and prints the report to stdout (progress goes to stderr).
pub fn run(settings: &SinkSettings, binary: &Path) -> Result<()> {
    let ticks = broker::clock_ticks();
    let load_before = load_average();
    if let Some(dir) = &settings.perf_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    progress("starting a Postgres cluster");
    let server = PostgresServer::start().context("starting Postgres")?;
    let sql = Sql::connect(&server.connection_string())?;
    let postgres_version = sql.value("SELECT version()")?.unwrap_or_default();
    let backend: u32 = sql.value("SELECT pg_backend_pid()")?.context("no backend pid")?.parse()?;
    let server_cpu = ServerCpu::of_backend(backend, ticks)?;
    crate::sink_refs::create_table(&sql, TARGET)?;

    let work = WorkDir(settings.dir.join(format!("tidemark-bench-sink-{}", std::process::id())));
    std::fs::create_dir_all(&work.0).with_context(|| format!("creating {}", work.0.display()))?;
    // As in the `connect` benchmark: a sink's new consumer group forms as soon as its member joins (Kafka's default
    // delay would add 3 s to each pass's clock).
    let mut up = Broker::start_up(binary, &work.0.join("data"), &["--group-initial-rebalance-delay-ms", "0"])?;
    progress(&format!(
        "tidemark up: pid {}, Kafka listener {}; Postgres on port {}",
        up.pid(),
        up.bootstrap,
        server.port
    ));
    let registry = up.listener(REGISTRY_READY).context("no registry listener")?.to_owned();
    let clients = UpClients::new(&up, ticks, settings.perf_dir.as_deref(), "tidemark-bench-sink")?;
    let ctx = SinkContext { settings, server: &server, sql: &sql, server_cpu, up: clients };
    let measured = measure(&ctx, &registry);
    up.check_alive()?;
    let mut runs = measured?;
    runs.load = (load_before, load_average());
    runs.postgres_version = postgres_version;
    let final_sample = broker::sample(Some(up.pid()), ticks)?;
    let problems = up.problems();
    drop(ctx);
    drop(up);
    crate::sink_report::print(settings, binary, &runs, final_sample, problems);
    Ok(())
}

/// Produces the topics, then runs the references and the passes in order.
fn measure(ctx: &SinkContext<'_>, registry: &str) -> Result<SinkRuns> {
    let (rows, sql, cpu) = (ctx.settings.rows, ctx.sql, &ctx.server_cpu);
    let mut topics = Vec::new();
    for (topic, rev) in [(INSERT_TOPIC, 1), (UPSERT_TOPIC, 2)] {
        progress(&format!("{topic}: producing {rows} Avro records (revision {rev})"));
        ctx.up.create_topic(topic)?;
        let produced = crate::sink_topics::produce_rows(&ctx.up.bootstrap, registry, topic, rows, rev)?;
        let in_topic = ctx.up.records_in(topic)?;
        if in_topic != rows as i64 {
            bail!("{topic}: {in_topic} records, {rows} expected");
        }
        topics.push(produced);
    }
    progress("generating the COPY text of both revisions");
    let (first, second) = (copy_text(rows, 1), copy_text(rows, 2));

    settle(sql)?;
    progress("COPY into an empty table (before Tidemark)");
    let copy_before = crate::sink_refs::copy_into_empty(sql, cpu, "ref_before", &first, rows)?;
    settle(sql)?;
    progress(&format!("Tidemark: the sink inserts {rows} rows into the empty {TARGET}"));
    let inserts = crate::sink_pass::run(ctx, "bench-sink-inserts", INSERT_TOPIC, TARGET, (rows, 1))?;
    let inserted_bytes = table_bytes(sql, TARGET)?;
    same_rows(sql, TARGET, "ref_before")?;
    settle(sql)?;
    progress(&format!("Tidemark: the sink upserts {rows} rows over the keys of {TARGET}"));
    let upserts = crate::sink_pass::run(ctx, "bench-sink-upserts", UPSERT_TOPIC, TARGET, (rows, 2))?;
    let upserted_bytes = table_bytes(sql, TARGET)?;
    settle(sql)?;
    progress("COPY into an empty table (after Tidemark)");
    let copy_after = crate::sink_refs::copy_into_empty(sql, cpu, "ref_after", &first, rows)?;
    settle(sql)?;
    progress("COPY into a temporary table + INSERT ... ON CONFLICT DO UPDATE over the keys of the second copy");
    let db_upsert = crate::sink_refs::copy_then_upsert(sql, cpu, "ref_after", &second, rows)?;
    same_rows(sql, TARGET, "ref_after")?;
    let per = (ctx.settings.per_put() as usize, ctx.settings.per_statement() as usize);
    let mut statements = Vec::new();
    for (method, table) in
        [(Method::SinksWay, "ref_statements"), (Method::PreparedOnce, "ref_prepared"), (Method::CopyMerge, "ref_merge")]
    {
        crate::sink_refs::create_table(sql, table)?;
        let mut passes = Vec::new();
        for (rev, what) in [(1, "into an empty table"), (2, "over the same keys")] {
            settle(sql)?;
            progress(&format!("{} from the benchmark, {what}", method.describe()));
            passes.push(crate::sink_refs::sink_statements(sql, cpu, (table, method), (rows, rev), per)?);
        }
        same_rows(sql, TARGET, table)?;
        let (Some(over), Some(into)) = (passes.pop(), passes.pop()) else { bail!("two passes expected") };
        statements.push((method, into, over));
    }
    let second_topic = topics.pop().context("no second topic")?;
    let first_topic = topics.pop().context("no first topic")?;
    Ok(SinkRuns {
        topics: (first_topic, second_topic),
        copy: (copy_before, copy_after),
        copy_bytes: first.len() as u64,
        inserts,
        upserts,
        db_upsert,
        statements,
        target_bytes: (inserted_bytes, upserted_bytes),
        load: (String::new(), String::new()),
        postgres_version: String::new(),
    })
}

/// The COPY text of rows `1..=rows` at revision `rev`.
fn copy_text(rows: u64, rev: i32) -> Bytes {
    Bytes::from(crate::sink_rows::copy_text(rows, rev).into_bytes())
}

/// A checkpoint before each timed run, so that none falls into one run and not another.
fn settle(sql: &Sql) -> Result<()> {
    let started = Instant::now();
    sql.execute("CHECKPOINT")?;
    progress(&format!("checkpoint: {:.2} s", started.elapsed().as_secs_f64()));
    Ok(())
}

/// `pg_total_relation_size`: the table with its index.
fn table_bytes(sql: &Sql, table: &str) -> Result<u64> {
    let text = sql.value(&format!("SELECT pg_total_relation_size('{table}')"))?.context("no size")?;
    text.parse().with_context(|| format!("not a size: {text}"))
}

/// Fails unless tables `a` and `b` hold the same rows.
fn same_rows(sql: &Sql, a: &str, b: &str) -> Result<()> {
    let columns = crate::sink_rows::COLUMNS[1..].iter();
    let of = |t: &str| columns.clone().map(|c| format!("{t}.{c}")).collect::<Vec<_>>().join(", ");
    let query =
        format!("SELECT count(*) FROM {a} FULL JOIN {b} USING (id) WHERE ({}) IS DISTINCT FROM ({})", of(a), of(b));
    let differing = sql.value(&query)?.context("no count")?;
    if differing != "0" {
        bail!("{a} and {b} differ in {differing} rows");
    }
    progress(&format!("{a} equals {b} row for row"));
    Ok(())
}
