//! Rows in the text format of Postgres's `COPY ... FROM STDIN` ([`CopyText`]): columns separated by tabs, rows ended
//! by newlines, NULL as `\N`, and backslash, tab, newline and carriage return escaped with a backslash. Each value is
//! the text the session binds as a parameter ([`write_text`]), so COPY and the statements parse values alike.

use bytes::{BufMut, Bytes, BytesMut};

use crate::db::text::write_text;
use crate::value::SqlValue;

/// A COPY payload being built, row by row.
pub struct CopyText {
    out: BytesMut,
    /// One value's text before it is escaped into `out`, reused across values.
    scratch: String,
}

impl CopyText {
    /// An empty payload with room for about `bytes` bytes.
    pub fn with_capacity(bytes: usize) -> Self {
        CopyText { out: BytesMut::with_capacity(bytes), scratch: String::new() }
    }

    /// Appends one row of `values`.
    pub fn row<'a>(&mut self, values: impl IntoIterator<Item = &'a SqlValue>) {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.out.put_u8(b'\t');
            }
            self.value(value);
        }
        self.out.put_u8(b'\n');
    }

    fn value(&mut self, value: &SqlValue) {
        match value {
            SqlValue::Null => self.out.put_slice(b"\\N"),
            // Text needs no copy into the scratch string first.
            SqlValue::Numeric(text) | SqlValue::Text(text) => escape_into(&mut self.out, text),
            other => {
                self.scratch.clear();
                // Writing to a String cannot fail.
                let _ = write_text(&mut self.scratch, other);
                escape_into(&mut self.out, &self.scratch);
            }
        }
    }

    /// How many bytes are written and not taken yet.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// Whether nothing is written that is not taken yet.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// The rows written so far, taken out (the buffer's room stays for what follows).
    pub fn take(&mut self) -> Bytes {
        self.out.split().freeze()
    }
}

/// Appends `text` with COPY's escapes.
fn escape_into(out: &mut BytesMut, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, byte) in bytes.iter().enumerate() {
        let escaped: &[u8] = match byte {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            _ => continue,
        };
        out.put_slice(&bytes[start..i]);
        out.put_slice(escaped);
        start = i + 1;
    }
    out.put_slice(&bytes[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_with_nulls_and_escapes() {
        let mut copy = CopyText::with_capacity(64);
        copy.row(&[SqlValue::Int(1), SqlValue::Text("a\tb\nc\\d\re".into()), SqlValue::Null]);
        copy.row(&[
            SqlValue::Bytes(Bytes::from_static(&[0xab])),
            SqlValue::Bool(true),
            SqlValue::Numeric("-1.50".into()),
        ]);
        assert_eq!(&copy.take()[..], b"1\ta\\tb\\nc\\\\d\\re\t\\N\n\\\\xab\ttrue\t-1.50\n".as_slice());
    }

    #[test]
    fn arrays_keep_their_quotes() {
        let mut copy = CopyText::with_capacity(16);
        copy.row(&[SqlValue::Array(vec![SqlValue::Text("x\"y".into()), SqlValue::Null])]);
        assert_eq!(&copy.take()[..], b"{\"x\\\\\"y\",NULL}\n".as_slice());
    }
}
