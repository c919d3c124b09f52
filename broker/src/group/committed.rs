//! A group's committed offsets in memory, each tagged with the position of the `__consumer_offsets` record that
//! set it, so commits applied after their fsync (possibly out of order) still end in log order.

use std::collections::BTreeMap;

use super::offsets_topic::CommittedOffset;

#[derive(Debug, Clone)]
struct Entry {
    /// `None` once deleted; kept so an older commit applied late cannot resurrect it.
    value: Option<CommittedOffset>,
    position: i64,
}

/// The committed offsets of one group, by topic and partition.
#[derive(Debug, Default)]
pub struct CommittedOffsets {
    entries: BTreeMap<(String, i32), Entry>,
}

impl CommittedOffsets {
    /// Applies a commit (`Some`) or deletion (`None`) stored at `position`, unless a later record already won.
    pub fn apply(&mut self, topic: &str, partition: i32, value: Option<CommittedOffset>, position: i64) {
        let key = (topic.to_owned(), partition);
        if self.entries.get(&key).is_some_and(|e| e.position > position) {
            return;
        }
        self.entries.insert(key, Entry { value, position });
    }

    /// The committed offset of a partition.
    pub fn get(&self, topic: &str, partition: i32) -> Option<&CommittedOffset> {
        self.entries.get(&(topic.to_owned(), partition)).and_then(|e| e.value.as_ref())
    }

    /// Every committed offset, by topic and partition.
    pub fn iter(&self) -> impl Iterator<Item = (&str, i32, &CommittedOffset)> {
        self.entries.iter().filter_map(|((t, p), e)| e.value.as_ref().map(|v| (t.as_str(), *p, v)))
    }

    /// Whether no offset is committed.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(offset: i64) -> Option<CommittedOffset> {
        Some(CommittedOffset { offset, leader_epoch: -1, metadata: String::new(), commit_timestamp: 0 })
    }

    #[test]
    fn later_positions_win_whatever_the_order_of_application() {
        let mut offsets = CommittedOffsets::default();
        offsets.apply("t", 0, at(20), 5);
        offsets.apply("t", 0, at(10), 4);
        assert_eq!(offsets.get("t", 0).map(|c| c.offset), Some(20));
        offsets.apply("t", 0, None, 7);
        offsets.apply("t", 0, at(15), 6);
        assert_eq!(offsets.get("t", 0), None, "a deletion is not undone by an older commit");
        assert!(offsets.is_empty());
        offsets.apply("t", 1, at(3), 8);
        assert_eq!(
            offsets.iter().map(|(t, p, c)| (t.to_owned(), p, c.offset)).collect::<Vec<_>>(),
            vec![("t".into(), 1, 3)]
        );
    }
}
