//! How a node calls another node's controller listener: a JSON POST, signed when the cluster has a shared secret,
//! whose answer must then be signed for that very request (`signature.rs`). Raft's RPCs (`network.rs`) and the
//! brokers' requests to the active controller go through it.

use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use ring::hmac;
use serde::de::DeserializeOwned;
use serde::Serialize;
use thiserror::Error;

use super::signature::{verify_answer, RequestStamp, SignatureError, NONCE_HEADER, SIGNATURE_HEADER, TIME_HEADER};
use crate::now_ms;

/// A call to another node's controller listener failed.
#[derive(Debug, Error)]
pub enum CallError {
    /// Nothing answered at the address.
    #[error("cannot connect: {0}")]
    Connect(reqwest::Error),
    /// The request or its answer failed on the way.
    #[error("{0}")]
    Transport(reqwest::Error),
    /// The node refused the request (e.g. 401: it has another cluster secret).
    #[error("HTTP {status}: {text}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The answer's text.
        text: String,
    },
    /// The answer's signature does not match: not from a node with this cluster's secret.
    #[error("the answer is not authentic: {0}")]
    Unauthentic(SignatureError),
    /// The answer is not the JSON expected.
    #[error("undecodable answer: {0}")]
    Undecodable(serde_json::Error),
}

/// Sends controller requests; one connection pool shared by every call.
#[derive(Debug, Clone)]
pub struct PeerClient {
    http: reqwest::Client,
    key: Option<hmac::Key>,
}

impl PeerClient {
    /// A client signing with `key`, or sending unsigned requests when the cluster has no secret.
    pub fn new(key: Option<hmac::Key>) -> Self {
        // reqwest is built with rustls but without a crypto provider of its own (the worker's HTTPS clients pick
        // `ring`, as the broker's TLS does); this client never speaks HTTPS, yet building one needs a provider.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        PeerClient { http: reqwest::Client::new(), key }
    }

    /// POSTs `request` as JSON to `path` on the controller listener at `address` and decodes the answer.
    pub async fn post<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        address: &str,
        path: &str,
        request: &Req,
        timeout: Option<Duration>,
    ) -> Result<Resp, CallError> {
        let body = serde_json::to_vec(request).map_err(CallError::Undecodable)?;
        let mut sending = self.http.post(format!("http://{address}{path}")).header(CONTENT_TYPE, "application/json");
        if let Some(timeout) = timeout {
            sending = sending.timeout(timeout);
        }
        let stamp = self.key.as_ref().map(|key| RequestStamp::sign(key, "POST", path, &body, now_ms()));
        if let Some(stamp) = &stamp {
            sending = sending
                .header(TIME_HEADER, stamp.time_ms.to_string())
                .header(NONCE_HEADER, &stamp.nonce)
                .header(SIGNATURE_HEADER, &stamp.signature);
        }
        let answer = sending.body(body).send().await.map_err(|e| match e.is_connect() {
            true => CallError::Connect(e),
            false => CallError::Transport(e),
        })?;
        let status = answer.status().as_u16();
        let signature = answer.headers().get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = answer.bytes().await.map_err(CallError::Transport)?;
        if status == 401 || status == 413 {
            return Err(CallError::Refused { status, text: String::from_utf8_lossy(&bytes).into_owned() });
        }
        if let (Some(key), Some(stamp)) = (&self.key, &stamp) {
            verify_answer(key, &stamp.nonce, status, &bytes, signature.as_deref()).map_err(CallError::Unauthentic)?;
        }
        serde_json::from_slice(&bytes).map_err(CallError::Undecodable)
    }
}
