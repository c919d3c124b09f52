//! The settings every sink connector has: what it reads (`topics` or `topics.regex`) and how many records one batch
//! holds (`consumer.override.max.poll.records`).

use std::collections::BTreeMap;

use tidemark_log_client::Subscription;

use crate::config::{ConfigDef, ConfigKey, ConfigType, FieldError};

/// The settings of a sink connector that the runtime reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkSettings {
    /// What it reads.
    pub subscription: Subscription,
    /// Most records in one batch.
    pub max_poll_records: usize,
}

/// The declared sink settings.
pub fn sink_def() -> ConfigDef {
    ConfigDef::new([
        ConfigKey::optional("topics", ConfigType::List, "", "The topics to read (or topics.regex)."),
        ConfigKey::optional("topics.regex", ConfigType::String, "", "A regular expression of the topics to read."),
        ConfigKey::optional("consumer.override.max.poll.records", ConfigType::Int, "500", "Most records per batch.")
            .checked(|v| match v.trim().parse::<i32>() {
                Ok(n) if n >= 1 => Ok(()),
                _ => Err("must be at least 1".into()),
            }),
    ])
}

/// Every problem with a sink connector's own settings, beyond each one's type: exactly one of `topics` and
/// `topics.regex`, and a dead-letter topic that is not one of the topics read (Kafka Connect's checks).
pub fn sink_errors(props: &BTreeMap<String, String>) -> Vec<FieldError> {
    let mut errors = sink_def().validate(props);
    let topics = listed_topics(props);
    let regex = props.get("topics.regex").map(|r| r.trim()).unwrap_or_default();
    match (topics.is_empty(), regex.is_empty()) {
        (true, true) => errors
            .push(FieldError { name: "topics".into(), message: "Must configure one of topics or topics.regex".into() }),
        (false, false) => errors.push(FieldError {
            name: "topics.regex".into(),
            message: "topics and topics.regex are mutually exclusive options, but both are set.".into(),
        }),
        _ => {}
    }
    if let Some(dlq) = props.get("errors.deadletterqueue.topic.name").map(|t| t.trim()).filter(|t| !t.is_empty()) {
        if topics.iter().any(|t| t == dlq) {
            errors.push(FieldError {
                name: "errors.deadletterqueue.topic.name".into(),
                message: format!("The DLQ topic '{dlq}' may not be included in the list of topics ('topics=...') consumed by the connector"),
            });
        }
    }
    errors
}

fn listed_topics(props: &BTreeMap<String, String>) -> Vec<String> {
    props
        .get("topics")
        .map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

impl SinkSettings {
    /// The settings of a validated sink config.
    pub fn from_props(props: &BTreeMap<String, String>) -> Self {
        let def = sink_def();
        let number = |name: &str| def.value(props, name).and_then(|v| v.trim().parse::<u64>().ok());
        let topics = listed_topics(props);
        let subscription = if topics.is_empty() {
            Subscription::Pattern(props.get("topics.regex").map(|r| r.trim().to_owned()).unwrap_or_default())
        } else {
            Subscription::Topics(topics)
        };
        SinkSettings {
            subscription,
            max_poll_records: number("consumer.override.max.poll.records").unwrap_or(500).max(1) as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn exactly_one_of_topics_and_regex() {
        let names = |p: &[(&str, &str)]| sink_errors(&props(p)).into_iter().map(|e| e.name).collect::<Vec<_>>();
        assert_eq!(names(&[]), ["topics"]);
        assert_eq!(names(&[("topics", "a"), ("topics.regex", "a.*")]), ["topics.regex"]);
        assert!(names(&[("topics", "a, b")]).is_empty());
        assert_eq!(
            names(&[("topics", "a"), ("errors.deadletterqueue.topic.name", "a")]),
            ["errors.deadletterqueue.topic.name"]
        );
    }

    #[test]
    fn settings_are_read() {
        let settings = SinkSettings::from_props(&props(&[("topics", "a,b")]));
        assert_eq!(settings.subscription, Subscription::Topics(vec!["a".into(), "b".into()]));
        assert_eq!(settings.max_poll_records, 500);
        let regex = SinkSettings::from_props(&props(&[("topics.regex", "orders\\\\..*")]));
        assert_eq!(regex.subscription, Subscription::Pattern("orders\\\\..*".into()));
    }
}
