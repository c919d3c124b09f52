//! The `datagen` source: generated records at a configurable rate, for tests and demos without a database, in one
//! of the shapes of [`shapes`] (`quickstart`: plain orders, or Debezium-shaped change events and outbox rows).
//! Each task writes its own sequence (source partition `{"datagen": "<connector>", "task": n}`, offset
//! `{"sequence": s}`) and resumes after the last durable sequence.
//!
//! Settings: `kafka.topic` (required), `quickstart` (`orders`, `debezium` or `outbox`), `iterations` (records per
//! task; -1 for no end), `rate` (records per second per task; 0 for as fast as the log takes them), `batch.size`
//! (records per poll).

pub mod shapes;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::{json, Value as Json};

use crate::config::{ConfigDef, ConfigKey, ConfigType};
use crate::connector::{Connector, SourceConnector, SourceRecord, SourceTask, TaskError};
use crate::record::ConnectRecord;
use shapes::{Shape, QUICKSTARTS};

/// The class name `connector.class` may give.
pub const DATAGEN_CLASS: &str = "io.tidemark.connect.datagen.DatagenConnector";
/// The short alias.
pub const DATAGEN_ALIAS: &str = "datagen";

/// The datagen connector.
#[derive(Debug, Default)]
pub struct DatagenConnector;

fn long(props: &BTreeMap<String, String>, def: &ConfigDef, name: &str) -> Result<i64, TaskError> {
    def.value(props, name)
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| TaskError::Definite(format!("{name} must be an integer")))
}

impl Connector for DatagenConnector {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new([
            ConfigKey::required("kafka.topic", ConfigType::String, "The topic records go to."),
            ConfigKey::optional("quickstart", ConfigType::String, "orders", "What to generate.").one_of(QUICKSTARTS),
            ConfigKey::optional("iterations", ConfigType::Long, "-1", "Records per task; -1 for no end."),
            ConfigKey::optional("rate", ConfigType::Long, "10", "Records per second per task; 0 for no limit.")
                .checked(|v| match v.trim().parse::<i64>() {
                    Ok(n) if n >= 0 => Ok(()),
                    _ => Err("must be 0 or more".into()),
                }),
            ConfigKey::optional("batch.size", ConfigType::Int, "100", "Records per poll.").checked(|v| {
                match v.trim().parse::<i32>() {
                    Ok(n) if n >= 1 => Ok(()),
                    _ => Err("must be at least 1".into()),
                }
            }),
        ])
    }

    fn task_configs(&self, props: &BTreeMap<String, String>, max_tasks: usize) -> Vec<BTreeMap<String, String>> {
        (0..max_tasks.max(1))
            .map(|task| {
                let mut config = props.clone();
                config.insert("task.id".into(), task.to_string());
                config
            })
            .collect()
    }
}

impl SourceConnector for DatagenConnector {
    fn create_task(&self, config: &BTreeMap<String, String>) -> Result<Box<dyn SourceTask>, TaskError> {
        let def = self.config_def();
        let topic =
            def.value(config, "kafka.topic").ok_or_else(|| TaskError::Definite("kafka.topic is required".into()))?;
        let connector = config.get("name").cloned().unwrap_or_else(|| DATAGEN_ALIAS.to_owned());
        let task: i64 = config.get("task.id").and_then(|t| t.parse().ok()).unwrap_or(0);
        let shape = Shape::named(def.value(config, "quickstart").unwrap_or("orders"))?;
        Ok(Box::new(DatagenTask {
            topic: topic.to_owned(),
            partition: Arc::new(json!({ "datagen": connector, "task": task })),
            iterations: long(config, &def, "iterations")?,
            rate: long(config, &def, "rate")?,
            batch: long(config, &def, "batch.size")?.max(1),
            next: 0,
            shape,
        }))
    }
}

struct DatagenTask {
    topic: String,
    partition: Arc<Json>,
    iterations: i64,
    rate: i64,
    batch: i64,
    next: i64,
    shape: Shape,
}

impl DatagenTask {
    /// The records of `sequence`, all at the same source position.
    fn records(&self, sequence: i64, now_ms: i64) -> Result<Vec<SourceRecord>, TaskError> {
        let records = self.shape.records(sequence, now_ms)?;
        let offset = Arc::new(json!({ "sequence": sequence }));
        Ok(records
            .into_iter()
            .map(|(key, value)| SourceRecord {
                source_partition: self.partition.clone(),
                source_offset: Arc::clone(&offset),
                record: ConnectRecord::new(self.topic.clone(), key, value),
            })
            .collect())
    }
}

impl SourceTask for DatagenTask {
    fn start(&mut self, offsets: Vec<(Json, Json)>) -> BoxFuture<'_, Result<(), TaskError>> {
        let resumed = offsets
            .into_iter()
            .find(|(partition, _)| *partition == *self.partition)
            .and_then(|(_, offset)| offset.get("sequence").and_then(Json::as_i64));
        self.next = resumed.map_or(0, |last| last + 1);
        Box::pin(async { Ok(()) })
    }

    fn poll(&mut self) -> BoxFuture<'_, Result<Vec<SourceRecord>, TaskError>> {
        Box::pin(async move {
            let remaining =
                if self.iterations < 0 { self.batch } else { (self.iterations - self.next).min(self.batch) };
            if remaining <= 0 {
                // Done: idle like a quiet database would.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return Ok(Vec::new());
            }
            if self.rate > 0 {
                let millis = u64::try_from(remaining * 1000 / self.rate).unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(millis)).await;
            }
            let now = crate::runtime::now_ms();
            let mut records = Vec::with_capacity(remaining as usize);
            for sequence in self.next..self.next + remaining {
                records.extend(self.records(sequence, now)?);
            }
            self.next += remaining;
            Ok(records)
        })
    }

    fn commit<'a>(&'a mut self, _durable: &'a [(Json, Json)]) -> BoxFuture<'a, Result<(), TaskError>> {
        // Nothing to confirm to: the sequence itself is the source.
        Box::pin(async { Ok(()) })
    }

    fn stop(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}
