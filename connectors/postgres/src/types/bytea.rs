//! `bytea`: its text forms (`\x` hex, the default `bytea_output`, and the older escape form) and the encodings of
//! `binary.handling.mode` (base64, URL-safe base64, lower-case hex, all as Java writes them).

use bytes::Bytes;
use tidemark_connect::data::Value;

use super::settings::BinaryHandling;

/// The bytes of `bytea`'s text output: `\x` and hex digits, or the escape form (`\\`, `\ooo`, other bytes as
/// themselves).
pub(crate) fn parse_text(text: &[u8]) -> Result<Vec<u8>, String> {
    if let Some(hex) = text.strip_prefix(b"\\x") {
        if hex.len() % 2 != 0 {
            return Err("odd number of hex digits".to_owned());
        }
        let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        return hex
            .chunks(2)
            .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| "not hex digits after \\x".to_owned());
    }
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] != b'\\' {
            out.push(text[i]);
            i += 1;
        } else if text.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else {
            let octal = text.get(i + 1..i + 4).filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
            let octal = octal.ok_or_else(|| "a backslash not followed by \\ or three octal digits".to_owned())?;
            let value = octal.iter().fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
            out.push(u8::try_from(value).map_err(|_| format!("octal escape {value:o} is above 377"))?);
            i += 4;
        }
    }
    Ok(out)
}

/// The bytes as `binary.handling.mode` represents them.
pub(crate) fn represent(bytes: Vec<u8>, mode: BinaryHandling) -> Value {
    match mode {
        BinaryHandling::Bytes => Value::Bytes(Bytes::from(bytes)),
        BinaryHandling::Base64 => Value::String(base64(&bytes, STANDARD)),
        BinaryHandling::Base64UrlSafe => Value::String(base64(&bytes, URL_SAFE)),
        BinaryHandling::Hex => Value::String(hex(&bytes)),
    }
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 with padding in `alphabet` (Java's `Base64.getEncoder()` and `getUrlEncoder()`).
fn base64(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(alphabet[(n >> (18 - 6 * i) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Lower-case hex digits, two per byte (Debezium's `HexConverter`).
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_text_forms() {
        assert_eq!(parse_text(b"\\x00ff10"), Ok(vec![0, 255, 16]));
        assert_eq!(parse_text(b"\\x"), Ok(vec![]));
        assert_eq!(parse_text(b"a\\\\b\\000\\377"), Ok(vec![b'a', b'\\', b'b', 0, 255]));
        assert!(parse_text(b"\\x0").is_err() && parse_text(b"\\xzz").is_err() && parse_text(b"\\9").is_err());
    }

    #[test]
    fn encodes_like_java() {
        assert_eq!(base64(b"", STANDARD), "");
        assert_eq!(base64(b"f", STANDARD), "Zg==");
        assert_eq!(base64(b"fo", STANDARD), "Zm8=");
        assert_eq!(base64(b"foobar", STANDARD), "Zm9vYmFy");
        assert_eq!(base64(&[0xfb, 0xff], STANDARD), "+/8=");
        assert_eq!(base64(&[0xfb, 0xff], URL_SAFE), "-_8=");
        assert_eq!(hex(&[0x00, 0xab, 0x10]), "00ab10");
    }
}
