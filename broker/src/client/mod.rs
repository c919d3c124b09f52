//! Tidemark's own Kafka-protocol client connection, for what librdkafka cannot do: brokers fetching from each
//! other (`replication/leader_client.rs`) and the admin requests librdkafka has no API for (the users of
//! `tidemark user`). One connection, TCP or TLS, SASL-authenticated when its security protocol says so; a request
//! and its response alternate (no pipelining).

mod authenticate;

use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use rustls::pki_types::ServerName;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::security::listener::SecurityProtocol;
use crate::security::sasl::SaslMechanism;

/// Largest response accepted.
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// A call to a broker failed.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The connection failed.
    #[error("connection to the broker: {0}")]
    Io(#[from] std::io::Error),
    /// The broker's answer could not be read, or a request could not be encoded.
    #[error("undecodable answer from the broker: {0}")]
    Protocol(String),
    /// TLS or SASL authentication failed.
    #[error("authentication failed: {0}")]
    Authentication(String),
    /// The connection's settings cannot be used.
    #[error("{0}")]
    Config(String),
}

/// A SASL user for [`ClientSecurity`].
#[derive(Clone)]
pub struct SaslLogin {
    /// The mechanism.
    pub mechanism: SaslMechanism,
    /// The user.
    pub user: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for SaslLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password, not even in a debug log.
        f.debug_struct("SaslLogin").field("mechanism", &self.mechanism).field("user", &self.user).finish()
    }
}

/// How a connection is secured: Kafka's `security.protocol`, the TLS settings, the SASL user.
#[derive(Debug, Clone)]
pub struct ClientSecurity {
    /// The listener's protocol.
    pub protocol: SecurityProtocol,
    /// TLS settings, for SSL and SASL_SSL.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// The SASL user, for SASL_PLAINTEXT and SASL_SSL.
    pub sasl: Option<SaslLogin>,
}

impl ClientSecurity {
    /// PLAINTEXT: no TLS, no SASL.
    pub fn plaintext() -> Self {
        ClientSecurity { protocol: SecurityProtocol::Plaintext, tls: None, sasl: None }
    }
}

trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<S: AsyncRead + AsyncWrite + Send + Unpin> Stream for S {}

/// One connection to a broker.
pub struct KafkaConnection {
    stream: Box<dyn Stream>,
    client_id: &'static str,
    correlation_id: i32,
}

impl std::fmt::Debug for KafkaConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaConnection").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

impl KafkaConnection {
    /// Connects to the broker at `address` (`host:port`), with TLS and SASL as `security` says; `client_id` names
    /// this client in the broker's logs.
    pub async fn connect(
        address: &str,
        security: &ClientSecurity,
        client_id: &'static str,
    ) -> Result<Self, ClientError> {
        let tcp = TcpStream::connect(address).await?;
        tcp.set_nodelay(true)?;
        let stream: Box<dyn Stream> = match security.protocol.uses_tls() {
            false => Box::new(tcp),
            true => {
                let tls = security.tls.clone().ok_or_else(|| {
                    ClientError::Config(format!("{} needs TLS settings (a CA file)", security.protocol))
                })?;
                let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
                let host = host.trim_start_matches('[').trim_end_matches(']');
                let name = ServerName::try_from(host.to_owned())
                    .map_err(|e| ClientError::Config(format!("'{host}' is not a TLS server name: {e}")))?;
                let connected = TlsConnector::from(tls).connect(name, tcp).await;
                Box::new(connected.map_err(|e| ClientError::Authentication(format!("TLS: {e}")))?)
            }
        };
        let mut connection = KafkaConnection { stream, client_id, correlation_id: 0 };
        if security.protocol.uses_sasl() {
            let login = security.sasl.as_ref().ok_or_else(|| {
                ClientError::Config(format!("{} needs a SASL mechanism, user and password", security.protocol))
            })?;
            authenticate::sasl(&mut connection, login).await?;
        }
        Ok(connection)
    }

    /// Sends `request` as `api` version `version` and reads its response.
    pub async fn call<Req: Encodable, Resp: Decodable>(
        &mut self,
        api: ApiKey,
        version: i16,
        request: &Req,
    ) -> Result<Resp, ClientError> {
        self.correlation_id = self.correlation_id.wrapping_add(1);
        let mut frame = BytesMut::new();
        frame.extend_from_slice(&[0; 4]);
        let encoded = RequestHeader::default()
            .with_request_api_key(api as i16)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation_id)
            .with_client_id(Some(StrBytes::from_static_str(self.client_id)))
            .encode(&mut frame, api.request_header_version(version))
            .and_then(|()| request.encode(&mut frame, version));
        encoded.map_err(|e| ClientError::Protocol(e.to_string()))?;
        let length = u32::try_from(frame.len() - 4).map_err(|e| ClientError::Protocol(e.to_string()))?;
        frame[..4].copy_from_slice(&length.to_be_bytes());
        self.stream.write_all(&frame).await?;
        let length = self.stream.read_u32().await? as usize;
        if length > MAX_RESPONSE_BYTES {
            return Err(ClientError::Protocol(format!("a response of {length} bytes")));
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await?;
        let mut body = Bytes::from(body);
        let header = ResponseHeader::decode(&mut body, api.response_header_version(version))
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        if header.correlation_id != self.correlation_id {
            return Err(ClientError::Protocol(format!(
                "correlation id {} answered, {} expected",
                header.correlation_id, self.correlation_id
            )));
        }
        let response = Resp::decode(&mut body, version).map_err(|e| ClientError::Protocol(e.to_string()))?;
        if body.has_remaining() {
            tracing::debug!(api = ?api, left = body.remaining(), "bytes left after a broker's response");
        }
        Ok(response)
    }
}
