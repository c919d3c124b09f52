//! Connecting to the server: the settings check, the flavour, the current position, the binlog files, and starting a
//! stream from a file and position or from a GTID set.

use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStreamRequest, Conn, Row};

use super::error::{BinlogError, GtidError};
use super::flavor::Flavor;
use super::gtid::GtidSet;
use super::position::BinlogPosition;
use super::stream::BinlogEventStream;
use crate::tls::ConnectOpts;

/// Reads the binary log of one server as a replica with a given server id.
#[derive(Debug, Clone)]
pub struct BinlogReader {
    opts: ConnectOpts,
    server_id: u32,
    flavor: Flavor,
    checksum: bool,
}

impl BinlogReader {
    /// Connects, checks that the server logs full row images (`binlog_format=ROW`, `binlog_row_image=FULL`; any
    /// other value is [`BinlogError::Setting`]) and detects the flavour. `server_id` must differ from every other
    /// replica's. Every connection the reader opens (the binlog stream's too) uses `opts`, TLS included.
    pub async fn connect(opts: impl Into<ConnectOpts>, server_id: u32) -> Result<Self, BinlogError> {
        let opts = opts.into();
        let mut conn = opts.connect().await?;
        let version = query_string(&mut conn, "SELECT VERSION()").await?;
        let flavor = Flavor::from_version(&version);
        check_setting(&mut conn, "binlog_format", "SELECT @@global.binlog_format", "ROW").await?;
        check_setting(&mut conn, "binlog_row_image", "SELECT @@global.binlog_row_image", "FULL").await?;
        let checksum = query_string(&mut conn, "SELECT @@global.binlog_checksum").await?;
        conn.disconnect().await?;
        tracing::debug!(%version, ?flavor, %checksum, "connected for binlog reading");
        Ok(BinlogReader { opts, server_id, flavor, checksum: !checksum.eq_ignore_ascii_case("NONE") })
    }

    /// MySQL or MariaDB.
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// Where the binary log stands now: `SHOW MASTER STATUS` and the executed GTID set.
    pub async fn current_position(&self) -> Result<BinlogPosition, BinlogError> {
        let mut conn = self.opts.connect().await?;
        let position = position_on(&mut conn, self.flavor).await?;
        conn.disconnect().await?;
        Ok(position)
    }

    /// Streams the binary log from `file` at offset `pos` on a new connection. On MariaDB the stream includes its
    /// GTID events (`@mariadb_slave_capability=4`). A file the server no longer has is [`BinlogError::Purged`].
    pub async fn stream_from(&self, file: &str, pos: u64) -> Result<BinlogEventStream, BinlogError> {
        let conn = self.replication_connection().await?;
        let request = BinlogStreamRequest::new(self.server_id).with_filename(file.as_bytes()).with_pos(pos);
        let stream = conn.get_binlog_stream(request).await?;
        BinlogEventStream::start(stream, file, self.checksum).await
    }

    /// Streams the binary log from the first transaction not in `gtids`, on a new connection. MariaDB resumes after
    /// each domain's GTID (`@slave_connect_state` and COM_BINLOG_DUMP without a file), MySQL sends every
    /// transaction missing from the set (COM_BINLOG_DUMP_GTID). The first event, an artificial ROTATE, names the file
    /// the stream starts in. A set whose transactions the server no longer has (its files purged) or never had is
    /// [`BinlogError::Purged`]; a set of the other flavour is [`BinlogError::Gtid`].
    pub async fn stream_from_gtids(&self, gtids: &GtidSet) -> Result<BinlogEventStream, BinlogError> {
        if gtids.flavor() != self.flavor {
            let (expected, actual, text) = (self.flavor, gtids.flavor(), gtids.to_string());
            return Err(GtidError::FlavorMismatch { expected, actual, text }.into());
        }
        let mut conn = self.replication_connection().await?;
        let request = BinlogStreamRequest::new(self.server_id);
        let request = match gtids.to_sids() {
            Some(sids) => request.with_gtid().with_gtid_set(sids),
            None => {
                // A MariaDB set prints as digits, dashes and commas only: nothing to quote. The server only reads
                // @slave_gtid_strict_mode and @slave_gtid_ignore_duplicates when set; unset they are off.
                conn.query_drop(format!("SET @slave_connect_state = '{gtids}'")).await?;
                request
            }
        };
        let stream = conn.get_binlog_stream(request).await?;
        BinlogEventStream::start(stream, "", self.checksum).await
    }

    /// Whether the server still has the binlog file `name` (`SHOW BINARY LOGS`): a source can tell before
    /// streaming that the file it stopped in was purged.
    pub async fn has_file(&self, name: &str) -> Result<bool, BinlogError> {
        const QUERY: &str = "SHOW BINARY LOGS";
        let mut conn = self.opts.connect().await?;
        let rows: Vec<Row> = conn.query(QUERY).await?;
        conn.disconnect().await?;
        for row in rows {
            let file: String =
                row.get_opt(0).and_then(Result::ok).ok_or(BinlogError::UnexpectedAnswer { query: QUERY })?;
            if file == name {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// A new connection prepared for a dump request: MariaDB's GTID events asked for, checksums as the server
    /// writes them.
    async fn replication_connection(&self) -> Result<Conn, BinlogError> {
        let mut conn = self.opts.connect().await?;
        if self.flavor == Flavor::MariaDb {
            conn.query_drop("SET @mariadb_slave_capability=4").await?;
        }
        conn.query_drop("SET @master_binlog_checksum=@@global.binlog_checksum").await?;
        Ok(conn)
    }
}

/// Where the binary log stands, read on `conn` (inside a caller's lock or transaction when it needs one): the file
/// and offset from `SHOW BINARY LOG STATUS` (MySQL 8.4 and later) or `SHOW MASTER STATUS`, and the flavour's executed
/// GTID set.
pub async fn position_on(conn: &mut Conn, flavor: Flavor) -> Result<BinlogPosition, BinlogError> {
    const QUERY: &str = "SHOW MASTER STATUS";
    let row: Option<Row> = match conn.query_first("SHOW BINARY LOG STATUS").await {
        Ok(row) => row,
        // MariaDB and MySQL before 8.2 do not know the new name.
        Err(mysql_async::Error::Server(_)) => conn.query_first(QUERY).await?,
        Err(other) => return Err(other.into()),
    };
    let row = row.ok_or(BinlogError::UnexpectedAnswer { query: QUERY })?;
    let file: String = row.get(0).ok_or(BinlogError::UnexpectedAnswer { query: QUERY })?;
    let pos: u64 = row.get(1).ok_or(BinlogError::UnexpectedAnswer { query: QUERY })?;
    let gtids: Option<String> = conn.query_first(format!("SELECT {}", flavor.gtid_variable())).await?;
    // MySQL writes long GTID sets over several lines.
    Ok(BinlogPosition { file, pos, gtids: gtids.unwrap_or_default().replace('\n', "") })
}

/// Fails with [`BinlogError::Setting`] unless the global variable `variable` (read by `query`) is `required`.
async fn check_setting(
    conn: &mut Conn,
    variable: &'static str,
    query: &'static str,
    required: &'static str,
) -> Result<(), BinlogError> {
    let actual = query_string(conn, query).await?;
    if actual.eq_ignore_ascii_case(required) {
        Ok(())
    } else {
        Err(BinlogError::Setting { variable, actual, required })
    }
}

/// The first column of the first row of `query`, as text.
async fn query_string(conn: &mut Conn, query: &'static str) -> Result<String, BinlogError> {
    let value: Option<String> = conn.query_first(query).await?;
    value.ok_or(BinlogError::UnexpectedAnswer { query })
}
