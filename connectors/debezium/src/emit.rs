//! The hand-over from a source's pump (a background task that reads the database) to the task's `poll`: records
//! gathered into batches and sent through a bounded channel, so a slow log slows the reading down instead of filling
//! memory; and the pump's view of the task stopping.

use std::sync::Arc;

use serde_json::Value as Json;
use tidemark_connect::connector::SourceRecord;
use tidemark_connect::record::ConnectRecord;
use tokio::sync::{mpsc, watch};

/// Records per batch.
pub const BATCH: usize = 1024;

/// What the pump hands over: a batch of records in order, or the failure (`E`) that ended it.
pub type Handover<E> = Result<Vec<SourceRecord>, E>;

/// Gathers records into batches for the channel to `poll`.
#[derive(Debug)]
pub struct Emitter<E> {
    sender: mpsc::Sender<Handover<E>>,
    partition: Arc<Json>,
    batch: Vec<SourceRecord>,
}

impl<E> Emitter<E> {
    /// An emitter of records of source partition `partition` into `sender`.
    pub fn new(sender: mpsc::Sender<Handover<E>>, partition: Json) -> Self {
        Emitter { sender, partition: Arc::new(partition), batch: Vec::with_capacity(BATCH) }
    }

    /// Adds a record at source position `offset` (shared by records with the same position).
    pub fn push(&mut self, record: ConnectRecord, offset: Arc<Json>) {
        self.batch.push(SourceRecord { source_partition: self.partition.clone(), source_offset: offset, record });
    }

    /// Whether the batch is full.
    pub fn is_full(&self) -> bool {
        self.batch.len() >= BATCH
    }

    /// Whether no record waits.
    pub fn is_empty(&self) -> bool {
        self.batch.is_empty()
    }

    /// The waiting records, leaving none.
    pub fn take(&mut self) -> Vec<SourceRecord> {
        std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH))
    }

    /// The channel to `poll`.
    pub fn sender(&self) -> &mpsc::Sender<Handover<E>> {
        &self.sender
    }
}

/// Whether to go on after handing records over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// The task is stopping: stop reading.
    Stop,
}

/// Hands the gathered records to `poll`, waiting while the channel is full; [`Flow::Stop`] when the task stops
/// (or is gone) meanwhile.
pub async fn send_batch<E>(emitter: &mut Emitter<E>, shutdown: &mut watch::Receiver<bool>) -> Flow {
    let batch = emitter.take();
    let sender = emitter.sender().clone();
    tokio::select! {
        sent = sender.send(Ok(batch)) => if sent.is_ok() { Flow::Continue } else { Flow::Stop },
        _ = stopping(shutdown) => Flow::Stop,
    }
}

/// Hands the failure that ended the pump to `poll` (after the records before it), unless the task stops meanwhile.
pub async fn send_failure<E>(emitter: &Emitter<E>, error: E, shutdown: &mut watch::Receiver<bool>) {
    let sender = emitter.sender().clone();
    tokio::select! {
        _ = sender.send(Err(error)) => {}
        _ = stopping(shutdown) => {}
    }
}

/// Resolves once the task stops (or is gone). Cancel safe.
pub async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not Send: drop it here.
    let _stopped = shutdown.wait_for(|stop| *stop).await.is_ok();
}
