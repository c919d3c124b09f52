//! A cursor over one message's bytes, reading fields as PostgreSQL's `pq_getmsg*` functions do (network byte order,
//! NUL-terminated strings), with errors that name the message and field and no panic on any input.

use bytes::{Buf, Bytes};

use super::error::DecodeError;
use super::kind::MessageKind;

/// The unread rest of one message's payload (after its tag).
pub(super) struct Reader {
    buf: Bytes,
    message: MessageKind,
}

impl Reader {
    /// Reads `buf`, the fields of a message of kind `message`.
    pub(super) fn new(buf: Bytes, message: MessageKind) -> Self {
        Reader { buf, message }
    }

    /// Bytes not read yet.
    pub(super) fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// `Int8`/`Byte1`.
    pub(super) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(field)?[0])
    }

    /// `Int16`, unsigned as PostgreSQL reads counts.
    pub(super) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    /// `Int32` read as unsigned: oids and xids.
    pub(super) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    /// `Int32` read as signed: type modifiers.
    pub(super) fn i32(&mut self, field: &'static str) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.array(field)?))
    }

    /// `Int64` read as unsigned: LSNs.
    pub(super) fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    /// `Int64` read as signed: timestamps.
    pub(super) fn i64(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.array(field)?))
    }

    /// A signed `Int32` length or count that must not be negative.
    pub(super) fn count(&mut self, field: &'static str) -> Result<usize, DecodeError> {
        let value = self.i32(field)?;
        usize::try_from(value).map_err(|_| DecodeError::Negative { message: self.message, field, value })
    }

    /// The xid field that messages carry only inside a stream block.
    pub(super) fn stream_xid(&mut self, in_stream: bool) -> Result<Option<u32>, DecodeError> {
        if in_stream {
            self.u32("xid").map(Some)
        } else {
            Ok(None)
        }
    }

    /// `String`: bytes up to a NUL, which is consumed and not returned.
    pub(super) fn string(&mut self, field: &'static str) -> Result<String, DecodeError> {
        let message = self.message;
        let end =
            self.buf.iter().position(|byte| *byte == 0).ok_or(DecodeError::UnterminatedString { message, field })?;
        let text = self.buf.split_to(end);
        self.buf.advance(1);
        std::str::from_utf8(&text).map(str::to_owned).map_err(|_| DecodeError::InvalidUtf8 { message, field })
    }

    /// `Byten`: the next `len` bytes, shared with the payload (no copy).
    pub(super) fn bytes(&mut self, len: usize, field: &'static str) -> Result<Bytes, DecodeError> {
        self.need(len, field)?;
        Ok(self.buf.split_to(len))
    }

    /// An `Int32` length followed by that many bytes, shared with the payload.
    pub(super) fn counted_bytes(&mut self, field: &'static str) -> Result<Bytes, DecodeError> {
        let len = self.count(field)?;
        self.bytes(len, field)
    }

    /// The error for a selector byte with a value the protocol does not allow at this place.
    pub(super) fn unexpected(&self, field: &'static str, found: u8, expected: &'static str) -> DecodeError {
        DecodeError::UnexpectedByte { message: self.message, field, found, expected }
    }

    /// Ends the message: every byte must have been read.
    pub(super) fn finish(self) -> Result<(), DecodeError> {
        match self.buf.len() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes { message: self.message, count }),
        }
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        self.need(N, field)?;
        let mut out = [0; N];
        self.buf.copy_to_slice(&mut out);
        Ok(out)
    }

    fn need(&self, needed: usize, field: &'static str) -> Result<(), DecodeError> {
        let remaining = self.buf.len();
        if needed > remaining {
            return Err(DecodeError::Truncated { message: self.message, field, needed, remaining });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(bytes: &'static [u8]) -> Reader {
        Reader::new(Bytes::from_static(bytes), MessageKind::Message)
    }

    #[test]
    fn reads_network_byte_order() {
        let mut r = reader(&[0x01, 0x02, 0x03, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0x01, 0x00]);
        assert_eq!(r.u8("a"), Ok(1));
        assert_eq!(r.u16("b"), Ok(0x0203));
        assert_eq!(r.i32("c"), Ok(-2));
        assert_eq!(r.u64("d"), Ok(0x100));
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn strings_stop_at_nul_and_must_be_terminated_and_utf8() {
        let mut r = reader(b"ab\0\0cd");
        assert_eq!(r.string("first").as_deref(), Ok("ab"));
        assert_eq!(r.string("second").as_deref(), Ok(""));
        assert_eq!(
            r.string("third"),
            Err(DecodeError::UnterminatedString { message: MessageKind::Message, field: "third" })
        );
        assert_eq!(
            reader(b"\xff\0").string("name"),
            Err(DecodeError::InvalidUtf8 { message: MessageKind::Message, field: "name" })
        );
    }

    #[test]
    fn short_reads_and_negative_lengths_are_errors() {
        assert_eq!(
            reader(&[0, 0, 1]).u32("oid"),
            Err(DecodeError::Truncated { message: MessageKind::Message, field: "oid", needed: 4, remaining: 3 })
        );
        assert_eq!(
            reader(&[0xff, 0xff, 0xff, 0xff]).counted_bytes("content"),
            Err(DecodeError::Negative { message: MessageKind::Message, field: "content", value: -1 })
        );
        assert_eq!(
            reader(&[0x7f, 0xff, 0xff, 0xff, 1]).counted_bytes("content"),
            Err(DecodeError::Truncated {
                message: MessageKind::Message,
                field: "content",
                needed: 0x7fff_ffff,
                remaining: 1
            })
        );
        assert_eq!(reader(&[1]).finish(), Err(DecodeError::TrailingBytes { message: MessageKind::Message, count: 1 }));
    }

    #[test]
    fn counted_bytes_share_the_payload() {
        let payload = Bytes::from_static(&[0, 0, 0, 2, b'h', b'i']);
        let mut r = Reader::new(payload.clone(), MessageKind::Message);
        let value = r.counted_bytes("value").expect("value");
        assert_eq!(&value[..], b"hi");
        assert_eq!(value.as_ptr(), payload[4..].as_ptr());
    }
}
