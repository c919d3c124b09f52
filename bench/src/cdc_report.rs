//! Formatting the database-source benchmarks' (`pg`, `mysql`) figures: durations, percentiles and a connector's
//! run.

use std::time::Duration;

use crate::cdc_drain::Drained;
use crate::cdc_latency::Percentiles;
use crate::report::thousands;

/// Seconds with two decimals, or `-`.
pub fn secs(moment: Option<Duration>) -> String {
    moment.map_or("-".to_owned(), |d| format!("{:.2} s", d.as_secs_f64()))
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// `p50 X, p99 Y, max Z`.
pub fn percentiles(p: &Percentiles) -> String {
    format!("p50 {}, p99 {}, max {}", ms(p.p50), ms(p.p99), ms(p.max))
}

/// What a connector's run shows beyond its rate: start-up and the rate from the first record on.
pub fn drained(run: &Drained) -> String {
    format!(
        "{} records durable at {} = {} records/s; first record durable at {}, {} records/s from then on; {}",
        thousands(run.records as f64),
        secs(Some(run.elapsed)),
        thousands(run.records_per_s()),
        secs(run.first_written),
        run.streaming_per_s().map_or("-".to_owned(), thousands),
        run.describe_batches(),
    )
}
