//! The connect worker from a client's side, for end-to-end tests: connectors created and topics read with
//! tests/python/connect_client.py (Kafka Connect's REST API over plain HTTP, confluent-kafka with the Avro
//! deserializer), task states through the `tidemark` CLI, and stored offsets over a bare HTTP request.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::Value as Json;

use crate::{python, repo_root, run_cli, TidemarkProcess};

/// Runs tests/python/connect_client.py with `args`; answers its standard output.
pub fn python_script(args: &[&str]) -> Result<String> {
    let output = Command::new(python())
        .arg(repo_root().join("tests/python/connect_client.py"))
        .args(args)
        .output()
        .context("running tests/python/connect_client.py")?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    ensure!(
        output.status.success(),
        "connect_client.py {args:?}: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(stdout)
}

/// Writes each connector definition to a file in `dir` and creates them all over REST (python, urllib); returns
/// once every task is RUNNING.
pub fn create_connectors(connect_url: &str, dir: &Path, definitions: &[Json]) -> Result<()> {
    let mut files = Vec::new();
    for definition in definitions {
        let name = definition["name"].as_str().context("a connector without a name")?;
        let file = dir.join(format!("{name}.json"));
        std::fs::write(&file, serde_json::to_vec_pretty(definition)?)?;
        files.push(file.to_string_lossy().into_owned());
    }
    let args: Vec<&str> = ["create", connect_url].into_iter().chain(files.iter().map(String::as_str)).collect();
    python_script(&args)?;
    Ok(())
}

/// The records of `topic` read with confluent-kafka's AvroDeserializer through the registry (see the script for
/// their form), once at least `count` arrived.
pub fn avro_records(tidemark: &TidemarkProcess, topic: &str, count: usize) -> Result<Vec<Json>> {
    let registry = tidemark.registry_url.as_deref().context("no registry")?;
    let out = python_script(&["avro", &tidemark.bootstrap, registry, topic, &count.to_string()])?;
    let records: Vec<Json> = serde_json::from_str(&out).with_context(|| format!("not JSON: {out}"))?;
    ensure!(records.len() >= count, "{} of {count} records in {topic}: {records:#?}", records.len());
    Ok(records)
}

/// The records of `topic` read with a plain confluent-kafka consumer: key as text, value parsed as JSON.
pub fn json_records(tidemark: &TidemarkProcess, topic: &str, count: usize) -> Result<Vec<Json>> {
    let out = python_script(&["json", &tidemark.bootstrap, topic, &count.to_string()])?;
    let records: Vec<Json> = serde_json::from_str(&out).with_context(|| format!("not JSON: {out}"))?;
    ensure!(records.len() >= count, "{} of {count} records in {topic}: {records:#?}", records.len());
    Ok(records)
}

/// `value` at a JSON pointer (`/value/after/id`), `null` when absent.
pub fn at<'a>(value: &'a Json, pointer: &str) -> &'a Json {
    value.pointer(pointer).unwrap_or(&Json::Null)
}

/// The connector's task state, as `tidemark connector status` tells it.
pub fn task_state(connect_url: &str, name: &str) -> String {
    match run_cli(&["connector", "status", name, "--connect-url", connect_url]) {
        Ok(out) => serde_json::from_str::<Json>(&out)
            .ok()
            .and_then(|status| status.pointer("/tasks/0").cloned())
            .map_or(out, |task| task.to_string()),
        Err(error) => error.to_string(),
    }
}

/// The connector's stored source offset (`GET /connectors/{name}/offsets`, over a bare HTTP/1.0 request), `null`
/// when none is stored yet.
pub fn stored_offset(connect_url: &str, name: &str) -> Result<Json> {
    use std::io::Read;
    let address = connect_url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET /connectors/{name}/offsets HTTP/1.0\r\nHost: {address}\r\n\r\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let (head, body) = answer.split_once("\r\n\r\n").with_context(|| format!("not HTTP: {answer}"))?;
    ensure!(head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"), "{answer}");
    let offsets: Json = serde_json::from_str(body)?;
    Ok(at(&offsets, "/offsets/0/offset").clone())
}
