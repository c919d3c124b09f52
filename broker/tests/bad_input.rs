//! Malformed and hostile input on the wire: the broker answers with the protocol's error codes or closes the
//! connection, never crashes, hangs or corrupts the log.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsResponse, FetchRequest, FetchResponse, ProduceRequest, ProduceResponse, RequestKind, TopicName,
};
use kafka_protocol::protocol::{Decodable, StrBytes};
use kafka_protocol::records::Compression;
use kafka_protocol::ResponseError;
use tidemark_broker::storage::encode::{encode_batch, ProducerStamp};
use tidemark_broker::{Broker, BrokerConfig};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

mod common;

use common::{call, read_frame, request, send_frame, start, MAX_REQUEST};

async fn still_serves(addr: std::net::SocketAddr) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let response: ApiVersionsResponse =
        call(&mut stream, ApiKey::ApiVersions, 3, RequestKind::ApiVersions(Default::default())).await;
    assert_eq!(response.error_code, 0);
}

fn batch(corrupt: bool) -> Bytes {
    let record = (1, None, Some(Bytes::from_static(b"payload")));
    let mut buf = encode_batch([record], ProducerStamp::NONE, Compression::None).expect("encode");
    if corrupt {
        let last = buf.len() - 1;
        buf[last] ^= 0x55;
    }
    buf.freeze()
}

fn produce(topic: &str, acks: i16, records: Bytes) -> RequestKind {
    let partition = PartitionProduceData::default().with_index(0).with_records(Some(records));
    let topic = TopicProduceData::default()
        .with_name(TopicName(StrBytes::from_string(topic.to_owned())))
        .with_partition_data(vec![partition]);
    RequestKind::Produce(ProduceRequest::default().with_acks(acks).with_timeout_ms(5_000).with_topic_data(vec![topic]))
}

fn fetch(topic: &str) -> RequestKind {
    let partition = FetchPartition::default().with_partition(0).with_fetch_offset(0).with_partition_max_bytes(1 << 20);
    let topic = FetchTopic::default()
        .with_topic(TopicName(StrBytes::from_string(topic.to_owned())))
        .with_partitions(vec![partition]);
    RequestKind::Fetch(FetchRequest::default().with_max_wait_ms(0).with_max_bytes(1 << 20).with_topics(vec![topic]))
}

fn partition_error(response: &ProduceResponse) -> i16 {
    response.responses[0].partition_responses[0].error_code
}

#[tokio::test]
async fn random_bytes_close_the_connection() {
    let (addr, _dir) = start().await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    send_frame(&mut stream, &[0x13, 0x37, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0xff, 0xff, 0xff]).await;
    assert!(read_frame(&mut stream).await.is_none());
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    send_frame(&mut stream, &[1, 2, 3]).await;
    assert!(read_frame(&mut stream).await.is_none(), "a frame shorter than a header");
    still_serves(addr).await;
}

#[tokio::test]
async fn an_oversized_frame_is_refused_without_reading_it() {
    let (addr, _dir) = start().await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(&((MAX_REQUEST as u32) * 4).to_be_bytes()).await.expect("length");
    stream.write_all(&[0u8; 64]).await.expect("some bytes");
    assert!(read_frame(&mut stream).await.is_none());
    still_serves(addr).await;
}

#[tokio::test]
async fn unknown_api_keys_and_versions() {
    let (addr, _dir) = start().await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut frame = BytesMut::new();
    frame.put_i16(999);
    frame.put_i16(0);
    frame.put_i32(1);
    frame.put_i16(-1);
    send_frame(&mut stream, &frame).await;
    assert!(read_frame(&mut stream).await.is_none(), "unknown API key closes the connection");

    // ApiVersions at an unknown version: a v0 answer with UNSUPPORTED_VERSION and the supported list.
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut frame = BytesMut::new();
    frame.put_i16(ApiKey::ApiVersions as i16);
    frame.put_i16(99);
    frame.put_i32(42);
    frame.put_slice(&[0xff; 10]);
    send_frame(&mut stream, &frame).await;
    let mut answer = read_frame(&mut stream).await.expect("answered");
    assert_eq!(answer.get_i32(), 42);
    let response = ApiVersionsResponse::decode(&mut answer, 0).expect("v0 body");
    assert_eq!(response.error_code, ResponseError::UnsupportedVersion.code());
    assert!(response.api_keys.iter().any(|k| k.api_key == ApiKey::Produce as i16));

    // A supported API at a version the broker does not serve closes the connection.
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    send_frame(&mut stream, &request(ApiKey::Fetch, 13, 1, fetch("t"))[..]).await;
    assert!(read_frame(&mut stream).await.is_none());
    still_serves(addr).await;
}

#[tokio::test]
async fn a_truncated_request_body_closes_the_connection() {
    let (addr, _dir) = start().await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let full = request(ApiKey::Produce, 9, 1, produce("t", -1, batch(false)));
    send_frame(&mut stream, &full[..full.len() / 2]).await;
    assert!(read_frame(&mut stream).await.is_none());
    still_serves(addr).await;
}

#[tokio::test]
async fn corrupt_batches_and_bad_acks_are_refused_and_nothing_is_written() {
    let (addr, _dir) = start().await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let response: ProduceResponse = call(&mut stream, ApiKey::Produce, 9, produce("t", -1, batch(true))).await;
    assert_eq!(partition_error(&response), ResponseError::CorruptMessage.code());
    let response: ProduceResponse = call(&mut stream, ApiKey::Produce, 9, produce("t", 5, batch(false))).await;
    assert_eq!(partition_error(&response), ResponseError::InvalidRequiredAcks.code());
    let response: ProduceResponse =
        call(&mut stream, ApiKey::Produce, 9, produce("t", -1, Bytes::from_static(b"garbage"))).await;
    assert_eq!(partition_error(&response), ResponseError::InvalidRecord.code());

    let fetched: FetchResponse = call(&mut stream, ApiKey::Fetch, 12, fetch("t")).await;
    let partition = &fetched.responses[0].partitions[0];
    assert_eq!((partition.error_code, partition.high_watermark), (0, 0), "the log is empty");

    let response: ProduceResponse = call(&mut stream, ApiKey::Produce, 9, produce("t", -1, batch(false))).await;
    assert_eq!(partition_error(&response), 0);
    assert_eq!(response.responses[0].partition_responses[0].base_offset, 0, "a good batch still lands at 0");
}

#[tokio::test]
async fn fetching_an_unknown_topic_is_an_error_code() {
    let (addr, _dir) = start().await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let fetched: FetchResponse = call(&mut stream, ApiKey::Fetch, 12, fetch("nope")).await;
    assert_eq!(fetched.responses[0].partitions[0].error_code, ResponseError::UnknownTopicOrPartition.code());
}

#[tokio::test]
async fn a_second_broker_on_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = BrokerConfig::new(dir.path().to_owned(), "127.0.0.1".into(), 9092);
    let first = Broker::open(config.clone()).await.expect("first");
    let second = Broker::open(config.clone()).await;
    assert!(matches!(second, Err(tidemark_broker::BrokerError::InUse(_))));
    drop(first);
    Broker::open(config).await.expect("free again once the first is gone");
}
