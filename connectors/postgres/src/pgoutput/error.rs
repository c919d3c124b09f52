//! What can be wrong with a payload: every error names the message and the field being read.

use thiserror::Error;

use super::kind::MessageKind;
use super::version::ProtocolVersion;

/// A payload that is not a well-formed pgoutput message for this session.
///
/// All of these are *definite* errors: the same bytes fail the same way again, so a source should fail the task
/// with the message rather than retry.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The payload has no bytes at all, not even a tag.
    #[error("empty pgoutput payload: no message tag")]
    Empty,
    /// The first byte names no pgoutput message.
    #[error("unknown pgoutput message tag {}", describe_byte(*tag))]
    UnknownTag {
        /// The tag byte.
        tag: u8,
    },
    /// A message that the negotiated protocol version does not have.
    #[error(
        "{message} message needs pgoutput protocol version {}, but the session uses version {}",
        required.number(),
        negotiated.number()
    )]
    NotInVersion {
        /// The message.
        message: MessageKind,
        /// The first version that has it.
        required: ProtocolVersion,
        /// The session's version.
        negotiated: ProtocolVersion,
    },
    /// A message that cannot appear between Stream Start and Stream Stop arrived there.
    #[error("{message} message inside a stream block (between Stream Start and Stream Stop)")]
    InsideStream {
        /// The message.
        message: MessageKind,
    },
    /// A message that only ends a stream block arrived outside one.
    #[error("{message} message outside a stream block (no Stream Start before it)")]
    OutsideStream {
        /// The message.
        message: MessageKind,
    },
    /// The payload ends before a field does.
    #[error("{message} message truncated reading {field}: {needed} bytes needed, {remaining} left")]
    Truncated {
        /// The message being read.
        message: MessageKind,
        /// The field being read.
        field: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the payload.
        remaining: usize,
    },
    /// A string field runs to the end of the payload without its terminating NUL.
    #[error("{message} message truncated reading {field}: no terminating NUL")]
    UnterminatedString {
        /// The message being read.
        message: MessageKind,
        /// The field being read.
        field: &'static str,
    },
    /// A string field is not UTF-8 (names are decoded as UTF-8; the database's encoding should be UTF8).
    #[error("{message} message: {field} is not valid UTF-8")]
    InvalidUtf8 {
        /// The message being read.
        message: MessageKind,
        /// The field being read.
        field: &'static str,
    },
    /// A length or count field is negative.
    #[error("{message} message: {field} is negative ({value})")]
    Negative {
        /// The message being read.
        message: MessageKind,
        /// The field being read.
        field: &'static str,
        /// The value read.
        value: i32,
    },
    /// A byte that selects what follows (tuple kind, column kind, replica identity) has a value the protocol does
    /// not define there.
    #[error("{message} message: {field} is {}, expected {expected}", describe_byte(*found))]
    UnexpectedByte {
        /// The message being read.
        message: MessageKind,
        /// The field being read.
        field: &'static str,
        /// The byte found.
        found: u8,
        /// What the protocol allows there.
        expected: &'static str,
    },
    /// Bytes remain after the message's last field (pgoutput sends exactly one message per payload; extra bytes
    /// mean the session's options, such as `streaming 'parallel'`, differ from what the decoder was told).
    #[error("{message} message has {count} unexpected bytes after its last field")]
    TrailingBytes {
        /// The message read.
        message: MessageKind,
        /// How many bytes were left.
        count: usize,
    },
}

/// A byte as `'K' (0x4b)` when printable, else `0x00`.
fn describe_byte(byte: u8) -> String {
    if byte.is_ascii_graphic() {
        format!("'{}' ({byte:#04x})", char::from(byte))
    } else {
        format!("{byte:#04x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_message_and_field() {
        let truncated =
            DecodeError::Truncated { message: MessageKind::StreamCommit, field: "commit LSN", needed: 8, remaining: 3 };
        assert_eq!(truncated.to_string(), "Stream Commit message truncated reading commit LSN: 8 bytes needed, 3 left");
        assert_eq!(DecodeError::UnknownTag { tag: b'z' }.to_string(), "unknown pgoutput message tag 'z' (0x7a)");
        assert_eq!(DecodeError::UnknownTag { tag: 0 }.to_string(), "unknown pgoutput message tag 0x00");
        let version = DecodeError::NotInVersion {
            message: MessageKind::StreamStart,
            required: ProtocolVersion::V2,
            negotiated: ProtocolVersion::V1,
        };
        assert_eq!(
            version.to_string(),
            "Stream Start message needs pgoutput protocol version 2, but the session uses version 1"
        );
    }
}
