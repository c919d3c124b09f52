//! The row change messages: Insert, Update, Delete, and Truncate.

use super::error::DecodeError;
use super::reader::Reader;
use super::tuple::{OldTuple, TupleData};

/// `I`: a row was inserted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insert {
    /// The xid of the (sub)transaction, present only inside a stream block.
    pub xid: Option<u32>,
    /// The oid of the relation, described by an earlier Relation message.
    pub relation_oid: u32,
    /// The new row.
    pub new: TupleData,
}

/// `U`: a row was updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// The xid of the (sub)transaction, present only inside a stream block.
    pub xid: Option<u32>,
    /// The oid of the relation, described by an earlier Relation message.
    pub relation_oid: u32,
    /// The old row: the whole row under REPLICA IDENTITY FULL; the old key only when the update changed the key
    /// (or a key value is stored out of line); absent otherwise.
    pub old: Option<OldTuple>,
    /// The new row. Unchanged TOASTed values in it are [`super::ColumnValue::UnchangedToast`].
    pub new: TupleData,
}

/// `D`: a row was deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delete {
    /// The xid of the (sub)transaction, present only inside a stream block.
    pub xid: Option<u32>,
    /// The oid of the relation, described by an earlier Relation message.
    pub relation_oid: u32,
    /// The deleted row's key, or the whole old row under REPLICA IDENTITY FULL.
    pub old: OldTuple,
}

/// `T`: tables were truncated by one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncate {
    /// The xid of the (sub)transaction, present only inside a stream block.
    pub xid: Option<u32>,
    /// Option bits: [`Truncate::CASCADE`] and [`Truncate::RESTART_IDENTITY`].
    pub options: u8,
    /// The oids of the truncated relations.
    pub relation_oids: Vec<u32>,
}

impl Truncate {
    /// The option bit of `TRUNCATE ... CASCADE`.
    pub const CASCADE: u8 = 1;
    /// The option bit of `TRUNCATE ... RESTART IDENTITY`.
    pub const RESTART_IDENTITY: u8 = 2;

    /// Whether the statement said CASCADE.
    pub fn cascade(&self) -> bool {
        self.options & Truncate::CASCADE != 0
    }

    /// Whether the statement said RESTART IDENTITY.
    pub fn restart_identity(&self) -> bool {
        self.options & Truncate::RESTART_IDENTITY != 0
    }
}

impl Insert {
    pub(super) fn decode(r: &mut Reader, in_stream: bool) -> Result<Self, DecodeError> {
        let xid = r.stream_xid(in_stream)?;
        let relation_oid = r.u32("relation oid")?;
        match r.u8("tuple kind")? {
            b'N' => {}
            other => return Err(r.unexpected("tuple kind", other, "'N'")),
        }
        Ok(Insert { xid, relation_oid, new: TupleData::decode(r)? })
    }
}

impl Update {
    pub(super) fn decode(r: &mut Reader, in_stream: bool) -> Result<Self, DecodeError> {
        let xid = r.stream_xid(in_stream)?;
        let relation_oid = r.u32("relation oid")?;
        let (old, kind) = match r.u8("tuple kind")? {
            b'K' => (Some(OldTuple::Key(TupleData::decode(r)?)), r.u8("new tuple kind")?),
            b'O' => (Some(OldTuple::Full(TupleData::decode(r)?)), r.u8("new tuple kind")?),
            kind => (None, kind),
        };
        if kind != b'N' {
            let expected = if old.is_some() { "'N'" } else { "'K', 'O' or 'N'" };
            return Err(r.unexpected("tuple kind", kind, expected));
        }
        Ok(Update { xid, relation_oid, old, new: TupleData::decode(r)? })
    }
}

impl Delete {
    pub(super) fn decode(r: &mut Reader, in_stream: bool) -> Result<Self, DecodeError> {
        let xid = r.stream_xid(in_stream)?;
        let relation_oid = r.u32("relation oid")?;
        let old = match r.u8("tuple kind")? {
            b'K' => OldTuple::Key(TupleData::decode(r)?),
            b'O' => OldTuple::Full(TupleData::decode(r)?),
            other => return Err(r.unexpected("tuple kind", other, "'K' or 'O'")),
        };
        Ok(Delete { xid, relation_oid, old })
    }
}

impl Truncate {
    pub(super) fn decode(r: &mut Reader, in_stream: bool) -> Result<Self, DecodeError> {
        let xid = r.stream_xid(in_stream)?;
        let count = r.count("relation count")?;
        let options = r.u8("options")?;
        // Each oid takes four bytes: never reserve more than the payload can hold.
        let mut relation_oids = Vec::with_capacity(count.min(r.remaining() / 4));
        for _ in 0..count {
            relation_oids.push(r.u32("relation oid")?);
        }
        Ok(Truncate { xid, options, relation_oids })
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::super::test_support::Payload;
    use super::super::tuple::ColumnValue;
    use super::super::{Decoder, DecoderOptions, Message, MessageKind, ProtocolVersion};
    use super::*;

    fn decode(payload: Payload) -> Result<Message, DecodeError> {
        Decoder::new(DecoderOptions::new(ProtocolVersion::V1)).decode(payload.build())
    }

    fn text(value: &'static str) -> ColumnValue {
        ColumnValue::Text(Bytes::from_static(value.as_bytes()))
    }

    #[test]
    fn insert() {
        // logicalrep_write_insert: relid, 'N', tuple.
        let payload = Payload::new().byte(b'I').int32(16_384).byte(b'N').int16(2).byte(b't').counted(b"1").byte(b'n');
        assert_eq!(
            decode(payload),
            Ok(Message::Insert(Insert {
                xid: None,
                relation_oid: 16_384,
                new: TupleData { columns: vec![text("1"), ColumnValue::Null] },
            }))
        );
    }

    #[test]
    fn insert_without_new_tuple_is_an_error() {
        let payload = Payload::new().byte(b'I').int32(16_384).byte(b'K').int16(0);
        assert_eq!(
            decode(payload),
            Err(DecodeError::UnexpectedByte {
                message: MessageKind::Insert,
                field: "tuple kind",
                found: b'K',
                expected: "'N'"
            })
        );
    }

    #[test]
    fn update_without_old_row() {
        let payload = Payload::new().byte(b'U').int32(7).byte(b'N').int16(2).byte(b't').counted(b"1").byte(b'u');
        assert_eq!(
            decode(payload),
            Ok(Message::Update(Update {
                xid: None,
                relation_oid: 7,
                old: None,
                new: TupleData { columns: vec![text("1"), ColumnValue::UnchangedToast] },
            }))
        );
    }

    #[test]
    fn update_with_old_key() {
        let payload = Payload::new()
            .byte(b'U')
            .int32(7)
            .byte(b'K')
            .int16(2)
            .byte(b't')
            .counted(b"1")
            .byte(b'n')
            .byte(b'N')
            .int16(2)
            .byte(b't')
            .counted(b"2")
            .byte(b't')
            .counted(b"x");
        assert_eq!(
            decode(payload),
            Ok(Message::Update(Update {
                xid: None,
                relation_oid: 7,
                old: Some(OldTuple::Key(TupleData { columns: vec![text("1"), ColumnValue::Null] })),
                new: TupleData { columns: vec![text("2"), text("x")] },
            }))
        );
    }

    #[test]
    fn update_with_old_row() {
        let payload = Payload::new()
            .byte(b'U')
            .int32(7)
            .byte(b'O')
            .int16(1)
            .byte(b't')
            .counted(b"a")
            .byte(b'N')
            .int16(1)
            .byte(b't')
            .counted(b"b");
        assert_eq!(
            decode(payload),
            Ok(Message::Update(Update {
                xid: None,
                relation_oid: 7,
                old: Some(OldTuple::Full(TupleData { columns: vec![text("a")] })),
                new: TupleData { columns: vec![text("b")] },
            }))
        );
    }

    #[test]
    fn update_needs_a_new_tuple_after_the_old() {
        let payload = Payload::new().byte(b'U').int32(7).byte(b'K').int16(0).byte(b'K').int16(0);
        assert_eq!(
            decode(payload),
            Err(DecodeError::UnexpectedByte {
                message: MessageKind::Update,
                field: "tuple kind",
                found: b'K',
                expected: "'N'"
            })
        );
        let payload = Payload::new().byte(b'U').int32(7).byte(b'X');
        assert!(matches!(decode(payload), Err(DecodeError::UnexpectedByte { found: b'X', .. })));
    }

    #[test]
    fn delete_with_key_and_with_old_row() {
        let payload = Payload::new().byte(b'D').int32(7).byte(b'K').int16(1).byte(b't').counted(b"2");
        assert_eq!(
            decode(payload),
            Ok(Message::Delete(Delete {
                xid: None,
                relation_oid: 7,
                old: OldTuple::Key(TupleData { columns: vec![text("2")] }),
            }))
        );
        let payload = Payload::new().byte(b'D').int32(7).byte(b'O').int16(1).byte(b't').counted(b"2");
        assert_eq!(
            decode(payload),
            Ok(Message::Delete(Delete {
                xid: None,
                relation_oid: 7,
                old: OldTuple::Full(TupleData { columns: vec![text("2")] }),
            }))
        );
        let payload = Payload::new().byte(b'D').int32(7).byte(b'N').int16(0);
        assert!(matches!(decode(payload), Err(DecodeError::UnexpectedByte { found: b'N', .. })));
    }

    #[test]
    fn truncate() {
        // logicalrep_write_truncate: nrelids, flags, relids.
        let payload = Payload::new().byte(b'T').int32(2).byte(3).int32(16_410).int32(16_415);
        let message = decode(payload).expect("truncate");
        let Message::Truncate(truncate) = message else { panic!("not a truncate: {message:?}") };
        assert_eq!(truncate, Truncate { xid: None, options: 3, relation_oids: vec![16_410, 16_415] });
        assert!(truncate.cascade());
        assert!(truncate.restart_identity());
        let plain = Truncate { xid: None, options: 0, relation_oids: vec![] };
        assert!(!plain.cascade() && !plain.restart_identity());
    }

    #[test]
    fn truncate_counts_are_checked() {
        let payload = Payload::new().byte(b'T').signed32(-1).byte(0);
        assert_eq!(
            decode(payload),
            Err(DecodeError::Negative { message: MessageKind::Truncate, field: "relation count", value: -1 })
        );
        let payload = Payload::new().byte(b'T').signed32(i32::MAX).byte(0).int32(1);
        assert!(matches!(decode(payload), Err(DecodeError::Truncated { field: "relation oid", .. })));
    }
}
