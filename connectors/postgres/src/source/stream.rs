//! The streaming phase: pgoutput (protocol version 2, `streaming 'on'`, `messages 'true'`) from the resume
//! position, decoded and turned into records ([`super::changes`]), handed to `poll` in batches.
//!
//! The lag ([`LagMeter`]): how long ago each transaction read committed, and every [`MEASURE_EVERY`] the WAL the
//! slot holds beyond its confirmed flush position (`pg_replication_slots`).
//!
//! **Invariant: the slot's flush LSN only moves to positions the task's `commit` reported durable.** Status
//! updates (on a timer, when the durable position moves, and in answer to keepalives that ask) always report the
//! latest durable position, never what was merely received.

use std::time::Duration;

use futures::FutureExt;
use tidemark_debezium::{LagMeter, MEASURE_EVERY};
use tokio::sync::watch;
use tokio::time::{interval_at, Instant, Interval, MissedTickBehavior};
use tokio_postgres::Client;

use super::catalog;
use super::changes::{unix_us, Changes};
use super::config::SourceConfig;
use super::emit::{stopping, Emitter, Flow};
use super::error::{sql_message, SourceError};
use super::pump::StreamStart;
use crate::pgoutput::{Decoder, DecoderOptions, Message, ProtocolVersion};
use crate::replication::{quote_identifier, Lsn, ReplicationMessage, ReplicationStream};

/// How pgoutput's messages are decoded: protocol version 2 (as `START_REPLICATION` asks), no parallel streaming. A
/// streamed transaction's payloads are decoded again with it when they are replayed ([`super::changes`]).
pub const DECODING: DecoderOptions = DecoderOptions::new(ProtocolVersion::V2);

/// A replication stream being read.
pub struct Streaming {
    stream: ReplicationStream,
    decoder: Decoder,
    changes: Changes,
    /// The furthest WAL position the server said it sent.
    received: Lsn,
    /// The latest durable position known.
    flushed: Lsn,
    /// The flush position last reported to the server.
    reported: Lsn,
    status_interval: Duration,
    heartbeat_interval: Option<Duration>,
    heartbeat_action: Option<String>,
    slot: String,
    lag: LagMeter,
    /// When the slot's lag is measured next.
    measure: Interval,
}

impl Streaming {
    /// Starts streaming the slot from `start`'s position, measuring its lag into `lag`.
    pub async fn start(
        start: StreamStart,
        config: &SourceConfig,
        changes: Changes,
        lag: LagMeter,
    ) -> Result<Self, SourceError> {
        let publications = quote_identifier(&config.publication_name);
        let options = [
            ("proto_version", "2"),
            ("publication_names", publications.as_str()),
            ("messages", "true"),
            ("streaming", "on"),
        ];
        let lsn = start.position.lsn;
        let mut connection = start.connection;
        // pgoutput writes values with the session's settings; the connection already asked for UTF-8, ISO dates,
        // UTC and exact floats (the text forms the column types read), these two complete them.
        connection.simple_query("SET IntervalStyle = 'postgres'; SET bytea_output = 'hex'").await?;
        tracing::info!(slot = %config.slot_name, lsn = %lsn, "streaming changes");
        let stream = connection.start_logical_replication(&config.slot_name, lsn, &options).await?;
        Ok(Streaming {
            stream,
            decoder: Decoder::new(DECODING),
            changes,
            received: lsn,
            flushed: start.flushed,
            reported: Lsn::ZERO,
            status_interval: config.status_interval,
            heartbeat_interval: config.heartbeat_interval,
            heartbeat_action: config.heartbeat_action.clone(),
            slot: config.slot_name.clone(),
            lag,
            measure: ticker(MEASURE_EVERY),
        })
    }

    /// Streams until the task stops (or is gone), or a failure.
    pub async fn run(
        mut self,
        client: &Client,
        emitter: &mut Emitter,
        durable: &mut watch::Receiver<Lsn>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), SourceError> {
        let mut status = ticker(self.status_interval);
        let mut heartbeat = self.heartbeat_interval.map(ticker);
        loop {
            // While changes keep coming the loop never waits below, so the timer is looked at here too.
            if self.measure.tick().now_or_never().is_some() {
                self.measure_lag(client).await;
            }
            // Go on replaying a committed streamed transaction, or take what has arrived without waiting, up to a
            // batch.
            while !emitter.is_full() {
                if self.changes.replaying() {
                    self.changes.replay(client, emitter).await?;
                    // The stream is not read while a transaction is replayed, which can take minutes for one held on
                    // disk: the server must still hear from the task, or its wal_sender_timeout ends the session.
                    if status.tick().now_or_never().is_some() {
                        self.report(durable, true).await?;
                    }
                    continue;
                }
                let Some(message) = self.stream.next().now_or_never() else { break };
                self.on_message(client, message?, emitter, durable).await?;
            }
            if !emitter.is_empty() {
                if self.deliver(client, emitter, durable, shutdown, &mut status).await? == Flow::Stop {
                    return self.finish(durable).await;
                }
                continue;
            }
            tokio::select! {
                message = self.stream.next() => self.on_message(client, message?, emitter, durable).await?,
                changed = durable.changed() => match changed {
                    Ok(()) => self.report(durable, false).await?,
                    Err(_) => return self.finish(durable).await,
                },
                _ = status.tick() => self.report(durable, true).await?,
                _ = self.measure.tick() => self.measure_lag(client).await,
                _ = tick(&mut heartbeat) => {
                    self.changes.heartbeat(emitter)?;
                    if let Some(query) = &self.heartbeat_action {
                        // Its own change comes back through the stream like any other.
                        if let Err(error) = client.batch_execute(query).await {
                            tracing::warn!(error = %sql_message(&error), "heartbeat.action.query failed");
                        }
                    }
                }
                _ = stopping(shutdown) => return self.finish(durable).await,
            }
        }
    }

    async fn on_message(
        &mut self,
        client: &Client,
        message: ReplicationMessage,
        emitter: &mut Emitter,
        durable: &mut watch::Receiver<Lsn>,
    ) -> Result<(), SourceError> {
        match message {
            ReplicationMessage::XLogData { wal_start, wal_end, data, .. } => {
                self.received = self.received.max(wal_end);
                let message = self.decoder.decode(data.clone())?;
                if let Some(commit_time) = commit_time(&message) {
                    self.lag.change_read(unix_us(commit_time));
                }
                let stream_xid = self.decoder.stream_xid();
                self.changes.handle(client, stream_xid, (wal_start, data), message, emitter).await
            }
            ReplicationMessage::PrimaryKeepalive { wal_end, reply_requested, .. } => {
                self.received = self.received.max(wal_end);
                self.changes.advance_to(wal_end);
                if reply_requested {
                    self.report(durable, true).await?;
                }
                Ok(())
            }
        }
    }

    /// Hands the gathered records to `poll`; while the channel is full the server still hears from the task, and
    /// the slot's lag is still measured.
    async fn deliver(
        &mut self,
        client: &Client,
        emitter: &mut Emitter,
        durable: &mut watch::Receiver<Lsn>,
        shutdown: &mut watch::Receiver<bool>,
        status: &mut Interval,
    ) -> Result<Flow, SourceError> {
        let batch = emitter.take();
        let sender = emitter.sender().clone();
        loop {
            tokio::select! {
                permit = sender.reserve() => return Ok(match permit {
                    Ok(permit) => {
                        permit.send(Ok(batch));
                        Flow::Continue
                    }
                    Err(_) => Flow::Stop,
                }),
                changed = durable.changed() => match changed {
                    Ok(()) => self.report(durable, false).await?,
                    Err(_) => return Ok(Flow::Stop),
                },
                _ = status.tick() => self.report(durable, true).await?,
                _ = self.measure.tick() => self.measure_lag(client).await,
                _ = stopping(shutdown) => return Ok(Flow::Stop),
            }
        }
    }

    /// Tells the server the durable position: when it moved, or always with `force`.
    async fn report(&mut self, durable: &mut watch::Receiver<Lsn>, force: bool) -> Result<(), SourceError> {
        self.flushed = self.flushed.max(*durable.borrow_and_update());
        if force || self.flushed > self.reported {
            let written = self.received.max(self.flushed);
            self.stream.send_status(written, self.flushed, self.flushed, false).await?;
            self.reported = self.flushed;
        }
        Ok(())
    }

    /// Measures the WAL the slot holds beyond its confirmed flush position; a failure only leaves the last
    /// measurement in place.
    async fn measure_lag(&mut self, client: &Client) {
        match catalog::slot_lag_bytes(client, &self.slot).await {
            Ok(Some(bytes)) => self.lag.bytes_behind(u64::try_from(bytes).unwrap_or(0)),
            Ok(None) => {}
            Err(error) => tracing::debug!(error = %sql_message(&error), "measuring the slot's lag failed"),
        }
    }

    /// The last word to the server before the connection closes: the latest durable position.
    async fn finish(mut self, durable: &mut watch::Receiver<Lsn>) -> Result<(), SourceError> {
        if let Err(error) = self.report(durable, true).await {
            tracing::debug!(error = %error, "the final status update failed");
        }
        Ok(())
    }
}

/// A transaction's commit time (pgoutput's timestamp) when `message` commits one.
fn commit_time(message: &Message) -> Option<i64> {
    match message {
        Message::Commit(commit) => Some(commit.commit_time),
        Message::StreamCommit(commit) => Some(commit.commit_time),
        _ => None,
    }
}

/// A timer that first fires one period from now.
fn ticker(period: Duration) -> Interval {
    let mut interval = interval_at(Instant::now() + period, period);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    interval
}

/// The next tick of an optional timer; never without one.
async fn tick(timer: &mut Option<Interval>) {
    match timer {
        Some(timer) => {
            timer.tick().await;
        }
        None => std::future::pending().await,
    }
}
