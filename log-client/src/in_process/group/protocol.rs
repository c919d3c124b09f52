//! The consumer protocol's bytes as Kafka's clients write them: a member's subscription in JoinGroup
//! (`ConsumerProtocolSubscription`) and a member's partitions in SyncGroup (`ConsumerProtocolAssignment`), each a
//! big-endian version followed by the message at that version, so `tidemark group describe` and Kafka's tools read
//! in-process members like any other.

use std::collections::BTreeMap;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition;
use kafka_protocol::messages::{ConsumerProtocolAssignment, ConsumerProtocolSubscription, TopicName};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

use crate::LogError;

/// The protocol type of consumer groups.
pub const PROTOCOL_TYPE: &str = "consumer";
/// The version written (the one with owned partitions, as librdkafka writes it).
const VERSION: i16 = 1;
/// The newest version the codec reads; newer versions keep the older fields first.
const NEWEST_KNOWN: i16 = 3;

/// A member's subscription metadata for `topics`.
pub fn subscription(topics: &[String]) -> Result<Bytes, LogError> {
    let topics = topics.iter().map(|t| StrBytes::from_string(t.clone())).collect();
    let message = ConsumerProtocolSubscription::default().with_topics(topics);
    let mut buf = BytesMut::new();
    buf.put_i16(VERSION);
    message.encode(&mut buf, VERSION).map_err(|e| LogError::Refused(format!("encoding a subscription: {e}")))?;
    Ok(buf.freeze())
}

/// The assignment bytes of `partitions`.
pub fn assignment(partitions: &[(String, i32)]) -> Result<Bytes, LogError> {
    let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for (topic, partition) in partitions {
        by_topic.entry(topic).or_default().push(*partition);
    }
    let assigned = by_topic
        .into_iter()
        .map(|(topic, partitions)| {
            TopicPartition::default()
                .with_topic(TopicName(StrBytes::from_string(topic.to_owned())))
                .with_partitions(partitions)
        })
        .collect();
    let message = ConsumerProtocolAssignment::default().with_assigned_partitions(assigned);
    let mut buf = BytesMut::new();
    buf.put_i16(VERSION);
    message.encode(&mut buf, VERSION).map_err(|e| LogError::Refused(format!("encoding an assignment: {e}")))?;
    Ok(buf.freeze())
}

/// The partitions in assignment bytes, sorted; none for empty bytes (a member the leader gave nothing).
pub fn assigned_partitions(bytes: &Bytes) -> Result<Vec<(String, i32)>, LogError> {
    let mut buf = bytes.clone();
    if buf.is_empty() {
        return Ok(Vec::new());
    }
    if buf.remaining() < 2 {
        return Err(LogError::Refused("an assignment of less than 2 bytes".into()));
    }
    let version = buf.get_i16().clamp(0, NEWEST_KNOWN);
    let message = ConsumerProtocolAssignment::decode(&mut buf, version)
        .map_err(|e| LogError::Refused(format!("decoding an assignment: {e}")))?;
    let mut partitions: Vec<(String, i32)> = message
        .assigned_partitions
        .iter()
        .flat_map(|tp| tp.partitions.iter().map(|&p| (tp.topic.0.as_str().to_owned(), p)))
        .collect();
    partitions.sort();
    Ok(partitions)
}

#[cfg(test)]
mod tests {
    use tidemark_broker::group::consumer_protocol::subscribed_topics;

    use super::*;

    #[test]
    fn a_subscription_reads_back_as_the_broker_reads_it() {
        let topics = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(subscribed_topics(&subscription(&topics).expect("encoded")), topics);
    }

    #[test]
    fn assignments_round_trip() {
        let partitions = vec![("a".to_owned(), 0), ("b".to_owned(), 2), ("a".to_owned(), 1)];
        let decoded = assigned_partitions(&assignment(&partitions).expect("encoded")).expect("decoded");
        assert_eq!(decoded, vec![("a".to_owned(), 0), ("a".to_owned(), 1), ("b".to_owned(), 2)]);
        assert_eq!(assigned_partitions(&Bytes::new()).expect("empty"), Vec::new());
        assert!(assigned_partitions(&Bytes::from_static(b"\x00")).is_err());
    }
}
