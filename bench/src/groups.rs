//! The `groups` benchmark (issue 3: consumer groups, idempotence, compaction): runs each measurement in turn and
//! prints its figures, each a ratio to a reference measured in the same run, then each measurement's section of
//! details. A measurement returns its [`Figure`]s and a [`Section`]; adding one is a line in [`run`].

use std::path::Path;

use anyhow::{Context, Result};

use crate::compaction::{self, CompactionSettings};
use crate::rebalance;
use crate::run::WorkDir;

/// One line of the figures: a verdict (`PASS`, `MISS` or `INFO`) and what was measured against what.
#[derive(Debug, Clone)]
pub struct Figure {
    /// `PASS` or `MISS` against the goal, `INFO` where it sets none.
    pub verdict: &'static str,
    /// The figure, its reference and the goal.
    pub text: String,
}

/// A measurement's details: workload, references and raw runs.
#[derive(Debug, Clone)]
pub struct Section {
    /// The measurement's name.
    pub title: String,
    /// One line each.
    pub lines: Vec<String>,
}

/// Runs the `groups` benchmark and prints the report to stdout (progress goes to stderr).
pub fn run(binary: &Path) -> Result<()> {
    let settings = CompactionSettings::from_env()?;
    let work = WorkDir(settings.dir.join(format!("tidemark-bench-groups-{}", std::process::id())));
    std::fs::create_dir_all(&work.0).with_context(|| format!("creating {}", work.0.display()))?;
    let measurements = [rebalance::run(binary, &work.0)?, compaction::run(&settings, &work.0)?];

    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    println!("== Tidemark groups benchmark ==");
    println!("machine: {cpus} CPUs; data dir: {}; MB = 10^6 bytes", work.0.display());
    println!();
    println!("figures (ratios to references measured in this run)");
    for (figures, _) in &measurements {
        for figure in figures {
            println!("  [{}] {}", figure.verdict, figure.text);
        }
    }
    for (_, section) in &measurements {
        println!();
        println!("{}", section.title);
        for line in &section.lines {
            println!("  {line}");
        }
    }
    Ok(())
}
