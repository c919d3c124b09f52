//! The end-to-end invariant of a database source, checked per key: the topic's last record for a key equals the
//! table's row (a delete or tombstone for a gone row), versions appear in commit order (replays of a suffix after a
//! restart allowed), none is missing after the last snapshot read, and inserts are version 1. The tests' tables have
//! rows `(id, version, val, amount)` where every update bumps `version`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{bail, ensure, Context, Result};
use serde_json::Value as Json;

/// One record of a table's topic.
#[derive(Debug, Clone)]
pub struct Change {
    /// The index of its table.
    pub table: usize,
    /// Its offset.
    pub offset: i64,
    /// Its key.
    pub id: i64,
    /// `None` for a tombstone.
    pub value: Option<Json>,
}

impl Change {
    /// `r`, `c`, `u`, `d` or `tombstone`.
    pub fn op(&self) -> &str {
        self.value.as_ref().and_then(|v| v["op"].as_str()).unwrap_or("tombstone")
    }

    /// A row's (version, val, amount) when the record carries one (r, c, u).
    pub fn row(&self) -> Option<(i64, String, i64)> {
        let after = &self.value.as_ref()?["after"];
        Some((after["version"].as_i64()?, after["val"].as_str()?.to_owned(), after["amount"].as_i64()?))
    }

    /// Whether this is the last record of a snapshot.
    pub fn ends_snapshot(&self) -> bool {
        self.value.as_ref().is_some_and(|v| v["source"]["snapshot"] == "last")
    }
}

/// What a record says about its key, ranked in commit order: a row version (`version` grows by one with each
/// update, an insert or a key change into this id is version 1), or the delete (a `d` event or its tombstone, also
/// for a key changed away), which ends the key's life (ids are never reused).
pub fn rank(change: &Change) -> Result<i64> {
    match change.op() {
        "d" | "tombstone" => Ok(i64::MAX),
        "r" | "c" | "u" => change.row().map(|(version, _, _)| version).with_context(|| format!("no row: {change:?}")),
        other => bail!("unexpected op {other}: {change:?}"),
    }
}

/// The invariant for one table: `rows` is `SELECT * FROM` it, `histories` the records of its topic per key in
/// topic order.
///
/// 1. **Latest value per key equals the table**: a key's last record is its row as the table has it (version, val,
///    amount), or a delete/tombstone when the table has no such row; every row of the table has records.
/// 2. **Per-key order matches commit order, allowing at-least-once replays.** A restart re-emits changes from the
///    last durable position, so the topic holds, per key, a sequence of windows of the key's commit history, each
///    window in order, a later one starting no later than where the history is fully covered. So versions may
///    repeat and go back at a replay, but for every version the *last* record carrying it comes after the last
///    record of every older version: ordering the distinct ranks by their last occurrence must give them in
///    increasing order. An event emitted out of commit order and never replayed breaks this, as does a stale
///    version coming last.
/// 3. **No change lost**: the versions seen of a key from its last snapshot record on are contiguous (every change
///    after the snapshot's binlog position is streamed), inserts carry version 1 and updates a later one.
///
/// Answers how many keys went back to an older version somewhere (a replay), for the record.
pub fn check_table(
    table: &str,
    rows: &BTreeMap<i64, (i64, String, i64)>,
    histories: &HashMap<i64, Vec<&Change>>,
) -> Result<usize> {
    let mut problems = Vec::new();
    let mut replayed = 0;
    for (id, row) in rows {
        if !histories.contains_key(id) {
            problems.push(format!("row {id} {row:?} has no record"));
        }
    }
    for (id, history) in histories {
        let last = history.last().context("empty history")?;
        match (rows.get(id), last.row()) {
            (Some(row), Some(seen)) if &seen == row => {}
            (None, None) => {}
            (expected, seen) => problems.push(format!(
                "key {id}: the table has {expected:?}, the topic ends with {} {seen:?} at offset {}",
                last.op(),
                last.offset
            )),
        }
        let mut last_position: BTreeMap<i64, usize> = BTreeMap::new();
        for (position, change) in history.iter().enumerate() {
            last_position.insert(rank(change)?, position);
            match (change.op(), change.row()) {
                ("c", Some((version, _, _))) if version != 1 => {
                    problems.push(format!("key {id}: an insert with version {version} at offset {}", change.offset))
                }
                ("u", Some((version, _, _))) if version < 2 => {
                    problems.push(format!("key {id}: an update with version {version} at offset {}", change.offset))
                }
                _ => {}
            }
        }
        let ranks: Vec<i64> = history.iter().map(|c| rank(c)).collect::<Result<_>>()?;
        if ranks.windows(2).any(|w| w[1] < w[0]) {
            replayed += 1;
        }
        let mut by_last_occurrence: Vec<(usize, i64)> = last_position.iter().map(|(r, p)| (*p, *r)).collect();
        by_last_occurrence.sort_unstable();
        if by_last_occurrence.windows(2).any(|w| w[0].1 >= w[1].1) {
            let sequence: Vec<String> =
                history.iter().map(|c| format!("{}@{}:{}", c.op(), c.offset, rank(c).unwrap_or(-1))).collect();
            problems.push(format!("key {id}: versions out of commit order: {}", sequence.join(" ")));
        }
        let from = history.iter().rposition(|c| c.op() == "r").unwrap_or(0);
        let versions: BTreeSet<i64> = ranks[from..].iter().copied().filter(|r| *r != i64::MAX).collect();
        if let (Some(first), Some(last)) = (versions.first(), versions.last()) {
            if (last - first + 1) as usize != versions.len() {
                problems.push(format!("key {id}: versions seen {versions:?} miss some"));
            }
        }
    }
    ensure!(
        problems.is_empty(),
        "{table}: {} problems, first ones:\n{}",
        problems.len(),
        problems[..problems.len().min(20)].join("\n")
    );
    Ok(replayed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A synthetic record of key `id` at `offset`: `op` with `version` (ignored for deletes and tombstones).
    fn synthetic(offset: i64, id: i64, op: &str, version: i64) -> Change {
        let value = match op {
            "tombstone" => None,
            "d" => Some(json!({"op": "d", "before": {"id": id}, "after": null})),
            _ => Some(
                json!({"op": op, "after": {"id": id, "version": version, "val": format!("v{version}"), "amount": 7}}),
            ),
        };
        Change { table: 0, offset, id, value }
    }

    /// The check can fail: it accepts replays, and refuses reordering, loss and stale values.
    #[test]
    fn the_invariant_check_accepts_replays_and_refuses_reordering_loss_and_stale_values() -> Result<()> {
        let check = |history: &[(&str, i64)], row: Option<i64>| {
            let changes: Vec<Change> =
                history.iter().enumerate().map(|(i, (op, v))| synthetic(i as i64, 1, op, *v)).collect();
            let mut histories = HashMap::new();
            if !changes.is_empty() {
                histories.insert(1, changes.iter().collect::<Vec<_>>());
            }
            let rows: BTreeMap<i64, (i64, String, i64)> =
                row.map(|v| (1, (v, format!("v{v}"), 7))).into_iter().collect();
            check_table("t", &rows, &histories)
        };
        // A replay of a suffix after a restart; a key changed away (delete and tombstone), replayed.
        assert_eq!(check(&[("r", 3), ("u", 4), ("u", 5), ("u", 4), ("u", 5)], Some(5))?, 1);
        assert_eq!(check(&[("c", 1), ("u", 2), ("d", 0), ("tombstone", 0), ("u", 2), ("d", 0)], None)?, 1);
        // A snapshot taken again at a later position skips the versions between the two.
        assert_eq!(check(&[("r", 3), ("r", 7), ("u", 8)], Some(8))?, 0);
        // Out of commit order, never repaired; a lost update (also after a snapshot); a stale value last; a deleted row
        // coming back; a row without records; an insert that is not version 1; a row deleted while only an older
        // snapshot had read it.
        assert!(check(&[("c", 1), ("u", 3), ("u", 2), ("u", 4)], Some(4)).is_err());
        assert!(check(&[("c", 1), ("u", 2), ("u", 4)], Some(4)).is_err());
        assert!(check(&[("r", 2), ("u", 3), ("u", 5)], Some(5)).is_err());
        assert!(check(&[("c", 1), ("u", 2), ("u", 3), ("u", 2)], Some(3)).is_err());
        assert!(check(&[("c", 1), ("d", 0), ("tombstone", 0), ("u", 2)], None).is_err());
        assert!(check(&[], Some(1)).is_err());
        assert!(check(&[("c", 2)], Some(2)).is_err());
        assert!(check(&[("r", 3)], None).is_err());
        Ok(())
    }
}
