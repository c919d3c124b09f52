//! The replication commands this client sends, their quoting, and their typed answers.

use super::error::ReplicationError;
use super::lsn::Lsn;
use super::query::QueryResult;

/// The first server version with the parenthesized `CREATE_REPLICATION_SLOT` options (`(SNAPSHOT 'export')`);
/// earlier versions take the keywords `EXPORT_SNAPSHOT`, `NOEXPORT_SNAPSHOT`, `USE_SNAPSHOT`.
const PARENTHESIZED_SLOT_OPTIONS: u32 = 15;

/// Quotes `name` as an identifier (`"name"`, inner `"` doubled), so its case and punctuation are kept. Use it for a
/// `publication_names` value: the option is a comma-separated list of identifiers.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes `value` as a string literal (`'value'`, inner `'` doubled). The replication command grammar has no
/// backslash escapes.
pub(crate) fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// What `CREATE_REPLICATION_SLOT` does with the snapshot at the slot's consistent point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotAction {
    /// Export it under a name other sessions pass to `SET TRANSACTION SNAPSHOT`; it stays valid until the next
    /// command on the replication connection, or the connection's end.
    Export,
    /// Neither export nor use it.
    NoExport,
    /// Make it the snapshot of the transaction open on the replication connection (`BEGIN ISOLATION LEVEL
    /// REPEATABLE READ` there first).
    Use,
}

/// The answer to `IDENTIFY_SYSTEM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifySystem {
    /// The cluster's unique system identifier (a 64-bit number, as text).
    pub systemid: String,
    /// The current timeline.
    pub timeline: u32,
    /// The current WAL flush position.
    pub xlogpos: Lsn,
    /// The database connected to (`None` on a physical replication connection).
    pub dbname: Option<String>,
}

/// The answer to `CREATE_REPLICATION_SLOT ... LOGICAL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotCreated {
    /// The position from which the slot streams: every transaction committing after it, none before. Changes
    /// committed before it are in the snapshot.
    pub consistent_point: Lsn,
    /// The exported snapshot's name with [`SnapshotAction::Export`]; valid only until the next command on the
    /// replication connection or its end.
    pub snapshot_name: Option<String>,
}

impl IdentifySystem {
    /// Reads the single row of the answer.
    pub(crate) fn from_result(result: &QueryResult) -> Result<Self, ReplicationError> {
        let timeline = required(result, "IDENTIFY_SYSTEM", "timeline")?;
        Ok(IdentifySystem {
            systemid: required(result, "IDENTIFY_SYSTEM", "systemid")?.to_owned(),
            timeline: timeline.parse().map_err(|_| invalid("IDENTIFY_SYSTEM", "timeline", timeline))?,
            xlogpos: lsn(result, "IDENTIFY_SYSTEM", "xlogpos")?,
            dbname: result.value(0, "dbname").map(str::to_owned),
        })
    }
}

impl SlotCreated {
    /// Reads the single row of the answer.
    pub(crate) fn from_result(result: &QueryResult) -> Result<Self, ReplicationError> {
        Ok(SlotCreated {
            consistent_point: lsn(result, "CREATE_REPLICATION_SLOT", "consistent_point")?,
            snapshot_name: result.value(0, "snapshot_name").map(str::to_owned),
        })
    }
}

/// `CREATE_REPLICATION_SLOT` for a logical slot with the pgoutput plugin, in the syntax of the server's major
/// version.
pub(crate) fn create_logical_slot(name: &str, snapshot: SnapshotAction, server_major: u32) -> String {
    let slot = quote_identifier(name);
    let option = if server_major >= PARENTHESIZED_SLOT_OPTIONS {
        let value = match snapshot {
            SnapshotAction::Export => "'export'",
            SnapshotAction::NoExport => "'nothing'",
            SnapshotAction::Use => "'use'",
        };
        format!("(SNAPSHOT {value})")
    } else {
        match snapshot {
            SnapshotAction::Export => "EXPORT_SNAPSHOT",
            SnapshotAction::NoExport => "NOEXPORT_SNAPSHOT",
            SnapshotAction::Use => "USE_SNAPSHOT",
        }
        .to_owned()
    };
    format!("CREATE_REPLICATION_SLOT {slot} LOGICAL pgoutput {option}")
}

/// `DROP_REPLICATION_SLOT`, waiting for an active slot to be released when `wait`.
pub(crate) fn drop_slot(name: &str, wait: bool) -> String {
    let wait = if wait { " WAIT" } else { "" };
    format!("DROP_REPLICATION_SLOT {}{wait}", quote_identifier(name))
}

/// `START_REPLICATION SLOT ... LOGICAL` with the output plugin's options, names quoted as identifiers and values as
/// literals.
pub(crate) fn start_logical_replication(slot: &str, start: Lsn, options: &[(&str, &str)]) -> String {
    let mut command = format!("START_REPLICATION SLOT {} LOGICAL {start}", quote_identifier(slot));
    if !options.is_empty() {
        let options: Vec<String> = options
            .iter()
            .map(|(name, value)| format!("{} {}", quote_identifier(name), quote_literal(value)))
            .collect();
        command.push_str(&format!(" ({})", options.join(", ")));
    }
    command
}

/// The major version in a `server_version` parameter such as `15.8 (Debian 15.8-0+deb12u1)`.
pub(crate) fn major_version(server_version: &str) -> Option<u32> {
    let digits: String = server_version.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// A value the answer to `command` must have in its first row.
fn required<'a>(result: &'a QueryResult, command: &str, column: &str) -> Result<&'a str, ReplicationError> {
    result
        .value(0, column)
        .ok_or_else(|| ReplicationError::Protocol(format!("the answer to {command} has no {column}")))
}

/// An LSN the answer to `command` must have in its first row.
fn lsn(result: &QueryResult, command: &str, column: &str) -> Result<Lsn, ReplicationError> {
    let text = required(result, command, column)?;
    text.parse().map_err(|_| invalid(command, column, text))
}

/// The error for a value that does not parse.
fn invalid(command: &str, column: &str, value: &str) -> ReplicationError {
    ReplicationError::Protocol(format!("the answer to {command} has an invalid {column}: {value:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_identifiers_and_literals() {
        assert_eq!(quote_identifier("p"), "\"p\"");
        assert_eq!(quote_identifier("My \"pub\""), "\"My \"\"pub\"\"\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b"), "'a\\b'");
    }

    #[test]
    fn create_slot_in_both_syntaxes() {
        assert_eq!(
            create_logical_slot("s", SnapshotAction::Export, 15),
            "CREATE_REPLICATION_SLOT \"s\" LOGICAL pgoutput (SNAPSHOT 'export')"
        );
        assert_eq!(
            create_logical_slot("s", SnapshotAction::NoExport, 16),
            "CREATE_REPLICATION_SLOT \"s\" LOGICAL pgoutput (SNAPSHOT 'nothing')"
        );
        assert_eq!(
            create_logical_slot("s", SnapshotAction::Use, 14),
            "CREATE_REPLICATION_SLOT \"s\" LOGICAL pgoutput USE_SNAPSHOT"
        );
    }

    #[test]
    fn start_replication_quotes_options() {
        let options = [("proto_version", "2"), ("publication_names", "\"a\",\"b's\"")];
        assert_eq!(
            start_logical_replication("slot", Lsn(0x16_B374_D848), &options),
            "START_REPLICATION SLOT \"slot\" LOGICAL 16/B374D848 \
             (\"proto_version\" '2', \"publication_names\" '\"a\",\"b''s\"')"
        );
        assert_eq!(start_logical_replication("s", Lsn::ZERO, &[]), "START_REPLICATION SLOT \"s\" LOGICAL 0/0");
        assert_eq!(drop_slot("s", true), "DROP_REPLICATION_SLOT \"s\" WAIT");
    }

    #[test]
    fn reads_major_versions() {
        assert_eq!(major_version("15.8 (Debian 15.8-0+deb12u1)"), Some(15));
        assert_eq!(major_version("9.6.24"), Some(9));
        assert_eq!(major_version("17devel"), Some(17));
        assert_eq!(major_version(""), None);
    }

    #[test]
    fn reads_typed_answers() {
        let result = QueryResult {
            columns: vec![
                "slot_name".into(),
                "consistent_point".into(),
                "snapshot_name".into(),
                "output_plugin".into(),
            ],
            rows: vec![vec![Some("s".into()), Some("0/1A2B3C".into()), None, Some("pgoutput".into())]],
        };
        let created = SlotCreated::from_result(&result).expect("answer");
        assert_eq!(created, SlotCreated { consistent_point: Lsn(0x1A_2B3C), snapshot_name: None });
        let bad = QueryResult { columns: vec!["consistent_point".into()], rows: vec![vec![Some("nope".into())]] };
        assert!(matches!(SlotCreated::from_result(&bad), Err(ReplicationError::Protocol(_))));
    }
}
