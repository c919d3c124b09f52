//! The logical decoding message: what `pg_logical_emit_message` wrote (sent when the session asked for
//! `messages 'true'`).

use bytes::Bytes;

use super::error::DecodeError;
use super::reader::Reader;

/// `M`: a logical decoding message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalMessage {
    /// The xid of the (sub)transaction, present only inside a stream block.
    pub xid: Option<u32>,
    /// Flags: bit [`LogicalMessage::TRANSACTIONAL`] when emitted as part of a transaction.
    pub flags: u8,
    /// The LSN of the message.
    pub lsn: u64,
    /// The prefix given to `pg_logical_emit_message`.
    pub prefix: String,
    /// The content, shared with the payload.
    pub content: Bytes,
}

impl LogicalMessage {
    /// The flag bit of a transactional message: it arrives inside its transaction, and only if that commits. A
    /// non-transactional one arrives on its own, at once, whatever becomes of its transaction.
    pub const TRANSACTIONAL: u8 = 1;

    /// Whether the message was emitted transactionally.
    pub fn is_transactional(&self) -> bool {
        self.flags & LogicalMessage::TRANSACTIONAL != 0
    }

    pub(super) fn decode(r: &mut Reader, in_stream: bool) -> Result<Self, DecodeError> {
        Ok(LogicalMessage {
            xid: r.stream_xid(in_stream)?,
            flags: r.u8("flags")?,
            lsn: r.u64("message LSN")?,
            prefix: r.string("prefix")?,
            content: r.counted_bytes("content")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::Payload;
    use super::super::{Decoder, DecoderOptions, Message, ProtocolVersion};
    use super::*;

    #[test]
    fn transactional_and_not() {
        // logicalrep_write_message: flags, lsn, prefix, length, content.
        for (flags, transactional) in [(1, true), (0, false)] {
            let payload =
                Payload::new().byte(b'M').byte(flags).int64(0x0154_8D98).string("outbox").counted(b"\x00payload\xff");
            let message = Decoder::new(DecoderOptions::new(ProtocolVersion::V1)).decode(payload.build());
            let Ok(Message::Logical(message)) = message else { panic!("not a logical message: {message:?}") };
            assert_eq!(
                message,
                LogicalMessage {
                    xid: None,
                    flags,
                    lsn: 0x0154_8D98,
                    prefix: "outbox".into(),
                    content: Bytes::from_static(b"\x00payload\xff"),
                }
            );
            assert_eq!(message.is_transactional(), transactional);
        }
    }
}
