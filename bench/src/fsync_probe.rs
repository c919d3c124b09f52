//! A disk reference for the latency runs of the database-source benchmarks (`pg`, `mysql`): the latency of one
//! small append made durable (`write` of 4 KiB then `fdatasync`) next to `tidemark up`'s data, as the log does for
//! each batch it acknowledges. Measured right after the latency run, with the worker idle; on a disk other work
//! shares, its tail is the tail the latency run can expect.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::cdc_latency::Percentiles;

/// Bytes per append.
const APPEND: usize = 4096;
/// Durable appends of the probe.
pub const APPEND_SYNC_PROBES: usize = 2000;

/// `count` appends of 4 KiB to a fresh file in `dir`, each followed by `fdatasync`; the file is removed afterwards.
pub fn append_sync_latency(dir: &Path, count: usize) -> Result<Percentiles> {
    let path = dir.join("fsync-probe");
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    let block = vec![0x5au8; APPEND];
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        file.write_all(&block).context("writing the probe")?;
        file.sync_data().context("fdatasync of the probe")?;
        samples.push(started.elapsed().as_micros() as i64);
    }
    drop(file);
    std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
    Ok(Percentiles::of(samples))
}
