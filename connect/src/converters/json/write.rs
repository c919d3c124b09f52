//! JSON text as Jackson writes it for Kafka's `JsonConverter`: compact, strings escaped with `\"`, `\\`, `\b`, `\t`,
//! `\n`, `\f`, `\r` and `\u00XX` (upper-case hex) for other control characters and nothing else, floats in Java's
//! notation with NaN and infinities as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`, bytes as padded base64.

use std::fmt::Display;
use std::fmt::Write as _;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::converters::java_text;

/// A string, quoted and escaped.
pub(crate) fn string(out: &mut String, s: &str) {
    out.push('"');
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            0x0c => "\\f",
            b'\r' => "\\r",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        if escape.is_empty() {
            push(out, format_args!("\\u{b:04X}"));
        } else {
            out.push_str(escape);
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
    out.push('"');
}

/// An integer.
pub(crate) fn integer(out: &mut String, v: impl Display) {
    push(out, format_args!("{v}"));
}

/// A FLOAT64.
pub(crate) fn double(out: &mut String, v: f64) {
    let text = java_text::double(v);
    match v.is_finite() {
        true => out.push_str(&text),
        false => string(out, &text),
    }
}

/// A FLOAT32.
pub(crate) fn float(out: &mut String, v: f32) {
    let text = java_text::float(v);
    match v.is_finite() {
        true => out.push_str(&text),
        false => string(out, &text),
    }
}

/// Bytes as a base64 string.
pub(crate) fn base64(out: &mut String, bytes: &[u8]) {
    out.push('"');
    STANDARD.encode_string(bytes, out);
    out.push('"');
}

/// Formats into the output; formatting into a `String` cannot fail.
fn push(out: &mut String, args: std::fmt::Arguments<'_>) {
    let _infallible = out.write_fmt(args);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(f: impl FnOnce(&mut String)) -> String {
        let mut out = String::new();
        f(&mut out);
        out
    }

    #[test]
    fn strings_escape_as_jackson_does() {
        assert_eq!(written(|o| string(o, "plain é 😀 / <>")), "\"plain é 😀 / <>\"");
        assert_eq!(written(|o| string(o, "q\"b\\\u{8}\t\n\u{c}\r")), r#""q\"b\\\b\t\n\f\r""#);
        assert_eq!(written(|o| string(o, "\u{0}\u{1f}\u{7f}")), "\"\\u0000\\u001F\u{7f}\"");
    }

    #[test]
    fn numbers_and_bytes() {
        assert_eq!(written(|o| integer(o, -42i64)), "-42");
        assert_eq!(written(|o| double(o, 12.34)), "12.34");
        assert_eq!(written(|o| double(o, f64::NAN)), "\"NaN\"");
        assert_eq!(written(|o| float(o, f32::NEG_INFINITY)), "\"-Infinity\"");
        assert_eq!(written(|o| float(o, 1.5)), "1.5");
        assert_eq!(written(|o| base64(o, b"test-string")), "\"dGVzdC1zdHJpbmc=\"");
        assert_eq!(written(|o| base64(o, &[0, 0x9c])), "\"AJw=\"");
    }
}
