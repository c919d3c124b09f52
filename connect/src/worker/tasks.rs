//! The tasks of one connector on this worker: started from the stored task configs (config providers resolved
//! here, never stored), each under the source or sink runtime, with its status written to `connect-status`.

use std::collections::BTreeMap;
use std::sync::Arc;

use tidemark_log_client::LogClient;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::plugins::{ConnectorKind, Plugins};
use super::sink_settings::SinkSettings;
use super::{offset_flush_interval, Worker};
use crate::config::{resolve, FieldError};
use crate::connector::{SinkTask, SourceTask, TaskError};
use crate::converters::Converter;
use crate::metrics::ConnectMetrics;
use crate::runtime::{named_converter, run_sink_task, run_source_task, Pipeline, SinkTaskContext, SourceTaskContext};
use crate::state::records::task_status_key;
use crate::state::{ConnectorConfig, RunState, Status, TargetState, WorkerState};

/// The converter for `role` (`key` or `value`) from a connector's `<role>.converter` and `<role>.converter.*`
/// settings (JSON when none is named).
pub fn converter(props: &BTreeMap<String, String>, role: &str) -> Result<Arc<dyn Converter>, FieldError> {
    named_converter(props, role).map(|named| named.converter)
}

/// One connector as this worker runs it: one slot per task, each restartable on its own.
pub struct RunningConnector {
    config: ConnectorConfig,
    started: bool,
    slots: Vec<TaskSlot>,
}

/// A running task and how to run it again.
struct TaskSlot {
    run: TaskRun,
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

impl TaskSlot {
    fn spawn(run: TaskRun) -> Self {
        let (stop, stopped) = watch::channel(false);
        let handle = tokio::spawn(run.clone().run(stopped));
        TaskSlot { run, stop, handle }
    }

    async fn stop(self) -> TaskRun {
        let _ = self.stop.send(true);
        let _ = self.handle.await;
        self.run
    }
}

impl RunningConnector {
    /// Records that the connector is not running here (paused or stopped).
    pub fn idle(config: &ConnectorConfig) -> Self {
        RunningConnector { config: config.clone(), started: false, slots: Vec::new() }
    }

    /// Starts every task of the connector on `worker`.
    pub fn start(name: &str, config: &ConnectorConfig, generation: i64, worker: &Worker) -> Self {
        let connector_config = worker.effective(&config.properties);
        let slots = config
            .tasks
            .iter()
            .enumerate()
            .map(|(index, task_config)| {
                TaskSlot::spawn(TaskRun {
                    connector: name.to_owned(),
                    index: index as u32,
                    connector_config: connector_config.clone(),
                    task_config: task_config.clone(),
                    plugins: worker.plugins.clone(),
                    log: Arc::clone(&worker.log),
                    state: Arc::clone(&worker.state),
                    worker_id: worker.worker_id.clone(),
                    metrics: Arc::clone(&worker.metrics),
                    generation,
                })
            })
            .collect();
        RunningConnector { config: config.clone(), started: true, slots }
    }

    /// Whether this is what `config` asks for.
    pub fn matches(&self, config: &ConnectorConfig) -> bool {
        self.config == *config && (self.started == (config.target == TargetState::Started))
    }

    /// Stops task `index` and starts it again from its stored positions; `false` when there is no such task.
    pub async fn restart_task(&mut self, index: usize) -> bool {
        if index >= self.slots.len() {
            return false;
        }
        let slot = self.slots.remove(index);
        let run = slot.stop().await;
        self.slots.insert(index, TaskSlot::spawn(run));
        true
    }

    /// Stops the tasks and waits for them.
    pub async fn stop(self) {
        for slot in self.slots {
            slot.stop().await;
        }
    }
}

/// Everything one task run needs.
#[derive(Clone)]
struct TaskRun {
    connector: String,
    index: u32,
    connector_config: BTreeMap<String, String>,
    task_config: BTreeMap<String, String>,
    plugins: Plugins,
    log: Arc<dyn LogClient>,
    state: Arc<WorkerState>,
    worker_id: String,
    metrics: Arc<ConnectMetrics>,
    generation: i64,
}

impl TaskRun {
    async fn run(self, stop: watch::Receiver<bool>) {
        let key = task_status_key(&self.connector, self.index);
        let outcome = match self.prepare() {
            Ok(Prepared::Source(task, context)) => {
                self.record(&key, RunState::Running, None).await;
                run_source_task(task, context, stop).await
            }
            Ok(Prepared::Sink(task, context)) => {
                self.record(&key, RunState::Running, None).await;
                run_sink_task(task, context, stop).await
            }
            Err(e) => Err(e),
        };
        if let Err(error) = outcome {
            tracing::error!(connector = self.connector, task = self.index, error = %error, "task failed");
            self.record(&key, RunState::Failed, Some(error.to_string())).await;
        }
    }

    /// The task and what it runs with, from the stored configs (config providers resolved now).
    fn prepare(&self) -> Result<Prepared, TaskError> {
        let definite = |e: String| TaskError::Definite(e);
        let props = &self.connector_config;
        let class = props.get("connector.class").map(String::as_str).unwrap_or_default();
        let plugin = self.plugins.find(class).ok_or_else(|| definite(format!("no connector plugin {class}")))?;
        let resolved = resolve(&self.task_config).map_err(|e| definite(e.to_string()))?;
        let metrics = self.metrics.task(&self.connector, self.index);
        let pipeline = Pipeline::from_props(props, (&self.connector, self.index), Arc::clone(&self.log), metrics)?;
        Ok(match &plugin.kind {
            ConnectorKind::Source(source) => {
                let task = source.create_task(&resolved)?;
                let context = SourceTaskContext {
                    connector: self.connector.clone(),
                    task: self.index,
                    log: Arc::clone(&self.log),
                    state: Arc::clone(&self.state),
                    pipeline,
                    offset_flush_interval: offset_flush_interval(props),
                };
                Prepared::Source(task, context)
            }
            ConnectorKind::Sink(sink) => {
                let task = sink.create_task(&resolved)?;
                let settings = SinkSettings::from_props(props);
                let context = SinkTaskContext {
                    connector: self.connector.clone(),
                    connector_class: plugin.class.to_owned(),
                    task: self.index,
                    log: Arc::clone(&self.log),
                    subscription: settings.subscription,
                    max_poll_records: settings.max_poll_records,
                    flush_interval: offset_flush_interval(props),
                    pipeline,
                };
                Prepared::Sink(task, context)
            }
        })
    }

    async fn record(&self, key: &str, state: RunState, trace: Option<String>) {
        let status = Status { state, trace, worker_id: self.worker_id.clone(), generation: self.generation };
        record_status(&self.state, key, &status).await;
    }
}

/// A task ready to run, of either kind.
enum Prepared {
    Source(Box<dyn SourceTask>, SourceTaskContext),
    Sink(Box<dyn SinkTask>, SinkTaskContext),
}

/// Stores a status; a failure is logged, not fatal (the next change of state writes it again).
pub async fn record_status(state: &WorkerState, key: &str, status: &Status) {
    if let Err(e) = state.put_status(key, status).await {
        tracing::warn!(key, error = %e, "storing a status failed");
    }
}
