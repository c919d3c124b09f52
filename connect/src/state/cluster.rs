//! What the three topics say, applied in order: connector configs with their task configs and target states
//! (`connect-configs`), committed source offsets (`connect-offsets`), and statuses (`connect-status`).

use std::collections::BTreeMap;

use serde_json::Value;
use tidemark_log_client::{Apply, LogRecord};

use super::records::{decode_offset_key, ConfigRecord, Status, TargetState, TopicUsage, TopicUse};

/// One connector as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorConfig {
    /// Its properties as the user gave them (config-provider references unresolved).
    pub properties: BTreeMap<String, String>,
    /// The state the user asked for.
    pub target: TargetState,
    /// Its task configs, complete as of the last commit record.
    pub tasks: Vec<BTreeMap<String, String>>,
}

/// The configs of every connector (`connect-configs`).
#[derive(Debug, Default)]
pub struct ClusterConfig {
    connectors: BTreeMap<String, ConnectorConfig>,
    /// Task configs written but not yet committed.
    pending_tasks: BTreeMap<(String, u32), BTreeMap<String, String>>,
    /// How many task-config commits have been applied: Kafka Connect's config generation, shown in statuses.
    generation: i64,
}

impl ClusterConfig {
    /// The connectors by name.
    pub fn connectors(&self) -> &BTreeMap<String, ConnectorConfig> {
        &self.connectors
    }

    /// One connector.
    pub fn connector(&self, name: &str) -> Option<&ConnectorConfig> {
        self.connectors.get(name)
    }

    /// The config generation: the number of task-config commits applied so far.
    pub fn generation(&self) -> i64 {
        self.generation
    }

    fn apply_record(&mut self, record: ConfigRecord) {
        match record {
            ConfigRecord::Connector { name, properties: Some(properties) } => {
                let entry = self.connectors.entry(name).or_insert_with(|| ConnectorConfig {
                    properties: BTreeMap::new(),
                    target: TargetState::Started,
                    tasks: Vec::new(),
                });
                entry.properties = properties;
            }
            ConfigRecord::Connector { name, properties: None } => {
                self.connectors.remove(&name);
                self.pending_tasks.retain(|(connector, _), _| *connector != name);
            }
            ConfigRecord::Task { name, task, properties } => {
                self.pending_tasks.insert((name, task), properties);
            }
            ConfigRecord::Commit { name, tasks } => {
                self.generation += 1;
                let committed: Vec<BTreeMap<String, String>> =
                    (0..tasks).filter_map(|t| self.pending_tasks.remove(&(name.clone(), t))).collect();
                self.pending_tasks.retain(|(connector, _), _| *connector != name);
                if let Some(connector) = self.connectors.get_mut(&name) {
                    if committed.len() == tasks as usize {
                        connector.tasks = committed;
                    } else {
                        tracing::warn!(connector = name, tasks, "commit record without all its task configs; ignored");
                    }
                }
            }
            ConfigRecord::TargetState { name, state } => {
                if let Some(connector) = self.connectors.get_mut(&name) {
                    connector.target = state;
                }
            }
        }
    }
}

impl Apply for ClusterConfig {
    fn apply(&mut self, record: &LogRecord) {
        let Some(key) = record.key.as_deref() else { return };
        match ConfigRecord::decode(&String::from_utf8_lossy(key), record.value.as_deref()) {
            Ok(decoded) => self.apply_record(decoded),
            Err(e) => tracing::debug!(error = %e, "skipping a connect-configs record"),
        }
    }
}

/// Committed source offsets (`connect-offsets`): per connector, per source partition.
#[derive(Debug, Default)]
pub struct SourceOffsets {
    offsets: BTreeMap<String, BTreeMap<String, (Value, Value)>>,
}

impl SourceOffsets {
    /// A connector's (source partition, offset) pairs.
    pub fn of(&self, connector: &str) -> Vec<(Value, Value)> {
        self.offsets.get(connector).map(|m| m.values().cloned().collect()).unwrap_or_default()
    }
}

impl Apply for SourceOffsets {
    fn apply(&mut self, record: &LogRecord) {
        let Some(key) = record.key.as_deref() else { return };
        let Ok((connector, partition)) = decode_offset_key(key) else {
            tracing::debug!("skipping a connect-offsets record with an unreadable key");
            return;
        };
        let partitions = self.offsets.entry(connector.clone()).or_default();
        let partition_key = partition.to_string();
        match record.value.as_deref().map(serde_json::from_slice::<Value>) {
            Some(Ok(offset)) => {
                partitions.insert(partition_key, (partition, offset));
            }
            None => {
                partitions.remove(&partition_key);
                if partitions.is_empty() {
                    self.offsets.remove(&connector);
                }
            }
            Some(Err(e)) => tracing::debug!(error = %e, "skipping an unreadable source offset"),
        }
    }
}

/// The last status of every connector and task (`connect-status`), by record key, and the topics each connector
/// has used (KIP-558).
#[derive(Debug, Default)]
pub struct Statuses {
    statuses: BTreeMap<String, Status>,
    /// Connector → topics, by the usage records' keys.
    topics: BTreeMap<String, BTreeMap<String, TopicUse>>,
}

impl Statuses {
    /// The status stored under `key`.
    pub fn get(&self, key: &str) -> Option<&Status> {
        self.statuses.get(key)
    }

    /// The topics `connector` has used, by name.
    pub fn topics(&self, connector: &str) -> Vec<String> {
        self.topics.get(connector).map(|t| t.values().map(|u| u.name.clone()).collect()).unwrap_or_default()
    }

    fn apply_topic(&mut self, key: &str, value: Option<&[u8]>) {
        match value.map(serde_json::from_slice::<TopicUsage>) {
            Some(Ok(usage)) => {
                let connector = usage.topic.connector.clone();
                self.topics.entry(connector).or_default().insert(key.to_owned(), usage.topic);
            }
            None => {
                for topics in self.topics.values_mut() {
                    topics.remove(key);
                }
                self.topics.retain(|_, topics| !topics.is_empty());
            }
            Some(Err(e)) => tracing::debug!(error = %e, "skipping an unreadable topic-usage record"),
        }
    }
}

impl Apply for Statuses {
    fn apply(&mut self, record: &LogRecord) {
        let Some(key) = record.key.as_deref() else { return };
        let key = String::from_utf8_lossy(key).into_owned();
        if key.starts_with("status-topic-") {
            self.apply_topic(&key, record.value.as_deref());
            return;
        }
        match record.value.as_deref().map(serde_json::from_slice::<Status>) {
            Some(Ok(status)) => {
                self.statuses.insert(key, status);
            }
            None => {
                self.statuses.remove(&key);
            }
            Some(Err(e)) => tracing::debug!(error = %e, "skipping an unreadable status record"),
        }
    }
}
