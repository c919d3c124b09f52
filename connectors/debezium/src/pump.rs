//! The task's side of a source's pump (a background task that reads the database and hands batches over through
//! [`crate::Emitter`]): waiting for the next batch within a poll, telling a failure from the pump's end (and a
//! panic from a quiet end), and stopping it.

use std::time::Duration;

use tidemark_connect::connector::{SourceRecord, TaskError};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::emit::{Emitter, Handover, BATCH};

/// How long `poll` waits for records before answering with none.
const POLL_WAIT: Duration = Duration::from_millis(500);
/// Batches a pump may have ready ahead of `poll`.
const AHEAD: usize = 8;
/// Records one poll hands over at most: the batches already waiting are taken with the first, so that the runtime
/// converts, writes and waits for a durable write once per up to this many records rather than once per batch
/// (a pump that reads faster than the log writes, as a snapshot does, fills the channel).
const POLL_MAX_RECORDS: usize = AHEAD * BATCH;
/// How long stopping waits for the pump's last words.
const STOP_WAIT: Duration = Duration::from_secs(30);

/// The ends of a new pump's channels that the pump takes.
pub struct PumpEnds<E> {
    /// Where the pump hands its batches over.
    pub emitter: Emitter<E>,
    /// Turns true when the task stops.
    pub shutdown: watch::Receiver<bool>,
}

/// A started pump, as its task sees it.
pub struct RunningPump<E> {
    records: mpsc::Receiver<Handover<E>>,
    shutdown: watch::Sender<bool>,
    pump: JoinHandle<()>,
}

/// A pump to be started: the channel ends for it and, once it runs, its task.
pub struct PumpStart<E> {
    records: mpsc::Receiver<Handover<E>>,
    shutdown: watch::Sender<bool>,
}

impl<E: Send + 'static> PumpStart<E> {
    /// New channels for a pump of records of source partition `partition`.
    pub fn new(partition: serde_json::Value) -> (Self, PumpEnds<E>) {
        let (sender, records) = mpsc::channel(AHEAD);
        let (shutdown, shutdown_receiver) = watch::channel(false);
        let ends = PumpEnds { emitter: Emitter::new(sender, partition), shutdown: shutdown_receiver };
        (PumpStart { records, shutdown }, ends)
    }

    /// Runs the pump's work on a task of its own.
    pub fn spawn(self, run: impl std::future::Future<Output = ()> + Send + 'static) -> RunningPump<E> {
        RunningPump { records: self.records, shutdown: self.shutdown, pump: tokio::spawn(run) }
    }
}

impl<E> RunningPump<E> {
    /// Stops the pump and waits for it (a pump may have last words, such as a final status update).
    pub async fn stop(self, source: &str) {
        let RunningPump { shutdown, mut pump, .. } = self;
        shutdown.send_replace(true);
        if tokio::time::timeout(STOP_WAIT, &mut pump).await.is_err() {
            tracing::warn!("the {source} source did not stop in time; aborting it");
            pump.abort();
        }
    }
}

/// The pump of a task, started on its first poll (and again after a failure) and stopped with it.
pub struct Pumped<E> {
    source: &'static str,
    running: Option<RunningPump<E>>,
    /// The pump ended without failing (`initial_only` after its snapshot): nothing more will come.
    finished: bool,
    /// A failure the pump handed over behind batches a poll took: the next poll's answer.
    deferred: Option<E>,
}

impl<E: Into<TaskError>> Pumped<E> {
    /// No pump yet, for the source named `source` (in messages).
    pub fn new(source: &'static str) -> Self {
        Pumped { source, running: None, finished: false, deferred: None }
    }

    /// Whether a pump must be started before the next poll.
    pub fn needs_start(&self) -> bool {
        self.running.is_none() && !self.finished
    }

    /// Takes a started pump.
    pub fn started(&mut self, running: RunningPump<E>) {
        self.running = Some(running);
    }

    /// The next batch, or none after a short wait. A failure the pump handed over stops it and fails the poll
    /// (the next poll starts a new pump); a pump that ended quietly leaves nothing more to read, one that
    /// panicked fails the task.
    pub async fn next_batch(&mut self) -> Result<Vec<SourceRecord>, TaskError> {
        if let Some(error) = self.deferred.take() {
            self.stop().await;
            return Err(error.into());
        }
        let Some(running) = &mut self.running else {
            tokio::time::sleep(POLL_WAIT).await;
            return Ok(Vec::new());
        };
        let received = match tokio::time::timeout(POLL_WAIT, running.records.recv()).await {
            Err(_) => return Ok(Vec::new()),
            Ok(received) => received,
        };
        match received {
            Some(Ok(first)) => {
                let mut batches = vec![first];
                let mut count = batches[0].len();
                // An empty or closed channel is the next poll's to see.
                while count < POLL_MAX_RECORDS {
                    match running.records.try_recv() {
                        Ok(Ok(more)) => {
                            count += more.len();
                            batches.push(more);
                        }
                        Ok(Err(error)) => {
                            self.deferred = Some(error);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                Ok(concat(batches, count))
            }
            Some(Err(error)) => {
                self.stop().await;
                Err(error.into())
            }
            None => {
                if let Some(running) = self.running.take() {
                    if let Err(ended) = running.pump.await {
                        return Err(TaskError::Definite(format!("the {} source failed: {ended}", self.source)));
                    }
                }
                tracing::info!("the {} source has nothing more to read", self.source);
                self.finished = true;
                Ok(Vec::new())
            }
        }
    }

    /// Stops the pump, if one runs.
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop(self.source).await;
        }
    }
}

/// The `count` records of `batches` in one vector, each record moved once (extending the first batch would move
/// the records already in it again each time it grows).
fn concat(mut batches: Vec<Vec<SourceRecord>>, count: usize) -> Vec<SourceRecord> {
    if batches.len() == 1 {
        return batches.pop().unwrap_or_default();
    }
    let mut records = Vec::with_capacity(count);
    for batch in batches {
        records.extend(batch);
    }
    records
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tidemark_connect::data::Value;
    use tidemark_connect::record::ConnectRecord;

    use super::*;

    fn batch(first: i64, count: i64) -> Vec<SourceRecord> {
        (first..first + count)
            .map(|n| SourceRecord {
                source_partition: json!({"server": "s"}).into(),
                source_offset: json!({ "n": n }).into(),
                record: ConnectRecord::new("t".to_owned(), (None, Value::Null), (None, Value::Int64(n))),
            })
            .collect()
    }

    #[tokio::test]
    async fn a_poll_takes_every_waiting_batch_and_a_failure_behind_them_comes_next() {
        let (start, ends) = PumpStart::<TaskError>::new(json!({"server": "s"}));
        let sender = ends.emitter.sender();
        let running = start.spawn(async {});
        let mut pumped = Pumped::new("test");
        pumped.started(running);
        for first in [0, 10, 20] {
            sender.send(Ok(batch(first, 10))).await.expect("send");
        }
        sender.send(Err(TaskError::Definite("broken".into()))).await.expect("send");
        let records = pumped.next_batch().await.expect("three batches");
        let offsets: Vec<i64> = records.iter().filter_map(|r| r.source_offset["n"].as_i64()).collect();
        assert_eq!(offsets, (0..30).collect::<Vec<_>>(), "in order, all at once");
        let failure = pumped.next_batch().await.expect_err("the failure behind them");
        assert_eq!(failure.to_string(), TaskError::Definite("broken".into()).to_string());
    }
}
