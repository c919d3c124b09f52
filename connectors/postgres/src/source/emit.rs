//! The hand-over from the pump (which reads Postgres) to the task's `poll`: records gathered into batches and sent
//! through a bounded channel, so a slow log slows the reading down instead of filling memory.

use serde_json::Value as Json;
use tidemark_connect::connector::SourceRecord;
use tidemark_connect::record::ConnectRecord;
use tokio::sync::mpsc;

use super::error::SourceError;

/// Records per batch.
pub const BATCH: usize = 1024;

/// What the pump hands over: a batch of records in order, or the failure that ended it.
pub type Handover = Result<Vec<SourceRecord>, SourceError>;

/// Gathers records into batches for the channel to `poll`.
#[derive(Debug)]
pub struct Emitter {
    sender: mpsc::Sender<Handover>,
    partition: Json,
    batch: Vec<SourceRecord>,
}

impl Emitter {
    /// An emitter of records of source partition `partition` into `sender`.
    pub fn new(sender: mpsc::Sender<Handover>, partition: Json) -> Self {
        Emitter { sender, partition, batch: Vec::with_capacity(BATCH) }
    }

    /// Adds a record at source position `offset`.
    pub fn push(&mut self, record: ConnectRecord, offset: Json) {
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
    pub fn sender(&self) -> &mpsc::Sender<Handover> {
        &self.sender
    }
}
