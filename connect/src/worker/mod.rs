//! The worker: validates and stores connector configs, and runs the tasks that the stored configs and target
//! states call for. It reconciles whenever configs change, here or on another worker sharing the topics, so a
//! restarted worker resumes every connector in the state it had (RUNNING, PAUSED or STOPPED).
//!
//! Paused and stopped connectors have no running tasks here (Kafka Connect keeps paused tasks alive but idle; a
//! source task stopped and restarted from its stored positions behaves the same).

mod offsets;
mod plugins;
mod sink_settings;
mod tasks;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tidemark_log_client::LogClient;
use tokio::sync::Mutex;

use crate::config::{ConfigDef, ConfigKey, ConfigType, FieldError};
use crate::metrics::ConnectMetrics;
use crate::runtime::{errors_def, sink_group};
use crate::state::records::{connector_status_key, task_status_key};
use crate::state::{ConfigRecord, RunState, StateError, Status, TargetState, WorkerState};

pub use offsets::OffsetEntry;
pub use plugins::{ConnectorKind, Plugin, Plugins};
pub use sink_settings::{sink_def, SinkSettings};
use tasks::RunningConnector;

/// How often the worker looks for config changes made elsewhere.
const RECONCILE_EVERY: Duration = Duration::from_millis(500);

/// A worker operation failed.
#[derive(Debug, Error)]
pub enum WorkerError {
    /// The config is invalid; every bad field is listed.
    #[error("{}", crate::config::invalid_config_message(.0))]
    Invalid(Vec<FieldError>),
    /// No connector has this name.
    #[error("Connector {0} not found")]
    NotFound(String),
    /// A connector with this name exists.
    #[error("Connector {0} already exists")]
    AlreadyExists(String),
    /// The state topics failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The request cannot be carried out as asked (e.g. offsets changed while the connector runs).
    #[error("{0}")]
    BadRequest(String),
    /// The log failed.
    #[error("the log failed: {0}")]
    Log(String),
}

impl WorkerError {
    /// A log failure.
    pub fn log(error: tidemark_log_client::LogError) -> Self {
        match error {
            tidemark_log_client::LogError::Refused(message) => WorkerError::BadRequest(message),
            other => WorkerError::Log(other.to_string()),
        }
    }
}

/// The settings every connector has, whatever its plugin.
pub fn common_def() -> ConfigDef {
    ConfigDef::new([
        ConfigKey::required("connector.class", ConfigType::Class, "The connector's class name or alias."),
        ConfigKey::optional("tasks.max", ConfigType::Int, "1", "The most tasks to run.").checked(|v| {
            match v.trim().parse::<i32>() {
                Ok(n) if n >= 1 => Ok(()),
                _ => Err("must be at least 1".into()),
            }
        }),
        ConfigKey::optional("key.converter", ConfigType::Class, "json", "Converts record keys."),
        ConfigKey::optional("value.converter", ConfigType::Class, "json", "Converts record values."),
        ConfigKey::optional(
            "offset.flush.interval.ms",
            ConfigType::Long,
            "10000",
            "How often a source's positions are stored, and a sink flushed and its consumer offsets committed \
             (a worker setting in Kafka Connect, settable per connector here).",
        )
        .checked(|v| match v.trim().parse::<i64>() {
            Ok(n) if n >= 0 => Ok(()),
            _ => Err("must be 0 or more".into()),
        }),
    ])
}

/// A connector's `offset.flush.interval.ms`.
fn offset_flush_interval(props: &BTreeMap<String, String>) -> Duration {
    let millis = common_def().value(props, "offset.flush.interval.ms").and_then(|v| v.trim().parse::<u64>().ok());
    Duration::from_millis(millis.unwrap_or(10_000))
}

/// A connect worker.
pub struct Worker {
    log: Arc<dyn LogClient>,
    state: Arc<WorkerState>,
    plugins: Plugins,
    worker_id: String,
    converter_defaults: BTreeMap<String, String>,
    metrics: Arc<ConnectMetrics>,
    running: Mutex<HashMap<String, RunningConnector>>,
}

impl Worker {
    /// A worker on `state`, running tasks with `plugins`; `worker_id` names it in statuses (its REST address).
    pub fn new(log: Arc<dyn LogClient>, state: Arc<WorkerState>, plugins: Plugins, worker_id: String) -> Arc<Self> {
        Self::with_converter_defaults(log, state, plugins, worker_id, BTreeMap::new())
    }

    /// A worker whose connectors that name no `key.converter` or `value.converter` use these worker settings
    /// (`value.converter=...`, `value.converter.schema.registry.url=...`), as a Kafka Connect worker's config does.
    pub fn with_converter_defaults(
        log: Arc<dyn LogClient>,
        state: Arc<WorkerState>,
        plugins: Plugins,
        worker_id: String,
        converter_defaults: BTreeMap<String, String>,
    ) -> Arc<Self> {
        let running = Mutex::new(HashMap::new());
        let metrics = Arc::new(ConnectMetrics::default());
        Arc::new(Worker { log, state, plugins, worker_id, converter_defaults, metrics, running })
    }

    /// A connector's settings with the worker's converter settings for each role it leaves unset.
    pub fn effective(&self, props: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut effective = props.clone();
        for role in ["key.converter", "value.converter"] {
            if props.contains_key(role) {
                continue;
            }
            let prefix = format!("{role}.");
            for (key, value) in &self.converter_defaults {
                if key == role || key.starts_with(&prefix) {
                    effective.entry(key.clone()).or_insert_with(|| value.clone());
                }
            }
        }
        effective
    }

    /// Reconciles now and then every [`RECONCILE_EVERY`] until the worker is dropped elsewhere.
    pub async fn run(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(RECONCILE_EVERY);
        loop {
            ticker.tick().await;
            self.reconcile().await;
        }
    }

    /// The plugins.
    pub fn plugins(&self) -> &Plugins {
        &self.plugins
    }

    /// The worker's metrics (other components' may be included into them: [`ConnectMetrics::include`]).
    pub fn metrics(&self) -> &ConnectMetrics {
        &self.metrics
    }

    /// The Prometheus text of the worker's metrics, with every sink connector's consumer lag measured now.
    pub async fn metrics_text(&self) -> String {
        let sinks: Vec<String> = {
            let configs = self.state.configs();
            configs
                .connectors()
                .iter()
                .filter(|(_, c)| {
                    let class = c.properties.get("connector.class").map(String::as_str).unwrap_or_default();
                    self.plugins.find(class).is_some_and(|p| matches!(p.kind, ConnectorKind::Sink(_)))
                })
                .map(|(name, _)| name.clone())
                .collect()
        };
        let mut lags = Vec::new();
        for name in sinks {
            let Ok(committed) = self.log.group_offsets(&sink_group(&name)).await else { continue };
            let mut ends: BTreeMap<String, Vec<i64>> = BTreeMap::new();
            for (topic, partition, offset) in committed {
                if !ends.contains_key(&topic) {
                    let Ok(end) = self.log.end_offsets(&topic).await else { continue };
                    ends.insert(topic.clone(), end);
                }
                let end = ends.get(&topic).and_then(|e| e.get(partition as usize)).copied().unwrap_or(offset);
                lags.push((name.clone(), topic, partition, (end - offset).max(0)));
            }
        }
        self.metrics.render(&lags)
    }

    /// The worker's state topics.
    pub fn state(&self) -> &WorkerState {
        &self.state
    }

    /// Every problem with a connector config: the common settings, the converters, and the plugin's own.
    pub async fn validate(&self, props: &BTreeMap<String, String>) -> Vec<FieldError> {
        let mut errors = common_def().validate(props);
        errors.extend(errors_def().validate(props));
        errors.extend(crate::transforms::validate(props));
        let effective = self.effective(props);
        for role in ["key", "value"] {
            if let Err(error) = tasks::converter(&effective, role) {
                errors.push(error);
            }
        }
        let Some(class) = props.get("connector.class") else { return errors };
        match self.plugins.find(class) {
            None => errors.push(FieldError {
                name: "connector.class".into(),
                message: format!("Failed to find any class that implements Connector and which name matches {class}"),
            }),
            Some(plugin) => {
                if let ConnectorKind::Sink(_) = plugin.kind {
                    errors.extend(sink_settings::sink_errors(props));
                }
                errors.extend(plugin.connector().config_def().validate(props));
                if errors.is_empty() {
                    errors.extend(plugin.connector().validate(props).await);
                }
            }
        }
        errors
    }

    /// Creates (`create_only`) or updates a connector after validating its config; it starts RUNNING when new.
    pub async fn put_connector(
        &self,
        name: &str,
        props: BTreeMap<String, String>,
        create_only: bool,
    ) -> Result<(), WorkerError> {
        let exists = self.state.configs().connector(name).is_some();
        if create_only && exists {
            return Err(WorkerError::AlreadyExists(name.to_owned()));
        }
        let mut props = props;
        props.insert("name".into(), name.to_owned());
        let errors = self.validate(&props).await;
        if !errors.is_empty() {
            return Err(WorkerError::Invalid(errors));
        }
        let plugin = props.get("connector.class").and_then(|c| self.plugins.find(c)).ok_or_else(|| {
            WorkerError::Invalid(vec![FieldError { name: "connector.class".into(), message: "unknown".into() }])
        })?;
        let max_tasks = common_def().value(&props, "tasks.max").and_then(|v| v.trim().parse().ok()).unwrap_or(1);
        let task_configs = plugin.connector().task_configs(&props, max_tasks);
        let target = (!exists).then_some(TargetState::Started);
        self.state.put_connector(name, props, task_configs, target).await?;
        self.reconcile().await;
        Ok(())
    }

    /// Pauses, resumes or stops a connector.
    pub async fn set_target(&self, name: &str, state: TargetState) -> Result<(), WorkerError> {
        if self.state.configs().connector(name).is_none() {
            return Err(WorkerError::NotFound(name.to_owned()));
        }
        self.state.write_configs(&[ConfigRecord::TargetState { name: name.to_owned(), state }]).await?;
        self.reconcile().await;
        Ok(())
    }

    /// Deletes a connector and stops its tasks.
    pub async fn delete(&self, name: &str) -> Result<(), WorkerError> {
        if self.state.configs().connector(name).is_none() {
            return Err(WorkerError::NotFound(name.to_owned()));
        }
        self.state.write_configs(&[ConfigRecord::Connector { name: name.to_owned(), properties: None }]).await?;
        self.reconcile().await;
        Ok(())
    }

    /// The stored status of a connector and of each of its tasks.
    pub fn status(&self, name: &str) -> Result<(Option<Status>, Vec<Option<Status>>), WorkerError> {
        let tasks = self
            .state
            .configs()
            .connector(name)
            .map(|c| c.tasks.len())
            .ok_or_else(|| WorkerError::NotFound(name.to_owned()))?;
        let statuses = self.state.statuses();
        let connector = statuses.get(&connector_status_key(name)).cloned();
        let tasks = (0..tasks as u32).map(|t| statuses.get(&task_status_key(name, t)).cloned()).collect();
        Ok((connector, tasks))
    }

    /// Restarts tasks of a connector from their stored positions (Kafka Connect's
    /// `POST /connectors/{c}/restart?includeTasks=&onlyFailed=`): with `include_tasks`, every task, or only the
    /// FAILED ones with `only_failed`. The connector itself holds no running state here, so without
    /// `include_tasks` nothing needs restarting. Returns the task numbers restarted.
    pub async fn restart(&self, name: &str, include_tasks: bool, only_failed: bool) -> Result<Vec<u32>, WorkerError> {
        let (_, statuses) = self.status(name)?;
        if !include_tasks {
            return Ok(Vec::new());
        }
        let chosen: Vec<u32> = statuses
            .iter()
            .enumerate()
            .filter(|(_, s)| !only_failed || s.as_ref().is_some_and(|s| s.state == RunState::Failed))
            .map(|(i, _)| i as u32)
            .collect();
        for task in &chosen {
            self.restart_task(name, *task).await?;
        }
        Ok(chosen)
    }

    /// Restarts one task from its stored positions (`POST /connectors/{c}/tasks/{t}/restart`).
    pub async fn restart_task(&self, name: &str, task: u32) -> Result<(), WorkerError> {
        let mut running = self.running.lock().await;
        let connector = running.get_mut(name).ok_or_else(|| WorkerError::NotFound(name.to_owned()))?;
        if connector.restart_task(task as usize).await {
            Ok(())
        } else {
            Err(WorkerError::NotFound(format!("{name}-{task}")))
        }
    }

    /// Stops every task (for a clean shutdown).
    pub async fn shutdown(&self) {
        let mut running = self.running.lock().await;
        for (_, connector) in running.drain() {
            connector.stop().await;
        }
    }

    /// Brings the running tasks in line with the stored configs and target states.
    pub async fn reconcile(&self) {
        let (desired, generation) = {
            let configs = self.state.configs();
            (configs.connectors().clone(), configs.generation())
        };
        let mut running = self.running.lock().await;
        let gone: Vec<String> = running.keys().filter(|name| !desired.contains_key(*name)).cloned().collect();
        for name in gone {
            if let Some(connector) = running.remove(&name) {
                connector.stop().await;
            }
        }
        for (name, config) in desired {
            let current = running.get(&name).is_some_and(|r| r.matches(&config));
            if current {
                continue;
            }
            if let Some(old) = running.remove(&name) {
                old.stop().await;
            }
            match config.target {
                TargetState::Started => {
                    let started = RunningConnector::start(&name, &config, generation, self);
                    self.record(&connector_status_key(&name), RunState::Running, None, generation).await;
                    running.insert(name, started);
                }
                TargetState::Paused | TargetState::Stopped => {
                    let state = if config.target == TargetState::Paused { RunState::Paused } else { RunState::Stopped };
                    self.record(&connector_status_key(&name), state, None, generation).await;
                    for task in 0..config.tasks.len() as u32 {
                        self.record(&task_status_key(&name, task), state, None, generation).await;
                    }
                    running.insert(name, RunningConnector::idle(&config));
                }
            }
        }
    }

    async fn record(&self, key: &str, state: RunState, trace: Option<String>, generation: i64) {
        let status = Status { state, trace, worker_id: self.worker_id.clone(), generation };
        tasks::record_status(&self.state, key, &status).await;
    }
}
