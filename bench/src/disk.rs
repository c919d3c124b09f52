//! The disk reference: the same number of bytes written sequentially to a file and fdatasynced.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// Size of each write.
pub const CHUNK: usize = 1 << 20;

/// The outcome of a disk run.
#[derive(Debug, Clone)]
pub struct DiskRun {
    /// Bytes written.
    pub bytes: u64,
    /// Open → final fdatasync returned.
    pub elapsed: Duration,
    /// fdatasync calls made.
    pub syncs: u64,
}

impl DiskRun {
    /// Megabytes (10^6 bytes) per second.
    pub fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64()
    }
}

/// Writes `bytes` bytes to a new file at `path` in [`CHUNK`]-byte writes, calling fdatasync after every
/// `sync_every` bytes (`None`: once, at the end) and at the end. The file is left in place: deleting
/// gigabytes on a filesystem mounted with `discard` stalls other processes' fsyncs for seconds afterwards
/// (observed: 50–140 ms fdatasyncs every ~2 s for ~10 s), so the caller deletes it once the broker is gone.
pub fn sequential(path: &Path, bytes: u64, sync_every: Option<u64>) -> Result<DiskRun> {
    let chunk = crate::produce::payload(CHUNK);
    let start = Instant::now();
    let mut file: File = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    let (mut written, mut unsynced, mut syncs) = (0u64, 0u64, 0u64);
    while written < bytes {
        let n = (bytes - written).min(CHUNK as u64) as usize;
        file.write_all(&chunk[..n]).with_context(|| format!("writing {}", path.display()))?;
        written += n as u64;
        unsynced += n as u64;
        if sync_every.is_some_and(|every| unsynced >= every) {
            file.sync_data().context("fdatasync")?;
            syncs += 1;
            unsynced = 0;
        }
    }
    if unsynced > 0 || syncs == 0 {
        file.sync_data().context("fdatasync")?;
        syncs += 1;
    }
    let elapsed = start.elapsed();
    Ok(DiskRun { bytes, elapsed, syncs })
}
