//! An in-process broker on a free port and a raw Kafka-protocol client, for tests that send exact requests.
#![allow(dead_code)] // Each test file uses part of these helpers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use tidemark_broker::{server, Broker, BrokerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Largest request the test brokers accept.
pub const MAX_REQUEST: usize = 1024 * 1024;

/// Starts a broker in a temporary directory with its config adjusted by `configure`.
pub async fn start_with(configure: impl FnOnce(&mut BrokerConfig)) -> (SocketAddr, tempfile::TempDir) {
    let (addr, dir, _) = start_broker_with(configure).await;
    (addr, dir)
}

/// Starts a broker like [`start_with`], and also returns it, for tests that reach into it (its topics, its ACLs).
pub async fn start_broker_with(
    configure: impl FnOnce(&mut BrokerConfig),
) -> (SocketAddr, tempfile::TempDir, Arc<Broker>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut config = BrokerConfig::new(dir.path().to_owned(), "127.0.0.1".into(), addr.port());
    config.max_request_bytes = MAX_REQUEST;
    configure(&mut config);
    let broker: Arc<Broker> = Broker::open(config).await.expect("open");
    let served = Arc::clone(&broker);
    tokio::spawn(server::run(vec![server::KafkaListener::plaintext(listener)], served, std::future::pending()));
    (addr, dir, broker)
}

/// Starts a broker with the defaults.
pub async fn start() -> (SocketAddr, tempfile::TempDir) {
    start_with(|_| {}).await
}

/// Writes one length-prefixed frame.
pub async fn send_frame(stream: &mut TcpStream, body: &[u8]) {
    stream.write_all(&(body.len() as u32).to_be_bytes()).await.expect("write length");
    stream.write_all(body).await.expect("write body");
}

/// Reads one response frame, or `None` when the broker closed the connection.
pub async fn read_frame(stream: &mut TcpStream) -> Option<Bytes> {
    let read = async {
        let len = stream.read_u32().await.ok()?;
        let mut buf = vec![0u8; len as usize];
        stream.read_exact(&mut buf).await.ok()?;
        Some(Bytes::from(buf))
    };
    tokio::time::timeout(Duration::from_secs(10), read).await.expect("the broker answers or closes, never hangs")
}

/// Encodes a request frame body (header and request).
pub fn request(api: ApiKey, version: i16, correlation_id: i32, body: RequestKind) -> BytesMut {
    let mut buf = BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(api as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str("bad-input-test")))
        .encode(&mut buf, api.request_header_version(version))
        .expect("header");
    body.encode(&mut buf, version).expect("body");
    buf
}

/// Sends a request and decodes its response.
pub async fn call<R: Decodable>(stream: &mut TcpStream, api: ApiKey, version: i16, body: RequestKind) -> R {
    send_frame(stream, &request(api, version, 7, body)).await;
    let mut frame = read_frame(stream).await.expect("a response");
    let header = ResponseHeader::decode(&mut frame, api.response_header_version(version)).expect("header");
    assert_eq!(header.correlation_id, 7);
    R::decode(&mut frame, version).expect("response body")
}
