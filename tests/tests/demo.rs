//! `scripts/demo --once` (issue 10's proof): the demo for machines without Docker, run as a newcomer runs it, only
//! with `TIDEMARK_BIN` at the binary the suite built (no release build), its folder (`DEMO_DIR`) in a temporary
//! directory and Tidemark's listeners on free ports (so it runs beside the other tests and anything on 9092, 8081 or
//! 8083). The script starts Postgres and MariaDB in its folder, seeds them with `compose/*/init.sql`, runs `tidemark
//! up`, registers `compose/connectors/*.json`, runs one round of its order workload and waits for the JDBC sink's
//! table to equal the source's.
//!
//! The proof: it exits 0 and says "sink equals source"; the rows it printed last for both tables are equal here too,
//! and they hold the workload's changes (an insert, an update and a delete after the snapshot: they were streamed,
//! not only copied); it removed its folder; and nothing it started still runs.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use tidemark_tests::{repo_root, tidemark_binary};

/// How long the script may take before the test stops it (it takes about 25 s here).
const DEADLINE: Duration = Duration::from_secs(300);
/// The line the script prints once the sink table equals the source table.
const CONVERGED: &str = "sink equals source: ";
/// The heading of the final comparison.
const FINAL_SECTION: &str = "== The sink converging";

/// Runs `scripts/demo --once` with its folder at `demo_dir`; returns its exit status and its output (stdout and stderr
/// interleaved, line by line), echoed to the test's stderr as it comes.
fn run_demo(demo_dir: &Path) -> Result<(std::process::ExitStatus, Vec<String>)> {
    let mut child = Command::new(repo_root().join("scripts/demo"))
        .arg("--once")
        .env("TIDEMARK_BIN", tidemark_binary()?)
        .env("DEMO_DIR", demo_dir)
        .env("DEMO_KAFKA_PORT", "0")
        .env("DEMO_REGISTRY_PORT", "0")
        .env("DEMO_CONNECT_PORT", "0")
        .env_remove("DEMO_PG_PORT")
        .env_remove("DEMO_MYSQL_PORT")
        .env_remove("DEMO_TIMEOUT")
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting scripts/demo")?;
    let (tx, rx) = mpsc::channel();
    let readers = [
        forward(child.stdout.take().context("no stdout")?, tx.clone()),
        forward(child.stderr.take().context("no stderr")?, tx),
    ];
    let started = Instant::now();
    let mut lines = Vec::new();
    let status = loop {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            lines.push(line);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > DEADLINE {
            stop(&mut child)?;
            bail!("scripts/demo --once did not finish within {DEADLINE:?}; its output:\n{}", lines.join("\n"));
        }
    };
    // What it printed last: the readers end when the pipes close, unless something it started still holds them.
    let drained = Instant::now() + Duration::from_secs(10);
    while let Ok(line) = rx.recv_timeout(drained.saturating_duration_since(Instant::now())) {
        lines.push(line);
    }
    if readers.iter().all(|reader| reader.is_finished()) {
        for reader in readers {
            let _ = reader.join();
        }
    }
    Ok((status, lines))
}

/// Sends each line of `stream` to `tx`, echoing it to stderr.
fn forward(stream: impl Read + Send + 'static, tx: mpsc::Sender<String>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            eprintln!("[demo] {line}");
            if tx.send(line).is_err() {
                break;
            }
        }
    })
}

/// Stops the script with SIGTERM (its trap stops what it started), and kills it if it is still there after a minute.
fn stop(child: &mut Child) -> Result<()> {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if child.try_wait()?.is_some() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    child.kill()?;
    child.wait()?;
    Ok(())
}

/// The processes whose command line names `path`, as `PID: command line`.
fn processes_naming(path: &Path) -> Vec<String> {
    let needle = path.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_str().is_some_and(|name| name.bytes().all(|b| b.is_ascii_digit())))
        .filter_map(|entry| {
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            cmdline.contains(&needle).then(|| format!("{}: {cmdline}", entry.file_name().to_string_lossy()))
        })
        .collect()
}

#[test]
fn demo_once_brings_the_sink_table_to_the_source_table() -> Result<()> {
    // In /tmp and open to others: when the tests run as root, Postgres runs as the `postgres` user, who must reach
    // the demo's folder.
    let dir = tempfile::Builder::new().prefix("tidemark-demo-").tempdir_in("/tmp")?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
    let demo_dir = dir.path().join("demo");

    let (status, lines) = run_demo(&demo_dir)?;
    let output = lines.join("\n");
    ensure!(status.success(), "scripts/demo --once exited with {status}; its output:\n{output}");

    // The final comparison: every row of both tables as the script printed them (`id|first|last|email`).
    let start = lines.iter().rposition(|l| l.contains(FINAL_SECTION)).context("no final comparison in the output")?;
    let last = &lines[start..];
    let rows = |prefix: &str| -> Vec<&str> { last.iter().filter_map(|l| l.strip_prefix(prefix)).collect() };
    let (source, sink) = (rows("source> "), rows("sink> "));
    ensure!(!source.is_empty(), "no source rows in the final comparison:\n{output}");
    ensure!(source == sink, "the sink's rows {sink:#?} are not the source's {source:#?}");
    let converged = last.iter().find(|l| l.starts_with(CONVERGED)).context("no \"sink equals source\" line")?;
    ensure!(
        converged.starts_with(&format!("{CONVERGED}{} rows", source.len())),
        "{converged:?} does not count the {} rows printed",
        source.len()
    );
    // The workload's changes after the snapshot: the round's new customers, Sally's new email, Anne deleted.
    for wanted in ["|Buyer|No. 1|buyer1@example.com", "|Visitor|No. 1|visitor1@example.com", "|sally.thomas+1@acme.com"]
    {
        ensure!(sink.iter().any(|row| row.ends_with(wanted)), "no sink row ends with {wanted:?}: {sink:#?}");
    }
    ensure!(!sink.iter().any(|row| row.contains("annek@noanswer.org")), "the deleted customer is in the sink");
    // The outbox events and the sink's consumer group were shown.
    ensure!(output.contains("\"order\": 5"), "the workload's outbox event was not shown:\n{output}");
    ensure!(output.contains("group connect-customers-sink"), "the sink's consumer group was not described");

    ensure!(!demo_dir.exists(), "scripts/demo --once left {}", demo_dir.display());
    // Postgres may take a moment to go after its postmaster (the script waits for the postmaster only).
    let started = Instant::now();
    loop {
        let left = processes_naming(&demo_dir);
        if left.is_empty() {
            break;
        }
        ensure!(started.elapsed() < Duration::from_secs(10), "still running after the demo:\n{}", left.join("\n"));
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}
