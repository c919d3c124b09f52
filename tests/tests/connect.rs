//! The connect worker end to end, twice: inside `tidemark up` (the log in process), and as `tidemark connect
//! --bootstrap-servers` against a separately started `tidemark broker` and `tidemark registry` (the log over the
//! Kafka protocol). In both, a datagen source (Avro through the registry, read back with confluent-kafka's
//! AvroDeserializer) and a `file` sink are created over REST, and the worker is killed (kill -9) mid-stream; after
//! the restart the file holds every record, none lost, and duplicates only from after the offsets the sink had
//! committed.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use tidemark_tests::{python, repo_root, run_cli, TidemarkProcess};

/// Where the scenario's components listen; the same before and after the crash.
struct Endpoints {
    /// The connect worker's REST API, `http://host:port`.
    connect: String,
    /// The Kafka listener, `host:port`.
    bootstrap: String,
    /// The schema registry, `http://host:port`.
    registry: String,
}

impl Endpoints {
    /// The connect worker's listen address (`host:port`), for a restart on the same one.
    fn connect_listen(&self) -> String {
        self.connect.trim_start_matches("http://").to_owned()
    }
}

/// Runs `phase` (`create` or `check`) of tests/python/connect_datagen.py against `endpoints`, with its sink file
/// and the offsets noted before the crash in `dir`; answers what it printed.
fn run_script(phase: &str, endpoints: &Endpoints, dir: &Path) -> Result<String> {
    let script = repo_root().join("tests/python/connect_datagen.py");
    let output = Command::new(python())
        .arg(script)
        .args([phase, &endpoints.connect, &endpoints.bootstrap, &endpoints.registry])
        .arg(dir.join("orders.jsonl"))
        .arg(dir.join("committed.json"))
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    anyhow::ensure!(output.status.success(), "{phase}: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    Ok(stdout)
}

/// The scenario: the connectors are created and run for a while, `crash_and_restart` kills the worker (kill -9)
/// and starts it again on the same addresses (what it answers is kept alive until the end), and then every record
/// must be in the log and in the sink's file, duplicates only past the offsets committed before the crash.
fn survives_a_crash<T>(endpoints: &Endpoints, dir: &Path, crash_and_restart: impl FnOnce() -> Result<T>) -> Result<()> {
    let created = run_script("create", endpoints, dir)?;
    eprintln!("before the crash: {created}");
    let started = std::time::Instant::now();
    let _restarted = crash_and_restart()?;
    let checked = run_script("check", endpoints, dir)?;
    eprintln!("after the restart ({:.1} s): {checked}", started.elapsed().as_secs_f64());
    assert!(checked.contains("records=20000"), "{checked}");
    Ok(())
}

#[test]
fn a_worker_killed_mid_stream_loses_nothing_and_repeats_only_uncommitted_records() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut tidemark = TidemarkProcess::start_up(dir.path(), "127.0.0.1:0", "127.0.0.1:0", &[])?;
    let endpoints = Endpoints {
        connect: tidemark.connect_url.clone().context("no connect address")?,
        bootstrap: tidemark.bootstrap.clone(),
        registry: tidemark.registry_url.clone().context("no registry address")?,
    };
    let registry_listen = endpoints.registry.trim_start_matches("http://").to_owned();
    survives_a_crash(&endpoints, dir.path(), || {
        tidemark.kill9()?;
        let connect_listen = endpoints.connect_listen();
        TidemarkProcess::start_up(
            dir.path(),
            &endpoints.bootstrap,
            &registry_listen,
            &["--connect-listen", &connect_listen],
        )
    })
}

/// The same scenario with the worker alone (`tidemark connect --bootstrap-servers`): only the worker is killed and
/// restarted, the broker and the registry keep running. The restarted sink task rejoins its consumer group once the
/// coordinator has expired the killed member's session (librdkafka's `session.timeout.ms`, 45 s by default).
#[test]
fn a_separate_worker_killed_mid_stream_loses_nothing_and_repeats_only_uncommitted_records() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("broker");
    std::fs::create_dir_all(&data)?;
    let broker = TidemarkProcess::start(&data, &["--group-initial-rebalance-delay-ms", "0"])?;
    let registry = TidemarkProcess::start_registry(&broker.bootstrap, "127.0.0.1:0")?;
    let registry_url = registry.registry_url.clone().context("no registry address")?;
    let worker_args = ["--schema-registry-url", registry_url.as_str()];
    let mut worker = TidemarkProcess::start_connect(&broker.bootstrap, "127.0.0.1:0", &worker_args)?;
    let endpoints = Endpoints {
        connect: worker.connect_url.clone().context("no connect address")?,
        bootstrap: broker.bootstrap.clone(),
        registry: registry_url.clone(),
    };
    survives_a_crash(&endpoints, dir.path(), || {
        worker.kill9()?;
        TidemarkProcess::start_connect(&broker.bootstrap, &endpoints.connect_listen(), &worker_args)
    })
}

#[test]
fn the_connector_cli_manages_connectors() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let tidemark = TidemarkProcess::start_up(dir.path(), "127.0.0.1:0", "127.0.0.1:0", &[])?;
    let url = tidemark.connect_url.clone().context("no connect address")?;
    let cli = |args: &[&str]| run_cli(&[args, &["--connect-url", &url]].concat());
    let file = dir.path().join("gen.properties");
    std::fs::write(&file, "name=gen\nconnector.class=datagen\nkafka.topic=cli-orders\nrate=0\niterations=10\n")?;
    let file = file.to_string_lossy().into_owned();
    assert!(cli(&["connector", "create", &file])?.contains("\"name\": \"gen\""));
    let refused = cli(&["connector", "create", &file]).expect_err("a second create is refused");
    assert!(refused.to_string().contains("409"), "{refused}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !cli(&["connector", "list"])?.contains("RUNNING") {
        anyhow::ensure!(std::time::Instant::now() < deadline, "never RUNNING");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    cli(&["connector", "pause", "gen"])?;
    assert!(cli(&["connector", "status", "gen"])?.contains("PAUSED"));
    cli(&["connector", "resume", "gen"])?;
    cli(&["connector", "restart", "gen"])?;
    cli(&["connector", "delete", "gen"])?;
    let missing = cli(&["connector", "status", "gen"]).expect_err("deleted");
    assert!(missing.to_string().contains("Connector gen not found"), "{missing}");
    Ok(())
}
