//! Payloads captured from a real PostgreSQL 15.18 with `pg_logical_slot_get_binary_changes(slot, NULL, NULL,
//! 'proto_version', ..., 'publication_names', 'pub', ...)`, one row per message, as `encode(data, 'hex')` printed
//! them. The schema: `CREATE TYPE mood AS ENUM (...)`; `items (id int PRIMARY KEY, name text, feeling mood,
//! big text STORAGE EXTERNAL, note text)`; `full_ident (id int, val text)` with REPLICA IDENTITY FULL;
//! `bin (id int PRIMARY KEY, b bytea, t text, n numeric)`; `parent (id int PRIMARY KEY)`; `child (id int PRIMARY
//! KEY, pid int REFERENCES parent)`; `bulk (id int PRIMARY KEY, payload text)`; `inv.priced (sku varchar(20),
//! price numeric(10,2))` with REPLICA IDENTITY USING INDEX on `sku`.

use bytes::Bytes;

use super::test_support::hex;
use super::{
    Begin, Column, ColumnValue, Commit, CommitPrepared, DataType, Decoder, DecoderOptions, Delete, Insert,
    LogicalMessage, Message, OldTuple, Origin, Prepare, ProtocolVersion, Relation, RelationCache, ReplicaIdentity,
    RollbackPrepared, StreamAbort, StreamCommit, StreamStart, Truncate, TupleData, Update,
};

const ITEMS: u32 = 16_391;
const MOOD: u32 = 16_385;
const FULL_IDENT: u32 = 16_398;
const PARENT: u32 = 16_410;
const CHILD: u32 = 16_415;
const BULK: u32 = 16_425;
/// 2026-11-23 23:58:55.552672 UTC in microseconds since 2000-01-01.
const COMMIT_TIME: i64 = 0x0003_03f9_252c_9ca0;

fn text(value: &[u8]) -> ColumnValue {
    ColumnValue::Text(Bytes::copy_from_slice(value))
}

fn tuple(columns: Vec<ColumnValue>) -> TupleData {
    TupleData { columns }
}

fn decode_all(options: DecoderOptions, payloads: &[&str]) -> Vec<Message> {
    let mut decoder = Decoder::new(options);
    payloads
        .iter()
        .map(|payload| decoder.decode(hex(payload)).unwrap_or_else(|error| panic!("{payload}: {error}")))
        .collect()
}

fn column(flags: u8, name: &str, type_oid: u32, type_modifier: i32) -> Column {
    Column { flags, name: name.into(), type_oid, type_modifier }
}

fn items_relation(xid: Option<u32>) -> Relation {
    Relation {
        xid,
        oid: ITEMS,
        namespace: "public".into(),
        name: "items".into(),
        replica_identity: ReplicaIdentity::Default,
        columns: vec![
            column(1, "id", 23, -1),
            column(0, "name", 25, -1),
            column(0, "feeling", MOOD, -1),
            column(0, "big", 25, -1),
            column(0, "note", 25, -1),
        ],
    }
}

const ITEMS_RELATION: &str = "52000040077075626c6963006974656d73006400050169640000000017ffffffff006e616d65000000\
    0019ffffffff006665656c696e670000004001ffffffff006269670000000019ffffffff006e6f74650000000019ffffffff";

#[test]
fn version_1_transaction_with_type_relation_and_toast() {
    let big_insert =
        format!("49000040074e000574000000013174000000036f6e65740000000568617070797400000bb8{}6e", "78".repeat(3000));
    let messages = decode_all(
        DecoderOptions::new(ProtocolVersion::V1),
        &[
            "420000000001546c88000303f9252c9ca0000002ea",
            "59000040017075626c6963006d6f6f6400",
            ITEMS_RELATION,
            &big_insert,
            "43000000000001546c880000000001546cb8000303f9252c9ca0",
            // UPDATE items SET name = 'uno': the TOASTed `big` is not sent.
            "55000040074e00057400000001317400000003756e6f74000000056861707079756e",
            // UPDATE items SET id = 2: the old key, other columns null.
            "55000040074b00057400000001316e6e6e6e4e00057400000001327400000003756e6f74000000056861707079756e",
            "44000040074b00057400000001326e6e6e6e",
        ],
    );
    assert_eq!(messages[0], Message::Begin(Begin { final_lsn: 0x154_6C88, commit_time: COMMIT_TIME, xid: 746 }));
    assert_eq!(
        messages[1],
        Message::Type(DataType { xid: None, oid: MOOD, namespace: "public".into(), name: "mood".into() })
    );
    assert_eq!(messages[2], Message::Relation(items_relation(None)));
    let big = "x".repeat(3000);
    assert_eq!(
        messages[3],
        Message::Insert(Insert {
            xid: None,
            relation_oid: ITEMS,
            new: tuple(vec![text(b"1"), text(b"one"), text(b"happy"), text(big.as_bytes()), ColumnValue::Null]),
        })
    );
    assert_eq!(
        messages[4],
        Message::Commit(Commit { flags: 0, commit_lsn: 0x154_6C88, end_lsn: 0x154_6CB8, commit_time: COMMIT_TIME })
    );
    assert_eq!(
        messages[5],
        Message::Update(Update {
            xid: None,
            relation_oid: ITEMS,
            old: None,
            new: tuple(vec![text(b"1"), text(b"uno"), text(b"happy"), ColumnValue::UnchangedToast, ColumnValue::Null]),
        })
    );
    let null = || ColumnValue::Null;
    assert_eq!(
        messages[6],
        Message::Update(Update {
            xid: None,
            relation_oid: ITEMS,
            old: Some(OldTuple::Key(tuple(vec![text(b"1"), null(), null(), null(), null()]))),
            new: tuple(vec![text(b"2"), text(b"uno"), text(b"happy"), ColumnValue::UnchangedToast, null()]),
        })
    );
    assert_eq!(
        messages[7],
        Message::Delete(Delete {
            xid: None,
            relation_oid: ITEMS,
            old: OldTuple::Key(tuple(vec![text(b"2"), null(), null(), null(), null()])),
        })
    );
}

#[test]
fn replica_identity_full_sends_whole_old_rows() {
    let messages = decode_all(
        DecoderOptions::new(ProtocolVersion::V1),
        &[
            "520000400e7075626c69630066756c6c5f6964656e74006600020169640000000017ffffffff0176616c0000000019ffffffff",
            "550000400e4f00027400000001317400000001614e0002740000000131740000000162",
            "440000400e4f0002740000000131740000000162",
        ],
    );
    let Message::Relation(relation) = &messages[0] else { panic!("not a relation: {:?}", messages[0]) };
    assert_eq!(relation.replica_identity, ReplicaIdentity::Full);
    assert!(relation.columns.iter().all(Column::is_key));
    assert_eq!(
        messages[1],
        Message::Update(Update {
            xid: None,
            relation_oid: FULL_IDENT,
            old: Some(OldTuple::Full(tuple(vec![text(b"1"), text(b"a")]))),
            new: tuple(vec![text(b"1"), text(b"b")]),
        })
    );
    assert_eq!(
        messages[2],
        Message::Delete(Delete {
            xid: None,
            relation_oid: FULL_IDENT,
            old: OldTuple::Full(tuple(vec![text(b"1"), text(b"b")]))
        })
    );
}

#[test]
fn index_and_nothing_identities_and_type_modifiers() {
    let messages = decode_all(
        DecoderOptions::new(ProtocolVersion::V1),
        &[
            "5200004043696e76007072696365640069000201736b7500000004130000001800707269636500000006a4000a0006",
            "55000040434b00027400000003412d316e4e00027400000003412d327400000004392e3939",
            "52000040487075626c6963006e6f7468696e675f6964656e74006e000100610000000017ffffffff",
        ],
    );
    assert_eq!(
        messages[0],
        Message::Relation(Relation {
            xid: None,
            oid: 16_451,
            namespace: "inv".into(),
            name: "priced".into(),
            replica_identity: ReplicaIdentity::Index,
            // varchar(20): typmod 20 + 4; numeric(10,2): (10 << 16 | 2) + 4.
            columns: vec![column(1, "sku", 1043, 24), column(0, "price", 1700, (10 << 16 | 2) + 4)],
        })
    );
    assert_eq!(
        messages[1],
        Message::Update(Update {
            xid: None,
            relation_oid: 16_451,
            old: Some(OldTuple::Key(tuple(vec![text(b"A-1"), ColumnValue::Null]))),
            new: tuple(vec![text(b"A-2"), text(b"9.99")]),
        })
    );
    let Message::Relation(nothing) = &messages[2] else { panic!("not a relation: {:?}", messages[2]) };
    assert_eq!(nothing.replica_identity, ReplicaIdentity::Nothing);
    assert!(!nothing.columns[0].is_key());
}

#[test]
fn truncates_and_logical_messages() {
    let messages = decode_all(
        DecoderOptions::new(ProtocolVersion::V1),
        &[
            // TRUNCATE parent, child RESTART IDENTITY CASCADE
            "5400000002030000401a0000401f",
            // TRUNCATE bulk
            "54000000010000004029",
            "4d010000000001548d986f7574626f78000000000a7478207061796c6f6164",
            "4d000000000001548e08686561727462656174000000000200ff",
        ],
    );
    let Message::Truncate(cascade) = &messages[0] else { panic!("not a truncate: {:?}", messages[0]) };
    assert_eq!(cascade.relation_oids, vec![PARENT, CHILD]);
    assert!(cascade.cascade() && cascade.restart_identity());
    assert_eq!(messages[1], Message::Truncate(Truncate { xid: None, options: 0, relation_oids: vec![BULK] }));
    assert_eq!(
        messages[2],
        Message::Logical(LogicalMessage {
            xid: None,
            flags: 1,
            lsn: 0x154_8D98,
            prefix: "outbox".into(),
            content: Bytes::from_static(b"tx payload"),
        })
    );
    let Message::Logical(heartbeat) = &messages[3] else { panic!("not a message: {:?}", messages[3]) };
    assert!(!heartbeat.is_transactional());
    assert_eq!((heartbeat.prefix.as_str(), &heartbeat.content[..]), ("heartbeat", &[0x00, 0xff][..]));
}

#[test]
fn binary_values_and_origin() {
    let messages = decode_all(
        DecoderOptions::new(ProtocolVersion::V2),
        &[
            "52000040137075626c69630062696e006400040169640000000017ffffffff00620000000011ffffffff0074000000\
             0019ffffffff006e00000006a4ffffffff",
            // (1, '\xdeadbeef', 'héllo', 12.5) with binary 'true': int4, bytea, text and numeric send forms.
            "49000040134e00046200000004000000016200000004deadbeef620000000668c3a96c6c6f620000000c000200000000000\
             1000c1388",
            // (2, NULL, '', 'NaN')
            "49000040134e00046200000004000000026e6200000000620000000800000000c0000000",
            "4f0000000000abcdef757073747265616d00",
        ],
    );
    let binary = |value: &[u8]| ColumnValue::Binary(Bytes::copy_from_slice(value));
    assert_eq!(
        messages[1],
        Message::Insert(Insert {
            xid: None,
            relation_oid: 16_403,
            new: tuple(vec![
                binary(&[0, 0, 0, 1]),
                binary(&[0xde, 0xad, 0xbe, 0xef]),
                binary("héllo".as_bytes()),
                binary(&[0, 2, 0, 0, 0, 0, 0, 1, 0, 12, 0x13, 0x88]),
            ]),
        })
    );
    assert_eq!(
        messages[2],
        Message::Insert(Insert {
            xid: None,
            relation_oid: 16_403,
            new: tuple(vec![
                binary(&[0, 0, 0, 2]),
                ColumnValue::Null,
                binary(b""),
                binary(&[0, 0, 0, 0, 0xc0, 0, 0, 0])
            ]),
        })
    );
    assert_eq!(messages[3], Message::Origin(Origin { origin_lsn: 0xAB_CDEF, name: "upstream".into() }));
}

#[test]
fn version_2_streamed_transactions() {
    let bulk_relation = |xid| {
        format!(
            "52{xid}000040297075626c69630062756c6b006400020169640000000017ffffffff007061796c6f61640000000019ffffffff"
        )
    };
    let p50 = "70".repeat(50);
    let messages = decode_all(
        DecoderOptions::new(ProtocolVersion::V2),
        &[
            "53000002f701",
            "59000002f7000040017075626c6963006d6f6f6400",
            &format!("52000002f7{}", &ITEMS_RELATION[2..]),
            "49000002f7000040074e000574000000023130740000000374656e74000000026f6b7400000001626e",
            "4d000002f70100000000015490206f7574626f780000000009696e2073747265616d",
            &bulk_relation("000002f7"),
            &format!("49000002f7000040294e00027400000001317400000032{p50}"),
            "45",
            "53000002f700",
            &format!("49000002f7000040294e000274000000033335387400000032{p50}"),
            "45",
            // ROLLBACK TO SAVEPOINT: the subtransaction 760 aborts.
            "41000002f7000002f8",
            "53000002f700",
            // After the savepoint's rollback the changes belong to subtransaction 761.
            "59000002f9000040017075626c6963006d6f6f6400",
            &format!("52000002f9{}", &ITEMS_RELATION[2..]),
            "44000002f9000040074b0005740000000231306e6e6e6e",
            "45",
            "63000002f70000000000015a032800000000015a0360000303f9257f6948",
            // A streamed transaction that rolls back.
            "53000002fa01",
            &bulk_relation("000002fa"),
            "45",
            "41000002fa000002fa",
            // An ordinary transaction after them.
            "4200000000015cbe68000303f9257f7c74000002fb",
            "520000401a7075626c696300706172656e74006400010169640000000017ffffffff",
            "490000401a4e0001740000000133",
            "430000000000015cbe6800000000015cbe98000303f9257f7c74",
        ],
    );
    assert_eq!(messages[0], Message::StreamStart(StreamStart { xid: 759, first_segment: true }));
    assert_eq!(
        messages[1],
        Message::Type(DataType { xid: Some(759), oid: MOOD, namespace: "public".into(), name: "mood".into() })
    );
    assert_eq!(messages[2], Message::Relation(items_relation(Some(759))));
    assert_eq!(
        messages[3],
        Message::Insert(Insert {
            xid: Some(759),
            relation_oid: ITEMS,
            new: tuple(vec![text(b"10"), text(b"ten"), text(b"ok"), text(b"b"), ColumnValue::Null]),
        })
    );
    assert_eq!(
        messages[4],
        Message::Logical(LogicalMessage {
            xid: Some(759),
            flags: 1,
            lsn: 0x154_9020,
            prefix: "outbox".into(),
            content: Bytes::from_static(b"in stream"),
        })
    );
    assert!(matches!(&messages[5], Message::Relation(r) if r.oid == BULK && r.xid == Some(759)));
    assert_eq!(messages[7], Message::StreamStop);
    assert_eq!(messages[8], Message::StreamStart(StreamStart { xid: 759, first_segment: false }));
    assert_eq!(
        messages[11],
        Message::StreamAbort(StreamAbort { xid: 759, subxid: 760, abort_lsn: None, abort_time: None })
    );
    assert_eq!(
        messages[15],
        Message::Delete(Delete {
            xid: Some(761),
            relation_oid: ITEMS,
            old: OldTuple::Key(tuple(vec![
                text(b"10"),
                ColumnValue::Null,
                ColumnValue::Null,
                ColumnValue::Null,
                ColumnValue::Null
            ])),
        })
    );
    assert_eq!(
        messages[17],
        Message::StreamCommit(StreamCommit {
            xid: 759,
            flags: 0,
            commit_lsn: 0x15A_0328,
            end_lsn: 0x15A_0360,
            commit_time: 0x0003_03f9_257f_6948,
        })
    );
    assert_eq!(
        messages[21],
        Message::StreamAbort(StreamAbort { xid: 762, subxid: 762, abort_lsn: None, abort_time: None })
    );
    assert_eq!(messages[24], Message::Insert(Insert { xid: None, relation_oid: PARENT, new: tuple(vec![text(b"3")]) }));
}

#[test]
fn version_3_two_phase() {
    let messages = decode_all(
        DecoderOptions::new(ProtocolVersion::V3),
        &[
            "6200000000015cbf5000000000015cc068000303f925bc28e8000002fc6769642d636f6d6d697400",
            "520000401a7075626c696300706172656e74006400010169640000000017ffffffff",
            "490000401a4e000174000000023230",
            "500000000000015cbf5000000000015cc068000303f925bc28e8000002fc6769642d636f6d6d697400",
            "4b0000000000015cc06800000000015cc0a8000303f925bc2ba6000002fc6769642d636f6d6d697400",
            "720000000000015cc22800000000015cc268000303f925bc2d55000303f925bc2e44000002fd6769642d726f6c6c6261636b00",
            "53000002fe01",
            "45",
            "700000000000015f79d000000000015f7ad0000303f925bc3d1e000002fe6769642d73747265616d00",
        ],
    );
    let Message::BeginPrepare(begin) = &messages[0] else { panic!("not begin prepare: {:?}", messages[0]) };
    assert_eq!(
        (begin.prepare_lsn, begin.end_lsn, begin.xid, begin.gid.as_str()),
        (0x15C_BF50, 0x15C_C068, 764, "gid-commit")
    );
    assert_eq!(
        messages[3],
        Message::Prepare(Prepare {
            flags: 0,
            prepare_lsn: 0x15C_BF50,
            end_lsn: 0x15C_C068,
            prepare_time: 0x0003_03f9_25bc_28e8,
            xid: 764,
            gid: "gid-commit".into()
        })
    );
    assert_eq!(
        messages[4],
        Message::CommitPrepared(CommitPrepared {
            flags: 0,
            commit_lsn: 0x15C_C068,
            end_lsn: 0x15C_C0A8,
            commit_time: 0x0003_03f9_25bc_2ba6,
            xid: 764,
            gid: "gid-commit".into()
        })
    );
    assert_eq!(
        messages[5],
        Message::RollbackPrepared(RollbackPrepared {
            flags: 0,
            prepare_end_lsn: 0x15C_C228,
            rollback_end_lsn: 0x15C_C268,
            prepare_time: 0x0003_03f9_25bc_2d55,
            rollback_time: 0x0003_03f9_25bc_2e44,
            xid: 765,
            gid: "gid-rollback".into()
        })
    );
    let Message::StreamPrepare(prepare) = &messages[8] else { panic!("not stream prepare: {:?}", messages[8]) };
    assert_eq!((prepare.xid, prepare.gid.as_str()), (766, "gid-stream"));
}

#[test]
fn the_cache_resolves_captured_rows() {
    let messages = decode_all(
        DecoderOptions::new(ProtocolVersion::V1),
        &[
            "59000040017075626c6963006d6f6f6400",
            ITEMS_RELATION,
            "55000040074e00057400000001317400000003756e6f74000000056861707079756e",
        ],
    );
    let mut cache = RelationCache::new();
    for message in messages {
        match message {
            Message::Type(data_type) => assert_eq!(cache.insert_type(data_type), None),
            Message::Relation(relation) => assert_eq!(cache.insert_relation(relation), None),
            Message::Update(update) => {
                let relation = cache.relation(update.relation_oid).expect("described");
                assert_eq!(relation.columns.len(), update.new.columns.len());
                let feeling = &relation.columns[2];
                assert_eq!(cache.data_type(feeling.type_oid).map(|t| t.name.as_str()), Some("mood"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
