//! Printing the `broker` benchmark's figures, references and diagnostics.

use std::path::Path;
use std::time::Duration;

use crate::broker::ProcSample;
use crate::run::{Cost, DiskRefs, TargetRuns, BIG};
use crate::settings::Settings;

/// Goal: 1 KiB produce MB/s ÷ disk MB/s.
const GOAL_PRODUCE_VS_DISK: f64 = 0.7;
/// Goal: 100 B produce records/s ÷ mock records/s.
const GOAL_SMALL_VS_MOCK: f64 = 0.3;
/// Goal: consumer MB/s ÷ mock consumer MB/s.
const GOAL_CONSUME_VS_MOCK: f64 = 0.5;

/// `PASS` or `MISS`.
pub fn verdict(ratio: f64, goal: f64) -> &'static str {
    if ratio >= goal {
        "PASS"
    } else {
        "MISS"
    }
}

/// A whole number with `,` between thousands.
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Milliseconds with two decimals.
fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Prints the figures, references and diagnostics.
#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename the arguments
pub fn print_report(
    settings: &Settings,
    binary: &Path,
    work: &Path,
    disk: &DiskRefs,
    mock: &TargetRuns,
    broker: &TargetRuns,
    final_sample: ProcSample,
    (problems, first_problems): (u64, &[String]),
) {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let (_, librdkafka) = rdkafka::util::get_rdkafka_version();
    let (b_big, b_small, b_consume, b_latency) = (&broker.big.0, &broker.small.0, &broker.consume.0, &broker.latency.0);
    let (m_big, m_small, m_consume, m_latency) = (&mock.big.0, &mock.small.0, &mock.consume.0, &mock.latency.0);

    println!("== Tidemark broker benchmark ==");
    println!("machine: {cpus} CPUs; librdkafka {librdkafka}; broker {}", binary.display());
    println!("data dir: {} (disk reference and broker data)", work.display());
    println!(
        "setup: 1 partition per topic, loopback, acks=all, linger.ms=5, compression none, \
         enable.idempotence=false, other librdkafka settings default; MB = 10^6 bytes of record payload"
    );
    println!();
    println!("figures (ratios to references measured in this run)");
    let ratio = b_big.mb_per_s() / disk.mb_per_s();
    println!(
        "  [{}] produce 1 KiB records: {:.1} MB/s = {ratio:.2}x disk ({:.1} MB/s); goal >= {GOAL_PRODUCE_VS_DISK}x",
        verdict(ratio, GOAL_PRODUCE_VS_DISK),
        b_big.mb_per_s(),
        disk.mb_per_s(),
    );
    let ratio = b_small.records_per_s() / m_small.records_per_s();
    println!(
        "  [{}] produce 100 B records: {} records/s = {ratio:.2}x mock ({} records/s); goal >= {GOAL_SMALL_VS_MOCK}x",
        verdict(ratio, GOAL_SMALL_VS_MOCK),
        thousands(b_small.records_per_s()),
        thousands(m_small.records_per_s()),
    );
    let ratio = b_consume.mb_per_s() / m_consume.mb_per_s();
    println!(
        "  [{}] consume 1 KiB records: {:.1} MB/s = {ratio:.2}x mock consumer ({:.1} MB/s); goal >= {GOAL_CONSUME_VS_MOCK}x",
        verdict(ratio, GOAL_CONSUME_VS_MOCK),
        b_consume.mb_per_s(),
        m_consume.mb_per_s(),
    );
    println!(
        "  [INFO] produce latency, 1 KiB records at {} records/s for {} s: p50 {} = {:.2}x mock ({}), \
         p99 {} = {:.2}x mock ({}); goal: none set in the issue",
        settings.latency_rate,
        settings.latency_secs,
        ms(b_latency.p50),
        b_latency.p50.as_secs_f64() / m_latency.p50.as_secs_f64(),
        ms(m_latency.p50),
        ms(b_latency.p99),
        b_latency.p99.as_secs_f64() / m_latency.p99.as_secs_f64(),
        ms(m_latency.p99),
    );
    let streamed = b_big.bytes + b_small.bytes + b_consume.bytes;
    println!(
        "  [INFO] broker peak RSS (VmHWM): {:.1} MiB after {:.2} GB of payload in and out; goal: none set in the issue",
        final_sample.hwm_kib as f64 / 1024.0,
        streamed as f64 / 1e9,
    );
    println!();
    println!("references");
    println!(
        "  disk: {:.1} MB in 1 MiB writes, fdatasync every 4 MiB ({} fdatasyncs), next to the broker's data: \
         {:.1} MB/s = mean of {:.1} MB/s right before and {:.1} MB/s right after the broker's 1 KiB run",
        disk.before.bytes as f64 / 1e6,
        disk.before.syncs,
        disk.mb_per_s(),
        disk.before.mb_per_s(),
        disk.after.mb_per_s(),
    );
    println!(
        "        same bytes, one fdatasync at the end (like dd conv=fdatasync; not used in ratios): {:.1} MB/s",
        disk.once.mb_per_s()
    );
    println!(
        "  mock: produce {} x 1 KiB: {:.1} MB/s ({} records/s)",
        thousands(m_big.records as f64),
        m_big.mb_per_s(),
        thousands(m_big.records_per_s())
    );
    println!(
        "        produce {} x 100 B: {} records/s ({:.1} MB/s)",
        thousands(m_small.records as f64),
        thousands(m_small.records_per_s()),
        m_small.mb_per_s()
    );
    println!(
        "        consume {} x 1 KiB: {:.1} MB/s while streaming; the mock keeps only the last {} records, so the \
         consumer re-read them with {} seeks, whose gaps are not counted ({:.1} MB/s counting them)",
        thousands(m_consume.records as f64),
        m_consume.mb_per_s(),
        m_consume.window_records,
        m_consume.rewinds,
        m_consume.bytes as f64 / 1e6 / m_consume.wall.as_secs_f64(),
    );
    println!(
        "        latency at {:.0} records/s: p50 {}, p99 {}, max {}",
        m_latency.achieved_rate,
        ms(m_latency.p50),
        ms(m_latency.p99),
        ms(m_latency.max)
    );
    println!();
    println!("broker runs");
    println!(
        "  produce {} x 1 KiB: {:.1} MB/s ({} records/s)",
        thousands(b_big.records as f64),
        b_big.mb_per_s(),
        thousands(b_big.records_per_s())
    );
    println!(
        "  produce {} x 100 B: {} records/s ({:.1} MB/s)",
        thousands(b_small.records as f64),
        thousands(b_small.records_per_s()),
        b_small.mb_per_s()
    );
    println!(
        "  consume {} x 1 KiB from offset 0: {:.1} MB/s first record to last ({:.1} MB/s from assign)",
        thousands(b_consume.records as f64),
        b_consume.mb_per_s(),
        b_consume.bytes as f64 / 1e6 / b_consume.wall.as_secs_f64(),
    );
    println!(
        "  latency at {:.0} records/s: p50 {}, p99 {}, max {}",
        b_latency.achieved_rate,
        ms(b_latency.p50),
        ms(b_latency.p99),
        ms(b_latency.max)
    );
    println!();
    println!("diagnostics (bench process CPU includes the mock cluster's threads in mock runs)");
    let rows: [(&str, &Cost, u64, String); 8] = [
        ("mock produce 1 KiB", &mock.big.1, m_big.bytes, m_big.stats.describe()),
        ("mock produce 100 B", &mock.small.1, m_small.bytes, m_small.stats.describe()),
        ("mock consume", &mock.consume.1, m_consume.bytes, m_consume.stats.describe()),
        ("mock latency", &mock.latency.1, m_latency.records * BIG as u64, m_latency.stats.describe()),
        ("broker produce 1 KiB", &broker.big.1, b_big.bytes, b_big.stats.describe()),
        ("broker produce 100 B", &broker.small.1, b_small.bytes, b_small.stats.describe()),
        ("broker consume", &broker.consume.1, b_consume.bytes, b_consume.stats.describe()),
        ("broker latency", &broker.latency.1, b_latency.records * BIG as u64, b_latency.stats.describe()),
    ];
    for (name, cost, payload, client) in rows {
        println!("  {name}: {}", cost.describe(payload));
        println!("    client: {client}");
    }
    println!("  broker log: {problems} WARN/ERROR lines");
    for line in first_problems {
        println!("    {line}");
    }
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn separates_thousands() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }
}
