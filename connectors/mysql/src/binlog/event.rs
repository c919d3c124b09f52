//! The typed events the reader yields.

use std::sync::Arc;

use mysql_async::binlog::row::BinlogRow;

use super::gtid::MySqlGtid;
use super::mariadb::{MariaDbGtid, MariaDbGtidList};
use super::table_map::TableMap;

/// One binlog event with the header fields a source needs to track its position.
#[derive(Debug, Clone)]
pub struct BinlogEntry {
    /// The server that wrote the event.
    pub server_id: u32,
    /// When it was written (seconds since the epoch).
    pub timestamp: u32,
    /// The binlog file holding the event, known from the ROTATE events (a real ROTATE is in the file it ends; an
    /// artificial one, such as the first of every stream, names the file the events after it are in).
    pub file: Arc<str>,
    /// The offset in `file` just after this event (0 for artificial events such as the first ROTATE): with `file`,
    /// where to resume after it.
    pub next_pos: u32,
    /// The event.
    pub event: BinlogEvent,
}

/// A binlog event the reader decoded. Events a source has no use for (FORMAT_DESCRIPTION, MariaDB's ANNOTATE_ROWS,
/// heartbeats, ...) are skipped.
#[derive(Debug, Clone)]
pub enum BinlogEvent {
    /// The stream continues in another file (the first one of a stream is artificial and names the start file).
    Rotate {
        /// The next file.
        file: String,
        /// The offset in it.
        pos: u64,
    },
    /// MariaDB's GTID event: an event group (transaction or DDL) starts.
    MariaDbGtid {
        /// Its GTID.
        gtid: MariaDbGtid,
        /// The group is a single statement (DDL) with no COMMIT or XID after it.
        standalone: bool,
        /// The group commit id, when the group was committed together with others.
        commit_id: Option<u64>,
    },
    /// MySQL's GTID event: a transaction starts.
    MySqlGtid {
        /// Its GTID, `uuid:gno`.
        gtid: MySqlGtid,
    },
    /// MariaDB's GTID_LIST event, at the start of each binlog file.
    MariaDbGtidList(MariaDbGtidList),
    /// MariaDB's BINLOG_CHECKPOINT event.
    BinlogCheckpoint {
        /// The oldest binlog file still needed for crash recovery.
        file: String,
    },
    /// The description of a table the following rows events use.
    TableMap(Arc<TableMap>),
    /// Rows inserted, updated or deleted in one table.
    Rows(RowsChange),
    /// A statement: DDL, or `BEGIN` of a transaction.
    Query {
        /// The id of the session (connection) that ran it.
        thread: u32,
        /// The default database it ran in.
        schema: String,
        /// Its text.
        query: String,
    },
    /// The commit of a transaction.
    Xid {
        /// The transaction's XID.
        xid: u64,
    },
}

/// What a rows event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowsKind {
    /// WRITE_ROWS: after images only.
    Insert,
    /// UPDATE_ROWS: before and after images.
    Update,
    /// DELETE_ROWS: before images only.
    Delete,
}

/// The rows of one rows event, decoded with their table map.
#[derive(Debug, Clone)]
pub struct RowsChange {
    /// Insert, update or delete.
    pub kind: RowsKind,
    /// The table, as its table map event described it.
    pub table: Arc<TableMap>,
    /// Per row, its before image (update, delete) and after image (insert, update), values in column order.
    pub rows: Vec<(Option<BinlogRow>, Option<BinlogRow>)>,
}
