//! How connectors look in answers: `info` and `status` in Kafka Connect's shapes, configs with secrets hidden.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::config::{masked, ConfigDef};
use crate::state::Status;
use crate::worker::{Worker, WorkerError};

/// The connector's declared settings (empty when its plugin is unknown).
pub fn definition(worker: &Worker, props: &BTreeMap<String, String>) -> ConfigDef {
    props
        .get("connector.class")
        .and_then(|class| worker.plugins().find(class))
        .map(|plugin| plugin.connector().config_def())
        .unwrap_or_default()
}

/// `source` or `sink`, by the connector's plugin (`source` when the plugin is unknown).
fn type_name(worker: &Worker, props: &BTreeMap<String, String>) -> &'static str {
    props.get("connector.class").and_then(|class| worker.plugins().find(class)).map_or("source", |p| p.type_name())
}

/// `props` as answers show them: secrets hidden.
pub fn shown_config(worker: &Worker, props: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    masked(&definition(worker, props), props)
}

/// `GET /connectors/{c}`: name, config, tasks and type.
pub fn info(worker: &Worker, name: &str) -> Result<Value, WorkerError> {
    let configs = worker.state().configs();
    let connector = configs.connector(name).ok_or_else(|| WorkerError::NotFound(name.to_owned()))?;
    let tasks: Vec<Value> = (0..connector.tasks.len()).map(|t| json!({ "connector": name, "task": t })).collect();
    Ok(json!({
        "name": name,
        "config": shown_config(worker, &connector.properties),
        "tasks": tasks,
        "type": type_name(worker, &connector.properties),
    }))
}

fn state_view(status: Option<&Status>) -> Value {
    match status {
        Some(s) => {
            let mut view = json!({ "state": s.state, "worker_id": s.worker_id });
            if let Some(trace) = &s.trace {
                view["trace"] = json!(trace);
            }
            view
        }
        None => json!({ "state": "UNASSIGNED", "worker_id": Value::Null }),
    }
}

/// `GET /connectors/{c}/status`.
pub fn status(worker: &Worker, name: &str) -> Result<Value, WorkerError> {
    let (connector, tasks) = worker.status(name)?;
    let tasks: Vec<Value> = tasks
        .iter()
        .enumerate()
        .map(|(id, task)| {
            let mut view = state_view(task.as_ref());
            view["id"] = json!(id);
            view
        })
        .collect();
    let kind = worker.state().configs().connector(name).map(|c| type_name(worker, &c.properties)).unwrap_or("source");
    Ok(json!({ "name": name, "connector": state_view(connector.as_ref()), "tasks": tasks, "type": kind }))
}

/// `GET /connectors/{c}/tasks/{t}/status`.
pub fn task_status(worker: &Worker, name: &str, task: usize) -> Result<Option<Value>, WorkerError> {
    let (_, tasks) = worker.status(name)?;
    Ok(tasks.get(task).map(|status| {
        let mut view = state_view(status.as_ref());
        view["id"] = json!(task);
        view
    }))
}
