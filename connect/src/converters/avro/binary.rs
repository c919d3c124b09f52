//! Avro's binary encoding of primitive values (zig-zag varints, little-endian floats, length-prefixed bytes) and
//! the Confluent wire format's header (magic byte 0, then the schema id as a 4-byte big-endian integer).
//!
//! Written by hand rather than through `apache-avro`'s `Value` (see [`super`]): a record is encoded straight from
//! Connect's values with no intermediate tree and no per-field allocation. The tests check the bytes against
//! `apache-avro`'s encoder and decoder.

use bytes::{BufMut, BytesMut};

use super::error::AvroError;

/// The Confluent wire format's magic byte.
pub(crate) const MAGIC_BYTE: u8 = 0;

/// Appends the wire format header for schema `id`.
pub(crate) fn header(out: &mut BytesMut, id: i32) {
    out.put_u8(MAGIC_BYTE);
    out.extend_from_slice(&id.to_be_bytes());
}

/// The schema id and the Avro data of wire format bytes.
pub(crate) fn split_header(bytes: &[u8]) -> Result<(i32, &[u8]), AvroError> {
    match bytes {
        [MAGIC_BYTE, a, b, c, d, data @ ..] => Ok((i32::from_be_bytes([*a, *b, *c, *d]), data)),
        [magic, ..] if *magic != MAGIC_BYTE => Err(AvroError::MagicByte(*magic)),
        _ => Err(AvroError::TooShort(bytes.len())),
    }
}

/// Appends a `long` (also an `int`, a union index, a count or a length).
#[inline]
pub(crate) fn long(out: &mut BytesMut, v: i64) {
    let mut n = ((v << 1) ^ (v >> 63)) as u64;
    while n >= 0x80 {
        out.put_u8((n as u8) | 0x80);
        n >>= 7;
    }
    out.put_u8(n as u8);
}

/// Appends length-prefixed bytes (also a string).
#[inline]
pub(crate) fn bytes(out: &mut BytesMut, v: &[u8]) {
    long(out, v.len() as i64);
    out.extend_from_slice(v);
}

/// Reads Avro primitives from a byte slice; every read checks what is left.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    /// How many bytes are left.
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// An error at the current position.
    pub(crate) fn error(&self, reason: &'static str) -> AvroError {
        AvroError::Malformed { offset: self.pos, reason }
    }

    /// A `long` (at most 10 bytes, as Java's `readLong`).
    pub(crate) fn long(&mut self) -> Result<i64, AvroError> {
        let mut n: u64 = 0;
        for shift in (0..70).step_by(7) {
            let byte = *self.bytes.get(self.pos).ok_or_else(|| self.error("truncated number"))?;
            self.pos += 1;
            n |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(((n >> 1) as i64) ^ -((n & 1) as i64));
            }
        }
        Err(self.error("invalid long encoding"))
    }

    /// An `int` (a `long` that fits 32 bits).
    pub(crate) fn int(&mut self) -> Result<i32, AvroError> {
        let start = self.pos;
        let v = self.long()?;
        i32::try_from(v).map_err(|_| AvroError::Malformed { offset: start, reason: "invalid int encoding" })
    }

    /// A non-negative length of bytes that fits in what is left.
    pub(crate) fn length(&mut self) -> Result<usize, AvroError> {
        let v = self.long()?;
        let n = usize::try_from(v).map_err(|_| self.error("negative length"))?;
        if n > self.remaining() {
            return Err(self.error("length past the end of the data"));
        }
        Ok(n)
    }

    /// `n` raw bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], AvroError> {
        if n > self.remaining() {
            return Err(self.error("truncated data"));
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    /// Length-prefixed bytes.
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], AvroError> {
        let n = self.length()?;
        self.take(n)
    }

    /// A length-prefixed UTF-8 string.
    pub(crate) fn string(&mut self) -> Result<&'a str, AvroError> {
        let start = self.pos;
        let bytes = self.bytes()?;
        std::str::from_utf8(bytes)
            .map_err(|_| AvroError::Malformed { offset: start, reason: "invalid UTF-8 in a string" })
    }

    /// A `boolean` (Java reads any byte but 1 as false).
    pub(crate) fn boolean(&mut self) -> Result<bool, AvroError> {
        Ok(self.take(1)?[0] == 1)
    }

    /// A `float`.
    pub(crate) fn float(&mut self) -> Result<f32, AvroError> {
        let bytes = self.take(4)?;
        Ok(f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    /// A `double`.
    pub(crate) fn double(&mut self) -> Result<f64, AvroError> {
        let b = self.take(8)?;
        Ok(f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    }

    /// The item count of the next array or map block (0 ends the array or map); a negative count is followed by
    /// the block's size in bytes, which is skipped.
    pub(crate) fn block_count(&mut self) -> Result<u64, AvroError> {
        let count = self.long()?;
        if count < 0 {
            self.long()?;
        }
        Ok(count.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(v: i64) -> Vec<u8> {
        let mut out = BytesMut::new();
        long(&mut out, v);
        out.to_vec()
    }

    #[test]
    fn zigzag_varints() {
        assert_eq!(encoded(0), [0]);
        assert_eq!(encoded(-1), [1]);
        assert_eq!(encoded(1), [2]);
        assert_eq!(encoded(-64), [0x7f]);
        assert_eq!(encoded(64), [0x80, 1]);
        for v in [0, 1, -1, 63, -64, 64, i64::from(i32::MAX), i64::from(i32::MIN), i64::MAX, i64::MIN] {
            let bytes = encoded(v);
            assert_eq!(Reader::new(&bytes).long(), Ok(v), "{v}");
            let schema = apache_avro::Schema::Long;
            let writer = apache_avro::writer::datum::GenericDatumWriter::builder(&schema).build().expect("writer");
            let theirs = writer.write_value_to_vec(apache_avro::types::Value::Long(v));
            assert_eq!(theirs.ok(), Some(bytes), "{v}");
        }
    }

    #[test]
    fn malformed_input_is_an_error() {
        assert!(Reader::new(&[0x80]).long().is_err());
        assert!(Reader::new(&[0xff; 11]).long().is_err());
        assert!(Reader::new(&encoded(i64::from(i32::MAX) + 1)).int().is_err());
        assert!(Reader::new(&[4, b'a']).bytes().is_err());
        assert!(Reader::new(&[1]).bytes().is_err());
        assert!(Reader::new(&[2, 0xff]).string().is_err());
        assert!(Reader::new(&[0, 0]).float().is_err());
    }

    #[test]
    fn wire_header() {
        let mut out = BytesMut::new();
        header(&mut out, 258);
        assert_eq!(&out[..], [0, 0, 0, 1, 2]);
        out.put_u8(9);
        assert_eq!(split_header(&out), Ok((258, &[9u8][..])));
        assert_eq!(split_header(&[1, 0, 0, 0, 0]), Err(AvroError::MagicByte(1)));
        assert_eq!(split_header(&[0, 0, 0]), Err(AvroError::TooShort(3)));
        assert_eq!(split_header(&[]), Err(AvroError::TooShort(0)));
    }
}
