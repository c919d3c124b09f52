//! Connecting to the server: the settings check, the flavour, the current position, and starting a stream.

use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStreamRequest, Conn, Opts, Row};

use super::error::BinlogError;
use super::flavor::Flavor;
use super::position::BinlogPosition;
use super::stream::BinlogEventStream;

/// Reads the binary log of one server as a replica with a given server id.
#[derive(Debug, Clone)]
pub struct BinlogReader {
    opts: Opts,
    server_id: u32,
    flavor: Flavor,
    checksum: bool,
}

impl BinlogReader {
    /// Connects, checks that the server logs full row images (`binlog_format=ROW`, `binlog_row_image=FULL`; any
    /// other value is [`BinlogError::Setting`]) and detects the flavour. `server_id` must differ from every other
    /// replica's.
    pub async fn connect(opts: Opts, server_id: u32) -> Result<Self, BinlogError> {
        let mut conn = Conn::new(opts.clone()).await?;
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
        const QUERY: &str = "SHOW MASTER STATUS";
        let mut conn = Conn::new(self.opts.clone()).await?;
        let row: Row = conn.query_first(QUERY).await?.ok_or(BinlogError::UnexpectedAnswer { query: QUERY })?;
        let file: String = row.get(0).ok_or(BinlogError::UnexpectedAnswer { query: QUERY })?;
        let pos: u64 = row.get(1).ok_or(BinlogError::UnexpectedAnswer { query: QUERY })?;
        let gtids: Option<String> = conn.query_first(format!("SELECT {}", self.flavor.gtid_variable())).await?;
        conn.disconnect().await?;
        Ok(BinlogPosition { file, pos, gtids: gtids.unwrap_or_default() })
    }

    /// Streams the binary log from `file` at offset `pos` on a new connection. On MariaDB the stream includes its
    /// GTID events (`@mariadb_slave_capability=4`).
    pub async fn stream_from(&self, file: &str, pos: u64) -> Result<BinlogEventStream, BinlogError> {
        let mut conn = Conn::new(self.opts.clone()).await?;
        if self.flavor == Flavor::MariaDb {
            conn.query_drop("SET @mariadb_slave_capability=4").await?;
        }
        conn.query_drop("SET @master_binlog_checksum=@@global.binlog_checksum").await?;
        let request = BinlogStreamRequest::new(self.server_id).with_filename(file.as_bytes()).with_pos(pos);
        let stream = conn.get_binlog_stream(request).await?;
        Ok(BinlogEventStream::new(stream, self.checksum))
    }
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
