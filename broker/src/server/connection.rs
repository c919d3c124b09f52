//! One client connection: length-prefixed frames in, responses out in request order.
//!
//! Requests are handled one after another in arrival order, so their effects (appends in particular) happen in
//! order; a handler may return a response that completes later (a produce waiting for its fsync, a long-polling
//! fetch), and the writer awaits those in order. A client that pipelines produce requests therefore has several
//! of them waiting on the same group-committed fsync.
//!
//! Each request's latency, from its frame read to its response ready, goes to the broker's metrics.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use futures::{SinkExt, StreamExt};
use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind, ResponseHeader, ResponseKind};
use kafka_protocol::protocol::{Decodable, Encodable};
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, watch};
use tokio_util::codec::{FramedRead, FramedWrite, LengthDelimitedCodec};

use super::authentication::{Authentication, Outcome, MAX_UNAUTHENTICATED_FRAME};
use crate::broker::Broker;
use crate::protocol::{self, Reply};
use crate::security::listener::SecurityProtocol;
use crate::security::principal::Principal;

/// Responses waiting to be written; bounds how far a client may pipeline ahead.
const MAX_IN_FLIGHT: usize = 64;

/// Why a request frame was refused.
#[derive(Debug, Error)]
pub enum DecodeError {
    /// The frame is shorter than a request header.
    #[error("request frame of {0} bytes is too short")]
    TooShort(usize),
    /// The API key is not a Kafka API.
    #[error("unknown API key {0}")]
    UnknownApiKey(i16),
    /// The API is known but this broker does not serve it at this version.
    #[error("unsupported API {api:?} version {version}")]
    Unsupported {
        /// The API.
        api: ApiKey,
        /// The version asked for.
        version: i16,
        /// The request's correlation id, for the ApiVersions fallback answer.
        correlation_id: i32,
    },
    /// The header or body does not decode.
    #[error("malformed {api:?} v{version} request: {reason}")]
    Malformed {
        /// The API.
        api: ApiKey,
        /// The version.
        version: i16,
        /// What the decoder said.
        reason: String,
    },
}

/// Decodes one request frame (without its length prefix). Never panics on any input.
pub fn decode_request(mut frame: Bytes) -> Result<(RequestHeader, RequestKind), DecodeError> {
    if frame.len() < 8 {
        return Err(DecodeError::TooShort(frame.len()));
    }
    let key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let api = ApiKey::try_from(key).map_err(|_| DecodeError::UnknownApiKey(key))?;
    if !protocol::is_supported(api, version) {
        let correlation_id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
        return Err(DecodeError::Unsupported { api, version, correlation_id });
    }
    let malformed = |reason: String| DecodeError::Malformed { api, version, reason };
    let header_version = api.request_header_version(version);
    let header = RequestHeader::decode(&mut frame, header_version).map_err(|e| malformed(e.to_string()))?;
    let request = RequestKind::decode(api, &mut frame, version).map_err(|e| malformed(e.to_string()))?;
    Ok((header, request))
}

struct Pending {
    correlation_id: i32,
    api: ApiKey,
    version: i16,
    reply: Reply,
    /// When its frame was read.
    received: Instant,
}

/// Serves one connection (TCP or TLS) from `peer` to `listener` (with the principal its client certificate names,
/// if any) until the client closes it, sends something unanswerable, fails to authenticate, or the broker stops.
pub async fn serve<S>(
    stream: S,
    peer: SocketAddr,
    (listener, certified): (SecurityProtocol, Option<Principal>),
    broker: Arc<Broker>,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (reader, writer) = tokio::io::split(stream);
    let mut authentication = Authentication::new(listener, peer, certified);
    let max_frame = |auth: &Authentication| match auth.is_authenticated() {
        true => broker.config().max_request_bytes,
        false => MAX_UNAUTHENTICATED_FRAME.min(broker.config().max_request_bytes),
    };
    let codec = LengthDelimitedCodec::builder().max_frame_length(max_frame(&authentication)).new_codec();
    let mut frames = FramedRead::new(reader, codec);
    let (tx, rx) = mpsc::channel::<Pending>(MAX_IN_FLIGHT);
    let writer = FramedWrite::new(writer, LengthDelimitedCodec::new());
    let writer = tokio::spawn(write_responses(writer, rx, Arc::clone(&broker)));
    // The broker replicating through this connection, if it is a follower's.
    let mut follower = None;
    loop {
        let frame = tokio::select! {
            frame = frames.next() => frame,
            _ = stop.changed() => break,
        };
        let frame = match frame.transpose() {
            Ok(Some(frame)) => frame,
            Ok(None) => {
                follower_gone(&broker, follower);
                break;
            }
            Err(e) => {
                follower_gone(&broker, follower);
                return Err(e);
            }
        };
        let received = Instant::now();
        let mut close_after = false;
        let pending = if authentication.expects_raw_token() {
            match authentication.raw_token(&broker, &frame) {
                Outcome::Answer(reply) => {
                    Pending { correlation_id: 0, api: ApiKey::SaslAuthenticate, version: 0, reply, received }
                }
                Outcome::AnswerAndClose(_) | Outcome::Close => break,
            }
        } else {
            match decode_request(frame.freeze()) {
                Ok((header, request)) => {
                    let api = ApiKey::try_from(header.request_api_key).unwrap_or(ApiKey::ApiVersions);
                    let (correlation_id, version) = (header.correlation_id, header.request_api_version);
                    let reply = if authentication.intercepts(api) {
                        match authentication.handle(&broker, api, version, request) {
                            Outcome::Answer(reply) => reply,
                            Outcome::AnswerAndClose(reply) => {
                                close_after = true;
                                reply
                            }
                            Outcome::Close => break,
                        }
                    } else {
                        if let RequestKind::Fetch(fetch) = &request {
                            follower = follower.or((fetch.replica_id.0 >= 0).then_some(fetch.replica_id.0));
                        }
                        let reply = protocol::handle(&broker, &header, request, authentication.session()).await;
                        if matches!(reply, Reply::Disconnect) {
                            tracing::warn!(
                                api = header.request_api_key,
                                "request cannot be served; closing the connection"
                            );
                            break;
                        }
                        reply
                    };
                    frames.decoder_mut().set_max_frame_length(max_frame(&authentication));
                    Pending { correlation_id, api, version, reply, received }
                }
                Err(DecodeError::Unsupported { api: ApiKey::ApiVersions, correlation_id, .. }) => {
                    let response = ResponseKind::ApiVersions(protocol::unsupported_version_response());
                    let reply = Reply::Now(Box::new(response));
                    Pending { correlation_id, api: ApiKey::ApiVersions, version: 0, reply, received }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "closing the connection");
                    break;
                }
            }
        };
        if tx.send(pending).await.is_err() || close_after {
            break;
        }
    }
    drop(tx);
    writer.await.map_err(std::io::Error::other)?
}

/// A follower's connection closed: it may have crashed, which the controller is asked to check.
fn follower_gone(broker: &Broker, follower: Option<i32>) {
    if let (Some(follower), Some(cluster)) = (follower, broker.cluster()) {
        cluster.replicas().replica_unreachable(follower);
    }
}

async fn write_responses<W: AsyncWrite + Unpin>(
    mut sink: FramedWrite<W, LengthDelimitedCodec>,
    mut rx: mpsc::Receiver<Pending>,
    broker: Arc<Broker>,
) -> std::io::Result<()> {
    while let Some(mut pending) = rx.recv().await {
        let response = match std::mem::replace(&mut pending.reply, Reply::Nothing) {
            Reply::Now(response) => Some(*response),
            Reply::Later(future) => Some(future.await),
            Reply::Raw(token) => {
                sink.send(token).await?;
                continue;
            }
            Reply::Nothing | Reply::Disconnect => None,
        };
        broker.metrics().request(pending.api, pending.received.elapsed());
        let Some(response) = response else { continue };
        let frame = encode_response(&pending, &response).inspect_err(|e| {
            // A response this broker cannot encode is a broker bug, not a client's fault: say so loudly.
            tracing::error!(error = %e, "closing the connection");
        })?;
        // Send without flushing while more responses are ready, so pipelined responses share a write.
        if rx.is_empty() {
            sink.send(frame).await?
        } else {
            sink.feed(frame).await?
        }
    }
    SinkExt::<Bytes>::flush(&mut sink).await
}

fn encode_response(pending: &Pending, response: &ResponseKind) -> std::io::Result<Bytes> {
    let mut buf = BytesMut::new();
    let header = ResponseHeader::default().with_correlation_id(pending.correlation_id);
    let header_version = pending.api.response_header_version(pending.version);
    let encoded = header.encode(&mut buf, header_version).and_then(|()| response.encode(&mut buf, pending.version));
    encoded.map_err(|e| std::io::Error::other(format!("encoding a {:?} response: {e}", pending.api)))?;
    Ok(buf.freeze())
}
