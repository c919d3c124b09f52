//! The replication stream: after `START_REPLICATION` the connection is in CopyBoth mode; the server sends XLogData
//! and primary keepalives in CopyData frames, the client sends standby status updates.

use std::time::SystemTime;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;

use super::error::ReplicationError;
use super::lsn::Lsn;
use super::messages::{next_backend, unexpected};
use super::time::system_time_to_pg_time;
use super::transport::{Backend, FrameReader, FrameWriter};

/// The first byte of a CopyData frame carrying WAL data.
const XLOG_DATA: u8 = b'w';
/// The first byte of a CopyData frame carrying a primary keepalive.
const PRIMARY_KEEPALIVE: u8 = b'k';
/// The first byte of a standby status update.
const STANDBY_STATUS_UPDATE: u8 = b'r';
/// XLogData's header after its tag: start, end, send time.
const XLOG_DATA_HEADER: usize = 24;
/// A primary keepalive after its tag: end, send time, reply flag.
const PRIMARY_KEEPALIVE_LEN: usize = 17;

/// A message of the replication stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplicationMessage {
    /// A piece of the output plugin's output (for pgoutput, one message such as Begin, Relation, Insert, Commit).
    XLogData {
        /// The WAL position of the data.
        wal_start: Lsn,
        /// The server's current end of WAL.
        wal_end: Lsn,
        /// The server's clock when it sent this, in µs since 2000-01-01 UTC (see
        /// [`pg_time_to_system_time`](super::pg_time_to_system_time)).
        server_time: i64,
        /// The plugin's output; a slice of the read buffer, not a copy.
        data: Bytes,
    },
    /// The server's keepalive.
    PrimaryKeepalive {
        /// The server's current end of WAL.
        wal_end: Lsn,
        /// The server's clock when it sent this, in µs since 2000-01-01 UTC.
        server_time: i64,
        /// The server wants a status update right away; without one it ends the connection after
        /// `wal_sender_timeout`.
        reply_requested: bool,
    },
}

/// A connection streaming logical replication.
///
/// [`next`](Self::next) is cancel safe, so one task can wait for the next message and send status updates on a
/// timer (or when its sink acknowledged data) with `tokio::select!`:
///
/// ```no_run
/// # async fn run(mut stream: tidemark_postgres::replication::ReplicationStream)
/// #     -> Result<(), tidemark_postgres::replication::ReplicationError> {
/// use tidemark_postgres::replication::{Lsn, ReplicationMessage};
/// let mut flushed = Lsn::ZERO;
/// let mut status = tokio::time::interval(std::time::Duration::from_secs(10));
/// loop {
///     tokio::select! {
///         message = stream.next() => match message? {
///             ReplicationMessage::XLogData { data, .. } => { /* decode, hand on; later advance `flushed` */ }
///             ReplicationMessage::PrimaryKeepalive { reply_requested: true, .. } => {
///                 stream.send_status(flushed, flushed, flushed, false).await?;
///             }
///             ReplicationMessage::PrimaryKeepalive { .. } => {}
///         },
///         _ = status.tick() => stream.send_status(flushed, flushed, flushed, false).await?,
///     }
/// }
/// # }
/// ```
pub struct ReplicationStream {
    reader: FrameReader,
    writer: FrameWriter,
}

impl ReplicationStream {
    /// Wraps a connection the server just switched to CopyBoth.
    pub(crate) fn new(reader: FrameReader, writer: FrameWriter) -> Self {
        ReplicationStream { reader, writer }
    }

    /// The next XLogData or keepalive. Cancel safe. Fails with [`ReplicationError::Server`] when the server reports
    /// an error (a missing publication, for example), [`ReplicationError::StreamEnded`] when it ends the stream with
    /// CopyDone, and [`ReplicationError::Closed`] when it closes the connection.
    pub async fn next(&mut self) -> Result<ReplicationMessage, ReplicationError> {
        loop {
            match next_backend(&mut self.reader).await? {
                Backend::Message(Message::CopyData(body)) => return parse_copy_data(body.into_bytes()),
                Backend::Message(Message::CopyDone) => return Err(ReplicationError::StreamEnded),
                Backend::Message(Message::ParameterStatus(_)) => {}
                Backend::Message(other) => return Err(unexpected(&other, "the replication stream")),
                Backend::CopyBothResponse => {
                    return Err(ReplicationError::Protocol("a second CopyBothResponse".to_owned()));
                }
            }
        }
    }

    /// Sends a standby status update, stamped with the current time: WAL up to `written` is received, up to
    /// `flushed` is durable (for a logical slot this becomes `confirmed_flush_lsn`: the server may recycle WAL
    /// before it, and a restarted stream resumes there), up to `applied` is applied. Each position is the end of
    /// what it covers (the last byte + 1). `reply_requested` asks the server for a keepalive back. Flushed before it
    /// returns. Not cancel safe: do not race it against other futures.
    pub async fn send_status(
        &mut self,
        written: Lsn,
        flushed: Lsn,
        applied: Lsn,
        reply_requested: bool,
    ) -> Result<(), ReplicationError> {
        let update = standby_status_update(written, flushed, applied, SystemTime::now(), reply_requested);
        self.writer.send(|buf| frontend::CopyData::new(&update[..]).map(|data| data.write(buf))).await
    }
}

/// Parses the body of a CopyData frame of the stream.
fn parse_copy_data(mut data: Bytes) -> Result<ReplicationMessage, ReplicationError> {
    let Some(&tag) = data.first() else {
        return Err(ReplicationError::Protocol("an empty CopyData in the replication stream".to_owned()));
    };
    data.advance(1);
    match tag {
        XLOG_DATA if data.len() >= XLOG_DATA_HEADER => {
            let wal_start = Lsn(data.get_u64());
            let wal_end = Lsn(data.get_u64());
            let server_time = data.get_i64();
            Ok(ReplicationMessage::XLogData { wal_start, wal_end, server_time, data })
        }
        PRIMARY_KEEPALIVE if data.len() == PRIMARY_KEEPALIVE_LEN => {
            let wal_end = Lsn(data.get_u64());
            let server_time = data.get_i64();
            let reply_requested = data.get_u8() != 0;
            Ok(ReplicationMessage::PrimaryKeepalive { wal_end, server_time, reply_requested })
        }
        XLOG_DATA | PRIMARY_KEEPALIVE => Err(ReplicationError::Protocol(format!(
            "a {:?} message of {} bytes in the replication stream",
            tag as char,
            data.len() + 1
        ))),
        other => Err(ReplicationError::Protocol(format!("a {:?} message in the replication stream", other as char))),
    }
}

/// The body of a standby status update ('r').
fn standby_status_update(written: Lsn, flushed: Lsn, applied: Lsn, now: SystemTime, reply_requested: bool) -> Bytes {
    let mut update = BytesMut::with_capacity(34);
    update.put_u8(STANDBY_STATUS_UPDATE);
    update.put_u64(written.0);
    update.put_u64(flushed.0);
    update.put_u64(applied.0);
    update.put_i64(system_time_to_pg_time(now));
    update.put_u8(u8::from(reply_requested));
    update.freeze()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn parses_xlog_data_and_keepalives() {
        let mut frame = vec![b'w'];
        frame.extend_from_slice(&0x10u64.to_be_bytes());
        frame.extend_from_slice(&0x20u64.to_be_bytes());
        frame.extend_from_slice(&7i64.to_be_bytes());
        frame.extend_from_slice(b"Bpayload");
        assert_eq!(
            parse_copy_data(Bytes::from(frame)).expect("xlogdata"),
            ReplicationMessage::XLogData {
                wal_start: Lsn(0x10),
                wal_end: Lsn(0x20),
                server_time: 7,
                data: Bytes::from_static(b"Bpayload")
            }
        );
        let mut frame = vec![b'k'];
        frame.extend_from_slice(&0x30u64.to_be_bytes());
        frame.extend_from_slice(&(-1i64).to_be_bytes());
        frame.push(1);
        assert_eq!(
            parse_copy_data(Bytes::from(frame)).expect("keepalive"),
            ReplicationMessage::PrimaryKeepalive { wal_end: Lsn(0x30), server_time: -1, reply_requested: true }
        );
    }

    #[test]
    fn rejects_short_and_unknown_messages() {
        for frame in [&b""[..], b"w\0\0", b"k\0", b"x123"] {
            assert!(matches!(parse_copy_data(Bytes::copy_from_slice(frame)), Err(ReplicationError::Protocol(_))));
        }
    }

    #[test]
    fn encodes_a_standby_status_update() {
        let now = UNIX_EPOCH + Duration::from_secs(946_684_800) + Duration::from_micros(5);
        let update = standby_status_update(Lsn(1), Lsn(2), Lsn(3), now, true);
        let mut expected = vec![b'r'];
        for value in [1u64, 2, 3, 5] {
            expected.extend_from_slice(&value.to_be_bytes());
        }
        expected.push(1);
        assert_eq!(&update[..], &expected[..]);
    }
}
