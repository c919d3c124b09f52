//! Idempotent producers end to end, against a real `tidemark broker` process: an idempotent librdkafka producer
//! whose connection is cut mid-flight and whose answers are delayed writes every record exactly once and in order;
//! and after `kill -9` and a restart the broker still recognises a retry of the last batches.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, InitProducerIdRequest, InitProducerIdResponse, ProduceRequest, ProduceResponse, RequestHeader, RequestKind,
    ResponseHeader, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use kafka_protocol::records::Compression;
use kafka_protocol::ResponseError;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::Consumer;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Message;
use tidemark_broker::storage::encode::{encode_batch, ProducerStamp};
use tidemark_tests::{client_config, consume, consumer_from_start, TidemarkProcess};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const WAIT: Duration = Duration::from_secs(60);
/// Every this many produce responses, the proxy drops one and cuts its connection.
const CUT_EVERY: usize = 20;
/// Cuts at most.
const MAX_CUTS: usize = 8;
const PRODUCE_API_KEY: i16 = ApiKey::Produce as i16;

/// What the proxy does to produce responses.
#[derive(Debug, Default)]
struct Faults {
    /// Faults are injected while set.
    enabled: AtomicBool,
    /// Produce responses seen so far.
    produce_responses: AtomicUsize,
    /// Produce responses dropped together with their connection.
    cuts: AtomicUsize,
}

async fn read_frame(reader: &mut (impl AsyncRead + Unpin)) -> std::io::Result<Vec<u8>> {
    let len = reader.read_u32().await?;
    let mut frame = vec![0u8; len as usize];
    reader.read_exact(&mut frame).await?;
    Ok(frame)
}

async fn write_frame(writer: &mut (impl AsyncWrite + Unpin), frame: &[u8]) -> std::io::Result<()> {
    writer.write_u32(frame.len() as u32).await?;
    writer.write_all(frame).await
}

/// Relays Kafka frames between clients and the broker. Produce responses are delayed a little (more requests stay
/// in flight), and every [`CUT_EVERY`]th one is dropped and the connection cut: the broker wrote the batches, the
/// producer never hears of it and sends them again on a new connection.
async fn run_proxy(listener: TcpListener, broker: SocketAddr, faults: Arc<Faults>) {
    while let Ok((client, _)) = listener.accept().await {
        let faults = Arc::clone(&faults);
        tokio::spawn(async move {
            let _ = relay(client, broker, &faults).await;
        });
    }
}

async fn relay(client: TcpStream, broker: SocketAddr, faults: &Faults) -> std::io::Result<()> {
    let server = TcpStream::connect(broker).await?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let produce_requests = Mutex::new(HashSet::new());
    let requests = async {
        loop {
            let frame = read_frame(&mut client_read).await?;
            if frame.len() >= 8 && i16::from_be_bytes([frame[0], frame[1]]) == PRODUCE_API_KEY {
                let correlation_id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
                produce_requests.lock().map(|mut ids| ids.insert(correlation_id)).ok();
            }
            write_frame(&mut server_write, &frame).await?;
        }
    };
    let responses = async {
        loop {
            let frame = read_frame(&mut server_read).await?;
            let correlation_id = frame.get(0..4).map_or(-1, |b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            let is_produce = produce_requests.lock().map(|mut ids| ids.remove(&correlation_id)).unwrap_or(false);
            if is_produce {
                let n = faults.produce_responses.fetch_add(1, Ordering::SeqCst) + 1;
                let cut = faults.enabled.load(Ordering::SeqCst)
                    && n.is_multiple_of(CUT_EVERY)
                    && faults.cuts.load(Ordering::SeqCst) < MAX_CUTS;
                if cut {
                    faults.cuts.fetch_add(1, Ordering::SeqCst);
                    return Ok::<(), std::io::Error>(());
                }
                tokio::time::sleep(Duration::from_millis((n % 5) as u64 * 5)).await;
            }
            write_frame(&mut client_write, &frame).await?;
        }
    };
    tokio::select! {
        result = requests => result,
        result = responses => result,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idempotent_producer_through_a_faulty_connection_writes_each_record_once_in_order() -> Result<()> {
    const TOPIC: &str = "idempotent";
    const PARTITIONS: i32 = 3;
    const RECORDS: usize = 20_000;
    let dir = tempfile::tempdir()?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let proxy = listener.local_addr()?.to_string();
    let broker = TidemarkProcess::start(dir.path(), &["--advertised-kafka", &proxy])?;
    let faults = Arc::new(Faults::default());
    tokio::spawn(run_proxy(listener, broker.bootstrap.parse()?, Arc::clone(&faults)));

    let admin: AdminClient<DefaultClientContext> = client_config(&proxy).create()?;
    let topic = NewTopic::new(TOPIC, PARTITIONS, TopicReplication::Fixed(1));
    for result in admin.create_topics([&topic], &AdminOptions::new()).await? {
        result.map_err(|(name, e)| anyhow::anyhow!("creating {name}: {e}"))?;
    }

    faults.enabled.store(true, Ordering::SeqCst);
    let producer: FutureProducer = client_config(&proxy)
        .set("enable.idempotence", "true")
        .set("max.in.flight.requests.per.connection", "5")
        .set("batch.num.messages", "20")
        .set("linger.ms", "2")
        .set("retry.backoff.ms", "20")
        .set("reconnect.backoff.ms", "20")
        .set("message.timeout.ms", "120000")
        .create()?;
    let mut deliveries = Vec::with_capacity(RECORDS);
    for i in 0..RECORDS {
        let partition = (i % PARTITIONS as usize) as i32;
        let sequence = (i / PARTITIONS as usize) as i64;
        let value = format!("{partition}-{sequence}");
        let record = FutureRecord::<(), str>::to(TOPIC).partition(partition).payload(&value);
        let delivery = producer.send_result(record).map_err(|(e, _)| e)?;
        deliveries.push((partition, sequence, delivery));
    }
    for (partition, sequence, delivery) in deliveries {
        let delivered = delivery.await?.map_err(|(e, _)| e).context("delivery")?;
        ensure!(
            (delivered.partition, delivered.offset) == (partition, sequence),
            "record {partition}-{sequence} acknowledged at {}-{}",
            delivered.partition,
            delivered.offset
        );
    }
    faults.enabled.store(false, Ordering::SeqCst);
    let cuts = faults.cuts.load(Ordering::SeqCst);
    ensure!(cuts >= 3, "the proxy cut only {cuts} connections mid-flight");

    let consumer = consumer_from_start(&proxy, TOPIC, PARTITIONS)?;
    let received = consume(&consumer, RECORDS, WAIT)?;
    ensure!(received.len() == RECORDS, "consumed {} of {RECORDS} records", received.len());
    let mut next = vec![0i64; PARTITIONS as usize];
    for message in &received {
        let partition = message.partition();
        let expected = format!("{partition}-{}", next[partition as usize]);
        let value = String::from_utf8_lossy(message.payload().unwrap_or_default());
        ensure!(value == expected, "partition {partition} offset {}: {value}, expected {expected}", message.offset());
        ensure!(message.offset() == next[partition as usize], "offsets are dense");
        next[partition as usize] += 1;
    }
    for partition in 0..PARTITIONS {
        let (_, high) = consumer.fetch_watermarks(TOPIC, partition, WAIT)?;
        ensure!(
            high == next[partition as usize],
            "partition {partition} holds {high} records, not {}",
            next[partition as usize]
        );
    }
    eprintln!("{cuts} connections cut mid-flight; {RECORDS} records each written once, in order");
    Ok(())
}

/// A raw Kafka-protocol call on a connection to the broker.
async fn call<R: Decodable>(stream: &mut TcpStream, api: ApiKey, version: i16, body: RequestKind) -> Result<R> {
    let mut frame = BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(api as i16)
        .with_request_api_version(version)
        .with_correlation_id(1)
        .encode(&mut frame, api.request_header_version(version))?;
    body.encode(&mut frame, version)?;
    write_frame(stream, &frame).await?;
    let mut response = Bytes::from(read_frame(stream).await?);
    ResponseHeader::decode(&mut response, api.response_header_version(version))?;
    R::decode(&mut response, version)
}

fn idempotent_batch(producer_id: i64, sequence: i32, count: i32) -> Result<Bytes> {
    // Current timestamps, so that retention leaves the records alone.
    let now_ms = tidemark_broker::now_ms();
    let records = (0..count).map(|i| (now_ms, None, Some(Bytes::from(format!("record-{}", sequence + i)))));
    Ok(encode_batch(records, ProducerStamp::idempotent(producer_id, 0, sequence), Compression::None)?.freeze())
}

/// Produces one batch to partition 0 of `topic` with `acks=all`; returns the error code and base offset.
async fn produce(stream: &mut TcpStream, topic: &str, records: Bytes) -> Result<(i16, i64)> {
    let partition = PartitionProduceData::default().with_index(0).with_records(Some(records));
    let topic_data = TopicProduceData::default()
        .with_name(TopicName(StrBytes::from_string(topic.to_owned())))
        .with_partition_data(vec![partition]);
    let request = ProduceRequest::default().with_acks(-1).with_timeout_ms(10_000).with_topic_data(vec![topic_data]);
    let response: ProduceResponse = call(stream, ApiKey::Produce, 9, RequestKind::Produce(request)).await?;
    let partition = &response.responses[0].partition_responses[0];
    Ok((partition.error_code, partition.base_offset))
}

async fn new_producer_id(stream: &mut TcpStream) -> Result<i64> {
    let request = InitProducerIdRequest::default().with_transactional_id(None).with_transaction_timeout_ms(60_000);
    let response: InitProducerIdResponse =
        call(stream, ApiKey::InitProducerId, 4, RequestKind::InitProducerId(request)).await?;
    ensure!(response.error_code == 0, "InitProducerId failed with {}", response.error_code);
    Ok(response.producer_id.0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_after_kill_9_and_restart_is_still_a_duplicate() -> Result<()> {
    const TOPIC: &str = "restart";
    const BATCHES: i32 = 60;
    const PER_BATCH: i32 = 5;
    let dir = tempfile::tempdir()?;
    let mut broker = TidemarkProcess::start(dir.path(), &[])?;
    let admin: AdminClient<DefaultClientContext> = client_config(&broker.bootstrap).create()?;
    // Small segments: the producer's batches span rolled segments (with snapshots) and the active one.
    let topic = NewTopic::new(TOPIC, 1, TopicReplication::Fixed(1)).set("segment.bytes", "2048");
    for result in admin.create_topics([&topic], &AdminOptions::new()).await? {
        result.map_err(|(name, e)| anyhow::anyhow!("creating {name}: {e}"))?;
    }
    drop(admin);

    let mut stream = TcpStream::connect(&broker.bootstrap).await?;
    let producer_id = new_producer_id(&mut stream).await?;
    let mut offsets = Vec::new();
    for b in 0..BATCHES {
        let (error, offset) =
            produce(&mut stream, TOPIC, idempotent_batch(producer_id, b * PER_BATCH, PER_BATCH)?).await?;
        ensure!(error == 0, "batch {b} failed with {error}");
        offsets.push(offset);
    }
    drop(stream);
    broker.kill9()?;

    let broker = TidemarkProcess::start(dir.path(), &[])?;
    let mut stream = TcpStream::connect(&broker.bootstrap).await?;
    for b in (BATCHES - 5..BATCHES).rev() {
        let retry = produce(&mut stream, TOPIC, idempotent_batch(producer_id, b * PER_BATCH, PER_BATCH)?).await?;
        ensure!(retry == (0, offsets[b as usize]), "batch {b} retried after the restart: {retry:?}");
    }
    let next = BATCHES * PER_BATCH;
    let appended = produce(&mut stream, TOPIC, idempotent_batch(producer_id, next, 1)?).await?;
    ensure!(appended == (0, i64::from(next)), "the next batch lands after the others: {appended:?}");
    let gap = produce(&mut stream, TOPIC, idempotent_batch(producer_id, next + 2, 1)?).await?;
    ensure!(gap.0 == ResponseError::OutOfOrderSequenceNumber.code(), "a gap after the restart: {gap:?}");
    let fresh = new_producer_id(&mut stream).await?;
    ensure!(fresh > producer_id, "producer id {fresh} handed out again after a restart (had {producer_id})");

    let consumer = consumer_from_start(&broker.bootstrap, TOPIC, 1)?;
    let (_, high) = consumer.fetch_watermarks(TOPIC, 0, WAIT)?;
    ensure!(high == i64::from(next) + 1, "the log holds {high} records, retries were not written twice");
    let values: Vec<String> = consume(&consumer, usize::try_from(high)?, WAIT)?
        .iter()
        .map(|m| String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned())
        .collect();
    let expected: Vec<String> = (0..=next).map(|i| format!("record-{i}")).collect();
    ensure!(values == expected, "every record once, in order");
    Ok(())
}
