//! The messages of streamed transactions (protocol version 2, `streaming 'on'` or `'parallel'`): a large
//! transaction arrives in blocks, each between Stream Start and Stream Stop, before it ends with Stream Commit or
//! Stream Abort (or Stream Prepare).

use super::error::DecodeError;
use super::reader::Reader;

/// `S`: a block of a streamed transaction starts. Until Stream Stop, row, relation, type, truncate and logical
/// messages carry an xid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamStart {
    /// The xid of the top-level transaction.
    pub xid: u32,
    /// Whether this is the transaction's first block.
    pub first_segment: bool,
}

/// `c`: a streamed transaction commits; its blocks, received earlier, are now committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamCommit {
    /// The xid of the top-level transaction.
    pub xid: u32,
    /// Flags; PostgreSQL sends 0 and defines none.
    pub flags: u8,
    /// The LSN of the commit record.
    pub commit_lsn: u64,
    /// The end LSN of the transaction: the position to confirm to the slot once its changes are durable.
    pub end_lsn: u64,
    /// Commit time, in microseconds since the PostgreSQL epoch (2000-01-01 00:00:00 UTC).
    pub commit_time: i64,
}

/// `A`: a streamed transaction, or one of its subtransactions, aborts: the changes of `subxid` (of the whole
/// transaction when it equals `xid`) received in its blocks must be dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamAbort {
    /// The xid of the top-level transaction.
    pub xid: u32,
    /// The xid of the aborted subtransaction, or `xid` itself when the whole transaction aborts.
    pub subxid: u32,
    /// The LSN of the abort record; sent only under protocol version 4 with `streaming 'parallel'`.
    pub abort_lsn: Option<u64>,
    /// Abort time, in microseconds since the PostgreSQL epoch; sent only under protocol version 4 with
    /// `streaming 'parallel'`.
    pub abort_time: Option<i64>,
}

impl StreamStart {
    pub(super) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        // PostgreSQL sends 1 for the first block and 0 otherwise, and reads anything but 1 as "not first".
        Ok(StreamStart { xid: r.u32("xid")?, first_segment: r.u8("first segment flag")? == 1 })
    }
}

impl StreamCommit {
    pub(super) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(StreamCommit {
            xid: r.u32("xid")?,
            flags: r.u8("flags")?,
            commit_lsn: r.u64("commit LSN")?,
            end_lsn: r.u64("end LSN")?,
            commit_time: r.i64("commit timestamp")?,
        })
    }
}

impl StreamAbort {
    /// `with_abort_info`: whether the session sends the abort LSN and time (version 4, `streaming 'parallel'`).
    pub(super) fn decode(r: &mut Reader, with_abort_info: bool) -> Result<Self, DecodeError> {
        let xid = r.u32("xid")?;
        let subxid = r.u32("subtransaction xid")?;
        let (abort_lsn, abort_time) =
            if with_abort_info { (Some(r.u64("abort LSN")?), Some(r.i64("abort timestamp")?)) } else { (None, None) };
        Ok(StreamAbort { xid, subxid, abort_lsn, abort_time })
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::super::test_support::Payload;
    use super::super::{
        ColumnValue, DataType, Decoder, DecoderOptions, Delete, Insert, LogicalMessage, Message, MessageKind, OldTuple,
        ProtocolVersion, Relation, ReplicaIdentity, Truncate, TupleData, Update,
    };
    use super::*;

    fn streaming(version: ProtocolVersion) -> Decoder {
        Decoder::new(DecoderOptions::new(version))
    }

    fn start(xid: u32, first: bool) -> Bytes {
        Payload::new().byte(b'S').int32(xid).byte(u8::from(first)).build()
    }

    fn stop() -> Bytes {
        Payload::new().byte(b'E').build()
    }

    #[test]
    fn stream_start_and_stop_open_and_close_the_block() {
        let mut decoder = streaming(ProtocolVersion::V2);
        assert_eq!(decoder.stream_xid(), None);
        assert_eq!(
            decoder.decode(start(759, true)),
            Ok(Message::StreamStart(StreamStart { xid: 759, first_segment: true }))
        );
        assert_eq!(decoder.stream_xid(), Some(759));
        assert_eq!(decoder.decode(stop()), Ok(Message::StreamStop));
        assert_eq!(decoder.stream_xid(), None);
        assert_eq!(
            decoder.decode(start(759, false)),
            Ok(Message::StreamStart(StreamStart { xid: 759, first_segment: false }))
        );
    }

    #[test]
    fn messages_inside_a_block_carry_an_xid() {
        let mut decoder = streaming(ProtocolVersion::V2);
        decoder.decode(start(759, true)).expect("start");
        // The xid of a change can be a subtransaction's, not the one Stream Start named.
        let xid = Some(761);
        let ty = Payload::new().byte(b'Y').xid(xid).int32(16_385).string("public").string("mood");
        assert_eq!(
            decoder.decode(ty.build()),
            Ok(Message::Type(DataType { xid, oid: 16_385, namespace: "public".into(), name: "mood".into() }))
        );
        let relation =
            Payload::new().byte(b'R').xid(xid).int32(16_393).string("public").string("bulk").byte(b'd').int16(0);
        assert_eq!(
            decoder.decode(relation.build()),
            Ok(Message::Relation(Relation {
                xid,
                oid: 16_393,
                namespace: "public".into(),
                name: "bulk".into(),
                replica_identity: ReplicaIdentity::Default,
                columns: vec![],
            }))
        );
        let insert = Payload::new().byte(b'I').xid(xid).int32(16_393).byte(b'N').int16(1).byte(b'n');
        assert_eq!(
            decoder.decode(insert.build()),
            Ok(Message::Insert(Insert {
                xid,
                relation_oid: 16_393,
                new: TupleData { columns: vec![ColumnValue::Null] }
            }))
        );
        let update = Payload::new().byte(b'U').xid(xid).int32(16_393).byte(b'N').int16(1).byte(b'u');
        assert_eq!(
            decoder.decode(update.build()),
            Ok(Message::Update(Update {
                xid,
                relation_oid: 16_393,
                old: None,
                new: TupleData { columns: vec![ColumnValue::UnchangedToast] }
            }))
        );
        let delete = Payload::new().byte(b'D').xid(xid).int32(16_393).byte(b'K').int16(1).byte(b'n');
        assert_eq!(
            decoder.decode(delete.build()),
            Ok(Message::Delete(Delete {
                xid,
                relation_oid: 16_393,
                old: OldTuple::Key(TupleData { columns: vec![ColumnValue::Null] })
            }))
        );
        let truncate = Payload::new().byte(b'T').xid(xid).int32(1).byte(0).int32(16_393);
        assert_eq!(
            decoder.decode(truncate.build()),
            Ok(Message::Truncate(Truncate { xid, options: 0, relation_oids: vec![16_393] }))
        );
        let message = Payload::new().byte(b'M').xid(xid).byte(1).int64(0x99).string("outbox").counted(b"in stream");
        assert_eq!(
            decoder.decode(message.build()),
            Ok(Message::Logical(LogicalMessage {
                xid,
                flags: 1,
                lsn: 0x99,
                prefix: "outbox".into(),
                content: Bytes::from_static(b"in stream")
            }))
        );
        decoder.decode(stop()).expect("stop");
        // After Stream Stop the same bytes would be misread: without the xid an insert is shorter.
        let insert = Payload::new().byte(b'I').int32(16_393).byte(b'N').int16(1).byte(b'n');
        assert!(matches!(decoder.decode(insert.build()), Ok(Message::Insert(Insert { xid: None, .. }))));
    }

    #[test]
    fn stream_commit() {
        // logicalrep_write_stream_commit: xid, flags, commit_lsn, end_lsn, commit_time.
        let payload = Payload::new().byte(b'c').int32(759).byte(0).int64(0x15A_0328).int64(0x15A_0360).signed64(1_000);
        assert_eq!(
            streaming(ProtocolVersion::V2).decode(payload.build()),
            Ok(Message::StreamCommit(StreamCommit {
                xid: 759,
                flags: 0,
                commit_lsn: 0x15A_0328,
                end_lsn: 0x15A_0360,
                commit_time: 1_000
            }))
        );
    }

    #[test]
    fn stream_abort_without_abort_info() {
        // logicalrep_write_stream_abort with write_abort_info false: xid, subxid.
        for version in [ProtocolVersion::V2, ProtocolVersion::V3, ProtocolVersion::V4] {
            let payload = Payload::new().byte(b'A').int32(759).int32(760);
            assert_eq!(
                streaming(version).decode(payload.build()),
                Ok(Message::StreamAbort(StreamAbort { xid: 759, subxid: 760, abort_lsn: None, abort_time: None }))
            );
        }
    }

    #[test]
    fn stream_abort_under_parallel_streaming_carries_lsn_and_time() {
        // Protocol version 4 with streaming 'parallel': xid, subxid, abort_lsn, abort_time.
        let options = DecoderOptions { protocol_version: ProtocolVersion::V4, parallel_streaming: true };
        let payload = Payload::new().byte(b'A').int32(762).int32(762).int64(0x15C_BDE8).signed64(777_000_111);
        assert_eq!(
            Decoder::new(options).decode(payload.build()),
            Ok(Message::StreamAbort(StreamAbort {
                xid: 762,
                subxid: 762,
                abort_lsn: Some(0x15C_BDE8),
                abort_time: Some(777_000_111)
            }))
        );
        // The short form under those options is truncated...
        let short = Payload::new().byte(b'A').int32(762).int32(762);
        assert!(matches!(
            Decoder::new(options).decode(short.build()),
            Err(DecodeError::Truncated { message: MessageKind::StreamAbort, field: "abort LSN", .. })
        ));
        // ...and the long form without them has trailing bytes.
        let long = Payload::new().byte(b'A').int32(762).int32(762).int64(1).signed64(2);
        assert_eq!(
            streaming(ProtocolVersion::V4).decode(long.build()),
            Err(DecodeError::TrailingBytes { message: MessageKind::StreamAbort, count: 16 })
        );
    }

    #[test]
    fn parallel_streaming_before_version_4_sends_no_abort_info() {
        // PostgreSQL refuses streaming 'parallel' below version 4; the decoder then expects the short form.
        let options = DecoderOptions { protocol_version: ProtocolVersion::V3, parallel_streaming: true };
        let payload = Payload::new().byte(b'A').int32(1).int32(2);
        assert!(matches!(Decoder::new(options).decode(payload.build()), Ok(Message::StreamAbort(_))));
    }

    #[test]
    fn block_structure_is_enforced() {
        let mut decoder = streaming(ProtocolVersion::V2);
        assert_eq!(decoder.decode(stop()), Err(DecodeError::OutsideStream { message: MessageKind::StreamStop }));
        decoder.decode(start(1, true)).expect("start");
        assert_eq!(
            decoder.decode(start(1, false)),
            Err(DecodeError::InsideStream { message: MessageKind::StreamStart })
        );
        let commit = Payload::new().byte(b'c').int32(1).byte(0).int64(1).int64(2).signed64(3);
        assert_eq!(
            decoder.decode(commit.build()),
            Err(DecodeError::InsideStream { message: MessageKind::StreamCommit })
        );
        let begin = Payload::new().byte(b'B').int64(1).signed64(2).int32(3);
        assert_eq!(decoder.decode(begin.build()), Err(DecodeError::InsideStream { message: MessageKind::Begin }));
        // A refused message leaves the block open.
        assert_eq!(decoder.stream_xid(), Some(1));
        // Origin can follow Stream Start.
        let origin = Payload::new().byte(b'O').int64(5).string("upstream");
        assert!(matches!(decoder.decode(origin.build()), Ok(Message::Origin(_))));
    }

    #[test]
    fn a_truncated_stream_start_does_not_open_a_block() {
        let mut decoder = streaming(ProtocolVersion::V2);
        let short = Payload::new().byte(b'S').int32(1).build();
        assert!(decoder.decode(short).is_err());
        assert_eq!(decoder.stream_xid(), None);
    }

    #[test]
    fn streaming_messages_need_version_2() {
        let mut decoder = streaming(ProtocolVersion::V1);
        assert_eq!(
            decoder.decode(start(1, true)),
            Err(DecodeError::NotInVersion {
                message: MessageKind::StreamStart,
                required: ProtocolVersion::V2,
                negotiated: ProtocolVersion::V1
            })
        );
        assert_eq!(decoder.stream_xid(), None);
    }
}
