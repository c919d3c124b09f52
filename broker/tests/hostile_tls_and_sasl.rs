//! Hostile input on the secured listeners: random bytes in place of a TLS handshake, and random SASL frames and
//! tokens after a real handshake, never panic the broker or stop it serving; a proper SASL_SSL client still
//! authenticates afterwards, and a wrong password is still refused.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, RequestKind, SaslAuthenticateRequest, SaslHandshakeRequest};
use kafka_protocol::protocol::{Encodable, StrBytes};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use tidemark_broker::client::{ClientSecurity, KafkaConnection, SaslLogin};
use tidemark_broker::security::listener::{ListenerAddress, SecurityProtocol};
use tidemark_broker::security::sasl::SaslMechanism;
use tidemark_broker::security::scram::{ScramCredential, ScramMechanism};
use tidemark_broker::security::tls::{self, TlsFiles};
use tidemark_broker::security::users::CredentialChange;
use tidemark_broker::server::KafkaListener;
use tidemark_broker::{server, Broker, BrokerConfig};
use tidemark_tests::tls::Certificates;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PASSWORD: &str = "pencil-7";

struct Secured {
    address: SocketAddr,
    ca: std::path::PathBuf,
    _dir: tempfile::TempDir,
    _broker: Arc<Broker>,
}

/// A broker with one SASL_SSL listener, a certificate for 127.0.0.1 and user `alice`.
async fn start() -> Secured {
    let dir = tempfile::tempdir().expect("tempdir");
    let certificates = Certificates::generate(dir.path(), "broker", "client").expect("certificates");
    let path = |name: &str| dir.path().join(name);
    let files = TlsFiles {
        certificate: certificates.server_cert.clone(),
        key: certificates.server_key.clone(),
        client_ca: None,
    };
    let tls = tls::server_config(&files).expect("TLS settings");

    let socket = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = socket.local_addr().expect("address");
    let advertised =
        ListenerAddress { protocol: SecurityProtocol::SaslSsl, host: "127.0.0.1".into(), port: address.port() };
    let mut config = BrokerConfig::with_listeners(path("data"), vec![advertised]);
    config.max_request_bytes = common::MAX_REQUEST;
    let broker = Broker::open(config).await.expect("open");
    let credential = ScramCredential::generate(ScramMechanism::Sha256, PASSWORD, ScramMechanism::MIN_ITERATIONS);
    broker.users().change(vec![CredentialChange::Upsert { user: "alice".into(), credential }]).await.expect("user");
    let listener = KafkaListener { socket, protocol: SecurityProtocol::SaslSsl, tls: Some(tls) };
    tokio::spawn(server::run(vec![listener], Arc::clone(&broker), std::future::pending()));
    Secured { address, ca: certificates.ca, _dir: dir, _broker: broker }
}

impl Secured {
    fn security(&self, password: &str) -> ClientSecurity {
        let login = SaslLogin {
            mechanism: SaslMechanism::Scram(ScramMechanism::Sha256),
            user: "alice".into(),
            password: password.into(),
        };
        let tls = Some(tls::client_config(&self.ca).expect("client TLS"));
        ClientSecurity { protocol: SecurityProtocol::SaslSsl, tls, sasl: Some(login) }
    }

    /// A proper client authenticates, and a wrong password is refused.
    async fn still_serves(&self) {
        let address = self.address.to_string();
        KafkaConnection::connect(&address, &self.security(PASSWORD), "test").await.expect("alice authenticates");
        let refused = KafkaConnection::connect(&address, &self.security("wrong"), "test").await;
        assert!(refused.is_err(), "a wrong password is refused");
    }
}

/// Writes `bytes` and reads until the broker closes the connection or stays silent for a moment.
async fn send_raw(address: SocketAddr, bytes: &[u8]) {
    let Ok(mut stream) = TcpStream::connect(address).await else { return };
    let _ = stream.write_all(bytes).await;
    let mut sink = [0u8; 4096];
    let drain = async { while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {} };
    let _ = tokio::time::timeout(Duration::from_millis(200), drain).await;
}

/// Panics anywhere in the process since the first call, including in the broker's connection tasks (which tokio
/// would otherwise swallow).
fn panics_so_far() -> usize {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            default(info);
        }));
    });
    PANICS.load(Ordering::SeqCst)
}

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// `count` values of `strategy`, the same in every run (proptest's deterministic runner).
fn samples<S: Strategy>(strategy: S, count: usize) -> Vec<S::Value> {
    let mut runner = TestRunner::deterministic();
    (0..count).map(|_| strategy.new_tree(&mut runner).expect("a value").current()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_bytes_in_place_of_a_tls_handshake_are_refused_and_the_listener_serves_on() {
    panics_so_far();
    let secured = start().await;
    let mut inputs = samples(prop::collection::vec(any::<u8>(), 0..2048), 64);
    // A TLS record header with a valid-looking handshake type but a lying length, and a plaintext Kafka request.
    inputs.push(vec![0x16, 0x03, 0x01, 0xff, 0xff, 0x01, 0x00, 0x00]);
    inputs.push(common::request(ApiKey::ApiVersions, 3, 1, RequestKind::ApiVersions(Default::default())).to_vec());
    for bytes in &inputs {
        send_raw(secured.address, bytes).await;
    }
    secured.still_serves().await;
    assert_eq!(panics_so_far(), 0, "a connection task panicked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_sasl_frames_and_tokens_after_a_real_tls_handshake_never_break_the_broker() {
    panics_so_far();
    let secured = start().await;
    let cases = samples((prop::collection::vec(any::<u8>(), 0..600), any::<bool>()), 48);
    let connector = tokio_rustls::TlsConnector::from(tls::client_config(&secured.ca).expect("client TLS"));
    for (token, raw_tokens) in cases {
        let tcp = TcpStream::connect(secured.address).await.expect("connect");
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
        let mut stream = connector.connect(name, tcp).await.expect("TLS handshake");
        // Handshake v0 (bare tokens follow) or v1 (SaslAuthenticate requests follow), then the random token.
        let version = if raw_tokens { 0 } else { 1 };
        let handshake = SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str("SCRAM-SHA-256"));
        let frame = common::request(ApiKey::SaslHandshake, version, 1, RequestKind::SaslHandshake(handshake));
        let body = if raw_tokens {
            token.clone()
        } else {
            let mut body = bytes::BytesMut::new();
            let request = SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(token.clone()));
            let header = kafka_protocol::messages::RequestHeader::default()
                .with_request_api_key(ApiKey::SaslAuthenticate as i16)
                .with_request_api_version(1)
                .with_correlation_id(2);
            header.encode(&mut body, ApiKey::SaslAuthenticate.request_header_version(1)).expect("header");
            request.encode(&mut body, 1).expect("request");
            body.to_vec()
        };
        for frame in [frame.to_vec(), body] {
            let _ = stream.write_all(&(frame.len() as u32).to_be_bytes()).await;
            let _ = stream.write_all(&frame).await;
        }
        let mut sink = [0u8; 4096];
        let drain = async { while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {} };
        let _ = tokio::time::timeout(Duration::from_millis(300), drain).await;
    }
    secured.still_serves().await;
    assert_eq!(panics_so_far(), 0, "a connection task panicked");
}
