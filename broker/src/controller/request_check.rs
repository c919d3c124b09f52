//! The controller listener's gate in a cluster with a shared secret: a request is served only when its signature,
//! time and nonce pass (`signature.rs`), and every answer is signed for the request it answers. A refusal is a
//! 401 with the reason, logged at WARN with the peer. `GET /controller/status` stays open: it only tells who
//! leads and how far this node applied the metadata log.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ring::hmac;

use super::http::STATUS_PATH;
use super::signature::{
    sign_answer, ReplayGuard, RequestStamp, SignatureError, NONCE_HEADER, SIGNATURE_HEADER, TIME_HEADER,
};
use crate::now_ms;

/// The largest request body read (Raft log entries and snapshot chunks, as JSON).
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// What checking requests needs: the key and the nonces seen.
#[derive(Debug)]
pub struct RequestCheck {
    key: hmac::Key,
    replays: ReplayGuard,
}

impl RequestCheck {
    /// Checks requests signed with `key`.
    pub fn new(key: hmac::Key) -> Arc<Self> {
        Arc::new(RequestCheck { key, replays: ReplayGuard::default() })
    }
}

/// The middleware (see the module's doc).
pub async fn check_signature(
    State(check): State<Arc<RequestCheck>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path() == STATUS_PATH {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let refuse = |reason: SignatureError| {
        tracing::warn!(%peer, path, reason = %reason, "controller request refused");
        (StatusCode::UNAUTHORIZED, format!("controller request refused: {reason}")).into_response()
    };
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let stamp = match RequestStamp::from_headers(header(TIME_HEADER), header(NONCE_HEADER), header(SIGNATURE_HEADER)) {
        Ok(stamp) => stamp,
        Err(e) => return refuse(e),
    };
    let Ok(body) = to_bytes(body, MAX_BODY_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "controller request too large or cut short").into_response();
    };
    let now = now_ms();
    let checked = stamp
        .verify(&check.key, parts.method.as_str(), &path, &body, now)
        .and_then(|()| check.replays.first_use(&stamp.nonce, now));
    if let Err(e) = checked {
        return refuse(e);
    }
    let answer = next.run(Request::from_parts(parts, Body::from(body))).await;
    let (mut parts, body) = answer.into_parts();
    let Ok(body) = to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let tag = sign_answer(&check.key, &stamp.nonce, parts.status.as_u16(), &body);
    match HeaderValue::from_str(&tag) {
        Ok(value) => {
            parts.headers.insert(SIGNATURE_HEADER, value);
            Response::from_parts(parts, Body::from(body))
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
