//! The source task: `poll` takes the pump's batches ([`super::pump`]), starting the pump first (and again after a
//! transient failure, from the last position handed over); `stop` stops the pump. Nothing is confirmed to the
//! server: the binlog keeps what the connector has not read until the server's retention purges it, so the stored
//! offsets alone say where to resume.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value as Json;
use tidemark_connect::config::invalid_config_message;
use tidemark_connect::connector::{SourceRecord, SourceTask, TaskError};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::config::{config_def, SourceConfig};
use super::emit::{Emitter, Handover};
use super::envelope::Envelopes;
use super::offsets::{self, Stored};
use super::pump::Pump;
use super::unsupported::UNSUPPORTED;

/// How long `poll` waits for records before answering with none.
const POLL_WAIT: Duration = Duration::from_millis(500);
/// Batches the pump may have ready ahead of `poll`.
const AHEAD: usize = 4;
/// How long `stop` waits for the pump.
const STOP_WAIT: Duration = Duration::from_secs(30);

/// A running pump and the ends of its channels.
struct Running {
    records: mpsc::Receiver<Handover>,
    shutdown: watch::Sender<bool>,
    pump: JoinHandle<()>,
}

impl Running {
    /// Stops the pump and waits for it.
    async fn stop(self) {
        let Running { shutdown, mut pump, .. } = self;
        shutdown.send_replace(true);
        if tokio::time::timeout(STOP_WAIT, &mut pump).await.is_err() {
            tracing::warn!("the MySQL source did not stop in time; aborting it");
            pump.abort();
        }
    }
}

/// The MySQL source task.
pub struct MySqlSourceTask {
    config: Arc<SourceConfig>,
    envelopes: Arc<Envelopes>,
    partition: Json,
    warnings: Vec<String>,
    /// The offset of the last record handed to the runtime (at start, the stored one).
    emitted: Option<Stored>,
    running: Option<Running>,
    /// The pump ended without failing (`initial_only` after its snapshot): nothing more will come.
    finished: bool,
}

impl MySqlSourceTask {
    /// A task for a connector config.
    pub fn new(props: &BTreeMap<String, String>) -> Result<Self, TaskError> {
        let config = SourceConfig::from_props(props).map_err(|e| TaskError::Definite(invalid_config_message(&e)))?;
        let envelopes = Envelopes::new(&config.topic_prefix).map_err(|e| e.into_task_error())?;
        Ok(MySqlSourceTask {
            partition: offsets::partition(&config.topic_prefix),
            config: Arc::new(config),
            envelopes: Arc::new(envelopes),
            warnings: tidemark_debezium::warnings(&config_def(), props, UNSUPPORTED),
            emitted: None,
            running: None,
            finished: false,
        })
    }

    /// Starts a pump from the last position handed over.
    async fn launch(&self) -> Result<Running, TaskError> {
        let (sender, records) = mpsc::channel(AHEAD);
        let (shutdown, shutdown_receiver) = watch::channel(false);
        let emitter = Emitter::new(sender, self.partition.clone());
        let pump = Pump::start(
            Arc::clone(&self.config),
            Arc::clone(&self.envelopes),
            self.emitted.clone(),
            emitter,
            shutdown_receiver,
        )
        .await
        .map_err(|e| e.into_task_error())?;
        Ok(Running { records, shutdown, pump: tokio::spawn(pump.run()) })
    }

    async fn next_batch(&mut self) -> Result<Vec<SourceRecord>, TaskError> {
        if self.finished {
            tokio::time::sleep(POLL_WAIT).await;
            return Ok(Vec::new());
        }
        let running = match &mut self.running {
            Some(running) => running,
            None => self.running.insert(self.launch().await?),
        };
        let received = match tokio::time::timeout(POLL_WAIT, running.records.recv()).await {
            Err(_) => return Ok(Vec::new()),
            Ok(received) => received,
        };
        match received {
            Some(Ok(records)) => {
                if let Some(last) = records.last() {
                    self.emitted = offsets::parse(&last.source_offset).ok().or(self.emitted.take());
                }
                Ok(records)
            }
            Some(Err(error)) => {
                if let Some(running) = self.running.take() {
                    running.stop().await;
                }
                Err(error.into_task_error())
            }
            None => {
                if let Some(running) = self.running.take() {
                    // The channel closes when the pump ended: on its own, or by a panic, which fails the task.
                    if let Err(ended) = running.pump.await {
                        return Err(TaskError::Definite(format!("the MySQL source failed: {ended}")));
                    }
                }
                tracing::info!("the MySQL source has nothing more to read");
                self.finished = true;
                Ok(Vec::new())
            }
        }
    }
}

impl SourceTask for MySqlSourceTask {
    fn start(&mut self, offsets: Vec<(Json, Json)>) -> BoxFuture<'_, Result<(), TaskError>> {
        Box::pin(async move {
            for warning in &self.warnings {
                tracing::warn!(connector = %self.config.topic_prefix, "{warning}");
            }
            self.emitted = offsets::find(&offsets, &self.partition).map_err(TaskError::Definite)?;
            Ok(())
        })
    }

    fn poll(&mut self) -> BoxFuture<'_, Result<Vec<SourceRecord>, TaskError>> {
        Box::pin(self.next_batch())
    }

    /// The binlog needs no acknowledgement: the stored offsets are the position.
    fn commit<'a>(&'a mut self, _durable: &'a [(Json, Json)]) -> BoxFuture<'a, Result<(), TaskError>> {
        Box::pin(async { Ok(()) })
    }

    fn stop(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Some(running) = self.running.take() {
                running.stop().await;
            }
        })
    }
}
