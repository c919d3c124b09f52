//! Builds payloads field by field the way PostgreSQL's `pq_send*` functions write them (for tests).

use bytes::{BufMut, Bytes, BytesMut};

/// A payload under construction.
#[derive(Default)]
pub(super) struct Payload(BytesMut);

impl Payload {
    pub(super) fn new() -> Self {
        Payload::default()
    }

    /// `pq_sendbyte` / `pq_sendint8`.
    pub(super) fn byte(mut self, value: u8) -> Self {
        self.0.put_u8(value);
        self
    }

    /// `pq_sendint16`.
    pub(super) fn int16(mut self, value: u16) -> Self {
        self.0.put_u16(value);
        self
    }

    /// `pq_sendint32` of an oid, xid or count.
    pub(super) fn int32(mut self, value: u32) -> Self {
        self.0.put_u32(value);
        self
    }

    /// `pq_sendint32` of a signed value (type modifiers, lengths).
    pub(super) fn signed32(mut self, value: i32) -> Self {
        self.0.put_i32(value);
        self
    }

    /// `pq_sendint64` of an LSN.
    pub(super) fn int64(mut self, value: u64) -> Self {
        self.0.put_u64(value);
        self
    }

    /// `pq_sendint64` of a timestamp.
    pub(super) fn signed64(mut self, value: i64) -> Self {
        self.0.put_i64(value);
        self
    }

    /// `if (TransactionIdIsValid(xid)) pq_sendint32(out, xid)`.
    pub(super) fn xid(self, xid: Option<u32>) -> Self {
        match xid {
            Some(xid) => self.int32(xid),
            None => self,
        }
    }

    /// `pq_sendstring`: the bytes and a NUL.
    pub(super) fn string(mut self, value: &str) -> Self {
        self.0.put_slice(value.as_bytes());
        self.0.put_u8(0);
        self
    }

    /// `pq_sendint32(len)` then `pq_sendbytes`.
    pub(super) fn counted(self, value: &[u8]) -> Self {
        let len = u32::try_from(value.len()).expect("test value under 4 GiB");
        self.int32(len).raw(value)
    }

    /// `pq_sendbytes` without a length.
    pub(super) fn raw(mut self, value: &[u8]) -> Self {
        self.0.put_slice(value);
        self
    }

    pub(super) fn build(self) -> Bytes {
        self.0.freeze()
    }
}

/// Bytes from a hex string as `encode(data, 'hex')` prints them.
pub(super) fn hex(text: &str) -> Bytes {
    let digits: Vec<u8> = text.bytes().filter(|byte| !byte.is_ascii_whitespace()).collect();
    let pairs = digits.chunks_exact(2);
    assert!(pairs.remainder().is_empty(), "odd number of hex digits");
    let nibble = |digit: u8| char::from(digit).to_digit(16).expect("hex digit") as u8;
    pairs.map(|pair| nibble(pair[0]) << 4 | nibble(pair[1])).collect::<Vec<u8>>().into()
}
