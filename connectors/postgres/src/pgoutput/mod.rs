//! The messages of PostgreSQL's `pgoutput` logical decoding plugin, protocol versions 1 to 4 ("Logical Replication
//! Message Formats" in PostgreSQL's documentation; `proto.c` and `pgoutput.c` in its source), decoded free of I/O.
//!
//! Every XLogData payload of a replication stream started with `pgoutput` holds exactly one message: a tag byte,
//! then fixed fields in network byte order, NUL-terminated strings, and length-prefixed values. [`Decoder::decode`]
//! turns one payload into one [`Message`]; [`RelationCache`] keeps the relation descriptions that row messages
//! refer to by oid.
//!
//! # What the decoder must know
//! The bytes alone do not say how to read them:
//! - **Stream blocks.** Under `streaming 'on'` (version 2+) a large transaction arrives in blocks, each between
//!   Stream Start and Stream Stop. Inside a block, Relation, Type, Insert, Update, Delete, Truncate and Message
//!   carry the xid of the (sub)transaction that made the change; outside they do not. The decoder tracks the
//!   blocks, so one decoder must see every payload of a session, in order.
//! - **The protocol version** ([`ProtocolVersion`]): a message newer than the session's version is refused.
//! - **`streaming 'parallel'`** (version 4): Stream Abort then also carries the abort LSN and time.
//!
//! # Values
//! LSNs are `u64`, timestamps `i64` microseconds since 2000-01-01 00:00:00 UTC (PostgreSQL's epoch), xids and oids
//! `u32`. Column values ([`ColumnValue`]) and logical message contents are [`bytes::Bytes`] slices of the payload;
//! names are `String`s, checked to be UTF-8. An unchanged TOASTed value stays [`ColumnValue::UnchangedToast`]:
//! pgoutput did not send it, and nothing here invents it.
//!
//! Flags and option bits are kept as sent, with methods for the bits PostgreSQL defines; fields PostgreSQL defines
//! no check for (commit flags, zero LSNs) are passed through unjudged.
//!
//! # Two-phase commit
//! The version 3 messages (Begin Prepare, Prepare, Commit Prepared, Rollback Prepared, Stream Prepare) are decoded
//! like the others; PostgreSQL sends them only to a session that asked for `two_phase 'true'`.
//!
//! **Invariant: no payload makes the decoder panic.** Every malformed, truncated or unexpected payload gives a
//! [`DecodeError`] that names the message and the field being read (tests feed every prefix of every message kind).

mod cache;
mod decoder;
mod error;
mod kind;
mod logical_message;
mod message;
mod reader;
mod relation;
mod rows;
mod stream;
mod transaction;
mod tuple;
mod two_phase;
mod version;

#[cfg(test)]
mod captured_tests;
#[cfg(test)]
mod prefix_tests;
#[cfg(test)]
mod test_support;

pub use cache::{RelationCache, UnknownRelation};
pub use decoder::{Decoder, DecoderOptions};
pub use error::DecodeError;
pub use kind::MessageKind;
pub use logical_message::LogicalMessage;
pub use message::Message;
pub use relation::{Column, DataType, Relation, ReplicaIdentity};
pub use rows::{Delete, Insert, Truncate, Update};
pub use stream::{StreamAbort, StreamCommit, StreamStart};
pub use transaction::{Begin, Commit, Origin};
pub use tuple::{ColumnValue, OldTuple, TupleData};
pub use two_phase::{BeginPrepare, CommitPrepared, Prepare, RollbackPrepared};
pub use version::{ProtocolVersion, UnsupportedProtocolVersion};
