//! Kafka's `range` assignor, which the group's leader runs: for each topic, its partitions in order are cut into
//! consecutive ranges over the members subscribed to it, sorted by member id; the first `partitions % members`
//! members get one partition more.

use std::collections::BTreeMap;

/// The name members announce for this assignor (Kafka's and librdkafka's `range`).
pub const RANGE: &str = "range";

/// Every member's partitions (members with none included), given each member's subscribed topics and a topic's
/// partition count (0 for a topic that does not exist).
pub fn range(
    members: &[(String, Vec<String>)],
    partition_count: impl Fn(&str) -> i32,
) -> BTreeMap<String, Vec<(String, i32)>> {
    let mut assignment: BTreeMap<String, Vec<(String, i32)>> =
        members.iter().map(|(member, _)| (member.clone(), Vec::new())).collect();
    let mut subscribers: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (member, topics) in members {
        for topic in topics {
            subscribers.entry(topic).or_default().push(member);
        }
    }
    for (topic, mut consumers) in subscribers {
        consumers.sort_unstable();
        consumers.dedup();
        let partitions = partition_count(topic).max(0) as usize;
        let (each, extra) = (partitions / consumers.len(), partitions % consumers.len());
        let mut next = 0;
        for (i, consumer) in consumers.into_iter().enumerate() {
            let count = each + usize::from(i < extra);
            if let Some(owned) = assignment.get_mut(consumer) {
                owned.extend((next..next + count).map(|p| (topic.to_owned(), p as i32)));
            }
            next += count;
        }
    }
    assignment
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, topics: &[&str]) -> (String, Vec<String>) {
        (id.to_owned(), topics.iter().map(|t| (*t).to_owned()).collect())
    }

    #[test]
    fn ranges_per_topic_over_its_subscribers_by_member_id() {
        let members = [member("b", &["t", "u"]), member("a", &["t"]), member("c", &["t"])];
        let counts = |topic: &str| match topic {
            "t" => 7,
            "u" => 2,
            _ => 0,
        };
        let assignment = range(&members, counts);
        let owned = |m: &str| assignment[m].clone();
        let t = |ps: &[i32]| ps.iter().map(|&p| ("t".to_owned(), p)).collect::<Vec<_>>();
        assert_eq!(owned("a"), t(&[0, 1, 2]));
        let mut b = t(&[3, 4]);
        b.extend([("u".to_owned(), 0), ("u".to_owned(), 1)]);
        assert_eq!(owned("b"), b);
        assert_eq!(owned("c"), t(&[5, 6]));
    }

    #[test]
    fn more_members_than_partitions_leaves_some_idle_and_missing_topics_give_nothing() {
        let members = [member("a", &["t", "missing"]), member("b", &["t"])];
        let assignment = range(&members, |topic| if topic == "t" { 1 } else { 0 });
        assert_eq!(assignment["a"], vec![("t".to_owned(), 0)]);
        assert!(assignment["b"].is_empty());
    }
}
