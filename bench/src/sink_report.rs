//! Printing the `sink` benchmark's figures, references, runs and diagnostics.

use std::path::Path;

use crate::broker::ProcSample;
use crate::cdc_report::secs;
use crate::report::{thousands, verdict};
use crate::sink::{SinkRuns, SinkSettings, DEFAULT_BATCH, DEFAULT_MAX_POLL};
use crate::sink_pass::SinkPass;
use crate::sink_refs::Statements;

/// Goal: sink inserts rows/s ÷ COPY rows/s.
const GOAL_INSERTS_VS_COPY: f64 = 0.5;
/// Goal: sink upserts over existing keys rows/s ÷ COPY rows/s.
const GOAL_UPSERTS_VS_COPY: f64 = 0.3;

/// The setting and whether it is the default.
fn setting(value: Option<u64>, default: u64, whose: &str) -> String {
    match value {
        Some(v) => format!("{v} (BENCH_SINK_*; {whose} default {default})"),
        None => format!("{default} ({whose} default)"),
    }
}

/// One pass: rate, start-up, puts and their share of the run, Postgres's CPU.
fn pass(run: &SinkPass) -> String {
    let d = &run.drained;
    let (puts, put_secs) = d.batches;
    let wall = d.elapsed.as_secs_f64();
    format!(
        "{} rows at revision {} visible at {} = {} rows/s; first row visible at {}, {} rows/s from then on; {:.0} puts \
         of {:.0} records, {:.2} ms each inside put (statements and COMMIT: {:.2} s, {:.0}% of the run); Postgres CPU \
         {:.2} s",
        thousands(d.records as f64),
        run.rev,
        secs(Some(d.elapsed)),
        thousands(d.records_per_s()),
        secs(d.first_written),
        d.streaming_per_s().map_or("-".to_owned(), thousands),
        puts,
        d.records as f64 / puts.max(1.0),
        1000.0 * put_secs / puts.max(1.0),
        put_secs,
        100.0 * put_secs / wall,
        run.server_cpu,
    )
}

/// The statements reference of one pass.
fn statements(run: &Statements, rows: u64) -> String {
    format!(
        "{:.2} s inside the database calls = {} rows/s (wall {:.2} s with the benchmark generating the values' text); \
         {} transactions, {} statements; Postgres CPU {:.2} s",
        run.timed.elapsed.as_secs_f64(),
        thousands(rows as f64 / run.timed.elapsed.as_secs_f64()),
        run.wall.as_secs_f64(),
        thousands(run.transactions as f64),
        thousands(run.statements as f64),
        run.timed.server_cpu,
    )
}

/// Prints the report.
pub fn print(
    settings: &SinkSettings,
    binary: &Path,
    runs: &SinkRuns,
    final_sample: ProcSample,
    (problems, first_problems): (u64, Vec<String>),
) {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let rows = settings.rows;
    let rate = |secs: f64| rows as f64 / secs;
    let (before, after) = runs.copy;
    let copy_per_s = rate((before.elapsed + after.elapsed).as_secs_f64() / 2.0);
    let db_upsert_per_s = rate(runs.db_upsert.total.elapsed.as_secs_f64());
    let (inserts, upserts) = (&runs.inserts, &runs.upserts);

    println!("== Tidemark JDBC sink benchmark ==");
    println!(
        "machine: {cpus} CPUs; load average {} before, {} after (1/5/15 min, this run included)",
        runs.load.0, runs.load.1
    );
    println!(
        "postgres: {}; harness settings (fsync=off, full_page_writes=off, shared_buffers=32MB)",
        runs.postgres_version
    );
    println!(
        "tidemark up: {} --group-initial-rebalance-delay-ms 0 (converters: Avro through the bundled registry)",
        binary.display()
    );
    println!(
        "table: id bigint PRIMARY KEY, rev integer, name text, price numeric(12, 2), updated_at timestamp, active boolean, \
         note text ({:.0} bytes of COPY text a row); autovacuum off; CHECKPOINT before each timed run",
        runs.copy_bytes as f64 / rows.max(1) as f64
    );
    println!(
        "connector: io.debezium.connector.jdbc.JdbcSinkConnector, tasks.max=1, insert.mode=upsert, \
         primary.key.mode=record_key, schema.evolution=basic (the table exists), max.poll.records {}, batch.size {}",
        setting(settings.max_poll, DEFAULT_MAX_POLL, "the worker's"),
        setting(settings.batch_size, DEFAULT_BATCH, "the sink's"),
    );
    println!();
    println!("figures (ratios to references measured in this run)");
    let ratio = inserts.drained.records_per_s() / copy_per_s;
    println!(
        "  [{}] sink inserts ({} rows into an empty table): {} rows/s = {ratio:.2}x COPY FROM STDIN into an empty table \
         ({} rows/s); goal >= {GOAL_INSERTS_VS_COPY}x",
        verdict(ratio, GOAL_INSERTS_VS_COPY),
        thousands(rows as f64),
        thousands(inserts.drained.records_per_s()),
        thousands(copy_per_s),
    );
    let ratio = upserts.drained.records_per_s() / copy_per_s;
    println!(
        "  [{}] sink upserts ({} rows over existing keys): {} rows/s = {ratio:.2}x COPY FROM STDIN into an empty table \
         ({} rows/s); goal >= {GOAL_UPSERTS_VS_COPY}x",
        verdict(ratio, GOAL_UPSERTS_VS_COPY),
        thousands(rows as f64),
        thousands(upserts.drained.records_per_s()),
        thousands(copy_per_s),
    );
    println!(
        "  [INFO] sink upserts against the database-side upsert (COPY into a temporary table + INSERT ... ON CONFLICT DO \
         UPDATE, {} rows/s): {:.2}x; goal: none set in the issue",
        thousands(db_upsert_per_s),
        upserts.drained.records_per_s() / db_upsert_per_s,
    );
    for (method, into, over) in &runs.statements {
        let (into_per_s, over_per_s) = (rate(into.timed.elapsed.as_secs_f64()), rate(over.timed.elapsed.as_secs_f64()));
        println!(
            "  [INFO] {} from the benchmark without the worker: inserts {} rows/s = {:.2}x COPY, upserts {} rows/s = \
             {:.2}x COPY; goal: none (the database's share)",
            method.describe(),
            thousands(into_per_s),
            into_per_s / copy_per_s,
            thousands(over_per_s),
            over_per_s / copy_per_s,
        );
    }
    println!();
    let (first, second) = &runs.topics;
    println!(
        "topics (written before any clock starts, 1 partition each): {} and {}, {} Avro records each (key {{id}}, value \
         the flat row, Confluent framing), {:.1} and {:.1} MB of key + value ({:.1} B a record), produced in {:.2} s and \
         {:.2} s",
        first.topic,
        second.topic,
        thousands(rows as f64),
        first.bytes as f64 / 1e6,
        second.bytes as f64 / 1e6,
        first.bytes as f64 / first.records.max(1) as f64,
        first.elapsed.as_secs_f64(),
        second.elapsed.as_secs_f64(),
    );
    println!("references (the benchmark's own connection, same server)");
    println!(
        "  COPY t (...) FROM STDIN, text format, {:.1} MB, into an empty table of the same definition (primary key \
         included), timed from the statement to its completion: {:.2} s before Tidemark (Postgres CPU {:.2} s), {:.2} s \
         after (Postgres CPU {:.2} s); the reference is the mean: {} rows/s",
        runs.copy_bytes as f64 / 1e6,
        before.elapsed.as_secs_f64(),
        before.server_cpu,
        after.elapsed.as_secs_f64(),
        after.server_cpu,
        thousands(copy_per_s),
    );
    println!(
        "  database-side upsert over the second COPY's rows, in one transaction: {:.2} s = {} rows/s (COPY into a \
         temporary table {:.2} s, INSERT ... SELECT ... ON CONFLICT (id) DO UPDATE {:.2} s); Postgres CPU {:.2} s",
        runs.db_upsert.total.elapsed.as_secs_f64(),
        thousands(db_upsert_per_s),
        runs.db_upsert.copy.as_secs_f64(),
        runs.db_upsert.upsert.as_secs_f64(),
        runs.db_upsert.total.server_cpu,
    );
    println!(
        "  the sink's transactions from the benchmark ({} rows a transaction, as one put gets, between START TRANSACTION \
         and COMMIT; {}-row statements with every value a text parameter):",
        settings.per_put(),
        settings.per_statement().min(settings.per_put()),
    );
    for (method, into, over) in &runs.statements {
        println!("    {}:", method.describe());
        println!("      into an empty table: {}", statements(into, rows));
        println!("      over the same keys: {}", statements(over, rows));
    }
    println!(
        "tidemark (each pass a new connector, timed from POST /connectors until the row of the last record shows its \
         revision, looked up every 20 ms; counted and compared with the references row for row afterwards)"
    );
    println!("  inserts: {}; target {:.1} MB after", pass(inserts), runs.target_bytes.0 as f64 / 1e6);
    println!("  upserts: {}; target {:.1} MB after", pass(upserts), runs.target_bytes.1 as f64 / 1e6);
    println!();
    println!("diagnostics (\"broker\" is the whole `tidemark up` process: broker, registry and worker; \"payload\": the topic's key + value bytes)");
    for (name, run, topic) in [("inserts", inserts, first), ("upserts", upserts, second)] {
        println!("  {name}: {}", run.cost.describe(topic.bytes));
    }
    println!(
        "  tidemark up peak RSS (VmHWM): {:.1} MiB; log: {problems} WARN/ERROR lines",
        final_sample.hwm_kib as f64 / 1024.0
    );
    for line in first_problems {
        println!("    {line}");
    }
}
