//! A replication connection before streaming: connect, run replication commands, then turn into a
//! [`ReplicationStream`].

use std::collections::HashMap;

use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;

use super::commands::{self, IdentifySystem, SlotCreated, SnapshotAction};
use super::config::ConnectConfig;
use super::error::ReplicationError;
use super::lsn::Lsn;
use super::messages::{next_backend, unexpected};
use super::query::{self, QueryResult};
use super::startup;
use super::stream::ReplicationStream;
use super::transport::{self, Backend, FrameReader, FrameWriter};
use crate::tls::Negotiation;

/// A connection in replication mode (`replication=database`): it runs replication commands and plain SQL until
/// [`start_logical_replication`](Self::start_logical_replication) turns it into a stream.
pub struct ReplicationConnection {
    reader: FrameReader,
    writer: FrameWriter,
    parameters: HashMap<String, String>,
}

impl ReplicationConnection {
    /// Connects over TCP, with TLS as [`ConnectConfig::tls`] says, and logs in (SCRAM-SHA-256, MD5 or cleartext
    /// password, as the server asks). Fails with [`ReplicationError::Connect`] when the server cannot be reached,
    /// [`ReplicationError::NoTls`] or [`ReplicationError::Tls`] when TLS cannot be had as the mode requires, and
    /// [`ReplicationError::Server`] when the server refuses (SQLSTATE `28P01` for a wrong password, `28000` when
    /// `pg_hba.conf` has no entry).
    pub async fn connect(config: &ConnectConfig) -> Result<Self, ReplicationError> {
        config.tls.connect_with(|negotiation| Self::connect_once(config, negotiation), ReplicationError::sqlstate).await
    }

    /// One connection attempt.
    async fn connect_once(config: &ConnectConfig, negotiation: Negotiation) -> Result<Self, ReplicationError> {
        let (mut reader, mut writer) = transport::open(config, negotiation).await?;
        let session = startup::start(&mut reader, &mut writer, config).await?;
        Ok(ReplicationConnection { reader, writer, parameters: session.parameters })
    }

    /// A parameter the server reported (`server_version`, `server_encoding`, `integer_datetimes`, ...).
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters.get(name).map(String::as_str)
    }

    /// Runs a replication command or SQL with the simple query protocol and returns the rows of the last statement
    /// that returned any, as text. An error from the server is [`ReplicationError::Server`]; the connection stays
    /// usable.
    pub async fn simple_query(&mut self, sql: &str) -> Result<QueryResult, ReplicationError> {
        query::simple_query(&mut self.reader, &mut self.writer, sql).await
    }

    /// `IDENTIFY_SYSTEM`: the cluster's identity, timeline and current WAL position.
    pub async fn identify_system(&mut self) -> Result<IdentifySystem, ReplicationError> {
        IdentifySystem::from_result(&self.simple_query("IDENTIFY_SYSTEM").await?)
    }

    /// Creates a logical replication slot `name` with the `pgoutput` plugin.
    ///
    /// With [`SnapshotAction::Export`] the answer names a snapshot showing exactly the transactions committed before
    /// the slot's consistent point; other connections adopt it with `BEGIN ISOLATION LEVEL REPEATABLE READ;
    /// SET TRANSACTION SNAPSHOT '<name>'`. **It stays valid only until the next command on this connection, or this
    /// connection's end**: take it in every snapshot transaction before sending anything else here.
    pub async fn create_logical_slot(
        &mut self,
        name: &str,
        snapshot: SnapshotAction,
    ) -> Result<SlotCreated, ReplicationError> {
        let major = self.parameter("server_version").and_then(commands::major_version).unwrap_or(0);
        let command = commands::create_logical_slot(name, snapshot, major);
        SlotCreated::from_result(&self.simple_query(&command).await?)
    }

    /// Drops the replication slot `name`; with `wait`, waits for another connection using it to let go instead of
    /// failing.
    pub async fn drop_slot(&mut self, name: &str, wait: bool) -> Result<(), ReplicationError> {
        self.simple_query(&commands::drop_slot(name, wait)).await.map(drop)
    }

    /// Starts streaming the logical slot `slot` from `start` (`Lsn::ZERO`: where the slot was last confirmed) with
    /// the output plugin's `options`, such as `[("proto_version", "2"), ("publication_names", "\"p\""),
    /// ("streaming", "on"), ("messages", "true")]`. Names are sent as quoted identifiers and values as literals;
    /// `publication_names` is itself a list of identifiers (see [`quote_identifier`](super::quote_identifier)).
    ///
    /// Errors in the options or a missing slot fail here; a missing publication is reported by the stream when the
    /// first change is decoded.
    pub async fn start_logical_replication(
        mut self,
        slot: &str,
        start: Lsn,
        options: &[(&str, &str)],
    ) -> Result<ReplicationStream, ReplicationError> {
        const PHASE: &str = "START_REPLICATION";
        let command = commands::start_logical_replication(slot, start, options);
        self.writer.send(|buf| frontend::query(&command, buf)).await?;
        loop {
            match next_backend(&mut self.reader).await? {
                Backend::CopyBothResponse => return Ok(ReplicationStream::new(self.reader, self.writer)),
                Backend::Message(Message::ParameterStatus(_)) => {}
                Backend::Message(other) => return Err(unexpected(&other, PHASE)),
            }
        }
    }

    /// Ends the session politely (Terminate) and closes the connection.
    pub async fn close(mut self) -> Result<(), ReplicationError> {
        self.writer
            .send(|buf| {
                frontend::terminate(buf);
                Ok(())
            })
            .await
    }
}
