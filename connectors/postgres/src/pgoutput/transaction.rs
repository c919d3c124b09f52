//! The messages that frame an ordinary (not streamed) transaction: Begin, Commit, and the Origin that can follow
//! Begin.

use super::error::DecodeError;
use super::reader::Reader;

/// `B`: a transaction begins; its changes follow until [`Commit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Begin {
    /// The final LSN of the transaction (the LSN of its commit record).
    pub final_lsn: u64,
    /// Commit time, in microseconds since the PostgreSQL epoch (2000-01-01 00:00:00 UTC).
    pub commit_time: i64,
    /// The transaction's xid.
    pub xid: u32,
}

/// `C`: the transaction that the last [`Begin`] opened commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// Flags; PostgreSQL sends 0 and defines none.
    pub flags: u8,
    /// The LSN of the commit record.
    pub commit_lsn: u64,
    /// The end LSN of the transaction: the position to confirm to the slot once its changes are durable.
    pub end_lsn: u64,
    /// Commit time, in microseconds since the PostgreSQL epoch (2000-01-01 00:00:00 UTC).
    pub commit_time: i64,
}

/// `O`: the replication origin the transaction came from (sent after Begin or Stream Start when it has one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The LSN of the commit on the origin server.
    pub origin_lsn: u64,
    /// The origin's name.
    pub name: String,
}

impl Begin {
    pub(super) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(Begin { final_lsn: r.u64("final LSN")?, commit_time: r.i64("commit timestamp")?, xid: r.u32("xid")? })
    }
}

impl Commit {
    pub(super) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(Commit {
            flags: r.u8("flags")?,
            commit_lsn: r.u64("commit LSN")?,
            end_lsn: r.u64("end LSN")?,
            commit_time: r.i64("commit timestamp")?,
        })
    }
}

impl Origin {
    pub(super) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(Origin { origin_lsn: r.u64("origin LSN")?, name: r.string("origin name")? })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::Payload;
    use super::super::{Decoder, DecoderOptions, Message, ProtocolVersion};
    use super::*;

    fn decode(payload: Payload) -> Result<Message, DecodeError> {
        Decoder::new(DecoderOptions::new(ProtocolVersion::V1)).decode(payload.build())
    }

    #[test]
    fn begin() {
        // logicalrep_write_begin: final_lsn, commit_time, xid.
        let payload = Payload::new().byte(b'B').int64(0x16_B374_D848).signed64(760_000_000_123_456).int32(731);
        assert_eq!(
            decode(payload),
            Ok(Message::Begin(Begin { final_lsn: 0x16_B374_D848, commit_time: 760_000_000_123_456, xid: 731 }))
        );
    }

    #[test]
    fn commit() {
        // logicalrep_write_commit: flags, commit_lsn, end_lsn, commit_time.
        let payload = Payload::new().byte(b'C').byte(0).int64(0x100).int64(0x130).signed64(-5);
        assert_eq!(
            decode(payload),
            Ok(Message::Commit(Commit { flags: 0, commit_lsn: 0x100, end_lsn: 0x130, commit_time: -5 }))
        );
    }

    #[test]
    fn origin() {
        // logicalrep_write_origin: origin_lsn, name.
        let payload = Payload::new().byte(b'O').int64(0xABCDEF).string("upstream");
        assert_eq!(decode(payload), Ok(Message::Origin(Origin { origin_lsn: 0xABCDEF, name: "upstream".into() })));
    }
}
