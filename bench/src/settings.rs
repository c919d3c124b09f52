//! Benchmark knobs, read from environment variables with documented defaults.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

/// One GiB.
const GIB: u64 = 1 << 30;

/// What the `broker` benchmark runs; every field comes from a `BENCH_*` environment variable.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `BENCH_BYTES`: payload bytes of the 1 KiB-record run (and of the disk reference). Default 2 GiB.
    pub bytes: u64,
    /// `BENCH_SMALL_RECORDS`: number of records in the 100 B-record run. Default 2,000,000.
    pub small_records: u64,
    /// `BENCH_LATENCY_RATE`: records per second of the latency run. Default 5,000.
    pub latency_rate: u64,
    /// `BENCH_LATENCY_SECS`: duration of the latency run in seconds. Default 5.
    pub latency_secs: u64,
    /// `BENCH_DIR`: directory under which the broker's data and the disk reference file go. Default: the
    /// system temporary directory.
    pub dir: PathBuf,
}

impl Settings {
    /// Reads the settings from the environment.
    pub fn from_env() -> Result<Self> {
        Ok(Self {
            bytes: env_size("BENCH_BYTES", 2 * GIB)?,
            small_records: env_size("BENCH_SMALL_RECORDS", 2_000_000)?,
            latency_rate: env_size("BENCH_LATENCY_RATE", 5_000)?,
            latency_secs: env_size("BENCH_LATENCY_SECS", 5)?,
            dir: std::env::var_os("BENCH_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir),
        })
    }
}

/// Reads `name` as a size (see [`parse_size`]), or returns `default` when it is unset.
pub fn env_size(name: &str, default: u64) -> Result<u64> {
    match std::env::var(name) {
        Ok(value) => {
            let size = parse_size(&value).with_context(|| format!("{name}={value:?}"))?;
            if size == 0 {
                bail!("{name} must be greater than zero");
            }
            Ok(size)
        }
        Err(std::env::VarError::NotPresent) => Ok(default),
        Err(e) => Err(e).with_context(|| format!("reading {name}")),
    }
}

/// Parses `1234`, `256MiB`, `2GiB`, `512K`, `2M` (binary multiples; `_` separators allowed).
pub fn parse_size(text: &str) -> Result<u64> {
    let text = text.trim().replace('_', "");
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: u64 = digits.parse().with_context(|| format!("not a size: {text:?}"))?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        other => bail!("unknown size unit {other:?} (use K, M, G, KiB, MiB or GiB)"),
    };
    number.checked_mul(multiplier).with_context(|| format!("size overflows: {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1234").ok(), Some(1234));
        assert_eq!(parse_size("256MiB").ok(), Some(256 << 20));
        assert_eq!(parse_size("2G").ok(), Some(2 << 30));
        assert_eq!(parse_size("2_000_000").ok(), Some(2_000_000));
        assert!(parse_size("12 parsecs").is_err());
    }
}
