//! Per-topic configuration: the Kafka topic config names Tidemark honours, their defaults and validation.

use std::collections::BTreeMap;

use thiserror::Error;

/// A topic config value was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The name is not a topic config Tidemark knows.
    #[error("unknown topic config '{0}'")]
    Unknown(String),
    /// The value does not parse or is out of range.
    #[error("invalid value '{value}' for topic config '{name}': {reason}")]
    Invalid {
        /// Config name.
        name: String,
        /// Offending value.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// How old data leaves a topic (`cleanup.policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CleanupPolicy {
    /// Segments past retention are deleted.
    pub delete: bool,
    /// The topic is compacted (keeps the latest record per key).
    pub compact: bool,
}

/// Where a topic config's effective value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigOrigin {
    /// The topic's own override.
    Topic,
    /// The broker's default for every topic (a start-up flag, Kafka's static broker config).
    Broker,
    /// Kafka's built-in default.
    Default,
}

/// The effective configuration of a topic: Kafka's defaults, overlaid with the broker's topic defaults, overlaid
/// with the topic's overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicConfig {
    /// `retention.ms`: segments whose newest record is older are deleted; -1 keeps forever.
    pub retention_ms: i64,
    /// `retention.bytes`: oldest segments are deleted while the partition is larger; -1 means no limit.
    pub retention_bytes: i64,
    /// `segment.bytes`: the active segment rolls before it would grow past this.
    pub segment_bytes: u64,
    /// `segment.ms`: the active segment rolls once it is this old.
    pub segment_ms: i64,
    /// `max.message.bytes`: the largest batch a producer may send.
    pub max_message_bytes: usize,
    /// `cleanup.policy`.
    pub cleanup_policy: CleanupPolicy,
    /// `delete.retention.ms`: how long tombstones survive compaction.
    pub delete_retention_ms: i64,
    /// `min.cleanable.dirty.ratio`: the share of uncleaned bytes at which a compacted partition is cleaned.
    pub min_cleanable_dirty_ratio: f64,
    /// `min.compaction.lag.ms`: records stay uncompacted at least this long.
    pub min_compaction_lag_ms: i64,
    /// `max.compaction.lag.ms`: a record is compacted at most this long after it was written, whatever the ratio.
    pub max_compaction_lag_ms: i64,
    /// `min.insync.replicas`: in-sync replicas required for `acks=all`.
    pub min_insync_replicas: i32,
    /// The overrides given for this topic, by name, as given.
    pub overrides: BTreeMap<String, String>,
    /// The broker's defaults for every topic, by name.
    pub broker_defaults: BTreeMap<String, String>,
}

/// Kafka's config type codes, as DescribeConfigs v3+ reports them.
#[derive(Debug, Clone, Copy)]
#[repr(i8)]
pub enum ConfigType {
    /// `true` or `false`.
    Boolean = 1,
    /// A string value.
    String = 2,
    /// A 32-bit integer.
    Int = 3,
    /// A 64-bit integer.
    Long = 5,
    /// A floating-point number.
    Double = 6,
    /// A comma-separated list.
    List = 7,
}

/// Every topic config Tidemark understands, with its Kafka default and type.
pub const KNOWN_CONFIGS: &[(&str, &str, ConfigType)] = &[
    ("cleanup.policy", "delete", ConfigType::List),
    ("compression.type", "producer", ConfigType::String),
    ("delete.retention.ms", "86400000", ConfigType::Long),
    ("max.compaction.lag.ms", "9223372036854775807", ConfigType::Long),
    ("max.message.bytes", "1048588", ConfigType::Int),
    ("message.timestamp.type", "CreateTime", ConfigType::String),
    ("min.cleanable.dirty.ratio", "0.5", ConfigType::Double),
    ("min.compaction.lag.ms", "0", ConfigType::Long),
    ("min.insync.replicas", "1", ConfigType::Int),
    ("retention.bytes", "-1", ConfigType::Long),
    ("retention.ms", "604800000", ConfigType::Long),
    ("segment.bytes", "1073741824", ConfigType::Int),
    ("segment.ms", "604800000", ConfigType::Long),
    ("unclean.leader.election.enable", "false", ConfigType::Boolean),
];

impl Default for TopicConfig {
    fn default() -> Self {
        TopicConfig::from_overrides(&BTreeMap::new()).expect("the built-in defaults are valid")
    }
}

impl TopicConfig {
    /// Builds the effective config from overrides over Kafka's defaults, validating each.
    pub fn from_overrides(overrides: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        Self::from_layers(&BTreeMap::new(), overrides)
    }

    /// Builds the effective config from a topic's overrides over the broker's topic defaults over Kafka's
    /// defaults, validating each.
    pub fn from_layers(
        broker_defaults: &BTreeMap<String, String>,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Self, ConfigError> {
        for name in overrides.keys().chain(broker_defaults.keys()) {
            if !KNOWN_CONFIGS.iter().any(|(known, _, _)| known == name) {
                return Err(ConfigError::Unknown(name.clone()));
            }
        }
        let value = |name: &str| -> String {
            overrides
                .get(name)
                .or_else(|| broker_defaults.get(name))
                .cloned()
                .unwrap_or_else(|| default_value(name).to_owned())
        };
        let int = |name: &str, min: i64| -> Result<i64, ConfigError> {
            let raw = value(name);
            let parsed: i64 = raw.trim().parse().map_err(|_| invalid(name, &raw, "not an integer"))?;
            if parsed < min {
                return Err(invalid(name, &raw, "below the minimum"));
            }
            Ok(parsed)
        };
        let literal = |name: &str, allowed: &'static [&'static str], reason: &'static str| {
            let raw = value(name);
            if allowed.contains(&raw.as_str()) {
                Ok(())
            } else {
                Err(invalid(name, &raw, reason))
            }
        };
        literal("compression.type", &["producer"], "only 'producer' is supported: batches are stored as sent")?;
        literal("message.timestamp.type", &["CreateTime"], "only CreateTime is supported")?;
        // Read by the controller when it elects a leader (see `controller::image`).
        literal("unclean.leader.election.enable", &["true", "false"], "must be true or false")?;
        Ok(TopicConfig {
            retention_ms: int("retention.ms", -1)?,
            retention_bytes: int("retention.bytes", -1)?,
            segment_bytes: int("segment.bytes", 1024)? as u64,
            segment_ms: int("segment.ms", 1)?,
            max_message_bytes: int("max.message.bytes", 0)? as usize,
            cleanup_policy: parse_cleanup_policy(&value("cleanup.policy"))?,
            delete_retention_ms: int("delete.retention.ms", 0)?,
            min_cleanable_dirty_ratio: ratio(&value("min.cleanable.dirty.ratio"))?,
            min_compaction_lag_ms: int("min.compaction.lag.ms", 0)?,
            max_compaction_lag_ms: int("max.compaction.lag.ms", 1)?,
            min_insync_replicas: int("min.insync.replicas", 1)? as i32,
            overrides: overrides.clone(),
            broker_defaults: broker_defaults.clone(),
        })
    }

    /// Every known config with its effective value and where that comes from.
    pub fn describe(&self) -> Vec<(&'static str, String, ConfigOrigin, ConfigType)> {
        KNOWN_CONFIGS
            .iter()
            .map(|&(name, default, kind)| match (self.overrides.get(name), self.broker_defaults.get(name)) {
                (Some(v), _) => (name, v.clone(), ConfigOrigin::Topic, kind),
                (None, Some(v)) => (name, v.clone(), ConfigOrigin::Broker, kind),
                (None, None) => (name, default.to_owned(), ConfigOrigin::Default, kind),
            })
            .collect()
    }
}

fn default_value(name: &str) -> &'static str {
    KNOWN_CONFIGS.iter().find(|(known, _, _)| *known == name).map_or("", |(_, default, _)| default)
}

/// Whether a known config holds a comma-separated list (the only kind APPEND and SUBTRACT apply to).
pub fn is_list(name: &str) -> bool {
    KNOWN_CONFIGS.iter().any(|(known, _, kind)| *known == name && matches!(kind, ConfigType::List))
}

fn invalid(name: &str, value: &str, reason: &'static str) -> ConfigError {
    ConfigError::Invalid { name: name.to_owned(), value: value.to_owned(), reason }
}

fn ratio(raw: &str) -> Result<f64, ConfigError> {
    match raw.trim().parse::<f64>() {
        Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio),
        Ok(_) => Err(invalid("min.cleanable.dirty.ratio", raw, "must be between 0 and 1")),
        Err(_) => Err(invalid("min.cleanable.dirty.ratio", raw, "not a number")),
    }
}

fn parse_cleanup_policy(raw: &str) -> Result<CleanupPolicy, ConfigError> {
    let mut policy = CleanupPolicy { delete: false, compact: false };
    for part in raw.split(',').map(str::trim) {
        match part {
            "delete" => policy.delete = true,
            "compact" => policy.compact = true,
            _ => return Err(invalid("cleanup.policy", raw, "expected delete, compact or both")),
        }
    }
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overrides(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_match_kafka() {
        let config = TopicConfig::default();
        assert_eq!(config.retention_ms, 604_800_000);
        assert_eq!(config.segment_bytes, 1_073_741_824);
        assert!(config.cleanup_policy.delete && !config.cleanup_policy.compact);
    }

    #[test]
    fn a_topic_override_wins_over_the_broker_default_which_wins_over_kafkas() {
        let broker = overrides(&[("min.insync.replicas", "2"), ("retention.ms", "1000")]);
        let config = TopicConfig::from_layers(&broker, &overrides(&[("retention.ms", "5")])).expect("valid");
        assert_eq!((config.min_insync_replicas, config.retention_ms, config.segment_ms), (2, 5, 604_800_000));
        let origin = |name: &str| config.describe().into_iter().find(|(n, ..)| *n == name).map(|(_, v, o, _)| (v, o));
        assert_eq!(origin("min.insync.replicas"), Some(("2".to_owned(), ConfigOrigin::Broker)));
        assert_eq!(origin("retention.ms"), Some(("5".to_owned(), ConfigOrigin::Topic)));
        assert_eq!(origin("segment.ms"), Some(("604800000".to_owned(), ConfigOrigin::Default)));
        assert_eq!(config.overrides, overrides(&[("retention.ms", "5")]), "broker defaults are not overrides");
        let refused = TopicConfig::from_layers(&overrides(&[("min.insync.replicas", "0")]), &BTreeMap::new());
        assert!(matches!(refused, Err(ConfigError::Invalid { .. })), "a bad broker default is refused");
    }

    #[test]
    fn validates_overrides() {
        let config = TopicConfig::from_overrides(&overrides(&[("cleanup.policy", "compact,delete")])).expect("ok");
        assert!(config.cleanup_policy.delete && config.cleanup_policy.compact);
        assert_eq!(
            TopicConfig::from_overrides(&overrides(&[("retention.mss", "1")])),
            Err(ConfigError::Unknown("retention.mss".into()))
        );
        assert!(TopicConfig::from_overrides(&overrides(&[("segment.bytes", "abc")])).is_err());
        assert!(TopicConfig::from_overrides(&overrides(&[("retention.ms", "-2")])).is_err());
        assert!(TopicConfig::from_overrides(&overrides(&[("compression.type", "gzip")])).is_err());
        assert!(TopicConfig::from_overrides(&overrides(&[("unclean.leader.election.enable", "true")])).is_ok());
        assert!(TopicConfig::from_overrides(&overrides(&[("unclean.leader.election.enable", "yes")])).is_err());
    }

    #[test]
    fn compaction_configs_parse_with_kafka_defaults() {
        let config = TopicConfig::default();
        assert_eq!(config.min_cleanable_dirty_ratio, 0.5);
        assert_eq!((config.min_compaction_lag_ms, config.max_compaction_lag_ms), (0, i64::MAX));
        let set = overrides(&[("min.cleanable.dirty.ratio", "0.01"), ("max.compaction.lag.ms", "60000")]);
        let config = TopicConfig::from_overrides(&set).expect("ok");
        assert_eq!((config.min_cleanable_dirty_ratio, config.max_compaction_lag_ms), (0.01, 60_000));
        for bad in ["1.5", "-0.1", "half"] {
            assert!(TopicConfig::from_overrides(&overrides(&[("min.cleanable.dirty.ratio", bad)])).is_err());
        }
        assert!(TopicConfig::from_overrides(&overrides(&[("max.compaction.lag.ms", "0")])).is_err());
    }
}
