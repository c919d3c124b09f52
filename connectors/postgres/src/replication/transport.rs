//! The byte stream under a replication connection, cut into protocol frames (a tag byte, a big-endian `i32` length
//! that counts itself, the body).
//!
//! The connection is split into a reading and a writing half so a replication stream can wait for the next message
//! and send status updates independently. Both halves are boxed trait objects, over a TCP socket or a TLS stream
//! alike ([`open`] sends the SSLRequest and shakes hands first when `sslmode` asks for TLS).

use std::io;

use bytes::{Buf, BytesMut};
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::config::ConnectConfig;
use super::error::ReplicationError;
use crate::tls::Negotiation;

/// The tag of CopyBothResponse, which `postgres-protocol`'s backend parser does not know.
const COPY_BOTH_RESPONSE_TAG: u8 = b'W';
/// Bytes of a frame header: the tag and the length.
const HEADER_LEN: usize = 5;
/// How much room a read asks for at least: big enough that a busy stream is read in few system calls.
const READ_CHUNK: usize = 64 * 1024;

/// A message from the server.
pub(crate) enum Backend {
    /// The server entered CopyBoth mode (the answer to `START_REPLICATION`).
    CopyBothResponse,
    /// Any other message, parsed by `postgres-protocol`.
    Message(Message),
}

/// Connects to `config`'s server and, as `negotiation` says, asks for TLS (SSLRequest) and shakes hands on the same
/// socket; returns the connection's two framed halves, ready for the StartupMessage.
pub(crate) async fn open(
    config: &ConnectConfig,
    negotiation: Negotiation,
) -> Result<(FrameReader, FrameWriter), ReplicationError> {
    let address = || format!("{}:{}", config.host, config.port);
    let mut stream = TcpStream::connect((config.host.as_str(), config.port))
        .await
        .map_err(|source| ReplicationError::Connect { address: address(), source })?;
    stream.set_nodelay(true)?;
    if negotiation == Negotiation::Plain {
        return Ok(split_tcp(stream));
    }
    let mut request = BytesMut::new();
    frontend::ssl_request(&mut request);
    stream.write_all(&request).await?;
    // One byte and no more: whatever follows an 'S' belongs to the TLS handshake, never to the protocol.
    match stream.read_u8().await? {
        b'S' => {
            let tls = config
                .tls
                .handshake(&config.host, stream)
                .await
                .map_err(|source| ReplicationError::Tls { address: address(), source })?;
            let (read, write) = tokio::io::split(tls);
            Ok((FrameReader::new(Box::new(read)), FrameWriter::new(Box::new(write))))
        }
        b'N' if negotiation == Negotiation::Prefer => Ok(split_tcp(stream)),
        b'N' => Err(ReplicationError::NoTls { address: address() }),
        other => Err(ReplicationError::Protocol(format!("answer {other:#04x} to SSLRequest (expected 'S' or 'N')"))),
    }
}

/// Splits a connected socket into its two framed halves.
fn split_tcp(stream: TcpStream) -> (FrameReader, FrameWriter) {
    let (read, write) = stream.into_split();
    (FrameReader::new(Box::new(read)), FrameWriter::new(Box::new(write)))
}

/// Reads whole frames into one growing buffer; a frame's body is handed out without copying.
pub(crate) struct FrameReader {
    io: Box<dyn AsyncRead + Send + Unpin>,
    buf: BytesMut,
}

impl FrameReader {
    /// A reader over `io`.
    pub(crate) fn new(io: Box<dyn AsyncRead + Send + Unpin>) -> Self {
        FrameReader { io, buf: BytesMut::with_capacity(READ_CHUNK) }
    }

    /// The next message. Cancel safe: bytes read before a cancellation stay buffered for the next call.
    pub(crate) async fn read_message(&mut self) -> Result<Backend, ReplicationError> {
        let (tag, frame_len) = self.buffer_frame().await?;
        if tag == COPY_BOTH_RESPONSE_TAG {
            // The body (overall format and column formats) says nothing a replication client needs.
            self.buf.advance(frame_len);
            return Ok(Backend::CopyBothResponse);
        }
        match Message::parse(&mut self.buf) {
            Ok(Some(message)) => Ok(Backend::Message(message)),
            Ok(None) => Err(ReplicationError::Protocol("a buffered frame did not parse as whole".to_owned())),
            Err(error) => {
                Err(ReplicationError::Protocol(format!("malformed message with tag {:?}: {error}", tag as char)))
            }
        }
    }

    /// Reads until the buffer holds a whole frame; returns its tag and length, header included.
    async fn buffer_frame(&mut self) -> Result<(u8, usize), ReplicationError> {
        loop {
            let mut wanted = HEADER_LEN;
            if self.buf.len() >= HEADER_LEN {
                let length = i32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]);
                let frame_len = usize::try_from(length)
                    .ok()
                    .filter(|length| *length >= 4)
                    .map(|length| length + 1)
                    .ok_or_else(|| ReplicationError::Protocol(format!("invalid frame length {length}")))?;
                if self.buf.len() >= frame_len {
                    return Ok((self.buf[0], frame_len));
                }
                wanted = frame_len;
            }
            // Room for the rest of this frame, and at least a chunk so small frames arrive many per read.
            self.buf.reserve((wanted - self.buf.len()).max(READ_CHUNK));
            if self.io.read_buf(&mut self.buf).await? == 0 {
                return Err(ReplicationError::Closed);
            }
        }
    }
}

/// Encodes messages into a reused buffer and writes each one out, flushed.
pub(crate) struct FrameWriter {
    io: Box<dyn AsyncWrite + Send + Unpin>,
    buf: BytesMut,
}

impl FrameWriter {
    /// A writer over `io`.
    pub(crate) fn new(io: Box<dyn AsyncWrite + Send + Unpin>) -> Self {
        FrameWriter { io, buf: BytesMut::new() }
    }

    /// Encodes one or more messages with `encode` and sends them, flushed. Not cancel safe: a cancelled send may
    /// leave half a message on the wire.
    pub(crate) async fn send(
        &mut self,
        encode: impl FnOnce(&mut BytesMut) -> io::Result<()>,
    ) -> Result<(), ReplicationError> {
        self.buf.clear();
        encode(&mut self.buf)?;
        self.io.write_all(&self.buf).await?;
        self.io.flush().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use postgres_protocol::message::backend::Message;
    use tokio::io::AsyncWriteExt;

    use super::*;

    fn frame(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut frame = vec![tag];
        frame.extend_from_slice(&i32::try_from(body.len() + 4).expect("small").to_be_bytes());
        frame.extend_from_slice(body);
        frame
    }

    #[tokio::test]
    async fn reassembles_frames_split_across_reads() {
        // A 3-byte pipe forces every frame to arrive in pieces.
        let (mut server, client) = tokio::io::duplex(3);
        let big = vec![7u8; 300_000];
        let mut wire = frame(b'W', &[0, 0, 0]);
        wire.extend(frame(b'd', &big));
        wire.extend(frame(b'Z', b"I"));
        tokio::spawn(async move { server.write_all(&wire).await });

        let mut reader = FrameReader::new(Box::new(client));
        assert!(matches!(reader.read_message().await, Ok(Backend::CopyBothResponse)));
        match reader.read_message().await {
            Ok(Backend::Message(Message::CopyData(body))) => assert_eq!(body.data(), &big[..]),
            _ => panic!("expected CopyData"),
        }
        match reader.read_message().await {
            Ok(Backend::Message(Message::ReadyForQuery(body))) => assert_eq!(body.status(), b'I'),
            _ => panic!("expected ReadyForQuery"),
        }
        assert!(matches!(reader.read_message().await, Err(ReplicationError::Closed)));
    }

    #[tokio::test]
    async fn rejects_a_negative_length() {
        let mut reader = FrameReader::new(Box::new(&[b'd', 0xFF, 0xFF, 0xFF, 0xFF][..]));
        assert!(matches!(reader.read_message().await, Err(ReplicationError::Protocol(_))));
    }

    #[tokio::test]
    async fn many_small_frames_in_one_read() {
        let wire: Vec<u8> = (0..1000).flat_map(|_| frame(b'd', b"k")).collect();
        let mut reader = FrameReader::new(Box::new(std::io::Cursor::new(wire)));
        for _ in 0..1000 {
            assert!(matches!(reader.read_message().await, Ok(Backend::Message(Message::CopyData(_)))));
        }
        assert!(matches!(reader.read_message().await, Err(ReplicationError::Closed)));
    }
}
