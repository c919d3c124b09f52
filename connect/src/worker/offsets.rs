//! A connector's offsets as KIP-875 shows and changes them (`GET/PATCH/DELETE /connectors/{c}/offsets`): a source
//! connector's positions in `connect-offsets`, a sink connector's committed offsets in its consumer group
//! `connect-<name>`. Offsets change only while the connector is STOPPED, so no task races the change.

use serde_json::{json, Value as Json};

use super::{ConnectorKind, Worker, WorkerError};
use crate::runtime::sink_group;
use crate::state::TargetState;

/// The answer to a successful change of a source connector's offsets.
const SOURCE_ALTERED: &str =
    "The Connect framework-managed offsets for this connector have been altered successfully. \
     However, if this connector manages offsets externally, they will need to be manually altered in the system that \
     the connector uses.";
/// The answer to a successful reset of a source connector's offsets.
const SOURCE_RESET: &str = "The Connect framework-managed offsets for this connector have been reset successfully. \
     However, if this connector manages offsets externally, they will need to be manually reset in the system that \
     the connector uses.";
/// The answer to a successful change of a sink connector's offsets.
const SINK_ALTERED: &str = "The offsets for this connector have been altered successfully";
/// The answer to a successful reset of a sink connector's offsets.
const SINK_RESET: &str = "The offsets for this connector have been reset successfully";

/// One offset as KIP-875 shows it: `{"partition": {...}, "offset": {...} | null}`.
#[derive(Debug, Clone, PartialEq)]
pub struct OffsetEntry {
    /// A source partition, or `{"kafka_topic", "kafka_partition"}` for a sink.
    pub partition: Json,
    /// A source offset, or `{"kafka_offset"}` for a sink; `None` removes it.
    pub offset: Option<Json>,
}

impl OffsetEntry {
    /// The entry as JSON.
    pub fn to_json(&self) -> Json {
        json!({ "partition": self.partition, "offset": self.offset })
    }
}

impl Worker {
    fn kind_of(&self, name: &str) -> Result<ConnectorKind, WorkerError> {
        let configs = self.state.configs();
        let config = configs.connector(name).ok_or_else(|| WorkerError::NotFound(name.to_owned()))?;
        let class = config.properties.get("connector.class").map(String::as_str).unwrap_or_default();
        let plugin = self
            .plugins
            .find(class)
            .ok_or_else(|| WorkerError::BadRequest(format!("No connector plugin {class} for connector {name}")))?;
        Ok(plugin.kind.clone())
    }

    fn require_stopped(&self, name: &str) -> Result<(), WorkerError> {
        let configs = self.state.configs();
        let config = configs.connector(name).ok_or_else(|| WorkerError::NotFound(name.to_owned()))?;
        if config.target == TargetState::Stopped {
            return Ok(());
        }
        Err(WorkerError::BadRequest(format!(
            "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the \
             specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
        )))
    }

    /// The connector's offsets.
    pub async fn offsets(&self, name: &str) -> Result<Vec<OffsetEntry>, WorkerError> {
        match self.kind_of(name)? {
            ConnectorKind::Source(_) => Ok(self
                .state
                .offsets()
                .of(name)
                .into_iter()
                .map(|(partition, offset)| OffsetEntry { partition, offset: Some(offset) })
                .collect()),
            ConnectorKind::Sink(_) => {
                let committed = self.log.group_offsets(&sink_group(name)).await.map_err(WorkerError::log)?;
                Ok(committed
                    .into_iter()
                    .map(|(topic, partition, offset)| OffsetEntry {
                        partition: json!({ "kafka_topic": topic, "kafka_partition": partition }),
                        offset: Some(json!({ "kafka_offset": offset })),
                    })
                    .collect())
            }
        }
    }

    /// Sets or removes some of a STOPPED connector's offsets; answers Kafka Connect's message.
    pub async fn alter_offsets(&self, name: &str, entries: Vec<OffsetEntry>) -> Result<&'static str, WorkerError> {
        let kind = self.kind_of(name)?;
        self.require_stopped(name)?;
        match kind {
            ConnectorKind::Source(_) => {
                let mut changes = Vec::with_capacity(entries.len());
                for entry in entries {
                    if !entry.partition.is_object() {
                        return Err(WorkerError::BadRequest("Source partitions must be JSON objects".into()));
                    }
                    if entry.offset.as_ref().is_some_and(|o| !o.is_object()) {
                        return Err(WorkerError::BadRequest("Source offsets must be JSON objects or null".into()));
                    }
                    changes.push((entry.partition, entry.offset));
                }
                self.state.put_offsets(name, &changes).await?;
                Ok(SOURCE_ALTERED)
            }
            ConnectorKind::Sink(_) => {
                let changes = entries.iter().map(sink_change).collect::<Result<Vec<_>, _>>()?;
                self.log.alter_group_offsets(&sink_group(name), &changes).await.map_err(WorkerError::log)?;
                Ok(SINK_ALTERED)
            }
        }
    }

    /// Removes every offset of a STOPPED connector, so it starts over; answers Kafka Connect's message.
    pub async fn reset_offsets(&self, name: &str) -> Result<&'static str, WorkerError> {
        let kind = self.kind_of(name)?;
        self.require_stopped(name)?;
        match kind {
            ConnectorKind::Source(_) => {
                let removed: Vec<(Json, Option<Json>)> =
                    self.state.offsets().of(name).into_iter().map(|(partition, _)| (partition, None)).collect();
                self.state.put_offsets(name, &removed).await?;
                Ok(SOURCE_RESET)
            }
            ConnectorKind::Sink(_) => {
                let group = sink_group(name);
                let committed = self.log.group_offsets(&group).await.map_err(WorkerError::log)?;
                let removed: Vec<(String, i32, Option<i64>)> =
                    committed.into_iter().map(|(topic, partition, _)| (topic, partition, None)).collect();
                if !removed.is_empty() {
                    self.log.alter_group_offsets(&group, &removed).await.map_err(WorkerError::log)?;
                }
                Ok(SINK_RESET)
            }
        }
    }
}

/// A sink offset change: `{"kafka_topic", "kafka_partition"}` and `{"kafka_offset"}` or null.
fn sink_change(entry: &OffsetEntry) -> Result<(String, i32, Option<i64>), WorkerError> {
    let bad = |message: &str| WorkerError::BadRequest(message.to_owned());
    let topic = entry
        .partition
        .get("kafka_topic")
        .and_then(Json::as_str)
        .ok_or_else(|| bad("Kafka topic names must be valid strings and may not be null"))?;
    let partition = entry
        .partition
        .get("kafka_partition")
        .and_then(Json::as_i64)
        .and_then(|p| i32::try_from(p).ok())
        .filter(|p| *p >= 0)
        .ok_or_else(|| bad("Kafka partitions must be valid non-negative integers and may not be null"))?;
    let offset = match &entry.offset {
        None | Some(Json::Null) => None,
        Some(offset) => Some(
            offset
                .get("kafka_offset")
                .and_then(Json::as_i64)
                .filter(|o| *o >= 0)
                .ok_or_else(|| bad("Kafka offsets must be valid non-negative integers"))?,
        ),
    };
    Ok((topic.to_owned(), partition, offset))
}
