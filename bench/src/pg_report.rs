//! Printing the `pg` benchmark's figures, references, runs and diagnostics.

use std::path::Path;

use crate::broker::ProcSample;
use crate::cdc_report::{drained, ms, percentiles};
use crate::pg::{PgRuns, PgSettings};
use crate::pg_stream::{Shape, StreamRun};
use crate::report::{thousands, verdict};

/// Goal: streaming rows/s ÷ `pg_recvlogical` rows/s, for both transaction shapes.
const GOAL_STREAM_VS_RECVLOGICAL: f64 = 0.8;
/// Goal: snapshot rows/s ÷ binary COPY rows/s.
const GOAL_SNAPSHOT_VS_COPY: f64 = 0.5;

/// The label of a streaming run.
fn label(run: &StreamRun) -> String {
    match run.shape {
        Shape::OneTransaction => "1 txn".to_owned(),
        Shape::RowPerTransaction => format!("{} txns", thousands(run.rows as f64)),
    }
}

/// Prints the report.
pub fn print(
    settings: &PgSettings,
    binary: &Path,
    pg_recvlogical: &Path,
    runs: &PgRuns,
    final_sample: ProcSample,
    (problems, first_problems): (u64, Vec<String>),
) {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let (big, small, snapshot, latency) = (&runs.big, &runs.small, &runs.snapshot, &runs.latency);

    println!("== Tidemark Postgres source benchmark ==");
    println!(
        "machine: {cpus} CPUs; load average {} before, {} after (1/5/15 min, this run included)",
        runs.load.0, runs.load.1
    );
    println!(
        "postgres: {}; harness settings (fsync=off, shared_buffers=32MB, wal_level=logical)",
        runs.postgres_version
    );
    println!(
        "tidemark up: {} (converters: Avro through the bundled registry unless said); reference: {}",
        binary.display(),
        pg_recvlogical.display()
    );
    println!(
        "table: 8 columns (bigint key, int, text, numeric(12,2), timestamptz, bool, varchar(32), jsonb); \
         autovacuum off on them; publication FOR ALL TABLES; connector table.include.list=public.<table>, one task; \
         records are durable (fsync) when counted"
    );
    println!();
    println!("figures (ratios to references measured in this run)");
    for run in [big, small] {
        let ratio = run.tidemark.records_per_s() / run.reference_per_s();
        println!(
            "  [{}] pg stream ({}): {} rows/s = {ratio:.2}x pg_recvlogical ({} rows/s); goal >= {GOAL_STREAM_VS_RECVLOGICAL}x",
            verdict(ratio, GOAL_STREAM_VS_RECVLOGICAL),
            label(run),
            thousands(run.tidemark.records_per_s()),
            thousands(run.reference_per_s()),
        );
    }
    let ratio = snapshot.tidemark.records_per_s() / snapshot.copy_per_s();
    println!(
        "  [{}] pg snapshot ({} rows): {} rows/s = {ratio:.2}x binary COPY ({} rows/s); goal >= {GOAL_SNAPSHOT_VS_COPY}x",
        verdict(ratio, GOAL_SNAPSHOT_VS_COPY),
        thousands(snapshot.rows as f64),
        thousands(snapshot.tidemark.records_per_s()),
        thousands(snapshot.copy_per_s()),
    );
    println!(
        "  [INFO] pg latency at {} txn/s (achieved {:.0}/s, {} transactions), commit -> readable by a consumer: p50 {}, p99 {} (max {}); goal: none set in the issue",
        latency.rate,
        latency.achieved_rate,
        thousands(latency.measured as f64),
        ms(latency.from_commit.p50),
        ms(latency.from_commit.p99),
        ms(latency.from_commit.max),
    );
    println!();
    println!(
        "method (streaming): three pgoutput slots are created on the empty table, the rows are written, then each reader drains \
         the same WAL alone: pg_recvlogical --start --endpos <LSN after the rows> -o proto_version=1 -o publication_names=bench_pub -f /dev/null, \
         timed from its start to its exit; then a connector (snapshot.mode=no_data, slot.name=<the second slot>; pgoutput proto_version=2, \
         streaming=on), timed from POST /connectors until /metrics (scraped every 20 ms) counts every record written durably; then \
         pg_recvlogical again on the third slot; the reference is the mean of pg_recvlogical's two times"
    );
    for run in [big, small] {
        println!(
            "  {} ({} rows, {:.1} MB of WAL written in {:.2} s):",
            label(run),
            thousands(run.rows as f64),
            run.wal_bytes as f64 / 1e6,
            run.write_time.as_secs_f64()
        );
        for (when, recv) in [("before", &run.reference_before), ("after", &run.reference_after)] {
            println!(
                "    pg_recvlogical {when} Tidemark: {:.2} s = {} rows/s; pg_recvlogical CPU {:.2} s, Postgres CPU {:.2} s (its walsender decoding)",
                recv.elapsed.as_secs_f64(),
                thousands(run.rows as f64 / recv.elapsed.as_secs_f64()),
                recv.cpu,
                recv.server_cpu,
            );
        }
        println!(
            "    tidemark: {}; Postgres CPU {:.2} s; {} records in the topic",
            drained(&run.tidemark),
            run.tidemark_server_cpu,
            thousands(run.in_topic as f64)
        );
    }
    println!(
        "method (snapshot): the table is filled in one transaction and frozen (VACUUM FREEZE); COPY (SELECT * FROM snap) TO STDOUT \
         (FORMAT binary) read to nowhere over tokio-postgres, right before and right after Tidemark (the reference is the mean); \
         the connector (snapshot.mode=initial_only) is timed from POST /connectors until every record is durable"
    );
    println!(
        "  table {:.1} MB on disk, filled in {:.2} s; COPY {:.2} s before ({:.1} MB of COPY data, Postgres CPU {:.2} s), {:.2} s after (Postgres CPU {:.2} s)",
        snapshot.table_bytes as f64 / 1e6,
        snapshot.fill_time.as_secs_f64(),
        snapshot.copy_before.elapsed.as_secs_f64(),
        snapshot.copy_before.bytes as f64 / 1e6,
        snapshot.copy_before.server_cpu,
        snapshot.copy_after.elapsed.as_secs_f64(),
        snapshot.copy_after.server_cpu,
    );
    println!(
        "  tidemark: {}; Postgres CPU {:.2} s; {} records in the topic",
        drained(&snapshot.tidemark),
        snapshot.tidemark_server_cpu,
        thousands(snapshot.in_topic as f64)
    );
    println!(
        "method (latency): a running connector (snapshot.mode=no_data, value.converter=JsonConverter with schemas.enable=false, key Avro) \
         and a librdkafka consumer assigned to its topic; the benchmark sends single-row autocommit INSERTs on one connection, \
         paced at {}/s for {} s after 200 warm-up rows (at the same rate, all read back before the measured rows start); latency = the consumer's clock when poll returned the record minus \
         the commit time in the event (source.ts_us) or the client's clock before the INSERT (a column of the row)",
        settings.latency_rate, settings.latency_secs,
    );
    println!("  commit -> consumer: {}", percentiles(&latency.from_commit));
    println!("  INSERT sent -> consumer: {}", percentiles(&latency.from_send));
    println!(
        "  commit -> the record's timestamp (the log stamps it when the worker produces; ms resolution): {}",
        percentiles(&latency.commit_to_append)
    );
    println!("  INSERT round trip at the client (commit included): {}", percentiles(&latency.insert_round_trip));
    println!(
        "  disk reference, right after: a 4 KiB append + fdatasync next to tidemark's data (the log syncs each batch it acknowledges): {}",
        percentiles(&runs.append_sync)
    );
    println!();
    println!("diagnostics (\"broker\" is the whole `tidemark up` process: broker, registry and worker)");
    println!("  (\"payload\" below: the run's WAL, or the table's size for the snapshot)");
    for (name, cost, payload) in [
        ("stream 1 txn, pg_recvlogical before", &big.reference_before.cost, big.wal_bytes),
        ("stream 1 txn, tidemark", &big.tidemark_cost, big.wal_bytes),
        ("stream 1 txn, pg_recvlogical after", &big.reference_after.cost, big.wal_bytes),
        ("stream small txns, pg_recvlogical before", &small.reference_before.cost, small.wal_bytes),
        ("stream small txns, tidemark", &small.tidemark_cost, small.wal_bytes),
        ("stream small txns, pg_recvlogical after", &small.reference_after.cost, small.wal_bytes),
        ("snapshot, tidemark", &snapshot.tidemark_cost, snapshot.table_bytes),
        ("latency", &latency.cost, latency.wal_bytes),
    ] {
        println!("  {name}: {}", cost.describe(payload));
    }
    println!(
        "  tidemark up peak RSS (VmHWM): {:.1} MiB; log: {problems} WARN/ERROR lines",
        final_sample.hwm_kib as f64 / 1024.0
    );
    for line in first_problems {
        println!("    {line}");
    }
}
