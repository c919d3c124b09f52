//! The streaming reference: `pg_recvlogical` draining a pgoutput slot to /dev/null, from the slot's position to a
//! given end position (`--endpos`, so it exits once there), timed from its start to its exit.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tidemark_tests::postgres::PostgresServer;

/// Where Debian puts the server's programs: `/usr/lib/postgresql/<major>/bin`.
const POSTGRES_LIB: &str = "/usr/lib/postgresql";

/// `pg_recvlogical` of the highest Postgres version installed (the one the harness's server runs).
pub fn find_pg_recvlogical() -> Result<PathBuf> {
    let entries = std::fs::read_dir(POSTGRES_LIB).with_context(|| format!("{POSTGRES_LIB} is missing"))?;
    entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let program = entry.path().join("bin/pg_recvlogical");
            program.is_file().then_some((version, program))
        })
        .max_by_key(|(version, _)| *version)
        .map(|(_, program)| program)
        .with_context(|| format!("no {POSTGRES_LIB}/*/bin/pg_recvlogical: install postgresql"))
}

/// Runs `pg_recvlogical --start` on `slot` with pgoutput's protocol version 1 and `publication` until `endpos`,
/// writing to /dev/null; answers its wall time.
pub fn drain(program: &Path, server: &PostgresServer, slot: &str, publication: &str, endpos: &str) -> Result<Duration> {
    let dsn = format!("host={} port={} user={} dbname={}", server.host, server.port, server.user, server.dbname);
    let mut command = Command::new(program);
    command
        .args(["-d", &dsn, "--slot", slot, "--start", "--no-loop", "--endpos", endpos])
        .args(["-o", "proto_version=1", "-o", &format!("publication_names={publication}"), "-f", "/dev/null"])
        .env("PGPASSWORD", &server.password);
    let start = Instant::now();
    let output = command.output().with_context(|| format!("running {}", program.display()))?;
    let elapsed = start.elapsed();
    if !output.status.success() {
        bail!("{command:?} failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr));
    }
    Ok(elapsed)
}
