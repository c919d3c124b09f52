//! Hostile input: every prefix of a valid payload of every message kind is an error, and no change of any single
//! byte makes the decoder panic.

use bytes::Bytes;

use super::test_support::Payload;
use super::{Decoder, DecoderOptions, Message, MessageKind, ProtocolVersion};

/// A valid payload and the session state it is valid in.
struct Fixture {
    name: &'static str,
    options: DecoderOptions,
    in_stream: bool,
    payload: Bytes,
}

fn tuple(payload: Payload) -> Payload {
    payload.int16(4).byte(b'n').byte(b'u').byte(b't').counted(b"t\xc3\xa9xt").byte(b'b').counted(&[0, 0, 0, 7])
}

fn fixtures() -> Vec<Fixture> {
    let v4 = DecoderOptions::new(ProtocolVersion::V4);
    let parallel = DecoderOptions { protocol_version: ProtocolVersion::V4, parallel_streaming: true };
    let mut out = Vec::new();
    for (in_stream, xid) in [(false, None), (true, Some(761))] {
        let mut add = |name, payload: Payload| {
            out.push(Fixture { name, options: v4, in_stream, payload: payload.build() });
        };
        add("relation", {
            Payload::new()
                .byte(b'R')
                .xid(xid)
                .int32(16_391)
                .string("public")
                .string("items")
                .byte(b'd')
                .int16(2)
                .byte(1)
                .string("id")
                .int32(23)
                .signed32(-1)
                .byte(0)
                .string("name")
                .int32(1043)
                .signed32(24)
        });
        add("type", Payload::new().byte(b'Y').xid(xid).int32(16_385).string("public").string("mood"));
        add("insert", tuple(Payload::new().byte(b'I').xid(xid).int32(16_391).byte(b'N')));
        add("update", tuple(Payload::new().byte(b'U').xid(xid).int32(16_391).byte(b'N')));
        add("update with key", tuple(tuple(Payload::new().byte(b'U').xid(xid).int32(16_391).byte(b'K')).byte(b'N')));
        add("update with old", tuple(tuple(Payload::new().byte(b'U').xid(xid).int32(16_391).byte(b'O')).byte(b'N')));
        add("delete with key", tuple(Payload::new().byte(b'D').xid(xid).int32(16_391).byte(b'K')));
        add("delete with old", tuple(Payload::new().byte(b'D').xid(xid).int32(16_391).byte(b'O')));
        add("truncate", Payload::new().byte(b'T').xid(xid).int32(2).byte(3).int32(16_391).int32(16_400));
        add("message", Payload::new().byte(b'M').xid(xid).byte(1).int64(0x99).string("outbox").counted(b"{}"));
        add("origin", Payload::new().byte(b'O').int64(0xABCDEF).string("upstream"));
    }
    let mut add = |name, options, in_stream, payload: Payload| {
        out.push(Fixture { name, options, in_stream, payload: payload.build() });
    };
    add("begin", v4, false, Payload::new().byte(b'B').int64(0x10).signed64(20).int32(731));
    add("commit", v4, false, Payload::new().byte(b'C').byte(0).int64(0x10).int64(0x18).signed64(20));
    add("stream start", v4, false, Payload::new().byte(b'S').int32(759).byte(1));
    add("stream stop", v4, true, Payload::new().byte(b'E'));
    add("stream commit", v4, false, Payload::new().byte(b'c').int32(759).byte(0).int64(0x10).int64(0x18).signed64(20));
    add("stream abort", v4, false, Payload::new().byte(b'A').int32(759).int32(760));
    add(
        "stream abort, parallel",
        parallel,
        false,
        Payload::new().byte(b'A').int32(759).int32(760).int64(0x10).signed64(20),
    );
    add(
        "begin prepare",
        v4,
        false,
        Payload::new().byte(b'b').int64(0x10).int64(0x18).signed64(20).int32(764).string("gid"),
    );
    for (name, tag) in [("prepare", b'P'), ("stream prepare", b'p'), ("commit prepared", b'K')] {
        add(
            name,
            v4,
            false,
            Payload::new().byte(tag).byte(0).int64(0x10).int64(0x18).signed64(20).int32(764).string("g"),
        );
    }
    add(
        "rollback prepared",
        v4,
        false,
        Payload::new().byte(b'r').byte(0).int64(0x10).int64(0x18).signed64(20).signed64(30).int32(765).string("g"),
    );
    out
}

/// A decoder in the state the fixture needs.
fn decoder_for(fixture: &Fixture) -> Decoder {
    let mut decoder = Decoder::new(fixture.options);
    if fixture.in_stream {
        let start = Payload::new().byte(b'S').int32(759).byte(1).build();
        assert!(matches!(decoder.decode(start), Ok(Message::StreamStart(_))));
    }
    decoder
}

#[test]
fn the_fixtures_cover_every_message_kind_and_decode() {
    let mut kinds = std::collections::HashSet::new();
    for fixture in fixtures() {
        let decoded = decoder_for(&fixture).decode(fixture.payload.clone());
        let message = decoded.unwrap_or_else(|error| panic!("{}: {error}", fixture.name));
        kinds.insert(message.kind());
    }
    for kind in MessageKind::ALL {
        assert!(kinds.contains(&kind), "no fixture for {kind}");
    }
}

#[test]
fn every_prefix_of_every_fixture_is_an_error() {
    for fixture in fixtures() {
        for len in 0..fixture.payload.len() {
            let mut decoder = decoder_for(&fixture);
            let stream_before = decoder.stream_xid();
            let result = decoder.decode(fixture.payload.slice(..len));
            assert!(result.is_err(), "{}: prefix of {len} bytes decoded to {result:?}", fixture.name);
            assert_eq!(
                decoder.stream_xid(),
                stream_before,
                "{}: a failed decode changed the stream state",
                fixture.name
            );
        }
    }
}

#[test]
fn no_single_byte_change_panics() {
    for fixture in fixtures() {
        for position in 0..fixture.payload.len() {
            for value in 0..=u8::MAX {
                let mut bytes = fixture.payload.to_vec();
                bytes[position] = value;
                // Any outcome but a panic is fine: some changes still make a valid message.
                let _ = decoder_for(&fixture).decode(Bytes::from(bytes));
            }
        }
    }
}

#[test]
fn pseudo_random_garbage_does_not_panic() {
    // xorshift64: deterministic, so a failure reproduces.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..20_000 {
        let len = usize::try_from(next() % 64).expect("small");
        let mut bytes: Vec<u8> = (0..len).map(|_| next().to_le_bytes()[0]).collect();
        if let Some(first) = bytes.first_mut() {
            // Mostly valid tags, so the garbage reaches the field decoders.
            let kinds = MessageKind::ALL;
            *first = kinds[usize::try_from(next() % kinds.len() as u64).expect("small")].tag();
        }
        for in_stream in [false, true] {
            let fixture = Fixture {
                name: "garbage",
                options: DecoderOptions { protocol_version: ProtocolVersion::V4, parallel_streaming: true },
                in_stream,
                payload: Bytes::new(),
            };
            let _ = decoder_for(&fixture).decode(Bytes::from(bytes.clone()));
        }
    }
}
