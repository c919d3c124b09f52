//! The pgoutput protocol versions a session can ask for (`proto_version` in `START_REPLICATION`).

use thiserror::Error;

/// A version of the logical replication protocol that pgoutput speaks, as requested with `proto_version`.
///
/// Ordered: a later version understands everything an earlier one does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProtocolVersion {
    /// Version 1 (PostgreSQL 10): transactions, relations, types, row changes, truncates, logical messages, origins.
    V1,
    /// Version 2 (PostgreSQL 14): streaming of large in-progress transactions (`streaming 'on'`); the xid field in
    /// messages sent inside a stream block.
    V2,
    /// Version 3 (PostgreSQL 15): two-phase commit messages (`two_phase 'true'`).
    V3,
    /// Version 4 (PostgreSQL 16): `streaming 'parallel'`, which adds the abort LSN and time to Stream Abort.
    V4,
}

impl ProtocolVersion {
    /// The number to send as `proto_version`.
    pub const fn number(self) -> u32 {
        match self {
            ProtocolVersion::V1 => 1,
            ProtocolVersion::V2 => 2,
            ProtocolVersion::V3 => 3,
            ProtocolVersion::V4 => 4,
        }
    }
}

/// A `proto_version` outside 1 to 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("pgoutput protocol version {0} is not supported (versions 1 to 4 are)")]
pub struct UnsupportedProtocolVersion(pub u32);

impl TryFrom<u32> for ProtocolVersion {
    type Error = UnsupportedProtocolVersion;

    fn try_from(number: u32) -> Result<Self, Self::Error> {
        match number {
            1 => Ok(ProtocolVersion::V1),
            2 => Ok(ProtocolVersion::V2),
            3 => Ok(ProtocolVersion::V3),
            4 => Ok(ProtocolVersion::V4),
            other => Err(UnsupportedProtocolVersion(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_others_are_refused() {
        for number in 1..=4 {
            let version = ProtocolVersion::try_from(number).expect("supported");
            assert_eq!(version.number(), number);
        }
        assert_eq!(ProtocolVersion::try_from(0), Err(UnsupportedProtocolVersion(0)));
        assert_eq!(ProtocolVersion::try_from(5), Err(UnsupportedProtocolVersion(5)));
        assert!(ProtocolVersion::V1 < ProtocolVersion::V4);
    }
}
