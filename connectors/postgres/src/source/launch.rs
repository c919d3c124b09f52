//! Getting ready to read: connect, check the server, look at the slot, decide what to do ([`super::plan`]), make
//! the publication exist, create the slot and open the snapshot's transaction, all before the pump starts.
//!
//! The exported snapshot is taken into the snapshot's transaction right after `CREATE_REPLICATION_SLOT`, before
//! the replication connection sends anything else (which would end it); the connection then waits, idle, until
//! the snapshot is read and streaming starts at the slot's consistent point.

use std::sync::Arc;

use tidemark_debezium::{LagMeter, PumpEnds};
use tokio::sync::watch;

use super::catalog::{self, SlotInfo};
use super::columns::TypeCache;
use super::config::SourceConfig;
use super::connect;
use super::envelope::Envelopes;
use super::error::SourceError;
use super::offsets::{Position, Stored};
use super::plan::{self, SlotState, StreamFrom};
use super::publication;
use super::pump::{Pump, StreamStart};
use crate::replication::{Lsn, SnapshotAction};

/// What the task hands the pump.
pub struct Channels {
    /// Where records go, and the task's stop signal.
    pub ends: PumpEnds<SourceError>,
    /// The durable position, as `commit` learns it.
    pub durable: watch::Receiver<Lsn>,
    /// Where the stream's lag goes.
    pub lag: LagMeter,
}

/// Prepares a pump that resumes after `emitted` (the last offset handed to the runtime, or the stored one).
pub async fn launch(
    config: &Arc<SourceConfig>,
    envelopes: &Arc<Envelopes>,
    emitted: Option<Stored>,
    channels: Channels,
) -> Result<Pump, SourceError> {
    let client = connect::sql(config).await?;
    let wal_level = catalog::wal_level(&client).await?;
    if wal_level != "logical" {
        return Err(SourceError::Refused(format!(
            "the Postgres server has wal_level={wal_level}; logical decoding needs wal_level=logical: set it \
             (ALTER SYSTEM SET wal_level = logical) and restart the server"
        )));
    }
    let slot = catalog::slot(&client, &config.slot_name).await?;
    let state = slot_state(config, slot.as_ref())?;
    let plan = plan::decide(config.snapshot_mode, emitted, state, &config.slot_name).map_err(SourceError::Refused)?;
    tracing::info!(?plan, slot = %config.slot_name, "starting");
    if plan.stream_from.is_some() {
        publication::ensure(&client, config).await?;
    }
    let mut replication = None;
    if plan.create_slot || plan.stream_from.is_some() {
        replication = Some(connect::replication(config).await?);
    }
    let mut start = match plan.stream_from {
        Some(StreamFrom::Lsn(lsn)) => Some(lsn),
        Some(StreamFrom::ConsistentPoint) | None => None,
    };
    let mut flushed = match state {
        SlotState::Usable { confirmed_flush } => confirmed_flush,
        SlotState::Missing | SlotState::Lost => Lsn::ZERO,
    };
    let mut exported = None;
    if let Some(connection) = replication.as_mut() {
        if plan.drop_slot {
            tracing::warn!(slot = %config.slot_name, "dropping the invalidated slot to take a new snapshot");
            connection.drop_slot(&config.slot_name, true).await?;
        }
        if plan.create_slot {
            let action = if plan.snapshot { SnapshotAction::Export } else { SnapshotAction::NoExport };
            let created = connection.create_logical_slot(&config.slot_name, action).await?;
            tracing::info!(slot = %config.slot_name, consistent_point = %created.consistent_point, "slot created");
            start = Some(created.consistent_point);
            flushed = created.consistent_point;
            exported = created.snapshot_name;
        }
    }
    let snapshot = if plan.snapshot {
        catalog::begin_snapshot(&client, exported.as_deref()).await?;
        Some(match start {
            Some(lsn) => lsn,
            None => catalog::current_lsn(&client).await?,
        })
    } else {
        None
    };
    let stream = match (replication, start, plan.stream_from) {
        (Some(connection), Some(lsn), Some(_)) => {
            let position = match emitted {
                Some(Stored::Streaming(position)) if position.lsn == lsn => position,
                _ => Position { lsn, ..Position::default() },
            };
            let flushed = flushed.max(*channels.durable.borrow());
            Some(StreamStart { connection, position, flushed })
        }
        _ => None,
    };
    Ok(Pump {
        config: Arc::clone(config),
        envelopes: Arc::clone(envelopes),
        client,
        types: TypeCache::default(),
        snapshot,
        stream,
        emitter: channels.ends.emitter,
        durable: channels.durable,
        shutdown: channels.ends.shutdown,
        lag: channels.lag,
    })
}

/// The slot's state; a slot of another plugin or database is refused.
fn slot_state(config: &SourceConfig, slot: Option<&SlotInfo>) -> Result<SlotState, SourceError> {
    let Some(slot) = slot else { return Ok(SlotState::Missing) };
    let name = &config.slot_name;
    if slot.plugin.as_deref() != Some("pgoutput") {
        return Err(SourceError::Refused(format!(
            "the replication slot \"{name}\" uses the plugin {}, not pgoutput: drop it or choose another slot.name",
            slot.plugin.as_deref().unwrap_or("(none: it is a physical slot)")
        )));
    }
    if slot.database.as_deref() != Some(config.dbname.as_str()) {
        return Err(SourceError::Refused(format!(
            "the replication slot \"{name}\" belongs to database {}, not {}: choose another slot.name",
            slot.database.as_deref().unwrap_or("(none)"),
            config.dbname
        )));
    }
    if slot.is_lost() {
        return Ok(SlotState::Lost);
    }
    if let Some(pid) = slot.active_pid {
        tracing::info!(slot = %name, pid, "the slot is in use by another session; streaming waits for it");
    }
    Ok(SlotState::Usable { confirmed_flush: slot.confirmed_flush.unwrap_or_default() })
}
