//! The source task: `poll` takes the pump's batches ([`super::pump`]), launching the pump first (and again after a
//! transient failure, from the last position handed over); `commit` passes durable positions to the pump, which
//! confirms them to the slot; `stop` stops the pump after its last status update, and drops the slot when
//! `slot.drop.on.stop` says so.

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
use super::connect;
use super::emit::Handover;
use super::envelope::Envelopes;
use super::launch::{launch, Channels};
use super::offsets::{self, Stored};
use super::unsupported::UNSUPPORTED;
use crate::replication::Lsn;

/// How long `poll` waits for records before answering with none.
const POLL_WAIT: Duration = Duration::from_millis(500);
/// Batches the pump may have ready ahead of `poll`.
const AHEAD: usize = 4;
/// How long `stop` waits for the pump's last words.
const STOP_WAIT: Duration = Duration::from_secs(30);

/// A running pump and the ends of its channels.
struct Running {
    records: mpsc::Receiver<Handover>,
    durable: watch::Sender<Lsn>,
    shutdown: watch::Sender<bool>,
    pump: JoinHandle<()>,
}

impl Running {
    /// Stops the pump and waits for it (it sends its last status update first).
    async fn stop(self) {
        let Running { shutdown, mut pump, .. } = self;
        shutdown.send_replace(true);
        if tokio::time::timeout(STOP_WAIT, &mut pump).await.is_err() {
            tracing::warn!("the Postgres source did not stop in time; aborting it");
            pump.abort();
        }
    }
}

/// The Postgres source task.
pub struct PostgresSourceTask {
    config: Arc<SourceConfig>,
    envelopes: Arc<Envelopes>,
    partition: Json,
    warnings: Vec<String>,
    /// The offset of the last record handed to the runtime (at start, the stored one).
    emitted: Option<Stored>,
    /// The latest position known durable.
    durable: Lsn,
    running: Option<Running>,
    /// The pump ended without failing (`initial_only` after its snapshot): nothing more will come.
    finished: bool,
}

impl PostgresSourceTask {
    /// A task for a connector config.
    pub fn new(props: &BTreeMap<String, String>) -> Result<Self, TaskError> {
        let config = SourceConfig::from_props(props).map_err(|e| TaskError::Definite(invalid_config_message(&e)))?;
        let envelopes = Envelopes::new(&config.topic_prefix, &config.dbname).map_err(|e| e.into_task_error())?;
        Ok(PostgresSourceTask {
            partition: offsets::partition(&config.topic_prefix),
            config: Arc::new(config),
            envelopes: Arc::new(envelopes),
            warnings: tidemark_debezium::warnings(&config_def(), props, UNSUPPORTED),
            emitted: None,
            durable: Lsn::ZERO,
            running: None,
            finished: false,
        })
    }

    /// Starts a pump from the last position handed over.
    async fn launch(&self) -> Result<Running, TaskError> {
        let (records_sender, records) = mpsc::channel(AHEAD);
        let (durable, durable_receiver) = watch::channel(self.durable);
        let (shutdown, shutdown_receiver) = watch::channel(false);
        let channels = Channels {
            records: records_sender,
            partition: self.partition.clone(),
            durable: durable_receiver,
            shutdown: shutdown_receiver,
        };
        let pump =
            launch(&self.config, &self.envelopes, self.emitted, channels).await.map_err(|e| e.into_task_error())?;
        Ok(Running { records, durable, shutdown, pump: tokio::spawn(pump.run()) })
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
                    self.emitted = offsets::parse(&last.source_offset).ok().or(self.emitted);
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
                        return Err(TaskError::Definite(format!("the Postgres source failed: {ended}")));
                    }
                }
                tracing::info!("the Postgres source has nothing more to read");
                self.finished = true;
                Ok(Vec::new())
            }
        }
    }

    /// Drops the slot (`slot.drop.on.stop`), waiting for the stopped stream to let go of it.
    async fn drop_slot(&self) {
        let dropped = async {
            let mut connection = connect::replication(&self.config).await?;
            connection.drop_slot(&self.config.slot_name, true).await?;
            connection.close().await
        };
        match tokio::time::timeout(STOP_WAIT, dropped).await {
            Ok(Ok(())) => tracing::info!(slot = %self.config.slot_name, "slot dropped (slot.drop.on.stop)"),
            Ok(Err(error)) => tracing::warn!(slot = %self.config.slot_name, error = %error, "dropping the slot failed"),
            Err(_) => tracing::warn!(slot = %self.config.slot_name, "dropping the slot timed out"),
        }
    }
}

impl SourceTask for PostgresSourceTask {
    fn start(&mut self, offsets: Vec<(Json, Json)>) -> BoxFuture<'_, Result<(), TaskError>> {
        Box::pin(async move {
            for warning in &self.warnings {
                tracing::warn!(connector = %self.config.topic_prefix, "{warning}");
            }
            self.emitted = offsets::find(&offsets, &self.partition).map_err(TaskError::Definite)?;
            if let Some(Stored::Streaming(position)) = self.emitted {
                self.durable = position.lsn;
            }
            Ok(())
        })
    }

    fn poll(&mut self) -> BoxFuture<'_, Result<Vec<SourceRecord>, TaskError>> {
        Box::pin(self.next_batch())
    }

    fn commit<'a>(&'a mut self, durable: &'a [(Json, Json)]) -> BoxFuture<'a, Result<(), TaskError>> {
        for (partition, offset) in durable {
            if *partition != self.partition {
                continue;
            }
            // Snapshot positions are where the slot already stands: only streamed ones move it.
            if let Ok(Stored::Streaming(position)) = offsets::parse(offset) {
                self.durable = self.durable.max(position.lsn);
            }
        }
        if let Some(running) = &self.running {
            running.durable.send_replace(self.durable);
        }
        Box::pin(async { Ok(()) })
    }

    fn stop(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Some(running) = self.running.take() {
                running.stop().await;
            }
            if self.config.drop_slot_on_stop {
                self.drop_slot().await;
            }
        })
    }
}
