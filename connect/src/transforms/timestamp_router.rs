//! `org.apache.kafka.connect.transforms.TimestampRouter`: renames the topic after the record's timestamp, for
//! time-partitioned destinations: `topic.format` (default `${topic}-${timestamp}`) with `${timestamp}` formatted
//! by `timestamp.format` (a Java `SimpleDateFormat` pattern, default `yyyyMMdd`, in UTC). A record without a
//! timestamp is an error, as in Kafka.

use crate::config::{ConfigDef, ConfigKey, ConfigType, FieldError, Importance};
use crate::record::ConnectRecord;

use super::date_format::DateFormat;
use super::error::TransformError;
use super::settings::Settings;
use super::Transform;

/// Kafka's `TimestampRouter`.
#[derive(Debug, Clone)]
pub struct TimestampRouter {
    topic_format: String,
    timestamp_format: DateFormat,
}

impl TimestampRouter {
    /// The declared settings.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new([
            ConfigKey::optional(
                "topic.format",
                ConfigType::String,
                "${topic}-${timestamp}",
                "Format string which can contain ${topic} and ${timestamp} as placeholders.",
            )
            .importance(Importance::High),
            ConfigKey::optional(
                "timestamp.format",
                ConfigType::String,
                "yyyyMMdd",
                "Format string for the timestamp that is compatible with java.text.SimpleDateFormat.",
            )
            .importance(Importance::High),
        ])
    }

    /// A router from its settings; every bad one is named.
    pub fn configure(settings: &Settings) -> Result<Self, Vec<FieldError>> {
        let errors = settings.check_declared();
        if !errors.is_empty() {
            return Err(errors);
        }
        let timestamp_format = DateFormat::parse(&settings.raw("timestamp.format"))
            .map_err(|why| vec![settings.invalid("timestamp.format", why)])?;
        Ok(TimestampRouter { topic_format: settings.raw("topic.format"), timestamp_format })
    }
}

impl Transform for TimestampRouter {
    fn apply(&self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>, TransformError> {
        let timestamp = record
            .timestamp
            .ok_or_else(|| TransformError::new(format!("Timestamp missing on record of topic {}", record.topic)))?;
        let formatted = self.timestamp_format.format(timestamp);
        record.topic = self.topic_format.replace("${topic}", &record.topic).replace("${timestamp}", &formatted);
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::data::Value;

    fn router(pairs: &[(&str, &str)]) -> Result<TimestampRouter, Vec<FieldError>> {
        let props: BTreeMap<String, String> =
            pairs.iter().map(|(k, v)| (format!("transforms.ts.{k}"), v.to_string())).collect();
        TimestampRouter::configure(&Settings::new("transforms.ts.", &props, TimestampRouter::config_def()))
    }

    #[test]
    fn routes_by_day_by_default_and_by_any_pattern() {
        let mut record = ConnectRecord::new("orders", (None, Value::Null), (None, Value::Null));
        record.timestamp = Some(1_556_890_294_484);
        let out = router(&[]).expect("router").apply(record.clone()).expect("apply").expect("kept");
        assert_eq!(out.topic, "orders-20190503");
        let hourly = router(&[("topic.format", "${timestamp}.${topic}"), ("timestamp.format", "yyyy-MM-dd'T'HH")]);
        let out = hourly.expect("router").apply(record.clone()).expect("apply").expect("kept");
        assert_eq!(out.topic, "2019-05-03T13.orders");
        record.timestamp = None;
        assert!(router(&[]).expect("router").apply(record).is_err());
    }

    #[test]
    fn refuses_patterns_java_refuses() {
        let errors = router(&[("timestamp.format", "yyyy-qq")]).err().unwrap_or_default();
        assert_eq!(errors[0].name, "transforms.ts.timestamp.format");
        assert!(errors[0].message.ends_with("Illegal pattern character 'q'"), "{}", errors[0].message);
    }
}
