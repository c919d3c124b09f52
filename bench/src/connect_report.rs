//! Printing the `connect` benchmark's figure, its reference, the runs of each side alone and diagnostics.

use std::path::Path;
use std::time::Duration;

use crate::broker::ProcSample;
use crate::connect::{ConnectRuns, ConnectSettings};
use crate::connect_pipeline::PipelineRun;
use crate::report::{thousands, verdict};

/// Goal: end-to-end records/s ÷ librdkafka produce+consume records/s ("the worker adds under 30% overhead").
const GOAL_VS_LIBRDKAFKA: f64 = 0.7;

/// Seconds with two decimals, or `-` when the moment never came.
fn secs(moment: Option<Duration>) -> String {
    moment.map_or("-".to_owned(), |d| format!("{:.2} s", d.as_secs_f64()))
}

/// The worker's batch histogram of `connector`: batches and mean milliseconds.
fn batches(run: &PipelineRun, connector: &str) -> String {
    let count = run.metrics.of("connect_batch_seconds_count", connector);
    let sum = run.metrics.of("connect_batch_seconds_sum", connector);
    format!("{count:.0} batches, mean {:.2} ms", 1000.0 * sum / count.max(1.0))
}

/// Prints the report.
pub fn print(
    settings: &ConnectSettings,
    binary: &Path,
    work: &Path,
    runs: &ConnectRuns,
    final_sample: ProcSample,
    (problems, first_problems): (u64, Vec<String>),
) {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let (_, librdkafka) = rdkafka::util::get_rdkafka_version();
    let (e2e, e2e_cost) = &runs.end_to_end;
    let (source, source_cost) = &runs.source_only;
    let (sink, sink_cost) = &runs.sink_only;
    let (reference, reference_cost) = &runs.reference;
    let sizes = &runs.sizes;
    let records = settings.records;
    let payload = (records as f64 * sizes.mean_record()) as u64;
    let mb_per_s = |per_s: f64| per_s * sizes.mean_record() / 1e6;

    println!("== Tidemark connect benchmark ==");
    println!("machine: {cpus} CPUs; librdkafka {librdkafka} (the reference's client; the worker inside `tidemark up` uses the in-process log, not librdkafka)");
    println!("tidemark up: {} --group-initial-rebalance-delay-ms 0; data dir: {}", binary.display(), work.display());
    println!(
        "workload: {} records; datagen (1 task, rate=0, batch.size={}) -> Avro through the bundled registry -> 1-partition topic \
         -> file sink (1 task, consumer group, consumer.override.max.poll.records={}, offset.flush.interval.ms={}) -> one JSON line per record",
        thousands(records as f64),
        settings.batch,
        settings.max_poll_records,
        settings.flush_ms,
    );
    println!(
        "records as stored: Avro key {:.1} B + value {:.1} B on average ({} of {} values in Confluent framing, schema id {}); \
         MB = 10^6 bytes of Avro key + value",
        sizes.mean_key(),
        sizes.mean_value(),
        thousands(sizes.avro_values as f64),
        thousands(sizes.records as f64),
        sizes.first_schema_id.map_or("-".to_owned(), |id| id.to_string()),
    );
    println!();
    println!("figures (ratios to references measured in this run)");
    let ratio = e2e.records_per_s() / reference.records_per_s();
    println!(
        "  [{}] connect end-to-end: {} records/s ({:.1} MB/s) = {ratio:.2}x librdkafka produce+consume ({} records/s); goal >= {GOAL_VS_LIBRDKAFKA}x",
        verdict(ratio, GOAL_VS_LIBRDKAFKA),
        thousands(e2e.records_per_s()),
        mb_per_s(e2e.records_per_s()),
        thousands(reference.records_per_s()),
    );
    println!();
    println!("reference (librdkafka {librdkafka}, same broker, records of the same size)");
    println!(
        "  produce+consume = records / (produce time + consume time), one after the other: {} records/s",
        thousands(reference.records_per_s())
    );
    println!(
        "  produce {} records, {} B key + {} B value, acks=all, enable.idempotence=true (the worker's KafkaLog producer), \
         other settings librdkafka's defaults: {:.2} s first send to last delivery report = {} records/s",
        thousands(reference.produce.records as f64),
        reference.key_size,
        reference.value_size,
        reference.produce.elapsed.as_secs_f64(),
        thousands(reference.produce_per_s()),
    );
    println!(
        "  consume them, a consumer assigned to the partition from offset 0 (fetch.queue.backoff.ms=10, other settings \
         librdkafka's defaults): {:.2} s assign to last record = {} records/s",
        reference.consume.wall.as_secs_f64(),
        thousands(reference.consume_per_s()),
    );
    println!();
    println!("connect runs (times since the first connector was created)");
    println!(
        "  end to end: the file held all {} lines at {} = {} records/s; the source had written every record at {} ({} records/s), \
         the sink had been handed every record at {}; first line in the file at {}; file: {} lines, {:.1} MB",
        thousands(records as f64),
        secs(Some(e2e.elapsed)),
        thousands(e2e.records_per_s()),
        secs(e2e.source_done),
        e2e.source_done.map_or("-".to_owned(), |d| thousands(records as f64 / d.as_secs_f64())),
        secs(e2e.sink_put_done),
        secs(e2e.first_line),
        thousands(e2e.file_lines as f64),
        e2e.file_bytes as f64 / 1e6,
    );
    println!(
        "  source alone (datagen into a fresh topic, nothing reading it): every record written durably at {} = {} records/s",
        secs(Some(source.elapsed)),
        thousands(source.records_per_s()),
    );
    println!(
        "  sink alone (file sink, new group, reading the end-to-end topic from offset 0): all lines in the file at {} = {} records/s; \
         handed every record at {}",
        secs(Some(sink.elapsed)),
        thousands(sink.records_per_s()),
        secs(sink.sink_put_done),
    );
    println!(
        "  worker batches (connect_batch_seconds; source: poll to durable, sink: put): end to end source {}, sink {}; \
         source alone {}; sink alone {}",
        batches(e2e, "bench-source"),
        batches(e2e, "bench-sink"),
        batches(source, "bench-source-only"),
        batches(sink, "bench-sink-only"),
    );
    println!();
    println!("diagnostics (\"broker\" is the whole `tidemark up` process: broker, registry and worker)");
    for (name, cost) in [
        ("end to end", e2e_cost),
        ("source alone", source_cost),
        ("sink alone", sink_cost),
        ("reference produce+consume", reference_cost),
    ] {
        println!("  {name}: {}", cost.describe(payload));
    }
    println!("    reference produce client: {}", reference.produce.stats.describe());
    println!("    reference consume client: {}", reference.consume.stats.describe());
    println!(
        "  tidemark up peak RSS (VmHWM): {:.1} MiB; log: {problems} WARN/ERROR lines",
        final_sample.hwm_kib as f64 / 1024.0
    );
    for line in first_problems {
        println!("    {line}");
    }
}
