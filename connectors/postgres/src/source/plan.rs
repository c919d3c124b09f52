//! What a task does when it starts, from `snapshot.mode`, its stored offset and the slot's state: whether to take
//! a snapshot, whether to create the slot (a snapshot then uses the slot's exported snapshot, so it ends exactly
//! where streaming starts), and where streaming starts. Decided without I/O.
//!
//! A snapshot taken while the slot already exists (a restart after an unfinished snapshot, `always`, or a slot
//! created earlier) reads a fresh snapshot and streams from the stored position or the slot's: changes committed
//! in between arrive again after the snapshot (at least once), none are lost.

use super::config::SnapshotMode;
use super::offsets::Stored;
use crate::replication::Lsn;

/// The slot as the task finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotState {
    /// There is no slot of that name.
    Missing,
    /// The slot exists and resumes at `confirmed_flush`.
    Usable {
        /// Where the slot resumes.
        confirmed_flush: Lsn,
    },
    /// The server invalidated the slot (its WAL was removed).
    Lost,
}

/// Where streaming starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFrom {
    /// The consistent point of the slot created now.
    ConsistentPoint,
    /// This position of the existing slot.
    Lsn(Lsn),
}

/// What to do at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Drop the (invalidated) slot first.
    pub drop_slot: bool,
    /// Create the slot (with an exported snapshot when `snapshot`).
    pub create_slot: bool,
    /// Read the captured tables.
    pub snapshot: bool,
    /// Stream changes from here; `None` for no streaming (`initial_only`).
    pub stream_from: Option<StreamFrom>,
}

/// The plan for `mode`, the stored offset and the slot; `Err` says why the task cannot go on and what to do.
pub fn decide(mode: SnapshotMode, stored: Option<Stored>, slot: SlotState, slot_name: &str) -> Result<Plan, String> {
    // A snapshot that never finished counts as none.
    let resume = stored.filter(|s| !s.snapshot_incomplete()).map(|s| s.lsn());
    if mode == SnapshotMode::InitialOnly {
        let snapshot = resume.is_none();
        return Ok(Plan { drop_slot: false, create_slot: false, snapshot, stream_from: None });
    }
    let mut snapshot = match mode {
        SnapshotMode::Always => true,
        SnapshotMode::NoData => false,
        SnapshotMode::Initial | SnapshotMode::WhenNeeded | SnapshotMode::InitialOnly => resume.is_none(),
    };
    let rebuild = matches!(mode, SnapshotMode::WhenNeeded | SnapshotMode::Always);
    match slot {
        SlotState::Usable { confirmed_flush } => Ok(Plan {
            drop_slot: false,
            create_slot: false,
            snapshot,
            stream_from: Some(StreamFrom::Lsn(resume.unwrap_or(confirmed_flush))),
        }),
        SlotState::Missing | SlotState::Lost => {
            let lost = slot == SlotState::Lost;
            if let Some(lsn) = resume {
                if !rebuild {
                    let what = if lost {
                        format!(
                            "the replication slot \"{slot_name}\" was invalidated (the server removed WAL it needed)"
                        )
                    } else {
                        format!("the replication slot \"{slot_name}\" does not exist")
                    };
                    return Err(format!(
                        "{what}, but the connector has a stored position (LSN {lsn}): changes after it cannot be \
                         streamed. Set snapshot.mode=when_needed to take a new snapshot, or delete the connector's \
                         offsets to start afresh"
                    ));
                }
                snapshot = true;
            }
            Ok(Plan { drop_slot: lost, create_slot: true, snapshot, stream_from: Some(StreamFrom::ConsistentPoint) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::offsets::Position;

    const USABLE: SlotState = SlotState::Usable { confirmed_flush: Lsn(50) };

    fn streaming(lsn: u64) -> Option<Stored> {
        Some(Stored::Streaming(Position { lsn: Lsn(lsn), ..Position::default() }))
    }

    fn incomplete() -> Option<Stored> {
        Some(Stored::Snapshot { lsn: Lsn(40), complete: false })
    }

    fn plan(create_slot: bool, snapshot: bool, stream_from: Option<StreamFrom>) -> Plan {
        Plan { drop_slot: false, create_slot, snapshot, stream_from }
    }

    #[test]
    fn initial() {
        let mode = SnapshotMode::Initial;
        let from_consistent = Some(StreamFrom::ConsistentPoint);
        assert_eq!(decide(mode, None, SlotState::Missing, "s"), Ok(plan(true, true, from_consistent)));
        // An unfinished snapshot is taken again; the slot stays and streaming starts where it stands.
        assert_eq!(decide(mode, incomplete(), USABLE, "s"), Ok(plan(false, true, Some(StreamFrom::Lsn(Lsn(50))))));
        assert_eq!(decide(mode, streaming(70), USABLE, "s"), Ok(plan(false, false, Some(StreamFrom::Lsn(Lsn(70))))));
        let done = Some(Stored::Snapshot { lsn: Lsn(60), complete: true });
        assert_eq!(decide(mode, done, USABLE, "s"), Ok(plan(false, false, Some(StreamFrom::Lsn(Lsn(60))))));
        let error = decide(mode, streaming(70), SlotState::Missing, "s").expect_err("missing slot");
        assert!(error.contains("\"s\" does not exist") && error.contains("when_needed"), "{error}");
        let error = decide(mode, streaming(70), SlotState::Lost, "s").expect_err("lost slot");
        assert!(error.contains("invalidated"), "{error}");
    }

    #[test]
    fn when_needed_and_always_rebuild() {
        let rebuilt =
            Plan { drop_slot: true, create_slot: true, snapshot: true, stream_from: Some(StreamFrom::ConsistentPoint) };
        assert_eq!(decide(SnapshotMode::WhenNeeded, streaming(70), SlotState::Lost, "s"), Ok(rebuilt));
        assert_eq!(
            decide(SnapshotMode::WhenNeeded, streaming(70), SlotState::Missing, "s"),
            Ok(Plan { drop_slot: false, ..rebuilt })
        );
        assert_eq!(
            decide(SnapshotMode::WhenNeeded, streaming(70), USABLE, "s"),
            Ok(plan(false, false, Some(StreamFrom::Lsn(Lsn(70)))))
        );
        assert_eq!(
            decide(SnapshotMode::Always, streaming(70), USABLE, "s"),
            Ok(plan(false, true, Some(StreamFrom::Lsn(Lsn(70)))))
        );
    }

    #[test]
    fn no_data_and_initial_only() {
        assert_eq!(
            decide(SnapshotMode::NoData, None, SlotState::Missing, "s"),
            Ok(plan(true, false, Some(StreamFrom::ConsistentPoint)))
        );
        assert_eq!(
            decide(SnapshotMode::NoData, None, USABLE, "s"),
            Ok(plan(false, false, Some(StreamFrom::Lsn(Lsn(50)))))
        );
        assert!(decide(SnapshotMode::NoData, streaming(70), SlotState::Missing, "s").is_err());
        assert_eq!(decide(SnapshotMode::InitialOnly, None, SlotState::Missing, "s"), Ok(plan(false, true, None)));
        assert_eq!(decide(SnapshotMode::InitialOnly, streaming(70), USABLE, "s"), Ok(plan(false, false, None)));
    }
}
