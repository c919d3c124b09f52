//! The pieces of Debezium's change events every source shares: the version, the `op` codes, the snapshot markers of
//! `source.snapshot`, topic names, and the clock the `ts_*` fields read.

use std::time::{SystemTime, UNIX_EPOCH};

use tidemark_connect::data::{SchemaBuilder, Value};

/// The Debezium version whose records these are, as `source.version` says.
pub const DEBEZIUM_VERSION: &str = "3.0.0.Final";
/// The values of `source.snapshot` (Debezium's `SnapshotRecord`), the `allowed` parameter of its Enum schema.
const SNAPSHOT_VALUES: &str = "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental";

/// Where a record stands in the snapshot (`source.snapshot`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMarker {
    /// The first record of the snapshot.
    First,
    /// The first record of a table, after the first table.
    FirstInDataCollection,
    /// Any other snapshot record.
    True,
    /// The last record of a table, before the last table.
    LastInDataCollection,
    /// The last record of the snapshot.
    Last,
    /// Not a snapshot record.
    False,
}

impl SnapshotMarker {
    /// The marker of a snapshot record from where it stands: the first of the snapshot, the first of its table, the
    /// last of its table, the last of the snapshot (the snapshot's ends win over the table's).
    pub fn of(first_overall: bool, first_in_table: bool, last_in_table: bool, last_overall: bool) -> Self {
        if last_overall {
            SnapshotMarker::Last
        } else if first_overall {
            SnapshotMarker::First
        } else if last_in_table {
            SnapshotMarker::LastInDataCollection
        } else if first_in_table {
            SnapshotMarker::FirstInDataCollection
        } else {
            SnapshotMarker::True
        }
    }

    /// The text Debezium writes.
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotMarker::First => "first",
            SnapshotMarker::FirstInDataCollection => "first_in_data_collection",
            SnapshotMarker::True => "true",
            SnapshotMarker::LastInDataCollection => "last_in_data_collection",
            SnapshotMarker::Last => "last",
            SnapshotMarker::False => "false",
        }
    }
}

/// The `op` of a change event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `c`: an insert.
    Create,
    /// `u`: an update.
    Update,
    /// `d`: a delete.
    Delete,
    /// `r`: a row read by the snapshot.
    Read,
    /// `t`: a truncate.
    Truncate,
}

impl Op {
    /// Debezium's code.
    pub fn code(self) -> &'static str {
        match self {
            Op::Create => "c",
            Op::Update => "u",
            Op::Delete => "d",
            Op::Read => "r",
            Op::Truncate => "t",
        }
    }
}

/// A topic name as Debezium makes it: characters other than letters, digits, `.`, `_` and `-` become `_`.
pub fn topic_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect()
}

/// Now, in µs since the Unix epoch.
pub fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// The schema of `source.snapshot`: Debezium's optional `io.debezium.data.Enum` of the snapshot markers, default
/// `false`.
pub fn snapshot_schema() -> SchemaBuilder {
    SchemaBuilder::string()
        .optional()
        .name(crate::names::ENUM)
        .version(1)
        .parameter("allowed", SNAPSHOT_VALUES)
        .default_value(Value::from("false"))
}
