//! The stateful decoder: one payload in, one [`Message`] out, knowing the session's protocol options and whether a
//! stream block is open.

use bytes::Bytes;

use super::error::DecodeError;
use super::kind::MessageKind;
use super::logical_message::LogicalMessage;
use super::message::Message;
use super::reader::Reader;
use super::relation::{DataType, Relation};
use super::rows::{Delete, Insert, Truncate, Update};
use super::stream::{StreamAbort, StreamCommit, StreamStart};
use super::transaction::{Begin, Commit, Origin};
use super::two_phase::{BeginPrepare, CommitPrepared, Prepare, RollbackPrepared};
use super::version::ProtocolVersion;

/// The options of the replication session that change what the messages look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderOptions {
    /// The `proto_version` requested in `START_REPLICATION`.
    pub protocol_version: ProtocolVersion,
    /// Whether `streaming 'parallel'` was requested. With protocol version 4, Stream Abort then carries the abort
    /// LSN and time. (PostgreSQL refuses `'parallel'` below version 4.)
    pub parallel_streaming: bool,
}

impl DecoderOptions {
    /// Options for `proto_version` `protocol_version` without parallel streaming.
    pub const fn new(protocol_version: ProtocolVersion) -> Self {
        DecoderOptions { protocol_version, parallel_streaming: false }
    }
}

/// Decodes the pgoutput messages of one replication session, in the order they arrive.
///
/// Stateful: between Stream Start and Stream Stop, row, relation, type, truncate and logical messages carry an
/// xid that they do not carry elsewhere, so every payload of the session must pass through the same decoder, in
/// order. A new session (a reconnection) needs a new decoder. A payload that fails to decode leaves the state as
/// it was.
#[derive(Debug, Clone)]
pub struct Decoder {
    options: DecoderOptions,
    /// The xid named by the Stream Start of the open block, if one is open.
    stream: Option<u32>,
}

impl Decoder {
    /// A decoder for a session started with `options`, outside any stream block.
    pub const fn new(options: DecoderOptions) -> Self {
        Decoder { options, stream: None }
    }

    /// A decoder inside the stream block of streamed transaction `xid`, for payloads received in such a block and
    /// decoded again later (a streamed transaction replayed at its commit).
    pub const fn inside_stream(options: DecoderOptions, xid: u32) -> Self {
        Decoder { options, stream: Some(xid) }
    }

    /// The options the decoder was made with.
    pub const fn options(&self) -> DecoderOptions {
        self.options
    }

    /// The xid of the streamed transaction whose block is open (after Stream Start, before Stream Stop), if any.
    pub const fn stream_xid(&self) -> Option<u32> {
        self.stream
    }

    /// Decodes one XLogData payload. Column values and logical message contents are slices of `payload`, not
    /// copies.
    ///
    /// Fails, without panicking, on a payload that is empty, truncated, has an unknown tag, malformed fields or
    /// bytes after the last field, or holds a message the session's protocol version does not have or that cannot
    /// appear where it did (Begin inside a stream block, Stream Stop outside one).
    pub fn decode(&mut self, payload: Bytes) -> Result<Message, DecodeError> {
        let tag = *payload.first().ok_or(DecodeError::Empty)?;
        let kind = MessageKind::from_tag(tag).ok_or(DecodeError::UnknownTag { tag })?;
        self.check_allowed(kind)?;
        let mut r = Reader::new(payload.slice(1..), kind);
        let message = self.decode_fields(kind, &mut r)?;
        r.finish()?;
        match &message {
            Message::StreamStart(start) => self.stream = Some(start.xid),
            Message::StreamStop => self.stream = None,
            _ => {}
        }
        Ok(message)
    }

    /// Refuses a message that the protocol version lacks or that cannot appear in the current stream state.
    fn check_allowed(&self, kind: MessageKind) -> Result<(), DecodeError> {
        let negotiated = self.options.protocol_version;
        let required = kind.min_version();
        if required > negotiated {
            return Err(DecodeError::NotInVersion { message: kind, required, negotiated });
        }
        let in_stream = self.stream.is_some();
        if in_stream && kind.is_transaction_boundary() {
            return Err(DecodeError::InsideStream { message: kind });
        }
        if !in_stream && kind == MessageKind::StreamStop {
            return Err(DecodeError::OutsideStream { message: kind });
        }
        Ok(())
    }

    fn decode_fields(&self, kind: MessageKind, r: &mut Reader) -> Result<Message, DecodeError> {
        let in_stream = self.stream.is_some();
        Ok(match kind {
            MessageKind::Begin => Message::Begin(Begin::decode(r)?),
            MessageKind::Commit => Message::Commit(Commit::decode(r)?),
            MessageKind::Origin => Message::Origin(Origin::decode(r)?),
            MessageKind::Relation => Message::Relation(Relation::decode(r, in_stream)?),
            MessageKind::Type => Message::Type(DataType::decode(r, in_stream)?),
            MessageKind::Insert => Message::Insert(Insert::decode(r, in_stream)?),
            MessageKind::Update => Message::Update(Update::decode(r, in_stream)?),
            MessageKind::Delete => Message::Delete(Delete::decode(r, in_stream)?),
            MessageKind::Truncate => Message::Truncate(Truncate::decode(r, in_stream)?),
            MessageKind::Message => Message::Logical(LogicalMessage::decode(r, in_stream)?),
            MessageKind::StreamStart => Message::StreamStart(StreamStart::decode(r)?),
            MessageKind::StreamStop => Message::StreamStop,
            MessageKind::StreamCommit => Message::StreamCommit(StreamCommit::decode(r)?),
            MessageKind::StreamAbort => Message::StreamAbort(StreamAbort::decode(r, self.sends_abort_info())?),
            MessageKind::BeginPrepare => Message::BeginPrepare(BeginPrepare::decode(r)?),
            MessageKind::Prepare => Message::Prepare(Prepare::decode(r)?),
            MessageKind::CommitPrepared => Message::CommitPrepared(CommitPrepared::decode(r)?),
            MessageKind::RollbackPrepared => Message::RollbackPrepared(RollbackPrepared::decode(r)?),
            MessageKind::StreamPrepare => Message::StreamPrepare(Prepare::decode(r)?),
        })
    }

    /// Whether Stream Abort carries the abort LSN and time (pgoutput's `write_abort_info`).
    fn sends_abort_info(&self) -> bool {
        self.options.parallel_streaming && self.options.protocol_version >= ProtocolVersion::V4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoder() -> Decoder {
        Decoder::new(DecoderOptions::new(ProtocolVersion::V4))
    }

    #[test]
    fn empty_payload() {
        assert_eq!(decoder().decode(Bytes::new()), Err(DecodeError::Empty));
    }

    #[test]
    fn every_unknown_tag_is_refused() {
        for tag in (0..=u8::MAX).filter(|tag| MessageKind::from_tag(*tag).is_none()) {
            let payload = Bytes::from(vec![tag, 0, 0, 0, 0, 0, 0, 0, 0]);
            assert_eq!(decoder().decode(payload), Err(DecodeError::UnknownTag { tag }));
        }
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut decoder = decoder();
        decoder.decode(Bytes::from_static(&[b'S', 0, 0, 0, 1, 1])).expect("stream start");
        assert_eq!(
            decoder.decode(Bytes::from_static(&[b'E', 0])),
            Err(DecodeError::TrailingBytes { message: MessageKind::StreamStop, count: 1 })
        );
        assert_eq!(decoder.stream_xid(), Some(1));
    }

    #[test]
    fn options_are_kept() {
        let options = DecoderOptions { protocol_version: ProtocolVersion::V4, parallel_streaming: true };
        assert_eq!(Decoder::new(options).options(), options);
    }
}
