//! Source partitions and offsets in Debezium's MySQL shape, so its stored offsets and ours read alike.
//!
//! The partition is `{"server": "<topic.prefix>"}`. An offset is `{"file", "pos", "gtids", "ts_sec", "server_id"}`,
//! the resume point: the end of the last transaction whose records all come at or before this one (`gtids` is the
//! executed GTID set up to it, absent without GTIDs). A snapshot record's offset adds `"snapshot": true` and
//! `"snapshot_completed"` (true on the last one) and stands at the position the snapshot was taken at. Restarting
//! from any offset repeats at most one transaction's records and loses none.

use serde_json::{json, Value as Json};

/// Where streaming resumes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Position {
    /// The binlog file.
    pub file: String,
    /// The offset in it where the next transaction starts.
    pub pos: u64,
    /// The executed GTID set up to here, in the server's text form; empty without GTIDs.
    pub gtids: String,
    /// When the last transaction was written, in seconds since the Unix epoch.
    pub ts_sec: i64,
    /// The server that wrote it.
    pub server_id: u32,
}

/// A stored offset, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Where streaming resumes.
    pub position: Position,
    /// Written by a snapshot that had not finished.
    pub snapshot_incomplete: bool,
}

/// The source partition of a connector with `topic.prefix` `prefix`.
pub fn partition(prefix: &str) -> Json {
    json!({ "server": prefix })
}

/// The offset of a streamed record whose resume point is `position`.
pub fn streaming_offset(position: &Position) -> Json {
    let mut offset = json!({
        "file": position.file,
        "pos": position.pos,
        "ts_sec": position.ts_sec,
        "server_id": position.server_id,
    });
    if !position.gtids.is_empty() {
        offset["gtids"] = Json::from(position.gtids.as_str());
    }
    offset
}

/// The offset of a snapshot record taken at `position`; `last` on the snapshot's last record.
pub fn snapshot_offset(position: &Position, last: bool) -> Json {
    let mut offset = streaming_offset(position);
    offset["snapshot"] = Json::Bool(true);
    offset["snapshot_completed"] = Json::Bool(last);
    offset
}

/// Reads a stored offset; `Err` says why it is not one this connector (or Debezium's) writes.
pub fn parse(offset: &Json) -> Result<Stored, String> {
    let file =
        offset.get("file").and_then(Json::as_str).ok_or_else(|| format!("the stored offset {offset} has no file"))?;
    let pos =
        offset.get("pos").and_then(Json::as_u64).ok_or_else(|| format!("the stored offset {offset} has no pos"))?;
    let snapshot = offset.get("snapshot").is_some_and(|s| s.as_bool() == Some(true) || s.as_str() == Some("true"));
    let completed = offset.get("snapshot_completed").and_then(Json::as_bool).unwrap_or(!snapshot);
    Ok(Stored {
        position: Position {
            file: file.to_owned(),
            pos,
            gtids: offset.get("gtids").and_then(Json::as_str).unwrap_or_default().to_owned(),
            ts_sec: offset.get("ts_sec").and_then(Json::as_i64).unwrap_or(0),
            server_id: offset
                .get("server_id")
                .and_then(Json::as_u64)
                .and_then(|id| u32::try_from(id).ok())
                .unwrap_or(0),
        },
        snapshot_incomplete: snapshot && !completed,
    })
}

/// The stored offset of `partition` among `offsets`, read.
pub fn find(offsets: &[(Json, Json)], partition: &Json) -> Result<Option<Stored>, String> {
    offsets.iter().find(|(p, _)| p == partition).map(|(_, offset)| parse(offset)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position() -> Position {
        Position {
            file: "binlog.000002".into(),
            pos: 4711,
            gtids: "0-1-42".into(),
            ts_sec: 1_700_000_000,
            server_id: 1,
        }
    }

    #[test]
    fn round_trips() {
        let offset = streaming_offset(&position());
        assert_eq!(offset["gtids"], json!("0-1-42"));
        assert_eq!(parse(&offset), Ok(Stored { position: position(), snapshot_incomplete: false }));
        let snapshot = snapshot_offset(&position(), false);
        assert!(parse(&snapshot).is_ok_and(|s| s.snapshot_incomplete));
        assert!(parse(&snapshot_offset(&position(), true)).is_ok_and(|s| !s.snapshot_incomplete));
        let no_gtids = Position { gtids: String::new(), ..position() };
        assert!(streaming_offset(&no_gtids).get("gtids").is_none());
    }

    #[test]
    fn debeziums_offsets_read() {
        let debezium = json!({"ts_sec": 1_700_000_000, "file": "mysql-bin.000003", "pos": 154,
            "gtids": "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5", "row": 1, "server_id": 223344, "event": 2});
        let stored = parse(&debezium).expect("offset");
        assert_eq!((stored.position.file.as_str(), stored.position.pos), ("mysql-bin.000003", 154));
        assert!(!stored.snapshot_incomplete);
        assert!(parse(&json!({"snapshot": true, "file": "f", "pos": 4})).is_ok_and(|s| s.snapshot_incomplete));
        assert!(parse(&json!({"lsn": 3})).is_err());
    }
}
