//! `tidemark connector list|create|status|pause|resume|restart|delete`: the connect worker's REST API from the
//! command line (any Kafka-Connect-compatible worker answers the same).

use std::path::Path;

use anyhow::{bail, Context, Result};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use tidemark_connect::config::parse_properties;

use crate::args::{ConnectUrl, ConnectorCommand};
use crate::output::out;

/// Runs a connector subcommand against the worker `--connect-url` names.
pub async fn run(command: ConnectorCommand) -> Result<()> {
    let client = Worker::new(connect_of(&command))?;
    match command {
        ConnectorCommand::List { connect } => {
            let names = call(&client, Method::GET, &connect.url("/connectors?expand=status"), None).await?;
            out!("{:<40} {:<12} TASKS", "CONNECTOR", "STATE")?;
            for (name, entry) in names.as_object().into_iter().flatten() {
                let status = &entry["status"];
                let tasks: Vec<String> = status["tasks"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| format!("{}:{}", t["id"], t["state"].as_str().unwrap_or("?")))
                    .collect();
                out!("{name:<40} {:<12} {}", status["connector"]["state"].as_str().unwrap_or("?"), tasks.join(" "))?;
            }
        }
        ConnectorCommand::Create { file, connect } => {
            let body = read_connector_file(&file)?;
            let created = call(&client, Method::POST, &connect.url("/connectors"), Some(body)).await?;
            out!("{}", serde_json::to_string_pretty(&created)?)?;
        }
        ConnectorCommand::Status { name, connect } => {
            let status = call(&client, Method::GET, &connect.url(&format!("/connectors/{name}/status")), None).await?;
            out!("{}", serde_json::to_string_pretty(&status)?)?;
        }
        ConnectorCommand::Pause { name, connect } => {
            call(&client, Method::PUT, &connect.url(&format!("/connectors/{name}/pause")), None).await?;
            out!("paused {name}")?;
        }
        ConnectorCommand::Resume { name, connect } => {
            call(&client, Method::PUT, &connect.url(&format!("/connectors/{name}/resume")), None).await?;
            out!("resumed {name}")?;
        }
        ConnectorCommand::Restart { name, only_failed, connect } => {
            let path = format!("/connectors/{name}/restart?includeTasks=true&onlyFailed={only_failed}");
            call(&client, Method::POST, &connect.url(&path), None).await?;
            out!("restarted {name}")?;
        }
        ConnectorCommand::Delete { name, connect } => {
            call(&client, Method::DELETE, &connect.url(&format!("/connectors/{name}")), None).await?;
            out!("deleted {name}")?;
        }
    }
    Ok(())
}

/// A connector definition from a file: Kafka Connect's JSON (`{"name", "config"}`, or a flat config with `name`),
/// or a Java properties file with `name=...`, as `connect-standalone` takes.
fn read_connector_file(file: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let parsed: Value = match serde_json::from_str(&text) {
        Ok(value) => value,
        Err(_) => json!(parse_properties(&text)),
    };
    if parsed.get("config").is_some() {
        return Ok(parsed);
    }
    let Some(name) = parsed.get("name").and_then(Value::as_str).map(str::to_owned) else {
        bail!("{} names no connector: give \"name\" (and \"config\")", file.display());
    };
    Ok(json!({ "name": name, "config": parsed }))
}

/// Calls the worker; a failure shows the worker's own message.
/// The worker's address and credentials a subcommand names.
fn connect_of(command: &ConnectorCommand) -> &ConnectUrl {
    match command {
        ConnectorCommand::List { connect }
        | ConnectorCommand::Create { connect, .. }
        | ConnectorCommand::Status { connect, .. }
        | ConnectorCommand::Pause { connect, .. }
        | ConnectorCommand::Resume { connect, .. }
        | ConnectorCommand::Restart { connect, .. }
        | ConnectorCommand::Delete { connect, .. } => connect,
    }
}

/// An HTTP client of the worker, with its CA and login.
struct Worker {
    client: Client,
    login: Option<(String, String)>,
}

impl Worker {
    fn new(connect: &ConnectUrl) -> Result<Self> {
        let client = tidemark_connect::http_client::builder(connect.ca.as_deref())
            .context("--connect-ca")?
            .build()
            .context("the HTTP client")?;
        let login = match &connect.user {
            None => None,
            Some(user) => {
                let (name, password) = user.split_once(':').context("--connect-user is NAME:PASSWORD")?;
                Some((name.to_owned(), password.to_owned()))
            }
        };
        Ok(Worker { client, login })
    }
}

async fn call(worker: &Worker, method: Method, url: &str, body: Option<Value>) -> Result<Value> {
    let mut request = worker.client.request(method, url);
    if let Some((name, password)) = &worker.login {
        request = request.basic_auth(name, Some(password));
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.with_context(|| format!("reaching the connect worker at {url}"))?;
    let status = response.status();
    let text = response.text().await.context("reading the worker's answer")?;
    if !status.is_success() {
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or(text);
        bail!("{status}: {message}");
    }
    if status == StatusCode::NO_CONTENT || text.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text).context("the worker's answer is not JSON")
}
