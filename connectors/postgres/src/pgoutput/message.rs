//! One decoded pgoutput message.

use super::kind::MessageKind;
use super::logical_message::LogicalMessage;
use super::relation::{DataType, Relation};
use super::rows::{Delete, Insert, Truncate, Update};
use super::stream::{StreamAbort, StreamCommit, StreamStart};
use super::transaction::{Begin, Commit, Origin};
use super::two_phase::{BeginPrepare, CommitPrepared, Prepare, RollbackPrepared};

/// A pgoutput message, as one XLogData payload carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `B`: a transaction begins.
    Begin(Begin),
    /// `C`: a transaction commits.
    Commit(Commit),
    /// `O`: the transaction's replication origin.
    Origin(Origin),
    /// `R`: a relation's description.
    Relation(Relation),
    /// `Y`: a data type's description.
    Type(DataType),
    /// `I`: a row was inserted.
    Insert(Insert),
    /// `U`: a row was updated.
    Update(Update),
    /// `D`: a row was deleted.
    Delete(Delete),
    /// `T`: tables were truncated.
    Truncate(Truncate),
    /// `M`: a logical decoding message.
    Logical(LogicalMessage),
    /// `S`: a block of a streamed transaction starts.
    StreamStart(StreamStart),
    /// `E`: the block ends.
    StreamStop,
    /// `c`: a streamed transaction commits.
    StreamCommit(StreamCommit),
    /// `A`: a streamed transaction or subtransaction aborts.
    StreamAbort(StreamAbort),
    /// `b`: a prepared transaction begins.
    BeginPrepare(BeginPrepare),
    /// `P`: a transaction was prepared.
    Prepare(Prepare),
    /// `K`: a prepared transaction was committed.
    CommitPrepared(CommitPrepared),
    /// `r`: a prepared transaction was rolled back.
    RollbackPrepared(RollbackPrepared),
    /// `p`: a streamed transaction was prepared.
    StreamPrepare(Prepare),
}

impl Message {
    /// The message's kind.
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Begin(_) => MessageKind::Begin,
            Message::Commit(_) => MessageKind::Commit,
            Message::Origin(_) => MessageKind::Origin,
            Message::Relation(_) => MessageKind::Relation,
            Message::Type(_) => MessageKind::Type,
            Message::Insert(_) => MessageKind::Insert,
            Message::Update(_) => MessageKind::Update,
            Message::Delete(_) => MessageKind::Delete,
            Message::Truncate(_) => MessageKind::Truncate,
            Message::Logical(_) => MessageKind::Message,
            Message::StreamStart(_) => MessageKind::StreamStart,
            Message::StreamStop => MessageKind::StreamStop,
            Message::StreamCommit(_) => MessageKind::StreamCommit,
            Message::StreamAbort(_) => MessageKind::StreamAbort,
            Message::BeginPrepare(_) => MessageKind::BeginPrepare,
            Message::Prepare(_) => MessageKind::Prepare,
            Message::CommitPrepared(_) => MessageKind::CommitPrepared,
            Message::RollbackPrepared(_) => MessageKind::RollbackPrepared,
            Message::StreamPrepare(_) => MessageKind::StreamPrepare,
        }
    }
}
