//! The records of the worker's three compacted topics, in Kafka Connect's own layout so its tools and a Kafka
//! Connect cluster can read them:
//!
//! - `connect-configs`: `connector-<name>` → `{"properties": {...}}`; `task-<name>-<n>` → `{"properties": {...}}`;
//!   `commit-<name>` → `{"tasks": N}` (the task configs above are complete); `target-state-<name>` →
//!   `{"state": "STARTED"|"PAUSED"|"STOPPED"}` (KIP-875 adds `state.v2`); a tombstone on `connector-<name>`
//!   deletes the connector.
//! - `connect-offsets`: key `["<connector>", {source partition}]` → the source offset object; a tombstone deletes.
//! - `connect-status`: `status-connector-<name>` and `status-task-<name>-<n>` → `{"state", "trace", "worker_id",
//!   "generation"}`; `status-topic-<topic>:connector-<name>` → the topics a connector uses (KIP-558).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use thiserror::Error;

/// A record of one of the topics could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RecordError {
    /// The key follows none of the layouts.
    #[error("unrecognised key '{0}'")]
    UnknownKey(String),
    /// The value does not parse.
    #[error("unreadable value for '{key}': {why}")]
    BadValue {
        /// The key.
        key: String,
        /// The parser's message.
        why: String,
    },
}

/// The state a user asked a connector to be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TargetState {
    /// Running.
    Started,
    /// Paused: tasks exist but do not process.
    Paused,
    /// Stopped (KIP-875): no tasks; offsets may be altered.
    Stopped,
}

/// A record of `connect-configs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigRecord {
    /// A connector's config, or its deletion (`None`).
    Connector {
        /// The connector.
        name: String,
        /// Its properties.
        properties: Option<BTreeMap<String, String>>,
    },
    /// One task's config.
    Task {
        /// The connector.
        name: String,
        /// The task number.
        task: u32,
        /// Its properties.
        properties: BTreeMap<String, String>,
    },
    /// The connector's task configs written so far are complete: there are `tasks` of them.
    Commit {
        /// The connector.
        name: String,
        /// The number of tasks.
        tasks: u32,
    },
    /// The state the connector should be in.
    TargetState {
        /// The connector.
        name: String,
        /// The state.
        state: TargetState,
    },
}

#[derive(Serialize, Deserialize)]
struct Properties {
    properties: BTreeMap<String, String>,
}

impl ConfigRecord {
    /// The record's key and value (`None` for a tombstone).
    pub fn encode(&self) -> (String, Option<Value>) {
        match self {
            ConfigRecord::Connector { name, properties } => {
                (format!("connector-{name}"), properties.as_ref().map(|p| json!({ "properties": p })))
            }
            ConfigRecord::Task { name, task, properties } => {
                (format!("task-{name}-{task}"), Some(json!({ "properties": properties })))
            }
            ConfigRecord::Commit { name, tasks } => (format!("commit-{name}"), Some(json!({ "tasks": tasks }))),
            ConfigRecord::TargetState { name, state } => {
                // `state` for workers before KIP-875 (which know no STOPPED), `state.v2` for the rest.
                let v1 = if *state == TargetState::Stopped { TargetState::Paused } else { *state };
                (format!("target-state-{name}"), Some(json!({ "state": v1, "state.v2": state })))
            }
        }
    }

    /// Reads a record; `value` is `None` for a tombstone.
    pub fn decode(key: &str, value: Option<&[u8]>) -> Result<Self, RecordError> {
        let bad = |why: String| RecordError::BadValue { key: key.to_owned(), why };
        let parse = |bytes: &[u8]| serde_json::from_slice::<Value>(bytes).map_err(|e| bad(e.to_string()));
        if let Some(name) = key.strip_prefix("connector-") {
            let properties = match value {
                None => None,
                Some(v) => Some(serde_json::from_slice::<Properties>(v).map_err(|e| bad(e.to_string()))?.properties),
            };
            return Ok(ConfigRecord::Connector { name: name.to_owned(), properties });
        }
        if let Some(name) = key.strip_prefix("target-state-") {
            let v = parse(value.ok_or_else(|| bad("tombstone".into()))?)?;
            let state = v.get("state.v2").or_else(|| v.get("state")).cloned().ok_or_else(|| bad("no state".into()))?;
            let state = serde_json::from_value(state).map_err(|e| bad(e.to_string()))?;
            return Ok(ConfigRecord::TargetState { name: name.to_owned(), state });
        }
        if let Some(name) = key.strip_prefix("commit-") {
            let v = parse(value.ok_or_else(|| bad("tombstone".into()))?)?;
            let tasks = v.get("tasks").and_then(Value::as_u64).ok_or_else(|| bad("no task count".into()))?;
            return Ok(ConfigRecord::Commit { name: name.to_owned(), tasks: tasks as u32 });
        }
        if let Some(rest) = key.strip_prefix("task-") {
            let (name, task) = rest.rsplit_once('-').ok_or_else(|| RecordError::UnknownKey(key.to_owned()))?;
            let task = task.parse().map_err(|_| RecordError::UnknownKey(key.to_owned()))?;
            let v = value.ok_or_else(|| bad("tombstone".into()))?;
            let properties = serde_json::from_slice::<Properties>(v).map_err(|e| bad(e.to_string()))?.properties;
            return Ok(ConfigRecord::Task { name: name.to_owned(), task, properties });
        }
        Err(RecordError::UnknownKey(key.to_owned()))
    }
}

/// The key of a `connect-offsets` record: the connector and one of its source partitions.
pub fn offset_key(connector: &str, source_partition: &Value) -> String {
    json!([connector, source_partition]).to_string()
}

/// Reads a `connect-offsets` key back into the connector and its source partition.
pub fn decode_offset_key(key: &[u8]) -> Result<(String, Value), RecordError> {
    let text = String::from_utf8_lossy(key);
    let parsed: (String, Value) =
        serde_json::from_slice(key).map_err(|_| RecordError::UnknownKey(text.clone().into_owned()))?;
    Ok(parsed)
}

/// A connector's or task's state as `connect-status` and `/status` show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RunState {
    /// Not yet assigned to a worker.
    Unassigned,
    /// Running.
    Running,
    /// Paused.
    Paused,
    /// Failed; the trace says why.
    Failed,
    /// Restarting.
    Restarting,
    /// Stopped (KIP-875).
    Stopped,
}

/// The value of a `connect-status` record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The state.
    pub state: RunState,
    /// Why it failed.
    pub trace: Option<String>,
    /// The worker running it (`host:port` of its REST listener).
    pub worker_id: String,
    /// The config generation it runs.
    pub generation: i64,
}

/// The key of a connector's status record.
pub fn connector_status_key(name: &str) -> String {
    format!("status-connector-{name}")
}

/// The key of a task's status record.
pub fn task_status_key(name: &str, task: u32) -> String {
    format!("status-task-{name}-{task}")
}

/// The key of the record saying a connector uses a topic (KIP-558).
pub fn topic_status_key(topic: &str, connector: &str) -> String {
    format!("status-topic-{topic}:connector-{connector}")
}

/// The value of a topic-usage record (KIP-558): `{"topic": {"name", "connector", "task", "discoverTimestamp"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicUsage {
    /// What was found.
    pub topic: TopicUse,
}

/// A connector's task found using a topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicUse {
    /// The topic.
    pub name: String,
    /// The connector.
    pub connector: String,
    /// The task that first used it.
    pub task: u32,
    /// When (ms since the epoch).
    pub discover_timestamp: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_records_round_trip_in_kafka_connects_layout() {
        let properties: BTreeMap<String, String> =
            [("connector.class".to_owned(), "datagen".to_owned())].into_iter().collect();
        let records = [
            ConfigRecord::Connector { name: "orders-source".into(), properties: Some(properties.clone()) },
            ConfigRecord::Connector { name: "gone".into(), properties: None },
            ConfigRecord::Task { name: "my-connector-2".into(), task: 11, properties },
            ConfigRecord::Commit { name: "orders-source".into(), tasks: 3 },
            ConfigRecord::TargetState { name: "orders-source".into(), state: TargetState::Stopped },
        ];
        for record in records {
            let (key, value) = record.encode();
            let bytes = value.map(|v| serde_json::to_vec(&v).expect("json"));
            assert_eq!(ConfigRecord::decode(&key, bytes.as_deref()), Ok(record));
        }
        let (key, value) = ConfigRecord::TargetState { name: "c".into(), state: TargetState::Stopped }.encode();
        assert_eq!(key, "target-state-c");
        assert_eq!(value, Some(json!({ "state": "PAUSED", "state.v2": "STOPPED" })));
        let older = ConfigRecord::decode("target-state-c", Some(br#"{"state":"PAUSED"}"#));
        assert_eq!(older, Ok(ConfigRecord::TargetState { name: "c".into(), state: TargetState::Paused }));
        assert!(matches!(ConfigRecord::decode("session-key", Some(b"{}")), Err(RecordError::UnknownKey(_))));
    }

    #[test]
    fn offset_keys_are_kafka_connects_json_arrays() {
        let partition = json!({ "server": "inventory" });
        let key = offset_key("pg", &partition);
        assert_eq!(key, r#"["pg",{"server":"inventory"}]"#);
        assert_eq!(decode_offset_key(key.as_bytes()), Ok(("pg".to_owned(), partition)));
        assert!(decode_offset_key(b"not json").is_err());
    }

    #[test]
    fn statuses_use_kafka_connects_fields() {
        let status =
            Status { state: RunState::Failed, trace: Some("boom".into()), worker_id: "h:8083".into(), generation: 2 };
        let text = serde_json::to_string(&status).expect("json");
        assert_eq!(text, r#"{"state":"FAILED","trace":"boom","worker_id":"h:8083","generation":2}"#);
        assert_eq!(task_status_key("c", 0), "status-task-c-0");
        assert_eq!(connector_status_key("c"), "status-connector-c");
    }
}
