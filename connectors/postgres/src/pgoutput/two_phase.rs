//! The two-phase commit messages (protocol version 3, sent only when the session asked for `two_phase 'true'`):
//! a prepared transaction arrives at PREPARE TRANSACTION and is later committed or rolled back by its gid.

use super::error::DecodeError;
use super::reader::Reader;

/// `b`: a prepared transaction begins; its changes follow until [`Prepare`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeginPrepare {
    /// The LSN of the prepare record.
    pub prepare_lsn: u64,
    /// The end LSN of the prepared transaction.
    pub end_lsn: u64,
    /// Prepare time, in microseconds since the PostgreSQL epoch (2000-01-01 00:00:00 UTC).
    pub prepare_time: i64,
    /// The transaction's xid.
    pub xid: u32,
    /// The global identifier given to PREPARE TRANSACTION.
    pub gid: String,
}

/// `P` (after [`BeginPrepare`] and the changes) or `p` (after the blocks of a streamed transaction): the
/// transaction was prepared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepare {
    /// Flags; PostgreSQL sends 0 and defines none.
    pub flags: u8,
    /// The LSN of the prepare record.
    pub prepare_lsn: u64,
    /// The end LSN of the prepared transaction.
    pub end_lsn: u64,
    /// Prepare time, in microseconds since the PostgreSQL epoch (2000-01-01 00:00:00 UTC).
    pub prepare_time: i64,
    /// The transaction's xid.
    pub xid: u32,
    /// The global identifier given to PREPARE TRANSACTION.
    pub gid: String,
}

/// `K`: a prepared transaction was committed (COMMIT PREPARED).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitPrepared {
    /// Flags; PostgreSQL sends 0 and defines none.
    pub flags: u8,
    /// The LSN of the commit prepared record.
    pub commit_lsn: u64,
    /// The end LSN of the commit prepared transaction.
    pub end_lsn: u64,
    /// Commit time, in microseconds since the PostgreSQL epoch (2000-01-01 00:00:00 UTC).
    pub commit_time: i64,
    /// The prepared transaction's xid.
    pub xid: u32,
    /// The global identifier.
    pub gid: String,
}

/// `r`: a prepared transaction was rolled back (ROLLBACK PREPARED).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackPrepared {
    /// Flags; PostgreSQL sends 0 and defines none.
    pub flags: u8,
    /// The end LSN of the prepared transaction.
    pub prepare_end_lsn: u64,
    /// The end LSN of the rollback prepared transaction.
    pub rollback_end_lsn: u64,
    /// Prepare time, in microseconds since the PostgreSQL epoch (2000-01-01 00:00:00 UTC).
    pub prepare_time: i64,
    /// Rollback time, in microseconds since the PostgreSQL epoch.
    pub rollback_time: i64,
    /// The prepared transaction's xid.
    pub xid: u32,
    /// The global identifier.
    pub gid: String,
}

impl BeginPrepare {
    pub(super) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(BeginPrepare {
            prepare_lsn: r.u64("prepare LSN")?,
            end_lsn: r.u64("end LSN")?,
            prepare_time: r.i64("prepare timestamp")?,
            xid: r.u32("xid")?,
            gid: r.string("gid")?,
        })
    }
}

impl Prepare {
    /// Prepare and Stream Prepare share this layout (`logicalrep_write_prepare_common`).
    pub(super) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(Prepare {
            flags: r.u8("flags")?,
            prepare_lsn: r.u64("prepare LSN")?,
            end_lsn: r.u64("end LSN")?,
            prepare_time: r.i64("prepare timestamp")?,
            xid: r.u32("xid")?,
            gid: r.string("gid")?,
        })
    }
}

impl CommitPrepared {
    pub(super) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(CommitPrepared {
            flags: r.u8("flags")?,
            commit_lsn: r.u64("commit LSN")?,
            end_lsn: r.u64("end LSN")?,
            commit_time: r.i64("commit timestamp")?,
            xid: r.u32("xid")?,
            gid: r.string("gid")?,
        })
    }
}

impl RollbackPrepared {
    pub(super) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(RollbackPrepared {
            flags: r.u8("flags")?,
            prepare_end_lsn: r.u64("prepare end LSN")?,
            rollback_end_lsn: r.u64("rollback end LSN")?,
            prepare_time: r.i64("prepare timestamp")?,
            rollback_time: r.i64("rollback timestamp")?,
            xid: r.u32("xid")?,
            gid: r.string("gid")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::Payload;
    use super::super::{Decoder, DecoderOptions, Message, MessageKind, ProtocolVersion};
    use super::*;

    fn decode(payload: Payload) -> Result<Message, DecodeError> {
        Decoder::new(DecoderOptions::new(ProtocolVersion::V3)).decode(payload.build())
    }

    #[test]
    fn begin_prepare() {
        // logicalrep_write_begin_prepare: final_lsn, end_lsn, prepare_time, xid, gid.
        let payload = Payload::new().byte(b'b').int64(0x10).int64(0x20).signed64(30).int32(764).string("gid-1");
        assert_eq!(
            decode(payload),
            Ok(Message::BeginPrepare(BeginPrepare {
                prepare_lsn: 0x10,
                end_lsn: 0x20,
                prepare_time: 30,
                xid: 764,
                gid: "gid-1".into()
            }))
        );
    }

    #[test]
    fn prepare_and_stream_prepare() {
        // logicalrep_write_prepare_common: flags, prepare_lsn, end_lsn, prepare_time, xid, gid.
        let expected =
            Prepare { flags: 0, prepare_lsn: 0x10, end_lsn: 0x20, prepare_time: 30, xid: 764, gid: "g".into() };
        for (tag, wrap) in [(b'P', Message::Prepare as fn(Prepare) -> Message), (b'p', Message::StreamPrepare)] {
            let payload = Payload::new().byte(tag).byte(0).int64(0x10).int64(0x20).signed64(30).int32(764).string("g");
            assert_eq!(decode(payload), Ok(wrap(expected.clone())));
        }
    }

    #[test]
    fn commit_prepared() {
        // logicalrep_write_commit_prepared: flags, commit_lsn, end_lsn, commit_time, xid, gid.
        let payload = Payload::new().byte(b'K').byte(0).int64(0x30).int64(0x40).signed64(50).int32(764).string("g");
        assert_eq!(
            decode(payload),
            Ok(Message::CommitPrepared(CommitPrepared {
                flags: 0,
                commit_lsn: 0x30,
                end_lsn: 0x40,
                commit_time: 50,
                xid: 764,
                gid: "g".into()
            }))
        );
    }

    #[test]
    fn rollback_prepared() {
        // logicalrep_write_rollback_prepared: flags, prepare_end_lsn, end_lsn, prepare_time, commit_time, xid, gid.
        let payload =
            Payload::new().byte(b'r').byte(0).int64(0x30).int64(0x40).signed64(50).signed64(60).int32(765).string("g");
        assert_eq!(
            decode(payload),
            Ok(Message::RollbackPrepared(RollbackPrepared {
                flags: 0,
                prepare_end_lsn: 0x30,
                rollback_end_lsn: 0x40,
                prepare_time: 50,
                rollback_time: 60,
                xid: 765,
                gid: "g".into()
            }))
        );
    }

    #[test]
    fn two_phase_messages_need_version_3() {
        let payload = Payload::new().byte(b'K').byte(0).int64(0x30).int64(0x40).signed64(50).int32(764).string("g");
        assert_eq!(
            Decoder::new(DecoderOptions::new(ProtocolVersion::V2)).decode(payload.build()),
            Err(DecodeError::NotInVersion {
                message: MessageKind::CommitPrepared,
                required: ProtocolVersion::V3,
                negotiated: ProtocolVersion::V2
            })
        );
    }
}
