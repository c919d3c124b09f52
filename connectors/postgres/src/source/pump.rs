//! The pump: a background task that reads Postgres (the snapshot, then the replication stream) and hands records
//! to the task's `poll` through a bounded channel ([`super::emit`]). It owns the connections, so `poll` can wait on
//! the channel and be cancelled freely; it ends when the task stops it, or on the first failure, which it hands
//! over after the records before it.

use std::sync::Arc;

use tidemark_debezium::LagMeter;
use tokio::sync::watch;
use tokio_postgres::Client;

use super::changes::Changes;
use super::columns::TypeCache;
use super::config::SourceConfig;
use super::emit::{send_failure, Emitter, Flow};
use super::envelope::Envelopes;
use super::error::SourceError;
use super::offsets::Position;
use super::snapshot::Snapshot;
use super::stream::Streaming;
use crate::replication::{Lsn, ReplicationConnection};

/// Where streaming starts, on which connection.
pub struct StreamStart {
    /// The replication connection (not yet streaming).
    pub connection: ReplicationConnection,
    /// The position streaming resumes at.
    pub position: Position,
    /// The durable position the slot may be told about before anything new is committed.
    pub flushed: Lsn,
}

/// Everything the pump reads with, prepared by [`super::launch`].
pub struct Pump {
    /// The settings.
    pub config: Arc<SourceConfig>,
    /// The event schemas.
    pub envelopes: Arc<Envelopes>,
    /// An ordinary connection: the snapshot's transaction is open on it when `snapshot` is set; then it answers
    /// catalog questions.
    pub client: Client,
    /// Column types seen so far.
    pub types: TypeCache,
    /// Read the snapshot, whose records carry this LSN (where streaming starts after it).
    pub snapshot: Option<Lsn>,
    /// Then stream from here; `None` for no streaming (`initial_only`).
    pub stream: Option<StreamStart>,
    /// Where records go.
    pub emitter: Emitter,
    /// The durable position, as the task's `commit` learns it.
    pub durable: watch::Receiver<Lsn>,
    /// Turns true when the task stops.
    pub shutdown: watch::Receiver<bool>,
    /// Where the stream's lag goes.
    pub lag: LagMeter,
}

impl Pump {
    /// Runs to the end; a failure is handed over to `poll` after the records before it.
    pub async fn run(mut self) {
        if let Err(error) = self.phases().await {
            tracing::warn!(error = %error, "the Postgres source stopped on an error");
            send_failure(&self.emitter, error, &mut self.shutdown).await;
        }
    }

    async fn phases(&mut self) -> Result<(), SourceError> {
        if let Some(lsn) = self.snapshot.take() {
            let snapshot = Snapshot {
                client: &self.client,
                config: &self.config,
                envelopes: &self.envelopes,
                types: &mut self.types,
                lsn,
            };
            if snapshot.read(&mut self.emitter, &mut self.shutdown).await? == Flow::Stop {
                return Ok(());
            }
            self.client.batch_execute("COMMIT").await?;
        }
        let Some(start) = self.stream.take() else { return Ok(()) };
        let types = std::mem::take(&mut self.types);
        let changes = Changes::new(Arc::clone(&self.config), Arc::clone(&self.envelopes), types, start.position);
        let streaming = Streaming::start(start, &self.config, changes, self.lag.clone()).await?;
        streaming.run(&self.client, &mut self.emitter, &mut self.durable, &mut self.shutdown).await
    }
}
