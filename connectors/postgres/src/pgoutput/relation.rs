//! The schema messages: Relation (a table's columns and replica identity) and Type (a non-built-in type's name).

use super::error::DecodeError;
use super::reader::Reader;

/// `R`: a relation's description. pgoutput sends it before the first row change of the relation in a session and
/// again whenever its definition changes, so the latest one describes the rows that follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    /// The xid of the (sub)transaction, present only inside a stream block. A Relation sent there belongs to that
    /// streamed transaction.
    pub xid: Option<u32>,
    /// The relation's oid, by which row messages refer to it.
    pub oid: u32,
    /// The schema name (`pg_catalog` when PostgreSQL sends an empty string, as its own subscriber reads it).
    pub namespace: String,
    /// The relation name.
    pub name: String,
    /// `relreplident`: which old values Update and Delete carry.
    pub replica_identity: ReplicaIdentity,
    /// The published columns in order, as row messages list their values.
    pub columns: Vec<Column>,
}

/// A relation's REPLICA IDENTITY setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplicaIdentity {
    /// `d`: the primary key, if any.
    Default,
    /// `n`: nothing; updates and deletes cannot be replicated with old values.
    Nothing,
    /// `f`: all columns (old rows come whole, as `O`).
    Full,
    /// `i`: the columns of a chosen unique index.
    Index,
}

/// One column of a [`Relation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Flags: bit [`Column::KEY_FLAG`] marks a column of the replica identity key.
    pub flags: u8,
    /// The column name.
    pub name: String,
    /// The oid of the column's data type.
    pub type_oid: u32,
    /// The type modifier (`atttypmod`), -1 when the type has none.
    pub type_modifier: i32,
}

impl Column {
    /// The flag bit of a column that is part of the replica identity key (every column under REPLICA IDENTITY
    /// FULL).
    pub const KEY_FLAG: u8 = 1;

    /// Whether the column is part of the replica identity key.
    pub fn is_key(&self) -> bool {
        self.flags & Column::KEY_FLAG != 0
    }
}

/// `Y`: a data type's name, sent before a Relation whose columns use a type that is not built in (an enum, a
/// composite, an extension's type, a domain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataType {
    /// The xid of the (sub)transaction, present only inside a stream block.
    pub xid: Option<u32>,
    /// The type's oid, as [`Column::type_oid`] names it.
    pub oid: u32,
    /// The schema name of the type (`pg_catalog` when PostgreSQL sends an empty string). For a domain, this and
    /// [`DataType::name`] are its base type's, while `oid` is the domain's.
    pub namespace: String,
    /// The type name.
    pub name: String,
}

impl Relation {
    pub(super) fn decode(r: &mut Reader, in_stream: bool) -> Result<Self, DecodeError> {
        let xid = r.stream_xid(in_stream)?;
        let oid = r.u32("relation oid")?;
        let namespace = namespace(r.string("namespace")?);
        let name = r.string("relation name")?;
        let replica_identity = match r.u8("replica identity")? {
            b'd' => ReplicaIdentity::Default,
            b'n' => ReplicaIdentity::Nothing,
            b'f' => ReplicaIdentity::Full,
            b'i' => ReplicaIdentity::Index,
            other => return Err(r.unexpected("replica identity", other, "'d', 'n', 'f' or 'i'")),
        };
        let count = usize::from(r.u16("column count")?);
        let mut columns = Vec::with_capacity(count.min(r.remaining()));
        for _ in 0..count {
            columns.push(Column {
                flags: r.u8("column flags")?,
                name: r.string("column name")?,
                type_oid: r.u32("column type oid")?,
                type_modifier: r.i32("column type modifier")?,
            });
        }
        Ok(Relation { xid, oid, namespace, name, replica_identity, columns })
    }
}

impl DataType {
    pub(super) fn decode(r: &mut Reader, in_stream: bool) -> Result<Self, DecodeError> {
        Ok(DataType {
            xid: r.stream_xid(in_stream)?,
            oid: r.u32("type oid")?,
            namespace: namespace(r.string("namespace")?),
            name: r.string("type name")?,
        })
    }
}

/// PostgreSQL sends `pg_catalog` as an empty string to save space (`logicalrep_write_namespace`).
fn namespace(sent: String) -> String {
    if sent.is_empty() {
        "pg_catalog".to_owned()
    } else {
        sent
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::Payload;
    use super::super::{Decoder, DecoderOptions, Message, ProtocolVersion};
    use super::*;

    fn relation_payload(xid: Option<u32>, identity: u8) -> Payload {
        // logicalrep_write_rel then logicalrep_write_attrs.
        Payload::new()
            .byte(b'R')
            .xid(xid)
            .int32(16_391)
            .string("inv")
            .string("priced")
            .byte(identity)
            .int16(2)
            .byte(1)
            .string("sku")
            .int32(1043)
            .signed32(24)
            .byte(0)
            .string("price")
            .int32(1700)
            .signed32(655_366)
    }

    fn expected_columns() -> Vec<Column> {
        vec![
            Column { flags: 1, name: "sku".into(), type_oid: 1043, type_modifier: 24 },
            Column { flags: 0, name: "price".into(), type_oid: 1700, type_modifier: 655_366 },
        ]
    }

    #[test]
    fn relation_with_key_and_typmods() {
        let mut decoder = Decoder::new(DecoderOptions::new(ProtocolVersion::V1));
        let message = decoder.decode(relation_payload(None, b'i').build()).expect("relation");
        let Message::Relation(relation) = message else { panic!("not a relation: {message:?}") };
        assert_eq!(
            relation,
            Relation {
                xid: None,
                oid: 16_391,
                namespace: "inv".into(),
                name: "priced".into(),
                replica_identity: ReplicaIdentity::Index,
                columns: expected_columns(),
            }
        );
        assert!(relation.columns[0].is_key());
        assert!(!relation.columns[1].is_key());
    }

    #[test]
    fn every_replica_identity() {
        for (byte, identity) in [
            (b'd', ReplicaIdentity::Default),
            (b'n', ReplicaIdentity::Nothing),
            (b'f', ReplicaIdentity::Full),
            (b'i', ReplicaIdentity::Index),
        ] {
            let mut decoder = Decoder::new(DecoderOptions::new(ProtocolVersion::V1));
            let message = decoder.decode(relation_payload(None, byte).build()).expect("relation");
            let Message::Relation(relation) = message else { panic!("not a relation") };
            assert_eq!(relation.replica_identity, identity);
        }
        let mut decoder = Decoder::new(DecoderOptions::new(ProtocolVersion::V1));
        let error = decoder.decode(relation_payload(None, b'x').build()).expect_err("bad identity");
        assert!(matches!(error, DecodeError::UnexpectedByte { field: "replica identity", found: b'x', .. }));
    }

    #[test]
    fn empty_namespace_is_pg_catalog() {
        let mut decoder = Decoder::new(DecoderOptions::new(ProtocolVersion::V1));
        let payload = Payload::new().byte(b'Y').int32(16_385).string("").string("mood");
        assert_eq!(
            decoder.decode(payload.build()),
            Ok(Message::Type(DataType { xid: None, oid: 16_385, namespace: "pg_catalog".into(), name: "mood".into() }))
        );
    }

    #[test]
    fn type_message() {
        // logicalrep_write_typ: oid, namespace, name.
        let mut decoder = Decoder::new(DecoderOptions::new(ProtocolVersion::V1));
        let payload = Payload::new().byte(b'Y').int32(16_385).string("public").string("mood");
        assert_eq!(
            decoder.decode(payload.build()),
            Ok(Message::Type(DataType { xid: None, oid: 16_385, namespace: "public".into(), name: "mood".into() }))
        );
    }
}
