//! The source task: `poll` takes the pump's batches ([`super::pump`]), launching the pump first (and again after a
//! transient failure, from the last position handed over); `commit` passes durable positions to the pump, which
//! confirms them to the slot; `stop` stops the pump after its last status update, and drops the slot when
//! `slot.drop.on.stop` says so; `lag` reads what the pump last measured.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value as Json;
use tidemark_connect::config::invalid_config_message;
use tidemark_connect::connector::{SourceLag, SourceRecord, SourceTask, TaskError};
use tidemark_debezium::{LagMeter, PumpStart, Pumped};
use tokio::sync::watch;

use super::config::{config_def, SourceConfig};
use super::connect;
use super::envelope::Envelopes;
use super::error::SourceError;
use super::launch::{launch, Channels};
use super::offsets::{self, Stored};
use super::unsupported::UNSUPPORTED;
use crate::replication::Lsn;

/// How long dropping the slot at stop may take.
const STOP_WAIT: Duration = Duration::from_secs(30);

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
    /// Tells the running pump the durable position.
    durable_sender: Option<watch::Sender<Lsn>>,
    pump: Pumped<SourceError>,
    /// The lag every pump of this task measures.
    lag: LagMeter,
}

impl PostgresSourceTask {
    /// A task for a connector config.
    pub fn new(props: &BTreeMap<String, String>) -> Result<Self, TaskError> {
        let config = SourceConfig::from_props(props).map_err(|e| TaskError::Definite(invalid_config_message(&e)))?;
        let envelopes = Envelopes::new(&config.topic_prefix, &config.dbname, &config.transaction_topic)
            .map_err(|e| e.into_task_error())?;
        Ok(PostgresSourceTask {
            partition: offsets::partition(&config.topic_prefix),
            config: Arc::new(config),
            envelopes: Arc::new(envelopes),
            warnings: tidemark_debezium::warnings(&config_def(), props, UNSUPPORTED),
            emitted: None,
            durable: Lsn::ZERO,
            durable_sender: None,
            pump: Pumped::new("Postgres"),
            lag: LagMeter::default(),
        })
    }

    /// Starts a pump from the last position handed over.
    async fn launch(&mut self) -> Result<(), TaskError> {
        let (start, ends) = PumpStart::new(self.partition.clone());
        let (durable, durable_receiver) = watch::channel(self.durable);
        let channels = Channels { ends, durable: durable_receiver, lag: self.lag.clone() };
        let pump = launch(&self.config, &self.envelopes, self.emitted, channels).await?;
        self.durable_sender = Some(durable);
        self.pump.started(start.spawn(pump.run()));
        Ok(())
    }

    async fn next_batch(&mut self) -> Result<Vec<SourceRecord>, TaskError> {
        if self.pump.needs_start() {
            self.launch().await?;
        }
        let records = self.pump.next_batch().await?;
        if let Some(last) = records.last() {
            self.emitted = offsets::parse(&last.source_offset).ok().or(self.emitted);
        }
        Ok(records)
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
        if let Some(durable) = &self.durable_sender {
            durable.send_replace(self.durable);
        }
        Box::pin(async { Ok(()) })
    }

    fn stop(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.pump.stop().await;
            if self.config.drop_slot_on_stop {
                self.drop_slot().await;
            }
        })
    }

    fn lag(&self) -> SourceLag {
        self.lag.lag()
    }
}
