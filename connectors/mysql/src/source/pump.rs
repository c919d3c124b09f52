//! The pump: a background task that reads MySQL (the snapshot, then the binlog) and hands records to the task's
//! `poll` through a bounded channel. It decides at start ([`Pump::start`]) what to read from `snapshot.mode` and
//! the stored position, owns the connections, and ends when the task stops it or on the first failure, which it
//! hands over after the records before it.

use std::sync::Arc;

use mysql_async::Conn;
use tidemark_debezium::config::SnapshotMode;
use tidemark_debezium::{send_failure, Flow, LagMeter};
use tokio::sync::watch;

use super::config::SourceConfig;
use super::connect;
use super::emit::Emitter;
use super::envelope::Envelopes;
use super::error::SourceError;
use super::offsets::{Position, Stored};
use super::snapshot::{self, Snapshot};
use super::stream::Changes;
use crate::binlog::{BinlogError, BinlogEventStream, BinlogReader, GtidSet};

/// What the pump reads.
pub struct Pump {
    config: Arc<SourceConfig>,
    envelopes: Arc<Envelopes>,
    reader: BinlogReader,
    /// The snapshot's connection, its transaction open, and where the snapshot stands.
    snapshot: Option<(Conn, Position)>,
    /// Where streaming starts, and the stream when it is already open; `None` for no streaming.
    stream: Option<(Position, Option<BinlogEventStream>)>,
    /// Where streaming starts instead when the server no longer has the binlog of `stream`'s position (the
    /// snapshot's own position, after a snapshot taken with an older stored position).
    fallback: Option<Position>,
    emitter: Emitter,
    shutdown: watch::Receiver<bool>,
    lag: LagMeter,
}

impl Pump {
    /// Connects (refusing a server that does not log full row images), decides what to read, and opens the
    /// snapshot's transaction or the binlog stream; the stream's lag will go to `lag`.
    pub async fn start(
        config: Arc<SourceConfig>,
        envelopes: Arc<Envelopes>,
        stored: Option<Stored>,
        emitter: Emitter,
        shutdown: watch::Receiver<bool>,
        lag: LagMeter,
    ) -> Result<Self, SourceError> {
        let reader = BinlogReader::connect(connect::opts(&config), config.server_id).await?;
        // An unfinished snapshot's position is where the next snapshot's stream starts, so that what changed since
        // (rows deleted in between, above all) is streamed after the new snapshot; but it is no place to resume from.
        let earlier = stored.as_ref().map(|s| s.position.clone());
        let resume = stored.filter(|s| !s.snapshot_incomplete).map(|s| s.position);
        let mode = config.snapshot_mode;
        let mut snapshot = match mode {
            SnapshotMode::Always => true,
            SnapshotMode::NoData => false,
            SnapshotMode::Initial | SnapshotMode::InitialOnly | SnapshotMode::WhenNeeded => resume.is_none(),
        };
        let mut stream = None;
        let mut purged = false;
        if mode != SnapshotMode::InitialOnly {
            if let (false, Some(position)) = (snapshot, &resume) {
                match open_stream(&reader, position).await {
                    Ok(opened) => stream = Some((position.clone(), Some(opened))),
                    Err(BinlogError::Purged { message }) if mode == SnapshotMode::WhenNeeded => {
                        tracing::warn!(%message, "the stored binlog position is gone; taking a new snapshot (when_needed)");
                        snapshot = true;
                        purged = true;
                    }
                    Err(BinlogError::Purged { message }) => {
                        return Err(SourceError::Refused(format!(
                            "the binlog the connector must resume from (file {}, position {}, GTIDs '{}') is no \
                             longer on the server: {message}. Set snapshot.mode=when_needed to take a new snapshot, \
                             or delete the connector's offsets to start afresh",
                            position.file, position.pos, position.gtids
                        )));
                    }
                    Err(other) => return Err(other.into()),
                }
            }
        }
        let mut fallback = None;
        let snapshot = if snapshot {
            let mut conn = connect::sql(&config).await?;
            let position = snapshot::begin(&mut conn, &config, reader.flavor()).await?;
            if mode != SnapshotMode::InitialOnly {
                // After the snapshot, stream from the stored position when there is one: changes between it and the
                // snapshot come again (at least once), and deletes the snapshot cannot show are not lost.
                match earlier.filter(|_| !purged) {
                    Some(earlier) => {
                        stream = Some((earlier, None));
                        fallback = Some(position.clone());
                    }
                    None => stream = Some((position.clone(), None)),
                }
            }
            Some((conn, position))
        } else {
            None
        };
        if stream.is_none() && snapshot.is_none() && mode != SnapshotMode::InitialOnly {
            // no_data without a stored position: from where the binlog stands now.
            let now = reader.current_position().await?;
            let position = Position { file: now.file, pos: now.pos, gtids: now.gtids, ts_sec: 0, server_id: 0 };
            stream = Some((position, None));
        }
        Ok(Pump { config, envelopes, reader, snapshot, stream, fallback, emitter, shutdown, lag })
    }

    /// Runs to the end; a failure is handed over to `poll` after the records before it.
    pub async fn run(mut self) {
        if let Err(error) = self.phases().await {
            tracing::warn!(error = %error, "the MySQL source stopped on an error");
            send_failure(&self.emitter, error, &mut self.shutdown).await;
        }
    }

    async fn phases(&mut self) -> Result<(), SourceError> {
        if let Some((conn, position)) = self.snapshot.take() {
            let snapshot = Snapshot { conn, config: &self.config, envelopes: &self.envelopes, position: &position };
            if snapshot.read(&mut self.emitter, &mut self.shutdown).await? == Flow::Stop {
                return Ok(());
            }
        }
        let Some((mut position, opened)) = self.stream.take() else { return Ok(()) };
        let stream = match opened {
            Some(stream) => stream,
            None => match (open_stream(&self.reader, &position).await, self.fallback.take()) {
                (Ok(stream), _) => stream,
                (Err(BinlogError::Purged { message }), Some(fallback)) => {
                    tracing::warn!(%message, "the position before the snapshot is gone; streaming from the snapshot's");
                    position = fallback;
                    open_stream(&self.reader, &position).await?
                }
                (Err(other), _) => return Err(other.into()),
            },
        };
        let gtids = GtidSet::parse(self.reader.flavor(), &position.gtids).map_err(BinlogError::Gtid)?;
        tracing::info!(file = %position.file, pos = position.pos, gtids = %position.gtids, "streaming the binlog");
        let (config, envelopes) = (Arc::clone(&self.config), Arc::clone(&self.envelopes));
        let changes = Changes::new(config, envelopes, position, gtids, self.lag.clone());
        changes.run(stream, &mut self.emitter, &mut self.shutdown).await
    }
}

/// The binlog stream from `position`: by its GTID set when it has one, else by file and offset.
async fn open_stream(reader: &BinlogReader, position: &Position) -> Result<BinlogEventStream, BinlogError> {
    if position.gtids.is_empty() {
        reader.stream_from(&position.file, position.pos).await
    } else {
        let gtids = GtidSet::parse(reader.flavor(), &position.gtids)?;
        reader.stream_from_gtids(&gtids).await
    }
}
