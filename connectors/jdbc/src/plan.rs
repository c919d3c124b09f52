//! A batch's changes as statements ([`plan`]): consecutive changes of one table go into multi-row statements of at
//! most `batch.size` rows (and at most 65535 parameters, what both protocols allow).
//!
//! Upserts and deletes set a row's state outright, so within a run of them on one table only the last change of
//! each key matters: the earlier ones are dropped, which also keeps one statement from touching a row twice
//! (Postgres refuses that in `ON CONFLICT`). With one change left per key, their order no longer matters: the run's
//! deletes go first, then its upserts. Updates keep the last change per key in the same way; inserts are all kept,
//! in order. A change of another kind or table ends the run, so changes of different runs apply in log order.

use std::collections::HashMap;
use std::sync::Arc;

use tidemark_connect::data::Value;

use crate::change::{Change, Operation};
use crate::layout::Layout;

/// The most parameters one statement binds.
pub const MAX_PARAMETERS: usize = 65_535;

/// One multi-row statement.
#[derive(Debug)]
pub struct Statement<'a> {
    /// What it does.
    pub operation: Operation,
    /// Its table and columns (every row's layout has the same columns).
    pub layout: &'a Layout,
    /// The rows, one change each.
    pub rows: Vec<&'a Change>,
}

/// Runs of changes that may be reordered and reduced together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    /// Upserts and deletes: the last change per key.
    States,
    /// Updates: the last change per key.
    Updates,
    /// Inserts: all of them.
    Inserts,
}

fn run_of(operation: Operation) -> Run {
    match operation {
        Operation::Upsert | Operation::Delete => Run::States,
        Operation::Update => Run::Updates,
        Operation::Insert => Run::Inserts,
    }
}

/// The statements that write `changes` (in the order given), `batch_size` rows at most each.
pub fn plan(changes: &[Change], batch_size: usize) -> Vec<Statement<'_>> {
    let mut statements = Vec::new();
    let mut start = 0;
    while let Some(first) = changes.get(start) {
        let run = run_of(first.operation);
        let end = changes[start..]
            .iter()
            .position(|c| c.layout.table != first.layout.table || run_of(c.operation) != run)
            .map_or(changes.len(), |offset| start + offset);
        let segment = &changes[start..end];
        let mut kept: Vec<&Change> = match run {
            Run::Inserts => segment.iter().collect(),
            Run::States | Run::Updates => last_per_key(segment),
        };
        // An update with nothing but the key has nothing to set.
        kept.retain(|c| c.operation != Operation::Update || !c.layout.values.is_empty());
        // Deletes before upserts (one change per key is left, so they touch different rows).
        kept.sort_by_key(|c| c.operation != Operation::Delete);
        for (operation, layout, rows) in grouped(kept) {
            let width = layout.key.len() + if operation == Operation::Delete { 0 } else { layout.values.len() };
            let per_statement = batch_size.min(MAX_PARAMETERS / width.max(1)).max(1);
            for chunk in rows.chunks(per_statement) {
                statements.push(Statement { operation, layout, rows: chunk.to_vec() });
            }
        }
        start = end;
    }
    statements
}

/// The last change of each key, in order.
fn last_per_key(segment: &[Change]) -> Vec<&Change> {
    let mut last: HashMap<&[Value], usize> = HashMap::with_capacity(segment.len());
    for (i, change) in segment.iter().enumerate() {
        last.insert(&change.identity, i);
    }
    segment.iter().enumerate().filter(|(i, c)| last.get(c.identity.as_slice()) == Some(i)).map(|(_, c)| c).collect()
}

/// The changes grouped by operation and columns, groups in order of their first change.
fn grouped(changes: Vec<&Change>) -> Vec<(Operation, &Layout, Vec<&Change>)> {
    let mut groups: Vec<(Operation, &Arc<Layout>, Vec<&Change>)> = Vec::new();
    for change in changes {
        let found = groups.iter_mut().find(|(operation, layout, _)| {
            *operation == change.operation
                && (Arc::ptr_eq(layout, &change.layout) || layout.same_columns(&change.layout))
        });
        match found {
            Some((_, _, rows)) => rows.push(change),
            None => groups.push((change.operation, &change.layout, vec![change])),
        }
    }
    groups.into_iter().map(|(operation, layout, rows)| (operation, layout.as_ref(), rows)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::Kind;
    use crate::layout::{Column, Source};
    use crate::value::SqlValue;

    fn layout(table: &str, values: &[&str]) -> Arc<Layout> {
        let column = |name: &str, source| Column { name: name.to_owned(), kind: Kind::Int64, optional: false, source };
        Arc::new(Layout {
            table: table.to_owned(),
            key: vec![column("id", Source::KeyField(0))],
            values: values.iter().enumerate().map(|(i, v)| column(v, Source::RowField(i))).collect(),
        })
    }

    fn change(index: usize, operation: Operation, layout: &Arc<Layout>, id: i64) -> Change {
        let values = if operation == Operation::Delete {
            vec![]
        } else {
            vec![SqlValue::Int(index as i64); layout.values.len()]
        };
        Change {
            index,
            operation,
            layout: layout.clone(),
            key: vec![SqlValue::Int(id)],
            values,
            identity: vec![Value::Int64(id)],
        }
    }

    fn summary(statements: &[Statement<'_>]) -> Vec<(Operation, String, Vec<usize>)> {
        statements
            .iter()
            .map(|s| (s.operation, s.layout.table.clone(), s.rows.iter().map(|c| c.index).collect()))
            .collect()
    }

    #[test]
    fn upserts_and_deletes_keep_the_last_change_per_key() {
        let t = layout("t", &["v"]);
        let changes = vec![
            change(0, Operation::Upsert, &t, 1),
            change(1, Operation::Upsert, &t, 2),
            change(2, Operation::Delete, &t, 1),
            change(3, Operation::Upsert, &t, 2),
            change(4, Operation::Delete, &t, 3),
            change(5, Operation::Upsert, &t, 3),
        ];
        assert_eq!(
            summary(&plan(&changes, 500)),
            [(Operation::Delete, "t".to_owned(), vec![2]), (Operation::Upsert, "t".to_owned(), vec![3, 5])]
        );
    }

    #[test]
    fn other_tables_and_kinds_end_a_run() {
        let t = layout("t", &["v"]);
        let u = layout("u", &["v"]);
        let changes = vec![
            change(0, Operation::Insert, &t, 1),
            change(1, Operation::Insert, &t, 1),
            change(2, Operation::Upsert, &u, 1),
            change(3, Operation::Update, &u, 1),
            change(4, Operation::Update, &u, 1),
            change(5, Operation::Upsert, &t, 1),
        ];
        assert_eq!(
            summary(&plan(&changes, 500)),
            [
                (Operation::Insert, "t".to_owned(), vec![0, 1]),
                (Operation::Upsert, "u".to_owned(), vec![2]),
                (Operation::Update, "u".to_owned(), vec![4]),
                (Operation::Upsert, "t".to_owned(), vec![5]),
            ]
        );
    }

    #[test]
    fn columns_split_statements_and_batch_size_chunks_them() {
        let narrow = layout("t", &["v"]);
        let wide = layout("t", &["v", "w"]);
        let same_as_narrow = layout("t", &["v"]);
        let changes: Vec<Change> = (0..7)
            .map(|i| {
                let layout = [&narrow, &wide, &same_as_narrow][i % 3];
                change(i, Operation::Upsert, layout, i as i64)
            })
            .collect();
        assert_eq!(
            summary(&plan(&changes, 3)),
            [
                (Operation::Upsert, "t".to_owned(), vec![0, 2, 3]),
                (Operation::Upsert, "t".to_owned(), vec![5, 6]),
                (Operation::Upsert, "t".to_owned(), vec![1, 4]),
            ]
        );
    }

    #[test]
    fn parameters_limit_rows_per_statement() {
        let columns: Vec<String> = (0..9999).map(|i| format!("c{i}")).collect();
        let names: Vec<&str> = columns.iter().map(String::as_str).collect();
        let wide = layout("t", &names);
        let changes: Vec<Change> = (0..8).map(|i| change(i, Operation::Insert, &wide, i as i64)).collect();
        let sizes: Vec<usize> = plan(&changes, 500).iter().map(|s| s.rows.len()).collect();
        assert_eq!(sizes, [6, 2], "10000 parameters a row: 6 rows fit in 65535");
    }

    #[test]
    fn updates_without_values_are_dropped() {
        let keys_only = layout("t", &[]);
        let changes = vec![change(0, Operation::Update, &keys_only, 1)];
        assert!(plan(&changes, 500).is_empty());
    }
}
