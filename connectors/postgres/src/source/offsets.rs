//! Source partitions and offsets in Debezium's shape, so its stored offsets and ours read alike.
//!
//! The partition is `{"server": "<topic.prefix>"}`. A snapshot record's offset is
//! `{"lsn", "txId", "ts_usec", "snapshot": true, "last_snapshot_record"}` (`lsn` being where streaming starts after
//! the snapshot); a streamed record's is `{"lsn_proc", "lsn_commit", "lsn", "txId", "ts_usec"}` where `lsn` is the
//! resume point: the end of the last transaction whose records all come at or before this one. Restarting from it
//! repeats nothing before it and loses nothing after it.

use serde_json::{json, Value as Json};

use crate::replication::Lsn;

/// Where streaming resumes: the end of the last completely processed transaction, and what identifies it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    /// The resume point (the end LSN of the transaction's commit record).
    pub lsn: Lsn,
    /// The LSN of that transaction's commit record.
    pub commit_lsn: Option<Lsn>,
    /// Its transaction id.
    pub tx_id: Option<i64>,
    /// Its commit time in µs since the Unix epoch.
    pub ts_us: i64,
}

/// A stored offset, read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Written during a snapshot; `complete` on its last record. `lsn` is where streaming starts after it.
    Snapshot {
        /// Where streaming starts after the snapshot.
        lsn: Lsn,
        /// Whether the snapshot's last record was written.
        complete: bool,
    },
    /// Written while streaming.
    Streaming(Position),
}

impl Stored {
    /// Where streaming resumes from this offset.
    pub fn lsn(&self) -> Lsn {
        match self {
            Stored::Snapshot { lsn, .. } => *lsn,
            Stored::Streaming(position) => position.lsn,
        }
    }

    /// Whether a snapshot was started and did not finish.
    pub fn snapshot_incomplete(&self) -> bool {
        matches!(self, Stored::Snapshot { complete: false, .. })
    }
}

/// The source partition of a connector with `topic.prefix` `prefix`.
pub fn partition(prefix: &str) -> Json {
    json!({ "server": prefix })
}

/// The offset of a snapshot record.
pub fn snapshot_offset(lsn: Lsn, tx_id: i64, ts_us: i64, last: bool) -> Json {
    json!({ "lsn": lsn.0, "txId": tx_id, "ts_usec": ts_us, "snapshot": true, "last_snapshot_record": last })
}

/// The offset of a streamed record whose resume point is `position`.
pub fn streaming_offset(position: &Position) -> Json {
    json!({
        "lsn_proc": position.lsn.0,
        "lsn_commit": position.commit_lsn.map(|lsn| lsn.0),
        "lsn": position.lsn.0,
        "txId": position.tx_id,
        "ts_usec": position.ts_us,
    })
}

/// Reads a stored offset; `Err` says why it is not one this connector (or Debezium's) writes.
pub fn parse(offset: &Json) -> Result<Stored, String> {
    let lsn =
        offset.get("lsn").and_then(Json::as_u64).ok_or_else(|| format!("the stored offset {offset} has no lsn"))?;
    let flag = |name: &str| offset.get(name).and_then(Json::as_bool).unwrap_or(false);
    if flag("snapshot") {
        return Ok(Stored::Snapshot { lsn: Lsn(lsn), complete: flag("last_snapshot_record") });
    }
    Ok(Stored::Streaming(Position {
        lsn: Lsn(lsn),
        commit_lsn: offset.get("lsn_commit").and_then(Json::as_u64).map(Lsn),
        tx_id: offset.get("txId").and_then(Json::as_i64),
        ts_us: offset.get("ts_usec").and_then(Json::as_i64).unwrap_or(0),
    }))
}

/// The stored offset of `partition` among `offsets`, read.
pub fn find(offsets: &[(Json, Json)], partition: &Json) -> Result<Option<Stored>, String> {
    offsets.iter().find(|(p, _)| p == partition).map(|(_, offset)| parse(offset)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let position = Position { lsn: Lsn(300), commit_lsn: Some(Lsn(250)), tx_id: Some(771), ts_us: 5 };
        let offset = streaming_offset(&position);
        assert_eq!(offset["lsn_proc"], json!(300));
        assert_eq!(offset["lsn_commit"], json!(250));
        assert_eq!(parse(&offset), Ok(Stored::Streaming(position)));
        let snapshot = snapshot_offset(Lsn(100), 770, 4, false);
        assert_eq!(parse(&snapshot), Ok(Stored::Snapshot { lsn: Lsn(100), complete: false }));
        assert!(parse(&snapshot).is_ok_and(|s| s.snapshot_incomplete()));
        let last = snapshot_offset(Lsn(100), 770, 4, true);
        assert_eq!(parse(&last).map(|s| (s.lsn(), s.snapshot_incomplete())), Ok((Lsn(100), false)));
    }

    #[test]
    fn debeziums_offsets_read() {
        let debezium = json!({
            "transaction_id": null, "lsn_proc": 63619219552u64, "lsn_commit": 63619219552u64,
            "lsn": 63619219552u64, "txId": 1650, "ts_usec": 1666268220374889u64
        });
        assert_eq!(parse(&debezium).map(|s| s.lsn()), Ok(Lsn(63_619_219_552)));
        let snapshot = json!({"last_snapshot_record": true, "lsn": 63552100632u64, "txId": 1618, "snapshot": true});
        assert_eq!(parse(&snapshot), Ok(Stored::Snapshot { lsn: Lsn(63_552_100_632), complete: true }));
        assert!(parse(&json!({"sequence": 3})).is_err());
        let offsets = vec![(partition("other"), json!({"lsn": 1})), (partition("pg1"), json!({"lsn": 2}))];
        assert_eq!(find(&offsets, &partition("pg1")).map(|s| s.map(|s| s.lsn())), Ok(Some(Lsn(2))));
        assert_eq!(find(&offsets, &partition("none")), Ok(None));
    }
}
