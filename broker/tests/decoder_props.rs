//! The request decoder is reachable by anyone who can open a socket: it must never panic.

use bytes::Bytes;
use proptest::prelude::*;
use tidemark_broker::protocol::SUPPORTED_APIS;
use tidemark_broker::server::decode_request;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn arbitrary_bytes_never_panic(frame in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_request(Bytes::from(frame));
    }

    #[test]
    fn arbitrary_bodies_of_every_supported_api_never_panic(
        api in 0..SUPPORTED_APIS.len(),
        version_pick in any::<u8>(),
        body in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let (key, min, max) = SUPPORTED_APIS[api];
        let version = min + i16::from(version_pick) % (max - min + 1);
        let mut frame = Vec::new();
        frame.extend_from_slice(&(key as i16).to_be_bytes());
        frame.extend_from_slice(&version.to_be_bytes());
        frame.extend_from_slice(&1i32.to_be_bytes());
        frame.extend_from_slice(&body);
        let _ = decode_request(Bytes::from(frame));
    }
}
