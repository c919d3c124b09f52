//! A position in the binary log.

/// Where the server's binary log stands: a file and offset, and the executed GTID set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinlogPosition {
    /// The binlog file name, such as `binlog.000001`.
    pub file: String,
    /// The offset in it of the next event.
    pub pos: u64,
    /// The executed GTID set in the flavour's text form (MariaDB `0-1-17`, MySQL `uuid:1-17`); empty when none.
    pub gtids: String,
}
