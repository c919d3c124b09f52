//! Tidemark's side of the `pg` benchmark: a Postgres source connector created through the worker's REST API,
//! watched through `/metrics` until it has written the expected records durably, then deleted.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use tidemark_tests::postgres::PostgresServer;

use crate::connect_api::ConnectApi;
use crate::pg_workload::PUBLICATION;

/// The connector class under test (Debezium's name).
const POSTGRES_CLASS: &str = "io.debezium.connector.postgresql.PostgresConnector";
/// Metric: records a source task wrote durably.
const SOURCE_WRITTEN: &str = "connect_source_records_written_total";
/// Metric: source batches (poll to durable), count and sum of seconds.
const BATCH_COUNT: &str = "connect_batch_seconds_count";
const BATCH_SECONDS: &str = "connect_batch_seconds_sum";
/// How often the metrics are scraped.
const WATCH_EVERY: Duration = Duration::from_millis(20);
/// How often the connector's status is checked for a failed task.
const STATUS_EVERY: Duration = Duration::from_secs(1);
/// Give up when nothing moves for this long.
const STALL_TIMEOUT: Duration = Duration::from_secs(120);

/// A Postgres source connector to create.
#[derive(Debug, Clone)]
pub struct PgConnector {
    /// The connector's name (metrics are per name: one name per run).
    pub name: String,
    /// `topic.prefix`; the table's topic is `<prefix>.public.<table>`.
    pub prefix: String,
    /// `slot.name`.
    pub slot: String,
    /// The one table captured (`table.include.list=public.<table>`).
    pub table: String,
    /// `snapshot.mode`.
    pub snapshot_mode: &'static str,
    /// Further settings (converters).
    pub extra: Vec<(&'static str, String)>,
}

impl PgConnector {
    /// The topic the table's events go to.
    pub fn topic(&self) -> String {
        format!("{}.public.{}", self.prefix, self.table)
    }

    /// The connector's config against `server`: the benchmark's publication (which exists), converters left to the
    /// worker's defaults (Avro through the bundled registry in `tidemark up`) unless `extra` names them.
    pub fn config(&self, server: &PostgresServer) -> Vec<(&'static str, String)> {
        let mut config = vec![
            ("connector.class", POSTGRES_CLASS.to_owned()),
            ("tasks.max", "1".to_owned()),
            ("database.hostname", server.host.clone()),
            ("database.port", server.port.to_string()),
            ("database.user", server.user.clone()),
            ("database.password", server.password.clone()),
            ("database.dbname", server.dbname.clone()),
            ("topic.prefix", self.prefix.clone()),
            ("slot.name", self.slot.clone()),
            ("publication.name", PUBLICATION.to_owned()),
            ("publication.autocreate.mode", "disabled".to_owned()),
            ("table.include.list", format!("public.{}", self.table)),
            ("snapshot.mode", self.snapshot_mode.to_owned()),
        ];
        config.extend(self.extra.iter().cloned());
        config
    }
}

/// What one connector run measured, since the connector was created.
#[derive(Debug, Clone, Copy)]
pub struct Drained {
    /// Records expected.
    pub records: u64,
    /// When the metrics first showed every record written durably (scraped every 20 ms).
    pub elapsed: Duration,
    /// When the metrics first showed a record written.
    pub first_written: Option<Duration>,
    /// The worker's source batches (`connect_batch_seconds`: poll to durable) at the end: count and seconds.
    pub batches: (f64, f64),
}

impl Drained {
    /// Records per second over the whole run.
    pub fn records_per_s(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64()
    }

    /// The worker's batches: how many, mean records per batch, mean milliseconds from poll to durable.
    pub fn describe_batches(&self) -> String {
        let (count, seconds) = self.batches;
        format!(
            "{count:.0} worker batches of {:.0} records, {:.2} ms each from poll to durable",
            self.records as f64 / count.max(1.0),
            1000.0 * seconds / count.max(1.0)
        )
    }

    /// Records per second from the first record written to the last (the connector's start-up left out).
    pub fn streaming_per_s(&self) -> Option<f64> {
        let first = self.first_written?;
        let span = self.elapsed.checked_sub(first)?.as_secs_f64();
        (span > 0.0).then(|| self.records as f64 / span)
    }
}

/// Creates `connector` and waits until it has written `records` records durably; leaves it running.
pub fn run_until_written(
    api: &ConnectApi,
    server: &PostgresServer,
    connector: &PgConnector,
    records: u64,
) -> Result<Drained> {
    let name = connector.name.as_str();
    let start = Instant::now();
    api.create(name, &connector.config(server))?;
    let (mut first_written, mut progress, mut last_move, mut last_status) = (None, 0.0, start, start);
    loop {
        let metrics = api.metrics()?;
        let written = metrics.of(SOURCE_WRITTEN, name);
        let now = start.elapsed();
        if written > 0.0 && first_written.is_none() {
            first_written = Some(now);
        }
        if written >= records as f64 {
            let batches = (metrics.of(BATCH_COUNT, name), metrics.of(BATCH_SECONDS, name));
            return Ok(Drained { records, elapsed: now, first_written, batches });
        }
        if written > progress {
            (progress, last_move) = (written, Instant::now());
        } else if last_move.elapsed() > STALL_TIMEOUT {
            bail!("connector {name} stalled for {STALL_TIMEOUT:?} at {written} of {records} records written");
        }
        if last_status.elapsed() > STATUS_EVERY {
            api.check_not_failed(name)?;
            last_status = Instant::now();
        }
        std::thread::sleep(WATCH_EVERY);
    }
}

/// Waits until `connector`'s task is RUNNING and streaming from its slot (`active` in `pg_replication_slots`):
/// the task launches its reader at its first poll, so RUNNING alone does not mean the slot exists.
pub fn wait_streaming(api: &ConnectApi, sql: &crate::pg_sql::Sql, connector: &PgConnector) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = api.status(&connector.name)?;
        let running = status["tasks"].as_array().is_some_and(|t| t.iter().any(|t| t["state"] == "RUNNING"));
        if running && sql.slot_active(&connector.slot)? {
            return Ok(());
        }
        api.check_not_failed(&connector.name)?;
        if Instant::now() > deadline {
            bail!("connector {} not streaming from slot {} after 60 s: {status}", connector.name, connector.slot);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
