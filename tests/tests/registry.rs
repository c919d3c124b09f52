//! The schema registry inside `tidemark up`, used by confluent-kafka's own SchemaRegistryClient, AvroSerializer
//! and AvroDeserializer (Python), with records decoded by fastavro; and its state surviving a restart.

use std::process::Command;

use anyhow::{Context, Result};
use tidemark_tests::{python, repo_root, TidemarkProcess};

#[test]
fn confluent_clients_register_serialise_and_deserialise_through_tidemark() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let tidemark = TidemarkProcess::start_up(dir.path(), "127.0.0.1:0", "127.0.0.1:0", &[])?;
    let url = tidemark.registry_url.clone().context("no registry address")?;
    let script = repo_root().join("tests/python/confluent_registry.py");
    let output = Command::new(python()).arg(script).args([&tidemark.bootstrap, &url]).output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "stdout: {stdout}\nstderr: {}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("ok"), "{stdout}");
    Ok(())
}

fn run_state_script(phase: &str, url: &str) -> Result<()> {
    let script = repo_root().join("tests/python/registry_state.py");
    let output = Command::new(python()).arg(script).args([phase, url]).output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(output.status.success(), "{phase}: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    Ok(())
}

#[test]
fn ids_versions_levels_modes_and_soft_deletes_survive_a_crash() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut tidemark = TidemarkProcess::start_up(dir.path(), "127.0.0.1:0", "127.0.0.1:0", &[])?;
    let url = tidemark.registry_url.clone().context("no registry address")?;
    run_state_script("write", &url)?;
    tidemark.kill9()?;
    let registry_listen = url.trim_start_matches("http://").to_owned();
    let tidemark = TidemarkProcess::start_up(dir.path(), &tidemark.bootstrap, &registry_listen, &[])?;
    run_state_script("check", tidemark.registry_url.as_deref().context("no registry address")?)
}

#[test]
fn the_registry_alone_keeps_its_state_in_a_separate_brokers_topic() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TidemarkProcess::start(dir.path(), &[])?;
    let mut registry = TidemarkProcess::start_registry(&broker.bootstrap, "127.0.0.1:0")?;
    let url = registry.registry_url.clone().context("no registry address")?;
    run_state_script("write", &url)?;
    registry.kill9()?;
    let registry = TidemarkProcess::start_registry(&broker.bootstrap, url.trim_start_matches("http://"))?;
    run_state_script("check", registry.registry_url.as_deref().context("no registry address")?)
}
