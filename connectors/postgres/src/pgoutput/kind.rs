//! The message kinds of the protocol: their tag bytes, names, and the protocol version that introduced them.

use std::fmt;

use super::version::ProtocolVersion;

/// The kind of a pgoutput message, named by its first byte (`LogicalRepMsgType` in PostgreSQL's `logicalproto.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// `B`: a transaction begins.
    Begin,
    /// `C`: a transaction commits.
    Commit,
    /// `O`: the replication origin of the transaction.
    Origin,
    /// `R`: a relation's description.
    Relation,
    /// `Y`: a data type's description.
    Type,
    /// `I`: a row was inserted.
    Insert,
    /// `U`: a row was updated.
    Update,
    /// `D`: a row was deleted.
    Delete,
    /// `T`: tables were truncated.
    Truncate,
    /// `M`: a logical decoding message (`pg_logical_emit_message`).
    Message,
    /// `S`: a block of a streamed transaction starts (version 2).
    StreamStart,
    /// `E`: a block of a streamed transaction ends (version 2).
    StreamStop,
    /// `c`: a streamed transaction commits (version 2).
    StreamCommit,
    /// `A`: a streamed transaction or subtransaction aborts (version 2).
    StreamAbort,
    /// `b`: a prepared transaction begins (version 3).
    BeginPrepare,
    /// `P`: a transaction was prepared (version 3).
    Prepare,
    /// `K`: a prepared transaction was committed (version 3).
    CommitPrepared,
    /// `r`: a prepared transaction was rolled back (version 3).
    RollbackPrepared,
    /// `p`: a streamed transaction was prepared (version 3).
    StreamPrepare,
}

impl MessageKind {
    /// Every kind, in the order of the documentation.
    pub const ALL: [MessageKind; 19] = [
        MessageKind::Begin,
        MessageKind::Commit,
        MessageKind::Origin,
        MessageKind::Relation,
        MessageKind::Type,
        MessageKind::Insert,
        MessageKind::Update,
        MessageKind::Delete,
        MessageKind::Truncate,
        MessageKind::Message,
        MessageKind::StreamStart,
        MessageKind::StreamStop,
        MessageKind::StreamCommit,
        MessageKind::StreamAbort,
        MessageKind::BeginPrepare,
        MessageKind::Prepare,
        MessageKind::CommitPrepared,
        MessageKind::RollbackPrepared,
        MessageKind::StreamPrepare,
    ];

    /// The kind a tag byte names, if any.
    pub const fn from_tag(tag: u8) -> Option<MessageKind> {
        Some(match tag {
            b'B' => MessageKind::Begin,
            b'C' => MessageKind::Commit,
            b'O' => MessageKind::Origin,
            b'R' => MessageKind::Relation,
            b'Y' => MessageKind::Type,
            b'I' => MessageKind::Insert,
            b'U' => MessageKind::Update,
            b'D' => MessageKind::Delete,
            b'T' => MessageKind::Truncate,
            b'M' => MessageKind::Message,
            b'S' => MessageKind::StreamStart,
            b'E' => MessageKind::StreamStop,
            b'c' => MessageKind::StreamCommit,
            b'A' => MessageKind::StreamAbort,
            b'b' => MessageKind::BeginPrepare,
            b'P' => MessageKind::Prepare,
            b'K' => MessageKind::CommitPrepared,
            b'r' => MessageKind::RollbackPrepared,
            b'p' => MessageKind::StreamPrepare,
            _ => return None,
        })
    }

    /// The tag byte that starts a message of this kind.
    pub const fn tag(self) -> u8 {
        match self {
            MessageKind::Begin => b'B',
            MessageKind::Commit => b'C',
            MessageKind::Origin => b'O',
            MessageKind::Relation => b'R',
            MessageKind::Type => b'Y',
            MessageKind::Insert => b'I',
            MessageKind::Update => b'U',
            MessageKind::Delete => b'D',
            MessageKind::Truncate => b'T',
            MessageKind::Message => b'M',
            MessageKind::StreamStart => b'S',
            MessageKind::StreamStop => b'E',
            MessageKind::StreamCommit => b'c',
            MessageKind::StreamAbort => b'A',
            MessageKind::BeginPrepare => b'b',
            MessageKind::Prepare => b'P',
            MessageKind::CommitPrepared => b'K',
            MessageKind::RollbackPrepared => b'r',
            MessageKind::StreamPrepare => b'p',
        }
    }

    /// The message's name as PostgreSQL's documentation spells it ("Stream Start").
    pub const fn name(self) -> &'static str {
        match self {
            MessageKind::Begin => "Begin",
            MessageKind::Commit => "Commit",
            MessageKind::Origin => "Origin",
            MessageKind::Relation => "Relation",
            MessageKind::Type => "Type",
            MessageKind::Insert => "Insert",
            MessageKind::Update => "Update",
            MessageKind::Delete => "Delete",
            MessageKind::Truncate => "Truncate",
            MessageKind::Message => "Message",
            MessageKind::StreamStart => "Stream Start",
            MessageKind::StreamStop => "Stream Stop",
            MessageKind::StreamCommit => "Stream Commit",
            MessageKind::StreamAbort => "Stream Abort",
            MessageKind::BeginPrepare => "Begin Prepare",
            MessageKind::Prepare => "Prepare",
            MessageKind::CommitPrepared => "Commit Prepared",
            MessageKind::RollbackPrepared => "Rollback Prepared",
            MessageKind::StreamPrepare => "Stream Prepare",
        }
    }

    /// The first protocol version in which pgoutput sends this kind.
    pub const fn min_version(self) -> ProtocolVersion {
        match self {
            MessageKind::StreamStart
            | MessageKind::StreamStop
            | MessageKind::StreamCommit
            | MessageKind::StreamAbort => ProtocolVersion::V2,
            MessageKind::BeginPrepare
            | MessageKind::Prepare
            | MessageKind::CommitPrepared
            | MessageKind::RollbackPrepared
            | MessageKind::StreamPrepare => ProtocolVersion::V3,
            _ => ProtocolVersion::V1,
        }
    }

    /// Whether the message ends or opens a transaction, or closes a streamed one: such messages never appear
    /// between Stream Start and Stream Stop.
    pub(super) const fn is_transaction_boundary(self) -> bool {
        matches!(
            self,
            MessageKind::Begin
                | MessageKind::Commit
                | MessageKind::StreamStart
                | MessageKind::StreamCommit
                | MessageKind::StreamAbort
                | MessageKind::BeginPrepare
                | MessageKind::Prepare
                | MessageKind::CommitPrepared
                | MessageKind::RollbackPrepared
                | MessageKind::StreamPrepare
        )
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for kind in MessageKind::ALL {
            assert_eq!(MessageKind::from_tag(kind.tag()), Some(kind));
            assert!(seen.insert(kind.tag()), "tag of {kind} used twice");
        }
        let unknown = (0..=u8::MAX).filter(|tag| MessageKind::from_tag(*tag).is_none()).count();
        assert_eq!(unknown, 256 - MessageKind::ALL.len());
    }

    #[test]
    fn versions_match_the_documentation() {
        assert_eq!(MessageKind::Insert.min_version(), ProtocolVersion::V1);
        assert_eq!(MessageKind::StreamAbort.min_version(), ProtocolVersion::V2);
        assert_eq!(MessageKind::StreamPrepare.min_version(), ProtocolVersion::V3);
        assert_eq!(MessageKind::StreamStart.to_string(), "Stream Start");
    }
}
