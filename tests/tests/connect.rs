//! The connect worker inside `tidemark up`: a datagen source (Avro through the bundled registry, read back with
//! confluent-kafka's AvroDeserializer) and a `file` sink are created over REST, and the process is killed (kill -9)
//! mid-stream; after the restart the file holds every record, none lost, and duplicates only from after the offsets
//! the sink had committed.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use tidemark_tests::{python, repo_root, run_cli, TidemarkProcess};

fn run_script(phase: &str, tidemark: &TidemarkProcess, connect_url: &str, dir: &Path) -> Result<String> {
    let script = repo_root().join("tests/python/connect_datagen.py");
    let registry = tidemark.registry_url.clone().context("no registry address")?;
    let output = Command::new(python())
        .arg(script)
        .args([phase, connect_url, &tidemark.bootstrap, &registry])
        .arg(dir.join("orders.jsonl"))
        .arg(dir.join("committed.json"))
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    anyhow::ensure!(output.status.success(), "{phase}: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    Ok(stdout)
}

#[test]
fn a_worker_killed_mid_stream_loses_nothing_and_repeats_only_uncommitted_records() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut tidemark = TidemarkProcess::start_up(dir.path(), "127.0.0.1:0", "127.0.0.1:0", &[])?;
    let connect = tidemark.connect_url.clone().context("no connect address")?;
    run_script("create", &tidemark, &connect, dir.path())?;
    tidemark.kill9()?;
    let listen = connect.trim_start_matches("http://").to_owned();
    let registry = tidemark.registry_url.clone().context("no registry address")?;
    let registry_listen = registry.trim_start_matches("http://").to_owned();
    let restarted =
        TidemarkProcess::start_up(dir.path(), &tidemark.bootstrap, &registry_listen, &["--connect-listen", &listen])?;
    let checked = run_script("check", &restarted, &connect, dir.path())?;
    assert!(checked.contains("records=20000"), "{checked}");
    Ok(())
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
