//! The source task: `poll` takes the pump's batches ([`super::pump`]), starting the pump first (and again after a
//! transient failure, from the last position handed over); `stop` stops the pump. Nothing is confirmed to the
//! server: the binlog keeps what the connector has not read until the server's retention purges it, so the stored
//! offsets alone say where to resume. `lag` reads what the pump last measured.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value as Json;
use tidemark_connect::config::invalid_config_message;
use tidemark_connect::connector::{SourceLag, SourceRecord, SourceTask, TaskError};
use tidemark_debezium::{LagMeter, PumpStart, Pumped};

use super::config::{config_def, SourceConfig};
use super::envelope::Envelopes;
use super::error::SourceError;
use super::offsets::{self, Stored};
use super::pump::Pump;
use super::unsupported::UNSUPPORTED;

/// The MySQL source task.
pub struct MySqlSourceTask {
    config: Arc<SourceConfig>,
    envelopes: Arc<Envelopes>,
    partition: Json,
    warnings: Vec<String>,
    /// The offset of the last record handed to the runtime (at start, the stored one).
    emitted: Option<Stored>,
    pump: Pumped<SourceError>,
    /// The lag every pump of this task measures.
    lag: LagMeter,
}

impl MySqlSourceTask {
    /// A task for a connector config.
    pub fn new(props: &BTreeMap<String, String>) -> Result<Self, TaskError> {
        let config = SourceConfig::from_props(props).map_err(|e| TaskError::Definite(invalid_config_message(&e)))?;
        let envelopes =
            Envelopes::new(&config.topic_prefix, &config.transaction_topic).map_err(|e| e.into_task_error())?;
        Ok(MySqlSourceTask {
            partition: offsets::partition(&config.topic_prefix),
            config: Arc::new(config),
            envelopes: Arc::new(envelopes),
            warnings: tidemark_debezium::warnings(&config_def(), props, UNSUPPORTED),
            emitted: None,
            pump: Pumped::new("MySQL"),
            lag: LagMeter::default(),
        })
    }

    /// Starts a pump from the last position handed over.
    async fn launch(&mut self) -> Result<(), TaskError> {
        let (start, ends) = PumpStart::new(self.partition.clone());
        let pump = Pump::start(
            Arc::clone(&self.config),
            Arc::clone(&self.envelopes),
            self.emitted.clone(),
            ends.emitter,
            ends.shutdown,
            self.lag.clone(),
        )
        .await?;
        self.pump.started(start.spawn(pump.run()));
        Ok(())
    }

    async fn next_batch(&mut self) -> Result<Vec<SourceRecord>, TaskError> {
        if self.pump.needs_start() {
            self.launch().await?;
        }
        let records = self.pump.next_batch().await?;
        if let Some(last) = records.last() {
            self.emitted = offsets::parse(&last.source_offset).ok().or(self.emitted.take());
        }
        Ok(records)
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
        Box::pin(self.pump.stop())
    }

    fn lag(&self) -> SourceLag {
        self.lag.lag()
    }
}
