//! Reading topics as a member of a consumer group, as a sink connector's tasks do: the group shares the subscribed
//! partitions among its members and keeps their committed offsets, so a restarted member resumes where the group
//! left off.

use std::time::Duration;

use futures::future::BoxFuture;
use regex::Regex;

use crate::{LogError, LogRecord};

/// What a group consumer reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscription {
    /// These topics; one that does not exist yet is read once it does.
    Topics(Vec<String>),
    /// Every topic whose whole name matches this regular expression, as Kafka Connect's `topics.regex`
    /// (`orders\..*` matches `orders.eu` but not `old-orders.eu`), internal topics (`__...`) excepted. Topics
    /// created later are picked up within a few seconds.
    Pattern(String),
}

/// A partition's offset as (topic, partition, offset); in commits and committed offsets, the next offset to read.
pub type TopicOffset = (String, i32, i64);

/// A record read by a group consumer: its topic and the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicRecord {
    /// The topic.
    pub topic: String,
    /// The record (its partition and offset included).
    pub record: LogRecord,
}

/// A member of a consumer group (classic protocol, eager rebalancing), reading its assigned partitions from the
/// group's committed offsets, or from the earliest offset where none is committed (as `auto.offset.reset=earliest`).
///
/// Delivery is at least once: records handed out but not committed before a rebalance are read again by the
/// partition's next owner. Dropping a consumer without [`GroupConsumer::close`] leaves its partitions idle until
/// its session expires.
pub trait GroupConsumer: Send {
    /// The next records of the assigned partitions, in offset order within each partition, at most the consumer's
    /// `max_poll_records`, waiting up to `max_wait` when there are none; an empty answer means none arrived in
    /// time. Joins the group and follows its rebalances as needed (heartbeats run in the background): a poll that
    /// finds the group rebalancing gives up its partitions and rejoins, so keep polling at least every rebalance
    /// timeout (about 30 s) or the group goes on without this member.
    fn poll(&mut self, max_wait: Duration) -> BoxFuture<'_, Result<Vec<TopicRecord>, LogError>>;

    /// Commits, for each (topic, partition), the next offset to read; resolves once the offsets are durable. A
    /// commit refused because the group rebalanced, or made while the consumer holds no assignment (before its
    /// first, or while rejoining), returns [`LogError::Rebalanced`].
    fn commit<'a>(&'a mut self, offsets: &'a [TopicOffset]) -> BoxFuture<'a, Result<(), LogError>>;

    /// The partitions currently assigned, as (topic, partition), sorted; empty while (re)joining.
    fn assignment(&self) -> Vec<(String, i32)>;

    /// Leaves the group, so that the other members take over its partitions at once.
    fn close(self: Box<Self>) -> BoxFuture<'static, ()>;
}

/// Checks the settings every implementation refuses alike.
pub(crate) fn check_settings(
    group: &str,
    subscription: &Subscription,
    max_poll_records: usize,
) -> Result<(), LogError> {
    if group.is_empty() {
        return Err(LogError::Refused("a consumer group needs a non-empty id".into()));
    }
    if max_poll_records == 0 {
        return Err(LogError::Refused("max_poll_records must be at least 1".into()));
    }
    match subscription {
        Subscription::Topics(topics) if topics.is_empty() || topics.iter().any(String::is_empty) => {
            Err(LogError::Refused(format!("group {group} subscribes to no topic: {topics:?}")))
        }
        Subscription::Topics(_) => Ok(()),
        Subscription::Pattern(pattern) => TopicPattern::new(pattern).map(drop),
    }
}

/// A [`Subscription::Pattern`], compiled.
#[derive(Debug, Clone)]
pub(crate) struct TopicPattern(Regex);

impl TopicPattern {
    /// `pattern` matched against whole topic names; refused when it is not a valid regular expression.
    pub fn new(pattern: &str) -> Result<Self, LogError> {
        Regex::new(&format!("^(?:{pattern})$"))
            .map(TopicPattern)
            .map_err(|e| LogError::Refused(format!("topic pattern {pattern:?}: {e}")))
    }

    /// Whether the subscription takes `topic`: a whole-name match that is not an internal topic.
    pub fn matches(&self, topic: &str) -> bool {
        !topic.starts_with("__") && self.0.is_match(topic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_whole_names_and_skip_internal_topics() {
        let pattern = TopicPattern::new(r"orders\..*|__.*").expect("valid");
        assert!(pattern.matches("orders.eu"));
        assert!(!pattern.matches("old-orders.eu"));
        assert!(!pattern.matches("__consumer_offsets"));
        let alternatives = TopicPattern::new("a|b").expect("valid");
        assert!(alternatives.matches("a") && alternatives.matches("b") && !alternatives.matches("ab"));
        assert!(matches!(TopicPattern::new("("), Err(LogError::Refused(_))));
    }

    #[test]
    fn refuses_settings_that_cannot_work() {
        let topics = Subscription::Topics(vec!["t".into()]);
        assert!(check_settings("g", &topics, 1).is_ok());
        assert!(check_settings("", &topics, 1).is_err());
        assert!(check_settings("g", &topics, 0).is_err());
        assert!(check_settings("g", &Subscription::Topics(Vec::new()), 1).is_err());
        assert!(check_settings("g", &Subscription::Pattern("[".into()), 1).is_err());
    }
}
