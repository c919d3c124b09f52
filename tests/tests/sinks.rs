//! The JDBC sink end to end (issue 8's proof): change events captured by a database source, through the broker, and
//! written by the JDBC sink (`io.debezium.connector.jdbc.JdbcSinkConnector`) into another database, against real
//! Postgres and MariaDB servers and the real `tidemark up` (broker, registry and connect worker in one process) that
//! is killed with SIGKILL during delivery. Connectors are created over Kafka Connect's REST API; both the sources and
//! the sinks use the worker's default converters, Avro through the bundled registry; the sinks read the Debezium
//! envelopes as they are (no unwrap transform) with `insert.mode=upsert`, `delete.enabled=true`,
//! `primary.key.mode=record_key` and `schema.evolution=basic`, a `RegexRouter` and `table.name.format` naming the
//! target tables after the source tables.
//!
//! - Postgres → Postgres (another database on the same server): a concurrent random workload over two tables (one
//!   with a composite primary key): multi-row inserts, updates of one and two rows, primary key changes, deletes,
//!   multi-statement transactions, rollbacks, and `ALTER TABLE ... ADD COLUMN` on both tables mid-workload. The
//!   process is killed twice while the sink delivers: during the initial load, and once rows with the new columns
//!   reached the target.
//! - MariaDB → Postgres and MariaDB (database `replica` on the source's server), two sinks reading the same topics:
//!   the same kind of workload, smaller, one kill, after the schema change reached both targets.
//!
//! The proof, once the workload stopped: every sink's consumer group has committed the end of every topic, the target
//! tables have the source tables' columns (Postgres → Postgres: with the same types), and their rows equal the
//! source's, row for row (both sides dumped with `SELECT ... ORDER BY` the key, each value as text).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure, Context, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::{json, Value as Json};
use tidemark_tests::connect_client::{create_connectors, task_state};
use tidemark_tests::mariadb::{MariaDbServer, RootSession};
use tidemark_tests::postgres::PostgresServer;
use tidemark_tests::rng::Rng;
use tidemark_tests::{client_config, TidemarkProcess, UpAddresses};
use tokio_postgres::{NoTls, SimpleQueryMessage};

/// How long a test waits for what should take a few seconds at most.
const PATIENCE: Duration = Duration::from_secs(60);
/// Concurrent writers; writer `w` owns the pre-existing ids with `id % WRITERS == w` and the new ids it makes, so
/// their transactions never conflict.
const WRITERS: i64 = 2;
/// The workload's seed (`TIDEMARK_SINK_SEED` overrides it, to repeat a failing run's choices).
const SEED: u64 = 0x7D0E_0008;
/// The source connectors' topic prefix.
const PREFIX: &str = "src";
/// The database the targets' tables are written in (a Postgres database, a MariaDB schema).
const REPLICA: &str = "replica";
/// The captured tables: `accounts` keyed by `id`, `orders` by `(region, id)` with `region = id % 4`.
const TABLES: [&str; 2] = ["accounts", "orders"];

// ---------------------------------------------------------------------------------------------------------------
// What both tests share: connectors over REST, restarts, waits, topics and consumer groups, the workload's dice.
// ---------------------------------------------------------------------------------------------------------------

/// An amount with two decimals, as SQL text.
fn amount(rng: &mut Rng) -> String {
    let cents = rng.below(10_000_000);
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// A value of an added column: NULL one time in four, else a number, as SQL text.
fn nullable_number(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => "NULL".to_owned(),
        _ => rng.below(1_000_000).to_string(),
    }
}

/// The first failure of a workload's writers, as they report it.
#[derive(Clone, Default)]
struct Failure(Arc<Mutex<Option<String>>>);

impl Failure {
    /// Keeps the error of `outcome` (the first one only).
    fn keep<T>(&self, outcome: Result<T>) -> Result<T> {
        if let Err(error) = &outcome {
            let mut slot = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            slot.get_or_insert_with(|| format!("{error:#}"));
        }
        outcome
    }

    /// Fails with the first writer's failure, or because writers stopped when they should not have.
    fn check(&self, stopped: bool) -> Result<()> {
        let slot = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match (slot.as_ref(), stopped) {
            (Some(failure), _) => Err(anyhow!("a writer failed: {failure}")),
            (None, true) => Err(anyhow!("the writers stopped early")),
            (None, false) => Ok(()),
        }
    }
}

/// What a workload did.
#[derive(Debug, Default)]
struct WorkloadStats {
    committed: u64,
    rolled_back: u64,
    inserts: u64,
    updates: u64,
    key_changes: u64,
    deletes: u64,
}

impl WorkloadStats {
    fn add(&mut self, other: &WorkloadStats) {
        self.committed += other.committed;
        self.rolled_back += other.rolled_back;
        self.inserts += other.inserts;
        self.updates += other.updates;
        self.key_changes += other.key_changes;
        self.deletes += other.deletes;
    }
}

/// The live ids of each table a writer owns, and the fresh ids it makes (never reused, not even those of
/// rolled-back inserts).
struct Ids {
    live: [Vec<i64>; 2],
    next: i64,
}

impl Ids {
    fn new(writer: i64, rows: i64) -> Self {
        let owned: Vec<i64> = (1..=rows).filter(|id| id % WRITERS == writer).collect();
        Ids { live: [owned.clone(), owned], next: rows + 1 + writer }
    }

    fn fresh(&mut self) -> i64 {
        let id = self.next;
        self.next += WRITERS;
        id
    }
}

/// The workload's statements in one dialect, on table `table` (an index into [`TABLES`]).
trait Statements {
    /// Inserts of fresh rows (one statement).
    fn insert(&self, table: usize, ids: &[i64], rng: &mut Rng, evolved: bool) -> String;
    /// An update of live rows (one statement) bumping their `version`.
    fn update(&self, table: usize, ids: &[i64], rng: &mut Rng, evolved: bool) -> String;
    /// The primary key of a live row changed to a fresh id (version 1 again).
    fn change_key(&self, table: usize, old: i64, new: i64, rng: &mut Rng) -> String;
    /// A delete of a live row.
    fn delete(&self, table: usize, id: i64) -> String;
}

/// A transaction of 1 to 4 random statements written with `sql`; answers its SQL (without BEGIN and COMMIT). `live`
/// (a copy of the live ids, which the caller keeps only when it commits) and `stats` follow what it does.
fn transaction(
    sql: &impl Statements,
    rng: &mut Rng,
    ids: &mut Ids,
    live: &mut [Vec<i64>; 2],
    evolved: bool,
    stats: &mut WorkloadStats,
) -> String {
    let mut statements = String::new();
    for _ in 0..1 + rng.below(4) {
        let t = rng.below(2) as usize;
        let choice = rng.below(20);
        if choice < 6 || live[t].len() < 2 {
            let new: Vec<i64> = (0..1 + rng.below(3)).map(|_| ids.fresh()).collect();
            statements.push_str(&sql.insert(t, &new, rng, evolved));
            stats.inserts += new.len() as u64;
            live[t].extend(new);
        } else if choice < 12 {
            let id = rng.pick(&live[t]);
            statements.push_str(&sql.update(t, &[id], rng, evolved));
            stats.updates += 1;
        } else if choice < 14 {
            let (a, b) = (rng.pick(&live[t]), rng.pick(&live[t]));
            let both: Vec<i64> = if a == b { vec![a] } else { vec![a, b] };
            statements.push_str(&sql.update(t, &both, rng, evolved));
            stats.updates += both.len() as u64;
        } else if choice < 16 {
            let index = rng.below(live[t].len() as u64) as usize;
            let new = ids.fresh();
            let old = std::mem::replace(&mut live[t][index], new);
            statements.push_str(&sql.change_key(t, old, new, rng));
            stats.key_changes += 1;
        } else {
            let index = rng.below(live[t].len() as u64) as usize;
            let id = live[t].swap_remove(index);
            statements.push_str(&sql.delete(t, id));
            stats.deletes += 1;
        }
    }
    statements
}

/// The JDBC sink reading `topics` (Debezium envelopes in Avro, the worker's default) into `url`: upserts keyed by
/// the record key, deletes, tables and columns created as the records need them, each topic `<prefix>.<db>.<table>`
/// written to the table `<table>` (a `RegexRouter` drops the prefix and the database, `table.name.format` is the
/// rest), offsets committed every half second.
fn jdbc_sink(name: &str, url: &str, (user, password): (&str, &str), source_db: &str) -> Json {
    let topics: Vec<String> = TABLES.iter().map(|t| format!("{PREFIX}.{source_db}.{t}")).collect();
    json!({"name": name, "config": {
        "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
        "tasks.max": "1",
        "topics": topics.join(","),
        "connection.url": url,
        "connection.username": user,
        "connection.password": password,
        "insert.mode": "upsert",
        "delete.enabled": "true",
        "primary.key.mode": "record_key",
        "schema.evolution": "basic",
        "transforms": "route",
        "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
        "transforms.route.regex": format!("{PREFIX}\\.{source_db}\\.(.*)"),
        "transforms.route.replacement": "$1",
        "table.name.format": "${topic}",
        "offset.flush.interval.ms": "500",
    }})
}

/// Waits until `check` answers `Some`, within `timeout`; `check` describes what it saw in its `String` argument,
/// which the timeout's error shows with the connectors' task states. Fails at once when a task of `connectors`
/// (looked up every second) failed, or with the workload's failure when `alive` reports one.
fn wait_until<T>(
    what: &str,
    (connect, connectors): (&str, &[&str]),
    timeout: Duration,
    alive: &dyn Fn() -> Result<()>,
    mut check: impl FnMut(&mut String) -> Result<Option<T>>,
) -> Result<T> {
    let deadline = Instant::now() + timeout;
    let mut looked_up = Instant::now();
    let mut seen = String::new();
    let states = || connectors.iter().map(|n| format!("{n}: {}", task_state(connect, n))).collect::<Vec<_>>();
    loop {
        if let Some(found) = check(&mut seen)? {
            return Ok(found);
        }
        alive().with_context(|| format!("{what}: the workload failed"))?;
        if looked_up.elapsed() >= Duration::from_secs(1) {
            looked_up = Instant::now();
            let states = states();
            ensure!(!states.iter().any(|s| s.contains("FAILED")), "{what}: a task failed: {states:#?}");
        }
        ensure!(Instant::now() < deadline, "{what}: not within {timeout:?}; last seen: {seen}; tasks {:#?}", states());
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The records of `topics` that the sink connector `name` (its consumer group `connect-<name>`) has not committed
/// yet: end offsets minus committed offsets, an uncommitted partition counting from its start.
fn sink_lag(bootstrap: &str, name: &str, topics: &[String]) -> Result<i64> {
    let consumer: BaseConsumer = client_config(bootstrap)
        .set("group.id", format!("connect-{name}"))
        .set("enable.auto.commit", "false")
        .create()?;
    let timeout = Duration::from_secs(5);
    let mut partitions = TopicPartitionList::new();
    let mut ends = Vec::new();
    for topic in topics {
        let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
        let found = metadata.topics().iter().find(|t| t.name() == topic).context("no metadata")?;
        ensure!(!found.partitions().is_empty(), "the topic {topic} does not exist yet");
        for partition in found.partitions() {
            partitions.add_partition(topic, partition.id());
            ends.push(consumer.fetch_watermarks(topic, partition.id(), timeout)?.1);
        }
    }
    let committed = consumer.committed_offsets(partitions, timeout)?;
    let mut lag = 0;
    for (element, end) in committed.elements().iter().zip(ends) {
        let at = match element.offset() {
            Offset::Offset(offset) => offset,
            _ => 0,
        };
        lag += end - at;
    }
    Ok(lag)
}

/// Rows that are in one dump and not the other, for a message.
fn difference(source: &[String], target: &[String]) -> String {
    let source_set: BTreeSet<&String> = source.iter().collect();
    let target_set: BTreeSet<&String> = target.iter().collect();
    let missing: Vec<&&String> = source_set.difference(&target_set).take(8).collect();
    let extra: Vec<&&String> = target_set.difference(&source_set).take(8).collect();
    let first = source.iter().zip(target).position(|(s, t)| s != t);
    let first = first.map(|i| format!("; row {i} differs: source {:?}, target {:?}", source[i], target[i]));
    format!(
        "{} source rows, {} target rows; in the source only (first ones): {missing:?}; in the target only: \
         {extra:?}{}",
        source.len(),
        target.len(),
        first.unwrap_or_default()
    )
}

// ---------------------------------------------------------------------------------------------------------------
// Postgres.
// ---------------------------------------------------------------------------------------------------------------

/// Blocking SQL against one database of a Postgres server: a tokio-postgres client on a runtime of its own, its
/// session in UTC so instants read back alike.
struct Pg {
    runtime: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl Pg {
    fn connect(server: &PostgresServer, dbname: &str) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (client, connection) = runtime.block_on(tokio_postgres::connect(&connection(server, dbname), NoTls))?;
        runtime.spawn(connection);
        let pg = Pg { runtime, client };
        pg.execute("SET TIME ZONE 'UTC'")?;
        Ok(pg)
    }

    /// Runs `sql` (one or more statements, simple query protocol).
    fn execute(&self, sql: &str) -> Result<()> {
        self.runtime.block_on(self.client.batch_execute(sql)).with_context(|| format!("running {sql}"))
    }

    /// The rows of a query, each as its values' text joined by tabs, NULL as `NULL` (as the `mariadb` client prints
    /// them).
    fn lines(&self, sql: &str) -> Result<Vec<String>> {
        let messages =
            self.runtime.block_on(self.client.simple_query(sql)).with_context(|| format!("running {sql}"))?;
        Ok(messages
            .iter()
            .filter_map(|message| match message {
                SimpleQueryMessage::Row(row) => {
                    Some((0..row.len()).map(|i| row.get(i).unwrap_or("NULL")).collect::<Vec<_>>().join("\t"))
                }
                _ => None,
            })
            .collect())
    }

    /// The number a query answers (one row, one value).
    fn number(&self, sql: &str) -> Result<i64> {
        let lines = self.lines(sql)?;
        let line = lines.first().with_context(|| format!("no row: {sql}"))?;
        line.parse().with_context(|| format!("not a number: {line}"))
    }

    /// The columns of `table` (schema `public`) and their types (`information_schema.columns.data_type`), in order.
    fn columns(&self, table: &str) -> Result<Vec<(String, String)>> {
        self.lines(&format!(
            "SELECT column_name, data_type FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = '{table}' ORDER BY ordinal_position"
        ))?
        .iter()
        .map(|line| line.split_once('\t').map(|(c, t)| (c.to_owned(), t.to_owned())).context("not a column"))
        .collect()
    }
}

/// A key=value connection string to `dbname` on `server`.
fn connection(server: &PostgresServer, dbname: &str) -> String {
    format!(
        "host={} port={} user={} password={} dbname={dbname}",
        server.host, server.port, server.user, server.password
    )
}

/// `connection.url` of `dbname` on `server`.
fn pg_url(server: &PostgresServer, dbname: &str) -> String {
    format!("jdbc:postgresql://{}:{}/{dbname}", server.host, server.port)
}

/// The key columns of table `t`, as `ORDER BY` lists them, qualified with the table's alias `t` (in Postgres a bare
/// name would order by the output column of that name: the text the dump selects).
fn key_columns(t: usize) -> &'static str {
    ["t.id", "t.region, t.id"][t]
}

/// The rows of table `t` in a Postgres database, in key order, with the given columns (`(name, data_type)`: what
/// the source has) as text; a timestamp without time zone as `YYYY-MM-DD HH24:MI:SS.US`, the form the MariaDB dump
/// gives.
fn pg_dump(pg: &Pg, t: usize, columns: &[(String, String)]) -> Result<Vec<String>> {
    let select: Vec<String> = columns
        .iter()
        .map(|(name, data_type)| match data_type.as_str() {
            "timestamp without time zone" | "datetime" => format!("to_char({name}, 'YYYY-MM-DD HH24:MI:SS.US')"),
            _ => format!("{name}::text"),
        })
        .collect();
    pg.lines(&format!("SELECT {} FROM {} t ORDER BY {}", select.join(", "), TABLES[t], key_columns(t)))
}

/// How far a Postgres target got: its rows, the highest id in it, and its rows with a value in an added column
/// (0 for what does not exist yet).
fn pg_progress(pg: &Pg) -> (i64, i64, i64) {
    let rows = pg.number("SELECT (SELECT count(*) FROM accounts) + (SELECT count(*) FROM orders)").unwrap_or(0);
    let max_id = pg
        .number(
            "SELECT greatest((SELECT coalesce(max(id), 0) FROM accounts), (SELECT coalesce(max(id), 0) FROM orders))",
        )
        .unwrap_or(0);
    let noted = pg.number("SELECT count(*) FROM accounts WHERE note IS NOT NULL").unwrap_or(0)
        + pg.number("SELECT count(*) FROM orders WHERE tag IS NOT NULL").unwrap_or(0);
    (rows, max_id, noted)
}

/// Rows in each Postgres source table before the connectors exist: what the snapshot reads.
const PG_ROWS: i64 = 3_000;

/// The Postgres source tables and their first rows. `seen` is a `timestamptz` (Debezium's `ZonedTimestamp`), `amount`
/// a `NOT NULL numeric(12,2)` (Kafka's `Decimal`): a delete's `before` holds only the key under the default REPLICA
/// IDENTITY, so `amount` gets the fallback of a required `Decimal` there (zero), which must pass the Avro converter.
fn pg_schema() -> String {
    format!(
        "CREATE TABLE accounts (id bigint PRIMARY KEY, version integer NOT NULL, val text NOT NULL,
                                amount numeric(12,2) NOT NULL, seen timestamptz);
         CREATE TABLE orders (region integer NOT NULL, id bigint NOT NULL, version integer NOT NULL, val text NOT NULL,
                              flag boolean NOT NULL, PRIMARY KEY (region, id));
         INSERT INTO accounts SELECT g, 1, 'v1', g * 1.25,
                                     timestamptz '2024-02-29 12:00:00.123456+00' + g * interval '1.000001 s'
                              FROM generate_series(1, {PG_ROWS}) g;
         INSERT INTO orders SELECT g % 4, g, 1, 'v1', g % 3 = 0 FROM generate_series(1, {PG_ROWS}) g;"
    )
}

/// The schema change the Postgres workload makes halfway: a column added to each table, no default (the rows that
/// exist keep NULL, as the target's added column does).
const PG_EVOLUTION: &str = "ALTER TABLE accounts ADD COLUMN note text; ALTER TABLE orders ADD COLUMN tag bigint;";

/// The Postgres workload's statements.
struct PgStatements;

impl Statements for PgStatements {
    fn insert(&self, table: usize, ids: &[i64], rng: &mut Rng, evolved: bool) -> String {
        let rows: Vec<String> = ids
            .iter()
            .map(|id| match (table, evolved) {
                (0, false) => format!("({id}, 1, 'v1', {}, now())", amount(rng)),
                (0, true) => format!("({id}, 1, 'v1', {}, now(), 'n{}')", amount(rng), rng.below(1000)),
                (_, false) => format!("({}, {id}, 1, 'v1', {})", id % 4, rng.below(2) == 0),
                (_, true) => format!("({}, {id}, 1, 'v1', {}, {})", id % 4, rng.below(2) == 0, nullable_number(rng)),
            })
            .collect();
        let columns = match (table, evolved) {
            (0, false) => "id, version, val, amount, seen",
            (0, true) => "id, version, val, amount, seen, note",
            (_, false) => "region, id, version, val, flag",
            (_, true) => "region, id, version, val, flag, tag",
        };
        format!("INSERT INTO {} ({columns}) VALUES {};", TABLES[table], rows.join(", "))
    }

    fn update(&self, table: usize, ids: &[i64], rng: &mut Rng, evolved: bool) -> String {
        let bump = "version = version + 1, val = 'v' || (version + 1)";
        match table {
            0 => {
                let note = if evolved { format!(", note = 'n{}'", rng.below(1000)) } else { String::new() };
                let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
                format!(
                    "UPDATE accounts SET {bump}, amount = {}, seen = now(){note} WHERE id IN ({});",
                    amount(rng),
                    ids.join(", ")
                )
            }
            _ => {
                let tag = if evolved { format!(", tag = {}", nullable_number(rng)) } else { String::new() };
                let keys: Vec<String> = ids.iter().map(|id| format!("({}, {id})", id % 4)).collect();
                format!("UPDATE orders SET {bump}, flag = NOT flag{tag} WHERE (region, id) IN ({});", keys.join(", "))
            }
        }
    }

    fn change_key(&self, table: usize, old: i64, new: i64, rng: &mut Rng) -> String {
        match table {
            0 => format!(
                "UPDATE accounts SET id = {new}, version = 1, val = 'v1', amount = {} WHERE id = {old};",
                amount(rng)
            ),
            _ => format!(
                "UPDATE orders SET region = {}, id = {new}, version = 1, val = 'v1' WHERE region = {} AND id = {old};",
                new % 4,
                old % 4
            ),
        }
    }

    fn delete(&self, table: usize, id: i64) -> String {
        match table {
            0 => format!("DELETE FROM accounts WHERE id = {id};"),
            _ => format!("DELETE FROM orders WHERE region = {} AND id = {id};", id % 4),
        }
    }
}

/// One Postgres writer: random transactions until `stop`, one in twenty rolled back, a few milliseconds apart; the
/// added columns are written once `evolved` is set.
async fn pg_writer(
    connection: String,
    writer: i64,
    seed: u64,
    stop: Arc<AtomicBool>,
    evolved: Arc<AtomicBool>,
) -> Result<WorkloadStats> {
    let (client, driver) = tokio_postgres::connect(&connection, NoTls).await?;
    tokio::spawn(driver);
    let mut rng = Rng::new(seed, writer);
    let mut ids = Ids::new(writer, PG_ROWS);
    let mut stats = WorkloadStats::default();
    while !stop.load(Ordering::Relaxed) {
        let mut live = ids.live.clone();
        let mut counted = WorkloadStats::default();
        let body =
            transaction(&PgStatements, &mut rng, &mut ids, &mut live, evolved.load(Ordering::SeqCst), &mut counted);
        if rng.below(20) == 0 {
            run_past_deadlocks(&client, &format!("BEGIN; {body} ROLLBACK;")).await?;
            stats.rolled_back += 1;
        } else {
            run_past_deadlocks(&client, &format!("BEGIN; {body} COMMIT;")).await.with_context(|| body.clone())?;
            ids.live = live;
            counted.committed = 1;
            stats.add(&counted);
        }
        tokio::time::sleep(Duration::from_millis(4)).await;
    }
    Ok(stats)
}

/// Runs a transaction, again whenever Postgres aborts it as a deadlock victim: the writers never conflict with each
/// other, but a transaction can deadlock with the schema evolution's ALTER TABLE, and either side may be aborted.
async fn run_past_deadlocks(client: &tokio_postgres::Client, transaction: &str) -> Result<()> {
    loop {
        match client.batch_execute(transaction).await {
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::T_R_DEADLOCK_DETECTED) => {
                client.batch_execute("ROLLBACK").await?;
            }
            outcome => return Ok(outcome?),
        }
    }
}

/// The Postgres workload: [`WRITERS`] writers on a thread of their own until [`PgWorkload::stop`].
struct PgWorkload {
    stop: Arc<AtomicBool>,
    evolved: Arc<AtomicBool>,
    failure: Failure,
    thread: Option<JoinHandle<Result<Vec<WorkloadStats>>>>,
}

impl PgWorkload {
    fn start(server: &PostgresServer, seed: u64) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let evolved = Arc::new(AtomicBool::new(false));
        let failure = Failure::default();
        let connection = connection(server, &server.dbname);
        let (flag, evolved_flag, failed) = (Arc::clone(&stop), Arc::clone(&evolved), failure.clone());
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async move {
                let handles: Vec<_> = (0..WRITERS)
                    .map(|w| {
                        let writer =
                            pg_writer(connection.clone(), w, seed, Arc::clone(&flag), Arc::clone(&evolved_flag));
                        let failed = failed.clone();
                        tokio::spawn(async move { failed.keep(writer.await) })
                    })
                    .collect();
                let mut results = Vec::new();
                for handle in handles {
                    results.push(handle.await??);
                }
                Ok(results)
            })
        });
        PgWorkload { stop, evolved, failure, thread: Some(thread) }
    }

    /// Fails when a writer failed or the writers stopped.
    fn check(&self) -> Result<()> {
        self.failure.check(self.thread.as_ref().is_none_or(JoinHandle::is_finished))
    }

    /// Adds the columns (the writers wait for the lock between their transactions) and has the writers use them.
    fn evolve(&self, source: &Pg) -> Result<()> {
        let evolution = format!("BEGIN; {PG_EVOLUTION} COMMIT;");
        source.runtime.block_on(run_past_deadlocks(&source.client, &evolution)).context("evolving the schema")?;
        self.evolved.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn stop(mut self) -> Result<WorkloadStats> {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread.take().context("stopped")?;
        let mut total = WorkloadStats::default();
        for stats in thread.join().map_err(|_| anyhow!("the workload panicked"))?? {
            total.add(&stats);
        }
        Ok(total)
    }
}

impl Drop for PgWorkload {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The Postgres source connector capturing both tables.
fn pg_source(server: &PostgresServer) -> Json {
    json!({"name": "pg-source", "config": {
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "database.hostname": server.host,
        "database.port": server.port.to_string(),
        "database.user": server.user,
        "database.password": server.password,
        "database.dbname": server.dbname,
        "topic.prefix": PREFIX,
        "table.include.list": TABLES.iter().map(|t| format!("public.{t}")).collect::<Vec<_>>().join(","),
        "offset.flush.interval.ms": "200",
    }})
}

#[test]
fn postgres_to_postgres_under_two_kill_9s_the_target_tables_end_equal_to_the_source() -> Result<()> {
    let started = Instant::now();
    let seed = std::env::var("TIDEMARK_SINK_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(SEED);
    eprintln!("workload seed {seed} (TIDEMARK_SINK_SEED repeats it)");
    let server = PostgresServer::start()?;
    let source = Pg::connect(&server, &server.dbname)?;
    source.execute(&pg_schema())?;
    source.execute(&format!("CREATE DATABASE {REPLICA}"))?;
    let target = Pg::connect(&server, REPLICA)?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data)?;
    let mut tidemark = TidemarkProcess::start_up(&data, "127.0.0.1:0", "127.0.0.1:0", &[])?;
    let addresses = UpAddresses::of(&tidemark)?;
    let connect = addresses.connect_url();

    // The workload runs from before the connectors exist until after the second restart.
    let workload = PgWorkload::start(&server, seed);
    let sink = jdbc_sink("pg-sink", &pg_url(&server, REPLICA), (&server.user, &server.password), "public");
    create_connectors(&connect, dir.path(), &[pg_source(&server), sink])?;
    let created = Instant::now();
    let connectors = (connect.as_str(), &["pg-source", "pg-sink"][..]);
    let alive = || workload.check();

    // Kill 1, during the initial load: once a tenth of the snapshot's rows reached the target.
    wait_until("rows in the target before kill 1", connectors, PATIENCE, &alive, |seen| {
        let progress = pg_progress(&target);
        *seen = format!("{progress:?}");
        Ok((progress.0 >= PG_ROWS / 5).then_some(()))
    })?;
    tidemark.kill9()?;
    // What the target holds now that nothing writes to it: delivery after the restart goes beyond it.
    let at_kill = pg_progress(&target);
    eprintln!(
        "kill 1 {:.2} s after the create: target (rows, max id, noted) {at_kill:?}",
        created.elapsed().as_secs_f64()
    );

    // Restart; once delivery resumed (an id beyond the target's highest at the kill), add the columns.
    let mut tidemark = addresses.restart(&data)?;
    wait_until("delivery after restart 1", connectors, PATIENCE, &alive, |seen| {
        let progress = pg_progress(&target);
        *seen = format!("{progress:?}");
        Ok((progress.1 > at_kill.1).then_some(()))
    })?;
    workload.evolve(&source)?;
    eprintln!("columns added {:.2} s after the create", created.elapsed().as_secs_f64());

    // Kill 2, during the stream: once rows with values in the added columns reached the target.
    wait_until("rows with the added columns in the target before kill 2", connectors, PATIENCE, &alive, |seen| {
        let progress = pg_progress(&target);
        *seen = format!("{progress:?}");
        Ok((progress.2 >= 100).then_some(()))
    })?;
    tidemark.kill9()?;
    let at_kill = pg_progress(&target);
    eprintln!(
        "kill 2 {:.2} s after the create: target (rows, max id, noted) {at_kill:?}",
        created.elapsed().as_secs_f64()
    );

    // Restart; once delivery resumed, stop the workload.
    let tidemark = addresses.restart(&data)?;
    wait_until("delivery after restart 2", connectors, PATIENCE, &alive, |seen| {
        let progress = pg_progress(&target);
        *seen = format!("{progress:?}");
        Ok((progress.1 > at_kill.1 && progress.2 > at_kill.2).then_some(()))
    })?;
    let stats = workload.stop()?;
    eprintln!("workload stopped {:.2} s after the create: {stats:?}", created.elapsed().as_secs_f64());
    ensure!(
        stats.rolled_back > 0 && stats.key_changes > 0 && stats.deletes > 0 && stats.updates > 0,
        "the workload did not do everything it should: {stats:?}"
    );

    // The sink catches up: its group committed the end of both topics, and the target equals the source.
    let topics: Vec<String> = TABLES.iter().map(|t| format!("{PREFIX}.public.{t}")).collect();
    let caught_up = Instant::now();
    let source_columns: Vec<Vec<(String, String)>> =
        (0..2).map(|t| source.columns(TABLES[t])).collect::<Result<_>>()?;
    wait_until("the target equal to the source", connectors, PATIENCE, &|| Ok(()), |seen| {
        match sink_lag(&tidemark.bootstrap, "pg-sink", &topics) {
            Ok(0) => {}
            Ok(lag) => {
                *seen = format!("the sink's group is {lag} records behind");
                return Ok(None);
            }
            Err(error) => {
                *seen = format!("the sink's lag: {error:#}");
                return Ok(None);
            }
        }
        for (t, columns) in source_columns.iter().enumerate() {
            let expected = pg_dump(&source, t, columns)?;
            match pg_dump(&target, t, columns) {
                Ok(rows) if rows == expected => {}
                Ok(rows) => {
                    *seen = format!("{}: {}", TABLES[t], difference(&expected, &rows));
                    return Ok(None);
                }
                Err(error) => {
                    *seen = format!("{}: {error:#}", TABLES[t]);
                    return Ok(None);
                }
            }
        }
        Ok(Some(()))
    })?;
    eprintln!("caught up {:.2} s after the workload stopped", caught_up.elapsed().as_secs_f64());

    // Schema evolution gave the target tables the source's columns, with the same types.
    for (t, columns) in source_columns.iter().enumerate() {
        let mut expected = columns.clone();
        let mut actual = target.columns(TABLES[t])?;
        expected.sort();
        actual.sort();
        ensure!(actual == expected, "{}: the target's columns {actual:?}, the source's {expected:?}", TABLES[t]);
        let rows = source.number(&format!("SELECT count(*) FROM {}", TABLES[t]))?;
        eprintln!("{}: {rows} rows equal, columns {columns:?}", TABLES[t]);
    }
    for name in connectors.1 {
        let state = task_state(&connect, name);
        ensure!(state.contains("RUNNING"), "{name} is not running: {state}");
    }
    drop(tidemark);
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// MariaDB.
// ---------------------------------------------------------------------------------------------------------------

/// The source database on the MariaDB server.
const SHOP: &str = "shop";
/// Rows in each MariaDB source table before the connectors exist.
const MARIADB_ROWS: i64 = 1_500;

/// The MariaDB source tables and their first rows, the target database and the `tidemark` user's grants on it.
/// `seen` is a `DATETIME(3)` (Debezium's `Timestamp`), `amount` a `DECIMAL(12,2)`.
fn mariadb_schema() -> String {
    format!(
        "CREATE DATABASE {SHOP};
         CREATE TABLE {SHOP}.accounts (id BIGINT PRIMARY KEY, version INT NOT NULL, val VARCHAR(20) NOT NULL,
                                       amount DECIMAL(12,2) NOT NULL, seen DATETIME(3));
         CREATE TABLE {SHOP}.orders (region INT NOT NULL, id BIGINT NOT NULL, version INT NOT NULL,
                                     val VARCHAR(20) NOT NULL, PRIMARY KEY (region, id));
         INSERT INTO {SHOP}.accounts SELECT seq, 1, 'v1', seq * 1.25,
                                            TIMESTAMP '2024-02-29 12:00:00.123' + INTERVAL (seq * 1001000) MICROSECOND
                                     FROM {SHOP}.seq_1_to_{MARIADB_ROWS};
         INSERT INTO {SHOP}.orders SELECT seq % 4, seq, 1, 'v1' FROM {SHOP}.seq_1_to_{MARIADB_ROWS};
         CREATE DATABASE {REPLICA};
         GRANT ALL ON {REPLICA}.* TO 'tidemark'@'%';"
    )
}

/// The schema change the MariaDB workload makes halfway.
fn mariadb_evolution() -> String {
    format!("ALTER TABLE {SHOP}.accounts ADD COLUMN note VARCHAR(40); ALTER TABLE {SHOP}.orders ADD COLUMN tag BIGINT;")
}

/// The MariaDB workload's statements.
struct MariaDbStatements;

impl Statements for MariaDbStatements {
    fn insert(&self, table: usize, ids: &[i64], rng: &mut Rng, evolved: bool) -> String {
        let rows: Vec<String> = ids
            .iter()
            .map(|id| match (table, evolved) {
                (0, false) => format!("({id}, 1, 'v1', {}, NOW(3))", amount(rng)),
                (0, true) => format!("({id}, 1, 'v1', {}, NOW(3), 'n{}')", amount(rng), rng.below(1000)),
                (_, false) => format!("({}, {id}, 1, 'v1')", id % 4),
                (_, true) => format!("({}, {id}, 1, 'v1', {})", id % 4, nullable_number(rng)),
            })
            .collect();
        let columns = match (table, evolved) {
            (0, false) => "id, version, val, amount, seen",
            (0, true) => "id, version, val, amount, seen, note",
            (_, false) => "region, id, version, val",
            (_, true) => "region, id, version, val, tag",
        };
        format!("INSERT INTO {SHOP}.{} ({columns}) VALUES {};", TABLES[table], rows.join(", "))
    }

    fn update(&self, table: usize, ids: &[i64], rng: &mut Rng, evolved: bool) -> String {
        // MySQL assigns left to right: `val` from the old version first.
        let bump = "val = CONCAT('v', version + 1), version = version + 1";
        match table {
            0 => {
                let note = if evolved { format!(", note = 'n{}'", rng.below(1000)) } else { String::new() };
                let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
                format!(
                    "UPDATE {SHOP}.accounts SET {bump}, amount = {}, seen = NOW(3){note} WHERE id IN ({});",
                    amount(rng),
                    ids.join(", ")
                )
            }
            _ => {
                let tag = if evolved { format!(", tag = {}", nullable_number(rng)) } else { String::new() };
                let keys: Vec<String> = ids.iter().map(|id| format!("(region = {} AND id = {id})", id % 4)).collect();
                format!("UPDATE {SHOP}.orders SET {bump}{tag} WHERE {};", keys.join(" OR "))
            }
        }
    }

    fn change_key(&self, table: usize, old: i64, new: i64, rng: &mut Rng) -> String {
        match table {
            0 => format!(
                "UPDATE {SHOP}.accounts SET id = {new}, version = 1, val = 'v1', amount = {} WHERE id = {old};",
                amount(rng)
            ),
            _ => format!(
                "UPDATE {SHOP}.orders SET region = {}, id = {new}, version = 1, val = 'v1' \
                 WHERE region = {} AND id = {old};",
                new % 4,
                old % 4
            ),
        }
    }

    fn delete(&self, table: usize, id: i64) -> String {
        match table {
            0 => format!("DELETE FROM {SHOP}.accounts WHERE id = {id};"),
            _ => format!("DELETE FROM {SHOP}.orders WHERE region = {} AND id = {id};", id % 4),
        }
    }
}

/// One MariaDB writer: random transactions until `stop`, one in twenty rolled back, a few milliseconds apart; the
/// added columns are written once `evolved` is set.
fn mariadb_writer(
    server: &MariaDbServer,
    writer: i64,
    seed: u64,
    (stop, evolved): (&AtomicBool, &AtomicBool),
) -> Result<WorkloadStats> {
    let mut session = RootSession::open(server)?;
    // No gap locks: the writers own distinct ids, and fresh ids of both interleave.
    session.send("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED;")?;
    let mut rng = Rng::new(seed, writer);
    let mut ids = Ids::new(writer, MARIADB_ROWS);
    let mut stats = WorkloadStats::default();
    while !stop.load(Ordering::Relaxed) {
        let mut live = ids.live.clone();
        let mut counted = WorkloadStats::default();
        let body = transaction(
            &MariaDbStatements,
            &mut rng,
            &mut ids,
            &mut live,
            evolved.load(Ordering::SeqCst),
            &mut counted,
        );
        if rng.below(20) == 0 {
            session.send(&format!("BEGIN; {body} ROLLBACK;"))?;
            stats.rolled_back += 1;
        } else {
            session.send(&format!("BEGIN; {body} COMMIT;"))?;
            ids.live = live;
            counted.committed = 1;
            stats.add(&counted);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    session.close()?;
    Ok(stats)
}

/// The MariaDB workload: [`WRITERS`] writers, each on a thread of its own, until [`MariaDbWorkload::stop`].
struct MariaDbWorkload {
    stop: Arc<AtomicBool>,
    evolved: Arc<AtomicBool>,
    failure: Failure,
    threads: Vec<JoinHandle<Result<WorkloadStats>>>,
}

impl MariaDbWorkload {
    fn start(server: &Arc<MariaDbServer>, seed: u64) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let evolved = Arc::new(AtomicBool::new(false));
        let failure = Failure::default();
        let threads = (0..WRITERS)
            .map(|w| {
                let (server, stop, evolved) = (Arc::clone(server), Arc::clone(&stop), Arc::clone(&evolved));
                let failed = failure.clone();
                std::thread::spawn(move || failed.keep(mariadb_writer(&server, w, seed, (&stop, &evolved))))
            })
            .collect();
        MariaDbWorkload { stop, evolved, failure, threads }
    }

    /// Fails when a writer failed or the writers stopped.
    fn check(&self) -> Result<()> {
        self.failure.check(self.threads.iter().any(JoinHandle::is_finished))
    }

    /// Adds the columns and has the writers use them (statements they sent before run before the change).
    fn evolve(&self, server: &MariaDbServer) -> Result<()> {
        server.root_sql(&mariadb_evolution())?;
        self.evolved.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Stops the writers and waits until every transaction they sent ran.
    fn stop(mut self) -> Result<WorkloadStats> {
        self.stop.store(true, Ordering::Relaxed);
        let mut total = WorkloadStats::default();
        for thread in std::mem::take(&mut self.threads) {
            total.add(&thread.join().map_err(|_| anyhow!("a writer panicked"))??);
        }
        Ok(total)
    }
}

/// A test that fails early still stops the writers, so that the server they hold goes when the test ends.
impl Drop for MariaDbWorkload {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in std::mem::take(&mut self.threads) {
            let _ = thread.join();
        }
    }
}

/// The columns of `database.table` on a MariaDB server, with their types (`DATA_TYPE`: `bigint`, `datetime`, ...).
fn mariadb_columns(server: &MariaDbServer, database: &str, table: &str) -> Result<Vec<(String, String)>> {
    server
        .root_sql(&format!(
            "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS
             WHERE TABLE_SCHEMA = '{database}' AND TABLE_NAME = '{table}' ORDER BY ORDINAL_POSITION"
        ))?
        .lines()
        .map(|line| line.split_once('\t').map(|(c, t)| (c.to_owned(), t.to_owned())).context("not a column"))
        .collect()
}

/// The rows of table `t` of `database` on a MariaDB server, in key order, with the given columns (those of the
/// source) as text; a `DATETIME` as `YYYY-MM-DD HH:MM:SS.ffffff`.
fn mariadb_dump(server: &MariaDbServer, database: &str, t: usize, columns: &[(String, String)]) -> Result<Vec<String>> {
    let select: Vec<String> = columns
        .iter()
        .map(|(name, data_type)| match data_type.as_str() {
            "datetime" | "timestamp" => format!("DATE_FORMAT({name}, '%Y-%m-%d %H:%i:%s.%f')"),
            _ => name.clone(),
        })
        .collect();
    let out = server.root_sql(&format!(
        "SELECT {} FROM {database}.{} t ORDER BY {}",
        select.join(", "),
        TABLES[t],
        key_columns(t)
    ))?;
    Ok(out.lines().map(str::to_owned).collect())
}

/// How far the MariaDB target got: its rows, the highest id in it, and its rows with a value in an added column
/// (0 for what does not exist yet).
fn mariadb_progress(server: &MariaDbServer) -> (i64, i64, i64) {
    let number = |sql: &str| server.root_sql(sql).ok().and_then(|out| out.trim().parse::<i64>().ok()).unwrap_or(0);
    let rows =
        number(&format!("SELECT (SELECT COUNT(*) FROM {REPLICA}.accounts) + (SELECT COUNT(*) FROM {REPLICA}.orders)"));
    let max_id = number(&format!(
        "SELECT GREATEST((SELECT COALESCE(MAX(id), 0) FROM {REPLICA}.accounts),
                         (SELECT COALESCE(MAX(id), 0) FROM {REPLICA}.orders))"
    ));
    let noted = number(&format!("SELECT COUNT(*) FROM {REPLICA}.accounts WHERE note IS NOT NULL"))
        + number(&format!("SELECT COUNT(*) FROM {REPLICA}.orders WHERE tag IS NOT NULL"));
    (rows, max_id, noted)
}

/// The MySQL source connector capturing both tables.
fn mariadb_source(server: &MariaDbServer) -> Json {
    json!({"name": "mariadb-source", "config": {
        "connector.class": "io.debezium.connector.mysql.MySqlConnector",
        "database.hostname": server.host,
        "database.port": server.port.to_string(),
        "database.user": server.user,
        "database.password": server.password,
        "database.server.id": "5501",
        "topic.prefix": PREFIX,
        "table.include.list": TABLES.iter().map(|t| format!("{SHOP}.{t}")).collect::<Vec<_>>().join(","),
        "offset.flush.interval.ms": "200",
    }})
}

#[test]
fn mariadb_to_postgres_and_mariadb_under_kill_9_both_targets_end_equal_to_the_source() -> Result<()> {
    let started = Instant::now();
    let seed = std::env::var("TIDEMARK_SINK_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(SEED);
    eprintln!("workload seed {seed} (TIDEMARK_SINK_SEED repeats it)");
    let server = Arc::new(MariaDbServer::start()?);
    server.root_sql(&mariadb_schema())?;
    let postgres = PostgresServer::start()?;
    Pg::connect(&postgres, &postgres.dbname)?.execute(&format!("CREATE DATABASE {REPLICA}"))?;
    let pg_target = Pg::connect(&postgres, REPLICA)?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data)?;
    let mut tidemark = TidemarkProcess::start_up(&data, "127.0.0.1:0", "127.0.0.1:0", &[])?;
    let addresses = UpAddresses::of(&tidemark)?;
    let connect = addresses.connect_url();

    let workload = MariaDbWorkload::start(&server, seed);
    let pg_sink = jdbc_sink("pg-sink", &pg_url(&postgres, REPLICA), (&postgres.user, &postgres.password), SHOP);
    let mariadb_url = format!("jdbc:mariadb://{}:{}/{REPLICA}", server.host, server.port);
    let mariadb_sink = jdbc_sink("mariadb-sink", &mariadb_url, (&server.user, &server.password), SHOP);
    create_connectors(&connect, dir.path(), &[mariadb_source(&server), pg_sink, mariadb_sink])?;
    let created = Instant::now();
    let connectors = (connect.as_str(), &["mariadb-source", "pg-sink", "mariadb-sink"][..]);
    let alive = || workload.check();
    let progress = || (pg_progress(&pg_target), mariadb_progress(&server));

    // Once rows reached both targets, add the columns.
    wait_until("rows in both targets", connectors, PATIENCE, &alive, |seen| {
        let (pg, mariadb) = progress();
        *seen = format!("Postgres {pg:?}, MariaDB {mariadb:?}");
        Ok((pg.0 >= MARIADB_ROWS / 5 && mariadb.0 >= MARIADB_ROWS / 5).then_some(()))
    })?;
    workload.evolve(&server)?;
    eprintln!("columns added {:.2} s after the create", created.elapsed().as_secs_f64());

    // Kill, once rows with values in the added columns reached both targets.
    wait_until("rows with the added columns in both targets", connectors, PATIENCE, &alive, |seen| {
        let (pg, mariadb) = progress();
        *seen = format!("Postgres {pg:?}, MariaDB {mariadb:?}");
        Ok((pg.2 >= 50 && mariadb.2 >= 50).then_some(()))
    })?;
    tidemark.kill9()?;
    // What the targets hold now that nothing writes to them: delivery after the restart goes beyond it.
    let at_kill = progress();
    eprintln!(
        "killed {:.2} s after the create: targets (rows, max id, noted) {at_kill:?}",
        created.elapsed().as_secs_f64()
    );

    // Restart; once delivery resumed into both, stop the workload.
    let tidemark = addresses.restart(&data)?;
    wait_until("delivery after the restart", connectors, PATIENCE, &alive, |seen| {
        let (pg, mariadb) = progress();
        *seen = format!("Postgres {pg:?}, MariaDB {mariadb:?}");
        Ok((pg.1 > at_kill.0 .1 && mariadb.1 > at_kill.1 .1).then_some(()))
    })?;
    let stats = workload.stop()?;
    eprintln!("workload stopped {:.2} s after the create: {stats:?}", created.elapsed().as_secs_f64());
    ensure!(
        stats.rolled_back > 0 && stats.key_changes > 0 && stats.deletes > 0 && stats.updates > 0,
        "the workload did not do everything it should: {stats:?}"
    );

    // Both sinks catch up, and both targets equal the source.
    let topics: Vec<String> = TABLES.iter().map(|t| format!("{PREFIX}.{SHOP}.{t}")).collect();
    let caught_up = Instant::now();
    let source_columns: Vec<Vec<(String, String)>> =
        (0..2).map(|t| mariadb_columns(&server, SHOP, TABLES[t])).collect::<Result<_>>()?;
    wait_until("both targets equal to the source", connectors, PATIENCE, &|| Ok(()), |seen| {
        for sink in ["pg-sink", "mariadb-sink"] {
            match sink_lag(&tidemark.bootstrap, sink, &topics) {
                Ok(0) => {}
                Ok(lag) => {
                    *seen = format!("{sink}'s group is {lag} records behind");
                    return Ok(None);
                }
                Err(error) => {
                    *seen = format!("{sink}'s lag: {error:#}");
                    return Ok(None);
                }
            }
        }
        for (t, columns) in source_columns.iter().enumerate() {
            let expected = mariadb_dump(&server, SHOP, t, columns)?;
            for (what, dumped) in
                [("Postgres", pg_dump(&pg_target, t, columns)), ("MariaDB", mariadb_dump(&server, REPLICA, t, columns))]
            {
                match dumped {
                    Ok(rows) if rows == expected => {}
                    Ok(rows) => {
                        *seen = format!("{what} {}: {}", TABLES[t], difference(&expected, &rows));
                        return Ok(None);
                    }
                    Err(error) => {
                        *seen = format!("{what} {}: {error:#}", TABLES[t]);
                        return Ok(None);
                    }
                }
            }
        }
        Ok(Some(()))
    })?;
    eprintln!("caught up {:.2} s after the workload stopped", caught_up.elapsed().as_secs_f64());

    // Schema evolution gave both targets the source's columns.
    for (t, columns) in source_columns.iter().enumerate() {
        let expected: BTreeSet<String> = columns.iter().map(|(name, _)| name.to_ascii_lowercase()).collect();
        let in_postgres: BTreeSet<String> = pg_target.columns(TABLES[t])?.into_iter().map(|(name, _)| name).collect();
        let in_mariadb = mariadb_columns(&server, REPLICA, TABLES[t])?;
        let in_mariadb: BTreeSet<String> = in_mariadb.into_iter().map(|(name, _)| name.to_ascii_lowercase()).collect();
        ensure!(in_postgres == expected, "{}: Postgres has {in_postgres:?}, the source {expected:?}", TABLES[t]);
        ensure!(in_mariadb == expected, "{}: MariaDB has {in_mariadb:?}, the source {expected:?}", TABLES[t]);
        eprintln!(
            "{}: {} rows equal in both targets; Postgres columns {:?}, MariaDB columns {:?}",
            TABLES[t],
            mariadb_dump(&server, SHOP, t, columns)?.len(),
            pg_target.columns(TABLES[t])?,
            mariadb_columns(&server, REPLICA, TABLES[t])?
        );
    }
    for name in connectors.1 {
        let state = task_state(&connect, name);
        ensure!(state.contains("RUNNING"), "{name} is not running: {state}");
    }
    drop(tidemark);
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
