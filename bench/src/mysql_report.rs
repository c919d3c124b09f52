//! Printing the `mysql` benchmark's figures, references, runs and diagnostics.

use std::path::Path;

use crate::broker::ProcSample;
use crate::cdc_report::{drained, ms, percentiles};
use crate::mysql::{MySqlRuns, MySqlSettings};
use crate::mysql_stream::{Shape, StreamRun};
use crate::report::{thousands, verdict};

/// Goal: streaming rows/s ÷ `mariadb-binlog` rows/s, for both transaction shapes.
const GOAL_STREAM_VS_BINLOG: f64 = 0.8;
/// Goal: snapshot rows/s ÷ `mariadb -e "SELECT * FROM t"` rows/s.
const GOAL_SNAPSHOT_VS_SELECT: f64 = 0.5;

/// The label of a streaming run.
fn label(run: &StreamRun) -> String {
    match run.shape {
        Shape::OneTransaction => "1 txn".to_owned(),
        Shape::RowPerTransaction => format!("{} txns", thousands(run.rows as f64)),
    }
}

/// Prints the report.
pub fn print(
    settings: &MySqlSettings,
    binary: &Path,
    mariadb_binlog: &Path,
    runs: &MySqlRuns,
    final_sample: ProcSample,
    (problems, first_problems): (u64, Vec<String>),
) {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let (big, small, snapshot, latency) = (&runs.big, &runs.small, &runs.snapshot, &runs.latency);

    println!("== Tidemark MySQL source benchmark ==");
    println!(
        "machine: {cpus} CPUs; load average {} before, {} after (1/5/15 min, this run included)",
        runs.load.0, runs.load.1
    );
    println!(
        "server: MariaDB {}; harness settings (binlog_format=ROW, binlog_row_image=FULL, binlog_row_metadata=FULL, \
         innodb_buffer_pool_size=32M, innodb_flush_log_at_trx_commit=2, sync_binlog=0)",
        runs.server_version
    );
    println!(
        "tidemark up: {} (converters: Avro through the bundled registry unless said); reference: {}",
        binary.display(),
        mariadb_binlog.display()
    );
    println!(
        "table: 8 columns (BIGINT key, INT, TEXT, DECIMAL(12,2), TIMESTAMP(6), BOOL, VARCHAR(32), JSON), InnoDB; \
         connector table.include.list=bench.<table>, one task; records are durable (fsync) when counted"
    );
    println!();
    println!("figures (ratios to references measured in this run)");
    for run in [big, small] {
        let ratio = run.tidemark.records_per_s() / run.reference_per_s();
        println!(
            "  [{}] mysql stream ({}): {} rows/s = {ratio:.2}x mariadb-binlog ({} rows/s); goal >= {GOAL_STREAM_VS_BINLOG}x",
            verdict(ratio, GOAL_STREAM_VS_BINLOG),
            label(run),
            thousands(run.tidemark.records_per_s()),
            thousands(run.reference_per_s()),
        );
    }
    let ratio = snapshot.tidemark.records_per_s() / snapshot.select_per_s();
    println!(
        "  [{}] mysql snapshot ({} rows): {} rows/s = {ratio:.2}x mariadb -e \"SELECT * FROM t\" ({} rows/s); goal >= {GOAL_SNAPSHOT_VS_SELECT}x",
        verdict(ratio, GOAL_SNAPSHOT_VS_SELECT),
        thousands(snapshot.rows as f64),
        thousands(snapshot.tidemark.records_per_s()),
        thousands(snapshot.select_per_s()),
    );
    println!(
        "  [INFO] mysql latency at {} txn/s (achieved {:.0}/s, {} transactions), commit -> readable by a consumer: p50 {}, p99 {} (max {}) from the commit's acknowledgement; p50 {}, p99 {} from the INSERT's send; goal: none set in the issue",
        latency.rate,
        latency.achieved_rate,
        thousands(latency.measured as f64),
        ms(latency.from_ack.p50),
        ms(latency.from_ack.p99),
        ms(latency.from_ack.max),
        ms(latency.from_send.p50),
        ms(latency.from_send.p99),
    );
    println!();
    println!(
        "method (streaming): the binlog is rotated (FLUSH BINARY LOGS), the rows are written, the binlog is rotated again; then each \
         reader reads the same binlog files alone: mariadb-binlog --read-from-remote-server -v --base64-output=decode-rows \
         --start-position=<before the rows> <files> > /dev/null, timed from its start to its exit; then a connector \
         (snapshot.mode=no_data; created, stopped and given the offset before the rows beforehand), timed from PUT .../resume \
         until /metrics (scraped every 20 ms) counts every record written durably; then mariadb-binlog again; the reference is \
         the mean of mariadb-binlog's two times"
    );
    for run in [big, small] {
        println!(
            "  {} ({} rows, {:.1} MB of binlog in {} written in {:.2} s):",
            label(run),
            thousands(run.rows as f64),
            run.binlog_bytes as f64 / 1e6,
            run.files.join(" "),
            run.write_time.as_secs_f64()
        );
        for (when, read) in [("before", &run.reference_before), ("after", &run.reference_after)] {
            println!(
                "    mariadb-binlog {when} Tidemark: {:.2} s = {} rows/s; mariadb-binlog CPU {:.2} s, MariaDB CPU {:.2} s",
                read.elapsed.as_secs_f64(),
                thousands(run.rows as f64 / read.elapsed.as_secs_f64()),
                read.cpu,
                read.server_cpu,
            );
        }
        println!(
            "    tidemark: {}; MariaDB CPU {:.2} s; {} records in the topic",
            drained(&run.tidemark),
            run.tidemark_server_cpu,
            thousands(run.in_topic as f64)
        );
    }
    println!(
        "method (snapshot): the table is filled in transactions of 250,000 rows and analyzed; mariadb -e \"SELECT * FROM bench.snap\" \
         > /dev/null over TCP as the connector's user, right before and right after Tidemark (the reference is the mean); \
         the connector (snapshot.mode=initial_only) is timed from POST /connectors until every record is durable"
    );
    println!(
        "  table {:.1} MB on disk, filled in {:.2} s; SELECT {:.2} s before (client CPU {:.2} s, MariaDB CPU {:.2} s), {:.2} s after (client CPU {:.2} s, MariaDB CPU {:.2} s)",
        snapshot.table_bytes as f64 / 1e6,
        snapshot.fill_time.as_secs_f64(),
        snapshot.select_before.elapsed.as_secs_f64(),
        snapshot.select_before.cpu,
        snapshot.select_before.server_cpu,
        snapshot.select_after.elapsed.as_secs_f64(),
        snapshot.select_after.cpu,
        snapshot.select_after.server_cpu,
    );
    println!(
        "  tidemark: {}; MariaDB CPU {:.2} s; {} records in the topic",
        drained(&snapshot.tidemark),
        snapshot.tidemark_server_cpu,
        thousands(snapshot.in_topic as f64)
    );
    println!(
        "method (latency): a running connector (snapshot.mode=no_data, value.converter=JsonConverter with schemas.enable=false, key Avro) \
         and a librdkafka consumer assigned to its topic; the benchmark sends single-row autocommit INSERTs on one connection, \
         paced at {}/s for {} s after 200 warm-up rows (at the same rate, all read back before the measured rows start); the binlog \
         stamps events in whole seconds, so latency = the consumer's clock when poll returned the record minus the client's clock \
         when the INSERT's commit was acknowledged, or when the INSERT was sent (a column of the row); the commit lies between",
        settings.latency_rate, settings.latency_secs,
    );
    println!("  commit acknowledged -> consumer: {}", percentiles(&latency.from_ack));
    println!("  INSERT sent -> consumer: {}", percentiles(&latency.from_send));
    println!(
        "  commit acknowledged -> the record's timestamp (the log stamps it when the worker produces; ms resolution): {}",
        percentiles(&latency.ack_to_append)
    );
    println!("  INSERT round trip at the client (commit included): {}", percentiles(&latency.insert_round_trip));
    let (count, seconds) = latency.batches;
    println!(
        "  worker batches of the measured transactions: {count:.0} of {:.1} records, {:.2} ms each from poll to durable",
        latency.measured as f64 / count.max(1.0),
        1000.0 * seconds / count.max(1.0)
    );
    println!(
        "  disk reference, right after: a 4 KiB append + fdatasync next to tidemark's data (the log syncs each batch it acknowledges): {}",
        percentiles(&runs.append_sync)
    );
    println!();
    println!("diagnostics (\"broker\" is the whole `tidemark up` process: broker, registry and worker)");
    println!("  (\"payload\" below: the run's binlog, or the table's size for the snapshot)");
    for (name, cost, payload) in [
        ("stream 1 txn, mariadb-binlog before", &big.reference_before.cost, big.binlog_bytes),
        ("stream 1 txn, tidemark", &big.tidemark_cost, big.binlog_bytes),
        ("stream 1 txn, mariadb-binlog after", &big.reference_after.cost, big.binlog_bytes),
        ("stream small txns, mariadb-binlog before", &small.reference_before.cost, small.binlog_bytes),
        ("stream small txns, tidemark", &small.tidemark_cost, small.binlog_bytes),
        ("stream small txns, mariadb-binlog after", &small.reference_after.cost, small.binlog_bytes),
        ("snapshot, tidemark", &snapshot.tidemark_cost, snapshot.table_bytes),
        ("latency", &latency.cost, latency.binlog_bytes),
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
