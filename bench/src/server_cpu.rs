//! CPU seconds of the processes the database-source benchmarks (`pg`, `mysql`) do not measure through
//! [`crate::run::measured`]: the database server (Postgres: the postmaster and its children, such as the walsender
//! that serves a reader; MariaDB: its one multi-threaded `mariadbd`) and this process's own reaped children (the
//! reference readers, `pg_recvlogical` or `mariadb-binlog`). Read from /proc; a diagnostic that tells which side of
//! the replication connection was busy.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

/// How often the server's processes are sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(50);

/// The fields of `/proc/<pid>/stat` after the command name: ppid, utime, stime, cutime, cstime.
#[derive(Debug, Clone, Copy, Default)]
struct Stat {
    ppid: u32,
    own_ticks: u64,
    children_ticks: u64,
}

/// Reads `/proc/<pid>/stat` (`self` for this process).
fn stat(pid: &str) -> Result<Stat> {
    let text =
        std::fs::read_to_string(format!("/proc/{pid}/stat")).with_context(|| format!("reading /proc/{pid}/stat"))?;
    let after_name = text.rsplit_once(')').map(|(_, rest)| rest).context("malformed stat")?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |i: usize| -> Result<u64> { fields.get(i).context("short stat")?.parse::<u64>().context("stat field") };
    // After the name: state (3), ppid (4), ..., utime (14), stime (15), cutime (16), cstime (17).
    Ok(Stat {
        ppid: u32::try_from(field(1)?).context("ppid")?,
        own_ticks: field(11)? + field(12)?,
        children_ticks: field(13)? + field(14)?,
    })
}

/// CPU seconds this process's reaped children used so far.
pub fn reaped_children_secs(ticks: f64) -> Result<f64> {
    Ok(stat("self")?.children_ticks as f64 / ticks)
}

/// A database server's processes: a Postgres postmaster and its children, or one process (`mariadbd`).
#[derive(Debug, Clone, Copy)]
pub struct ServerCpu {
    /// The postmaster, or the one process.
    postmaster: u32,
    /// Whether the server's work runs in the children of `postmaster` (Postgres) or in `postmaster` itself.
    children: bool,
    ticks: f64,
}

impl ServerCpu {
    /// The Postgres server whose backend has process id `backend_pid` (`SELECT pg_backend_pid()`): its parent is
    /// the postmaster.
    pub fn of_backend(backend_pid: u32, ticks: f64) -> Result<Self> {
        Ok(Self { postmaster: stat(&backend_pid.to_string())?.ppid, children: true, ticks })
    }

    /// A server that is one process, threads and all (`mariadbd`).
    pub fn of_process(pid: u32, ticks: f64) -> Result<Self> {
        stat(&pid.to_string())?;
        Ok(Self { postmaster: pid, children: false, ticks })
    }

    /// Runs `f` and answers, with its result, the CPU seconds the server's processes used meanwhile. A one-process
    /// server is read before and after; the postmaster's children are sampled every [`SAMPLE_EVERY`] on a thread of their own, each counted up to its
    /// last sample: a walsender that exits during `f` is counted whole but for its last moments, whether or not
    /// the postmaster has reaped it yet.
    pub fn during<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<(T, f64)> {
        if !self.children {
            let before = stat(&self.postmaster.to_string())?.own_ticks;
            let value = f()?;
            let after = stat(&self.postmaster.to_string())?.own_ticks;
            return Ok((value, after.saturating_sub(before) as f64 / self.ticks));
        }
        let start = self.children_ticks();
        let own_before = stat(&self.postmaster.to_string())?.own_ticks;
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (server, stop) = (*self, Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut last = server.children_ticks();
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(SAMPLE_EVERY);
                    last.extend(server.children_ticks());
                }
                last.extend(server.children_ticks());
                last
            })
        };
        let result = f();
        stop.store(true, Ordering::Relaxed);
        let last = sampler.join().map_err(|_| anyhow::anyhow!("the CPU sampler panicked"))?;
        let value = result?;
        let own = stat(&self.postmaster.to_string())?.own_ticks.saturating_sub(own_before);
        let children: u64 =
            last.iter().map(|(pid, ticks)| ticks.saturating_sub(start.get(pid).copied().unwrap_or(0))).sum();
        Ok((value, (own + children) as f64 / self.ticks))
    }

    /// CPU ticks of each live child of the postmaster, listed by `/proc/<pid>/task/<pid>/children` (the
    /// postmaster is single-threaded; a process may exit between the listing and the read).
    fn children_ticks(&self) -> HashMap<u32, u64> {
        let pid = self.postmaster;
        let listing = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        listing
            .split_whitespace()
            .filter_map(|child| Some((child.parse::<u32>().ok()?, stat(child).ok()?.own_ticks)))
            .collect()
    }
}
