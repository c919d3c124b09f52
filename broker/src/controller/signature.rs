//! Signed controller traffic, for clusters with a shared secret: every request between nodes carries the time it
//! was sent, a random nonce and an HMAC-SHA256 tag over both and the method, path and body; every answer carries a
//! tag over the request's nonce, the status and the body. A node without the secret can neither send a request
//! (join the quorum, vote, write metadata) nor forge an answer, and a captured request cannot be sent again: its
//! time must be within [`MAX_CLOCK_SKEW`] of the receiver's clock and its nonce must be new within that window.
//!
//! Hand-written rather than TLS with client certificates so that one secret, the same on every node, secures a
//! cluster without a certificate authority; the Kafka listeners can still use TLS for confidentiality.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use ring::hmac;
use thiserror::Error;

use crate::security::scram::random_bytes;

/// The header carrying the sender's clock, milliseconds since the Unix epoch.
pub const TIME_HEADER: &str = "x-tidemark-time";
/// The header carrying the request's nonce (hex).
pub const NONCE_HEADER: &str = "x-tidemark-nonce";
/// The header carrying a request's or an answer's tag (hex).
pub const SIGNATURE_HEADER: &str = "x-tidemark-signature";

/// How far a request's time may be from the receiver's clock, either way. Nodes' clocks must agree this well
/// (NTP keeps them within milliseconds).
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(60);

/// Random bytes in a nonce.
const NONCE_BYTES: usize = 16;

/// Why a request or an answer was not accepted.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SignatureError {
    /// A header is missing or malformed.
    #[error("unsigned: {0}")]
    Unsigned(&'static str),
    /// The time is too far from the receiver's clock.
    #[error("sent at {sent_ms} ms, {skew_ms} ms from this node's clock (at most {} s allowed)", MAX_CLOCK_SKEW.as_secs())]
    Stale {
        /// The request's time.
        sent_ms: i64,
        /// Its distance to the receiver's clock.
        skew_ms: i64,
    },
    /// The tag does not match: the sender lacks the secret, or the message was altered.
    #[error("bad signature (another cluster secret, or an altered message)")]
    BadSignature,
    /// The nonce was seen before: a replay.
    #[error("replayed (its nonce was used before)")]
    Replayed,
}

/// What a signed request carries in its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestStamp {
    /// The sender's clock, ms since the Unix epoch.
    pub time_ms: i64,
    /// The nonce, hex.
    pub nonce: String,
    /// The tag, hex.
    pub signature: String,
}

impl RequestStamp {
    /// Signs a request of `method` to `path` with `body`, sent at `time_ms`, with a fresh nonce.
    pub fn sign(key: &hmac::Key, method: &str, path: &str, body: &[u8], time_ms: i64) -> Self {
        let nonce = hex(&random_bytes(NONCE_BYTES));
        let tag = hmac::sign(key, &request_message(method, path, time_ms, &nonce, body));
        RequestStamp { time_ms, nonce, signature: hex(tag.as_ref()) }
    }

    /// The stamp as read from the headers' values (`None` for a missing header).
    pub fn from_headers(
        time: Option<&str>,
        nonce: Option<&str>,
        signature: Option<&str>,
    ) -> Result<Self, SignatureError> {
        let time_ms = time.ok_or(SignatureError::Unsigned("no time header"))?;
        let time_ms = time_ms.parse().map_err(|_| SignatureError::Unsigned("the time is not a number"))?;
        let nonce = nonce.filter(|n| is_hex(n, NONCE_BYTES)).ok_or(SignatureError::Unsigned("no nonce"))?;
        let signature = signature.ok_or(SignatureError::Unsigned("no signature header"))?;
        Ok(RequestStamp { time_ms, nonce: nonce.to_owned(), signature: signature.to_owned() })
    }

    /// Checks the time against `now_ms` and the tag against the request; the nonce is checked by
    /// [`ReplayGuard::first_use`] once this passed.
    pub fn verify(
        &self,
        key: &hmac::Key,
        method: &str,
        path: &str,
        body: &[u8],
        now_ms: i64,
    ) -> Result<(), SignatureError> {
        let skew_ms = (now_ms - self.time_ms).abs();
        if skew_ms > MAX_CLOCK_SKEW.as_millis() as i64 {
            return Err(SignatureError::Stale { sent_ms: self.time_ms, skew_ms });
        }
        let tag = unhex(&self.signature).ok_or(SignatureError::BadSignature)?;
        hmac::verify(key, &request_message(method, path, self.time_ms, &self.nonce, body), &tag)
            .map_err(|_| SignatureError::BadSignature)
    }
}

/// The tag of an answer with `status` and `body` to the request with `nonce`, hex.
pub fn sign_answer(key: &hmac::Key, nonce: &str, status: u16, body: &[u8]) -> String {
    hex(hmac::sign(key, &answer_message(nonce, status, body)).as_ref())
}

/// Checks an answer's tag: it must answer the request with `nonce`.
pub fn verify_answer(
    key: &hmac::Key,
    nonce: &str,
    status: u16,
    body: &[u8],
    signature: Option<&str>,
) -> Result<(), SignatureError> {
    let tag = signature.ok_or(SignatureError::Unsigned("the answer has no signature header"))?;
    let tag = unhex(tag).ok_or(SignatureError::BadSignature)?;
    hmac::verify(key, &answer_message(nonce, status, body), &tag).map_err(|_| SignatureError::BadSignature)
}

/// The nonces accepted within the last two [`MAX_CLOCK_SKEW`]s: a request whose time is older than that is
/// refused as stale anyway, so older nonces need not be remembered.
#[derive(Debug, Default)]
pub struct ReplayGuard {
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    nonces: HashSet<String>,
    /// (forget at, nonce), in the order accepted: forget times only grow.
    expiries: VecDeque<(i64, String)>,
}

impl ReplayGuard {
    /// Records `nonce` at `now_ms`; `Err(Replayed)` when it was recorded before.
    pub fn first_use(&self, nonce: &str, now_ms: i64) -> Result<(), SignatureError> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        while seen.expiries.front().is_some_and(|(forget_at, _)| *forget_at <= now_ms) {
            if let Some((_, old)) = seen.expiries.pop_front() {
                seen.nonces.remove(&old);
            }
        }
        if !seen.nonces.insert(nonce.to_owned()) {
            return Err(SignatureError::Replayed);
        }
        let forget_at = now_ms + 2 * MAX_CLOCK_SKEW.as_millis() as i64;
        seen.expiries.push_back((forget_at, nonce.to_owned()));
        Ok(())
    }
}

fn request_message(method: &str, path: &str, time_ms: i64, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut message = format!("tidemark controller request\n{method}\n{path}\n{time_ms}\n{nonce}\n").into_bytes();
    message.extend_from_slice(body);
    message
}

fn answer_message(nonce: &str, status: u16, body: &[u8]) -> Vec<u8> {
    let mut message = format!("tidemark controller answer\n{nonce}\n{status}\n").into_bytes();
    message.extend_from_slice(body);
    message
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.len() > 128 {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

fn is_hex(text: &str, bytes: usize) -> bool {
    text.len() == 2 * bytes && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn key(secret: &[u8]) -> hmac::Key {
        hmac::Key::new(hmac::HMAC_SHA256, secret)
    }

    #[test]
    fn a_signed_request_verifies_and_any_change_breaks_it() {
        let stamp = RequestStamp::sign(&key(b"k"), "POST", "/raft/vote", b"{}", NOW);
        let read =
            RequestStamp::from_headers(Some(&stamp.time_ms.to_string()), Some(&stamp.nonce), Some(&stamp.signature))
                .unwrap();
        assert_eq!(read, stamp);
        assert_eq!(read.verify(&key(b"k"), "POST", "/raft/vote", b"{}", NOW + 1000), Ok(()));
        let bad = Err(SignatureError::BadSignature);
        assert_eq!(read.verify(&key(b"other"), "POST", "/raft/vote", b"{}", NOW), bad);
        assert_eq!(read.verify(&key(b"k"), "POST", "/raft/append", b"{}", NOW), bad);
        assert_eq!(read.verify(&key(b"k"), "POST", "/raft/vote", b"{\"x\":1}", NOW), bad);
        let moved = RequestStamp { time_ms: NOW + 1, ..read.clone() };
        assert_eq!(moved.verify(&key(b"k"), "POST", "/raft/vote", b"{}", NOW), bad);
        let garbled = RequestStamp { signature: "zz".to_owned(), ..read };
        assert_eq!(garbled.verify(&key(b"k"), "POST", "/raft/vote", b"{}", NOW), bad);
    }

    #[test]
    fn a_request_from_too_far_in_the_past_or_future_is_stale() {
        let skew = MAX_CLOCK_SKEW.as_millis() as i64;
        let stamp = RequestStamp::sign(&key(b"k"), "POST", "/p", b"", NOW);
        assert!(stamp.verify(&key(b"k"), "POST", "/p", b"", NOW + skew).is_ok());
        let late = stamp.verify(&key(b"k"), "POST", "/p", b"", NOW + skew + 1);
        assert_eq!(late, Err(SignatureError::Stale { sent_ms: NOW, skew_ms: skew + 1 }));
        assert!(matches!(
            stamp.verify(&key(b"k"), "POST", "/p", b"", NOW - skew - 1),
            Err(SignatureError::Stale { .. })
        ));
    }

    #[test]
    fn missing_or_malformed_headers_are_unsigned() {
        let nonce = "00".repeat(NONCE_BYTES);
        assert!(matches!(RequestStamp::from_headers(None, Some(&nonce), Some("ab")), Err(SignatureError::Unsigned(_))));
        assert!(matches!(
            RequestStamp::from_headers(Some("x"), Some(&nonce), Some("ab")),
            Err(SignatureError::Unsigned(_))
        ));
        assert!(matches!(
            RequestStamp::from_headers(Some("1"), Some("abc"), Some("ab")),
            Err(SignatureError::Unsigned(_))
        ));
        assert!(matches!(RequestStamp::from_headers(Some("1"), Some(&nonce), None), Err(SignatureError::Unsigned(_))));
    }

    #[test]
    fn a_nonce_is_accepted_once_within_the_window_and_forgotten_after() {
        let guard = ReplayGuard::default();
        assert_eq!(guard.first_use("a", NOW), Ok(()));
        assert_eq!(guard.first_use("b", NOW), Ok(()));
        assert_eq!(guard.first_use("a", NOW + 1000), Err(SignatureError::Replayed));
        let later = NOW + 2 * MAX_CLOCK_SKEW.as_millis() as i64;
        assert_eq!(guard.first_use("c", later), Ok(()));
        assert_eq!(guard.seen.lock().unwrap().nonces.len(), 1, "a and b are forgotten");
    }

    #[test]
    fn an_answer_is_bound_to_its_request_status_and_body() {
        let tag = sign_answer(&key(b"k"), "n1", 200, b"ok");
        assert_eq!(verify_answer(&key(b"k"), "n1", 200, b"ok", Some(&tag)), Ok(()));
        let bad = Err(SignatureError::BadSignature);
        assert_eq!(verify_answer(&key(b"k"), "n2", 200, b"ok", Some(&tag)), bad);
        assert_eq!(verify_answer(&key(b"k"), "n1", 500, b"ok", Some(&tag)), bad);
        assert_eq!(verify_answer(&key(b"k"), "n1", 200, b"no", Some(&tag)), bad);
        assert_eq!(verify_answer(&key(b"other"), "n1", 200, b"ok", Some(&tag)), bad);
        assert!(matches!(verify_answer(&key(b"k"), "n1", 200, b"ok", None), Err(SignatureError::Unsigned(_))));
    }
}
