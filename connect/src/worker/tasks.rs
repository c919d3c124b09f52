//! The tasks of one connector on this worker: started from the stored task configs (config providers resolved
//! here, never stored), each under the source runtime, with its status written to `connect-status`.

use std::collections::BTreeMap;
use std::sync::Arc;

use tidemark_log_client::LogClient;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::plugins::Plugins;
use crate::config::{resolve, FieldError};
use crate::connector::TaskError;
use crate::converters::{create_converter, Converter};
use crate::runtime::{run_source_task, SourceTaskContext};
use crate::state::records::task_status_key;
use crate::state::{ConnectorConfig, RunState, Status, TargetState, WorkerState};

/// The converter for `role` (`key` or `value`) from a connector's `<role>.converter` and `<role>.converter.*`
/// settings (JSON when none is named).
pub fn converter(props: &BTreeMap<String, String>, role: &str) -> Result<Arc<dyn Converter>, FieldError> {
    let key = format!("{role}.converter");
    let class = props.get(&key).map_or("json", String::as_str);
    let prefix = format!("{key}.");
    let mut settings: BTreeMap<String, String> =
        props.iter().filter_map(|(k, v)| k.strip_prefix(&prefix).map(|s| (s.to_owned(), v.clone()))).collect();
    settings.insert("converter.type".into(), role.to_owned());
    create_converter(class, &settings).map(Arc::from).map_err(|e| FieldError { name: key, message: e.to_string() })
}

/// One connector as this worker runs it.
pub struct RunningConnector {
    config: ConnectorConfig,
    stop: Option<watch::Sender<bool>>,
    handles: Vec<JoinHandle<()>>,
}

impl RunningConnector {
    /// Records that the connector is not running here (paused or stopped).
    pub fn idle(config: &ConnectorConfig) -> Self {
        RunningConnector { config: config.clone(), stop: None, handles: Vec::new() }
    }

    /// Starts every task of the connector.
    pub fn start(
        name: &str,
        config: &ConnectorConfig,
        generation: i64,
        plugins: &Plugins,
        log: &Arc<dyn LogClient>,
        state: &Arc<WorkerState>,
        worker_id: &str,
    ) -> Self {
        let (stop, stopped) = watch::channel(false);
        let handles = config
            .tasks
            .iter()
            .enumerate()
            .map(|(index, task_config)| {
                let task = TaskRun {
                    connector: name.to_owned(),
                    index: index as u32,
                    connector_config: config.properties.clone(),
                    task_config: task_config.clone(),
                    plugins: plugins.clone(),
                    log: Arc::clone(log),
                    state: Arc::clone(state),
                    worker_id: worker_id.to_owned(),
                    generation,
                };
                tokio::spawn(task.run(stopped.clone()))
            })
            .collect();
        RunningConnector { config: config.clone(), stop: Some(stop), handles }
    }

    /// Whether this is what `config` asks for.
    pub fn matches(&self, config: &ConnectorConfig) -> bool {
        self.config == *config && (self.stop.is_some() == (config.target == TargetState::Started))
    }

    /// Stops the tasks and waits for them.
    pub async fn stop(self) {
        if let Some(stop) = self.stop {
            let _ = stop.send(true);
        }
        for handle in self.handles {
            let _ = handle.await;
        }
    }
}

/// Everything one task run needs.
struct TaskRun {
    connector: String,
    index: u32,
    connector_config: BTreeMap<String, String>,
    task_config: BTreeMap<String, String>,
    plugins: Plugins,
    log: Arc<dyn LogClient>,
    state: Arc<WorkerState>,
    worker_id: String,
    generation: i64,
}

impl TaskRun {
    async fn run(self, stop: watch::Receiver<bool>) {
        let key = task_status_key(&self.connector, self.index);
        let outcome = match self.prepare() {
            Ok((task, context)) => {
                self.record(&key, RunState::Running, None).await;
                run_source_task(task, context, stop).await
            }
            Err(e) => Err(e),
        };
        if let Err(error) = outcome {
            tracing::error!(connector = self.connector, task = self.index, error = %error, "task failed");
            self.record(&key, RunState::Failed, Some(error.to_string())).await;
        }
    }

    fn prepare(&self) -> Result<(Box<dyn crate::connector::SourceTask>, SourceTaskContext), TaskError> {
        let definite = |e: String| TaskError::Definite(e);
        let class = self.connector_config.get("connector.class").map(String::as_str).unwrap_or_default();
        let plugin = self.plugins.find(class).ok_or_else(|| definite(format!("no connector plugin {class}")))?;
        let resolved = resolve(&self.task_config).map_err(|e| definite(e.to_string()))?;
        let task = plugin.connector.create_task(&resolved)?;
        let key_converter = converter(&self.connector_config, "key").map_err(|e| definite(e.message))?;
        let value_converter = converter(&self.connector_config, "value").map_err(|e| definite(e.message))?;
        let context = SourceTaskContext {
            connector: self.connector.clone(),
            task: self.index,
            log: Arc::clone(&self.log),
            state: Arc::clone(&self.state),
            key_converter,
            value_converter,
        };
        Ok((task, context))
    }

    async fn record(&self, key: &str, state: RunState, trace: Option<String>) {
        let status = Status { state, trace, worker_id: self.worker_id.clone(), generation: self.generation };
        if let Err(e) = self.state.put_status(key, &status).await {
            tracing::warn!(key, error = %e, "storing a task status failed");
        }
    }
}
