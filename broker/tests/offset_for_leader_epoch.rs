//! OffsetForLeaderEpoch on the wire (KIP-101, KIP-279): epoch end offsets of a single node's partitions, and the
//! refusals for unknown partitions and leader epochs.

mod common;

use bytes::Bytes;
use kafka_protocol::messages::offset_for_leader_epoch_request::{OffsetForLeaderPartition, OffsetForLeaderTopic};
use kafka_protocol::messages::offset_for_leader_epoch_response::EpochEndOffset;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, BrokerId, OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse, ProduceRequest, ProduceResponse,
    RequestKind, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;
use kafka_protocol::ResponseError;
use tidemark_broker::storage::encode::{encode_batch, ProducerStamp};
use tokio::net::TcpStream;

use common::{call, start};

const TOPIC: &str = "epochs";

fn name(topic: &str) -> TopicName {
    TopicName(StrBytes::from_string(topic.to_owned()))
}

/// Produces `count` records to partition 0 (creating the topic); returns the partition's error code.
async fn produce(stream: &mut TcpStream, count: usize) -> i16 {
    let records = (0..count).map(|i| (1, None, Some(Bytes::from(format!("r{i}")))));
    let batch = encode_batch(records, ProducerStamp::NONE, Compression::None).expect("encode").freeze();
    let partition = PartitionProduceData::default().with_index(0).with_records(Some(batch));
    let topic = TopicProduceData::default().with_name(name(TOPIC)).with_partition_data(vec![partition]);
    let request = ProduceRequest::default().with_acks(-1).with_timeout_ms(5_000).with_topic_data(vec![topic]);
    let response: ProduceResponse = call(stream, ApiKey::Produce, 9, RequestKind::Produce(request)).await;
    response.responses[0].partition_responses[0].error_code
}

/// Asks for `(topic, partition, current_leader_epoch, leader_epoch)` at `version`; the answers in order.
async fn ask(stream: &mut TcpStream, version: i16, wanted: &[(&str, i32, i32, i32)]) -> Vec<EpochEndOffset> {
    let topics = wanted
        .iter()
        .map(|&(topic, partition, current, epoch)| {
            let partition = OffsetForLeaderPartition::default()
                .with_partition(partition)
                .with_current_leader_epoch(current)
                .with_leader_epoch(epoch);
            OffsetForLeaderTopic::default().with_topic(name(topic)).with_partitions(vec![partition])
        })
        .collect();
    let request = OffsetForLeaderEpochRequest::default().with_replica_id(BrokerId(-1)).with_topics(topics);
    let response: OffsetForLeaderEpochResponse =
        call(stream, ApiKey::OffsetForLeaderEpoch, version, RequestKind::OffsetForLeaderEpoch(request)).await;
    response.topics.into_iter().flat_map(|t| t.partitions).collect()
}

fn summary(answer: &EpochEndOffset) -> (Option<ResponseError>, i32, i64) {
    let error = (answer.error_code != 0).then(|| ResponseError::try_from_code(answer.error_code)).flatten();
    (error, answer.leader_epoch, answer.end_offset)
}

#[tokio::test]
async fn epoch_end_offsets_of_a_single_node() {
    let (addr, _dir) = start().await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    assert_eq!(produce(&mut stream, 3).await, 0);
    assert_eq!(produce(&mut stream, 2).await, 0);
    for version in 2..=4 {
        let answers = ask(
            &mut stream,
            version,
            &[
                (TOPIC, 0, -1, 0),
                (TOPIC, 0, 0, 0),
                (TOPIC, 0, -1, 7),
                (TOPIC, 0, 3, 0),
                (TOPIC, 5, -1, 0),
                ("missing", 0, -1, 0),
            ],
        )
        .await;
        let summaries: Vec<_> = answers.iter().map(summary).collect();
        assert_eq!(
            summaries,
            vec![
                (None, 0, 5),
                (None, 0, 5),
                (None, -1, -1),
                (Some(ResponseError::UnknownLeaderEpoch), -1, -1),
                (Some(ResponseError::UnknownTopicOrPartition), -1, -1),
                (Some(ResponseError::UnknownTopicOrPartition), -1, -1),
            ],
            "version {version}"
        );
    }
}
