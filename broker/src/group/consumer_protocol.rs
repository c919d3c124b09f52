//! The consumer protocol's member metadata (`ConsumerProtocolSubscription`), read where the coordinator must know
//! which topics a consumer group subscribes to (OffsetDelete refuses to delete offsets of subscribed topics).

use bytes::{Buf, Bytes};
use kafka_protocol::messages::ConsumerProtocolSubscription;
use kafka_protocol::protocol::Decodable;

/// The topics in a consumer's subscription metadata; empty when the metadata does not decode.
pub fn subscribed_topics(metadata: &Bytes) -> Vec<String> {
    let mut buf = metadata.clone();
    if buf.remaining() < 2 {
        return Vec::new();
    }
    let version = buf.get_i16();
    // Versions newer than the codec knows keep the older fields first; read them as the newest known version.
    let version = version.clamp(0, 3);
    ConsumerProtocolSubscription::decode(&mut buf, version)
        .map(|s| s.topics.iter().map(|t| t.as_str().to_owned()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use bytes::{BufMut, BytesMut};
    use kafka_protocol::protocol::{Encodable, StrBytes};

    use super::*;

    #[test]
    fn reads_topics_of_a_subscription() {
        let subscription = ConsumerProtocolSubscription::default()
            .with_topics(vec![StrBytes::from_static_str("a"), StrBytes::from_static_str("b")]);
        let mut buf = BytesMut::new();
        buf.put_i16(1);
        subscription.encode(&mut buf, 1).expect("encode");
        assert_eq!(subscribed_topics(&buf.freeze()), vec!["a".to_owned(), "b".to_owned()]);
        assert!(subscribed_topics(&Bytes::from_static(b"\x00")).is_empty());
    }
}
