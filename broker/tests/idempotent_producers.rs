//! Idempotent producers on the wire: InitProducerId under a storm and with bad input, and produce requests whose
//! epoch or sequence is wrong get Kafka's error codes and write nothing.

mod common;

use std::collections::HashSet;

use bytes::Bytes;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsResponse, FetchRequest, FetchResponse, InitProducerIdRequest, InitProducerIdResponse,
    ProduceRequest, ProduceResponse, RequestKind, ResponseHeader, TopicName, TransactionalId,
};
use kafka_protocol::protocol::{Decodable, StrBytes};
use kafka_protocol::records::Compression;
use kafka_protocol::ResponseError;
use tidemark_broker::storage::encode::{encode_batch, ProducerStamp};
use tokio::net::TcpStream;

use common::{call, read_frame, request, send_frame, start};

const TOPIC: &str = "idempotent";

fn init(producer_id: i64, epoch: i16) -> RequestKind {
    let request = InitProducerIdRequest::default()
        .with_transactional_id(None)
        .with_transaction_timeout_ms(60_000)
        .with_producer_id(producer_id.into())
        .with_producer_epoch(epoch);
    RequestKind::InitProducerId(request)
}

async fn init_producer_id(stream: &mut TcpStream, producer_id: i64, epoch: i16) -> InitProducerIdResponse {
    call(stream, ApiKey::InitProducerId, 4, init(producer_id, epoch)).await
}

fn batch(producer_id: i64, epoch: i16, sequence: i32, count: i32, transactional: bool) -> Bytes {
    let records = (0..count).map(|i| (1, None, Some(Bytes::from(format!("{sequence}+{i}")))));
    let producer = ProducerStamp { transactional, ..ProducerStamp::idempotent(producer_id, epoch, sequence) };
    encode_batch(records, producer, Compression::None).expect("encode").freeze()
}

/// Produces one batch to partition 0; returns the partition's error code and base offset.
async fn produce(stream: &mut TcpStream, records: Bytes) -> (i16, i64) {
    let partition = PartitionProduceData::default().with_index(0).with_records(Some(records));
    let topic = TopicProduceData::default()
        .with_name(TopicName(StrBytes::from_static_str(TOPIC)))
        .with_partition_data(vec![partition]);
    let request = ProduceRequest::default().with_acks(-1).with_timeout_ms(5_000).with_topic_data(vec![topic]);
    let response: ProduceResponse = call(stream, ApiKey::Produce, 9, RequestKind::Produce(request)).await;
    let partition = &response.responses[0].partition_responses[0];
    (partition.error_code, partition.base_offset)
}

/// The high watermark and the number of records stored in partition 0.
async fn stored(stream: &mut TcpStream) -> (i64, usize) {
    let partition = FetchPartition::default().with_partition(0).with_fetch_offset(0).with_partition_max_bytes(1 << 20);
    let topic =
        FetchTopic::default().with_topic(TopicName(StrBytes::from_static_str(TOPIC))).with_partitions(vec![partition]);
    let request = FetchRequest::default().with_max_wait_ms(0).with_max_bytes(1 << 20).with_topics(vec![topic]);
    let response: FetchResponse = call(stream, ApiKey::Fetch, 12, RequestKind::Fetch(request)).await;
    let partition = &response.responses[0].partitions[0];
    let mut records = partition.records.clone().unwrap_or_default();
    let mut count = 0;
    while !records.is_empty() {
        count +=
            kafka_protocol::records::RecordBatchDecoder::decode(&mut records).expect("stored batches").records.len();
    }
    (partition.high_watermark, count)
}

#[tokio::test]
async fn an_init_producer_id_storm_gets_distinct_ids() {
    const CONNECTIONS: usize = 8;
    const ROUNDS: usize = 10;
    const PIPELINED: usize = 50;
    let (addr, _dir) = start().await;
    let clients = (0..CONNECTIONS).map(|_| {
        tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            let mut ids = Vec::new();
            for _ in 0..ROUNDS {
                for i in 0..PIPELINED {
                    let version = (i % 6) as i16;
                    let body = request(ApiKey::InitProducerId, version, i as i32, init(-1, -1));
                    send_frame(&mut stream, &body).await;
                }
                for i in 0..PIPELINED {
                    let version = (i % 6) as i16;
                    let mut frame = read_frame(&mut stream).await.expect("every request is answered");
                    let header_version = ApiKey::InitProducerId.response_header_version(version);
                    let header = ResponseHeader::decode(&mut frame, header_version).expect("header");
                    assert_eq!(header.correlation_id, i as i32, "answers come in request order");
                    let response = InitProducerIdResponse::decode(&mut frame, version).expect("body");
                    assert_eq!((response.error_code, response.producer_epoch), (0, 0));
                    ids.push(response.producer_id.0);
                }
            }
            ids
        })
    });
    let mut all = HashSet::new();
    for client in clients.collect::<Vec<_>>() {
        all.extend(client.await.expect("client"));
    }
    assert_eq!(all.len(), CONNECTIONS * ROUNDS * PIPELINED, "no producer id was handed out twice");
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let versions: ApiVersionsResponse =
        call(&mut stream, ApiKey::ApiVersions, 3, RequestKind::ApiVersions(Default::default())).await;
    assert_eq!(versions.error_code, 0, "the broker still serves");
    let advertised = versions.api_keys.iter().find(|k| k.api_key == ApiKey::InitProducerId as i16).expect("listed");
    assert_eq!((advertised.min_version, advertised.max_version), (0, 5));
}

#[tokio::test]
async fn init_producer_id_refuses_transactions_and_bumps_epochs() {
    let (addr, _dir) = start().await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    for transactional_id in ["tx-1", ""] {
        let request = InitProducerIdRequest::default()
            .with_transactional_id(Some(TransactionalId(StrBytes::from_static_str(transactional_id))))
            .with_transaction_timeout_ms(60_000);
        let response: InitProducerIdResponse =
            call(&mut stream, ApiKey::InitProducerId, 4, RequestKind::InitProducerId(request)).await;
        assert_eq!(response.error_code, ResponseError::InvalidRequest.code(), "transactional id {transactional_id:?}");
        assert_eq!(response.producer_id.0, -1);
    }
    for (producer_id, epoch) in [(-1, 0), (5, -1), (-7, 3)] {
        let response = init_producer_id(&mut stream, producer_id, epoch).await;
        assert_eq!(response.error_code, ResponseError::InvalidRequest.code(), "({producer_id}, {epoch})");
    }

    let fresh = init_producer_id(&mut stream, -1, -1).await;
    let id = fresh.producer_id.0;
    let bumped = init_producer_id(&mut stream, id, 0).await;
    assert_eq!((bumped.error_code, bumped.producer_id.0, bumped.producer_epoch), (0, id, 1));
    let retried = init_producer_id(&mut stream, id, 0).await;
    assert_eq!((retried.producer_id.0, retried.producer_epoch), (id, 1), "a retried bump gets the same answer");
    let exhausted = init_producer_id(&mut stream, id, i16::MAX - 1).await;
    assert_eq!(exhausted.producer_epoch, 0);
    assert!(exhausted.producer_id.0 > id, "an exhausted epoch gets a fresh id");
    let never_issued = init_producer_id(&mut stream, 1 << 40, 3).await;
    assert_eq!(never_issued.producer_epoch, 0);
    assert!(never_issued.producer_id.0 > exhausted.producer_id.0 && never_issued.producer_id.0 < 1 << 40);
}

#[tokio::test]
async fn bad_sequences_and_epochs_get_kafkas_errors_and_write_nothing() {
    let (addr, _dir) = start().await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let id = init_producer_id(&mut stream, -1, -1).await.producer_id.0;
    assert_eq!(produce(&mut stream, batch(id, 0, 0, 3, false)).await, (0, 0));
    assert_eq!(produce(&mut stream, batch(id, 0, 3, 2, false)).await, (0, 3));
    assert_eq!(produce(&mut stream, batch(id, 0, 0, 3, false)).await, (0, 0), "a retry gets its original offset");
    assert_eq!(produce(&mut stream, batch(id, 0, 3, 2, false)).await, (0, 3));

    let refused = [
        (batch(id, 0, 6, 1, false), ResponseError::OutOfOrderSequenceNumber, "a gap in the sequence"),
        (batch(id, 0, 4, 1, false), ResponseError::OutOfOrderSequenceNumber, "a sequence already passed"),
        (batch(id, 1, 5, 1, false), ResponseError::OutOfOrderSequenceNumber, "a new epoch not at sequence 0"),
        (batch(id + 1, 0, 9, 1, false), ResponseError::UnknownProducerId, "an unknown producer not at 0"),
        (batch(id, 0, 5, 1, true), ResponseError::InvalidTxnState, "a transactional batch"),
    ];
    for (records, error, what) in refused {
        assert_eq!(produce(&mut stream, records).await, (error.code(), -1), "{what}");
    }
    assert_eq!(stored(&mut stream).await, (5, 5), "nothing refused was written");

    let bumped = init_producer_id(&mut stream, id, 0).await;
    assert_eq!(bumped.producer_epoch, 1);
    assert_eq!(produce(&mut stream, batch(id, 1, 0, 1, false)).await, (0, 5), "the new epoch starts at 0");
    let stale = produce(&mut stream, batch(id, 0, 5, 1, false)).await;
    assert_eq!(stale, (ResponseError::InvalidProducerEpoch.code(), -1), "the old epoch is fenced");
    assert_eq!(produce(&mut stream, batch(-1, -1, -1, 2, false)).await, (0, 6), "plain batches are unaffected");
    assert_eq!(stored(&mut stream).await, (8, 8));
}
