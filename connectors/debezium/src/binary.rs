//! The encodings of `binary.handling.mode`: base64, URL-safe base64, lower-case hex, all as Java writes them.

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine as _;
use bytes::Bytes;
use tidemark_connect::data::Value;

use crate::settings::BinaryHandling;

/// The bytes as `binary.handling.mode` represents them.
pub fn represent(bytes: Vec<u8>, mode: BinaryHandling) -> Value {
    match mode {
        BinaryHandling::Bytes => Value::Bytes(Bytes::from(bytes)),
        // Java's `Base64.getEncoder()` and `getUrlEncoder()`: both padded.
        BinaryHandling::Base64 => Value::String(STANDARD.encode(&bytes)),
        BinaryHandling::Base64UrlSafe => Value::String(URL_SAFE.encode(&bytes)),
        BinaryHandling::Hex => Value::String(hex(&bytes)),
    }
}

/// Lower-case hex digits, two per byte (Debezium's `HexConverter`).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}
