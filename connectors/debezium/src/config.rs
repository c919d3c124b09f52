//! The settings every Debezium source declares and reads the same way: `topic.prefix`, the table, column and
//! container lists, `message.key.columns`, `snapshot.mode`, `tombstones.on.delete`, `heartbeat.interval.ms`,
//! `provide.transaction.metadata` and `skipped.operations`, with the checks their values must pass.

use tidemark_connect::config::{ConfigKey, ConfigType, Importance, Validator};

use crate::filters::TableFilter;
use crate::message_key::MessageKeyColumns;

/// What holds a source's tables, naming its list settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// Postgres: `schema.include.list` / `schema.exclude.list`, tables named `<schema>.<table>`.
    Schema,
    /// MySQL: `database.include.list` / `database.exclude.list`, tables named `<database>.<table>`.
    Database,
}

impl Container {
    /// `schema` or `database`, as the list settings start.
    pub fn kind(self) -> &'static str {
        match self {
            Container::Schema => "schema",
            Container::Database => "database",
        }
    }
}

/// What `snapshot.mode` asks for at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMode {
    /// `initial`: a snapshot when there is no stored position (or the last one did not finish), then streaming.
    Initial,
    /// `initial_only`: a snapshot when there is no stored position, and no streaming.
    InitialOnly,
    /// `no_data` (alias `never`): streaming only.
    NoData,
    /// `always`: a snapshot at every start, then streaming.
    Always,
    /// `when_needed`: as `initial`, and a new snapshot when the stored position can no longer be streamed from.
    WhenNeeded,
}

/// The values `snapshot.mode` accepts.
pub const SNAPSHOT_MODES: &[&str] = &["initial", "initial_only", "no_data", "never", "always", "when_needed"];

impl SnapshotMode {
    /// The mode a checked `snapshot.mode` value names (compared without regard to case).
    pub fn parse(value: &str) -> Self {
        match value.trim().to_ascii_lowercase().as_str() {
            "initial_only" => SnapshotMode::InitialOnly,
            "no_data" | "never" => SnapshotMode::NoData,
            "always" => SnapshotMode::Always,
            "when_needed" => SnapshotMode::WhenNeeded,
            _ => SnapshotMode::Initial,
        }
    }
}

/// Which change operations are not emitted (`skipped.operations`; Debezium's default skips truncates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SkippedOperations {
    /// `c`: inserts.
    pub creates: bool,
    /// `u`: updates.
    pub updates: bool,
    /// `d`: deletes.
    pub deletes: bool,
    /// `t`: truncates.
    pub truncates: bool,
}

impl SkippedOperations {
    /// Whether events with this `op` code are skipped.
    pub fn skips(&self, op: &str) -> bool {
        match op {
            "c" => self.creates,
            "u" => self.updates,
            "d" => self.deletes,
            "t" => self.truncates,
            _ => false,
        }
    }

    /// Reads the setting: operation codes separated by commas, or `none`.
    pub fn parse(value: &str) -> Result<Self, String> {
        let mut skipped = SkippedOperations::default();
        for op in value.split(',').map(str::trim).filter(|op| !op.is_empty()) {
            match op.to_ascii_lowercase().as_str() {
                "c" => skipped.creates = true,
                "u" => skipped.updates = true,
                "d" => skipped.deletes = true,
                "t" => skipped.truncates = true,
                "none" => {}
                other => return Err(format!("unknown operation '{other}' (expected c, u, d, t or none)")),
            }
        }
        Ok(skipped)
    }
}

/// The declarations of the shared settings, for a source whose tables are in `container`s.
pub fn common_config_keys(container: Container) -> Vec<ConfigKey> {
    let (include, exclude, include_doc, exclude_doc) = match container {
        Container::Schema => (
            "schema.include.list",
            "schema.exclude.list",
            "Regular expressions of the schemas to capture.",
            "Regular expressions of the schemas not to capture.",
        ),
        Container::Database => (
            "database.include.list",
            "database.exclude.list",
            "Regular expressions of the databases to capture.",
            "Regular expressions of the databases not to capture.",
        ),
    };
    vec![
        ConfigKey::required(
            "topic.prefix",
            ConfigType::String,
            "The prefix of every topic (<prefix>.<schema or database>.<table>) and the server name in events and \
             offsets.",
        )
        .checked(check_topic_prefix),
        list_key(include, include_doc),
        list_key(exclude, exclude_doc),
        list_key("table.include.list", "Regular expressions of the tables (<schema or database>.<table>) to capture."),
        list_key(
            "table.exclude.list",
            "Regular expressions of the tables (<schema or database>.<table>) not to capture.",
        ),
        list_key(
            "column.include.list",
            "Regular expressions of the columns (<schema or database>.<table>.<column>) events carry in before and \
             after.",
        ),
        list_key(
            "column.exclude.list",
            "Regular expressions of the columns (<schema or database>.<table>.<column>) left out of before and after \
             (key columns stay in the key).",
        ),
        ConfigKey::optional(
            "message.key.columns",
            ConfigType::String,
            "",
            "The columns that key a table's events instead of its primary key: \
             <table regex>:<column>[,<column>...][;<table regex>:<column>...].",
        )
        .checked(MessageKeyColumns::check),
        ConfigKey::optional(
            "snapshot.mode",
            ConfigType::String,
            "initial",
            "initial, initial_only, no_data (or never), always, when_needed.",
        )
        .one_of(SNAPSHOT_MODES)
        .importance(Importance::High),
        ConfigKey::optional(
            "tombstones.on.delete",
            ConfigType::Boolean,
            "true",
            "Follow each delete event with a tombstone.",
        ),
        ConfigKey::optional(
            "heartbeat.interval.ms",
            ConfigType::Int,
            "0",
            "Emit a heartbeat record to __debezium-heartbeat.<prefix> at this interval, so the stored position moves \
             while the captured tables are idle; 0 for none.",
        )
        .checked(non_negative),
        ConfigKey::optional(
            "heartbeat.action.query",
            ConfigType::String,
            "",
            "A statement run on the source database at each heartbeat (for instance an update of a heartbeat table, \
             so an otherwise idle database moves its log position).",
        ),
        ConfigKey::optional(
            "provide.transaction.metadata",
            ConfigType::Boolean,
            "false",
            "Emit BEGIN and END records of each transaction on <prefix>.transaction and a transaction block (id, \
             total_order, data_collection_order) in each change event.",
        ),
        ConfigKey::optional(
            "topic.transaction",
            ConfigType::String,
            "transaction",
            "The transaction metadata topic is <topic.prefix>.<topic.transaction>.",
        ),
        ConfigKey::optional(
            "skipped.operations",
            ConfigType::List,
            "t",
            "Operations not emitted: any of c, u, d, t, or none.",
        )
        .checked(|v| SkippedOperations::parse(v).map(drop)),
    ]
}

/// The transaction metadata topic of `props`: `<topic.prefix>.<topic.transaction>`.
pub fn transaction_topic(prefix: &str, props: &std::collections::BTreeMap<String, String>) -> String {
    let suffix = props.get("topic.transaction").map(|s| s.trim()).filter(|s| !s.is_empty()).unwrap_or("transaction");
    format!("{prefix}.{suffix}")
}

/// A list of regular expressions.
fn list_key(name: &'static str, doc: &'static str) -> ConfigKey {
    ConfigKey::optional(name, ConfigType::List, "", doc).checked(TableFilter::check_patterns)
}

/// A validator: a whole number of 0 or more.
pub const NON_NEGATIVE: Validator = non_negative;
/// A validator: a whole number of 1 or more.
pub const POSITIVE: Validator = positive;

fn non_negative(v: &str) -> Result<(), String> {
    match v.trim().parse::<i64>() {
        Ok(n) if n >= 0 => Ok(()),
        _ => Err("must be 0 or more".to_owned()),
    }
}

fn positive(v: &str) -> Result<(), String> {
    match v.trim().parse::<i64>() {
        Ok(n) if n > 0 => Ok(()),
        _ => Err("must be at least 1".to_owned()),
    }
}

/// Topic names allow letters, digits, `.`, `_` and `-` (Kafka's rule, which Debezium applies to the prefix).
fn check_topic_prefix(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        Ok(())
    } else {
        Err("may contain only letters, digits, '.', '_' and '-'".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_operations() {
        assert_eq!(SnapshotMode::parse("NEVER"), SnapshotMode::NoData);
        assert_eq!(SnapshotMode::parse("when_needed"), SnapshotMode::WhenNeeded);
        assert_eq!(SkippedOperations::parse("none"), Ok(SkippedOperations::default()));
        let skipped = SkippedOperations::parse("c, t").expect("valid");
        assert!(skipped.skips("c") && skipped.skips("t") && !skipped.skips("u"));
        assert!(SkippedOperations::parse("c,x").is_err());
    }

    #[test]
    fn container_lists_are_named_after_the_container() {
        let names = |c| common_config_keys(c).iter().map(|k| k.name).collect::<Vec<_>>();
        assert!(names(Container::Schema).contains(&"schema.include.list"));
        assert!(names(Container::Database).contains(&"database.exclude.list"));
        assert!(check_topic_prefix("pg 1").is_err() && check_topic_prefix("my-sql.1").is_ok());
    }
}
