//! `org.apache.kafka.connect.transforms.RegexRouter`: renames the topic when the whole topic name matches `regex`,
//! to `replacement` with Java's group syntax (`$1`, `${name}`); other records pass unchanged.

use crate::config::{ConfigDef, ConfigKey, ConfigType, FieldError, Importance};
use crate::record::ConnectRecord;

use super::error::TransformError;
use super::java_regex::{JavaRegex, Replacement};
use super::settings::Settings;
use super::Transform;

/// Kafka's `RegexRouter`.
#[derive(Debug, Clone)]
pub struct RegexRouter {
    regex: JavaRegex,
    replacement: Replacement,
}

impl RegexRouter {
    /// The declared settings: `regex` and `replacement`, both required.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new([
            ConfigKey::required("regex", ConfigType::String, "Regular expression to use for matching."),
            ConfigKey::required("replacement", ConfigType::String, "Replacement string.").importance(Importance::High),
        ])
    }

    /// A router from its settings; every bad one is named.
    pub fn configure(settings: &Settings) -> Result<Self, Vec<FieldError>> {
        let mut errors = settings.check_declared();
        let regex = settings
            .given("regex")
            .and_then(|regex| JavaRegex::new(regex).map_err(|why| errors.push(settings.invalid("regex", why))).ok());
        let replacement = match (&regex, settings.given("replacement")) {
            (Some(regex), Some(text)) => {
                Replacement::parse(text, regex).map_err(|why| errors.push(settings.invalid("replacement", why))).ok()
            }
            _ => None,
        };
        match (regex, replacement) {
            (Some(regex), Some(replacement)) if errors.is_empty() => Ok(RegexRouter { regex, replacement }),
            _ => Err(errors),
        }
    }

    /// A router from a pattern and a replacement; the error names the setting at fault and why.
    pub fn new(regex: &str, replacement: &str) -> Result<Self, (&'static str, String)> {
        let regex = JavaRegex::new(regex).map_err(|why| ("regex", why))?;
        let replacement = Replacement::parse(replacement, &regex).map_err(|why| ("replacement", why))?;
        Ok(RegexRouter { regex, replacement })
    }

    /// The new name of `topic`, or `None` when the whole name does not match.
    pub fn route(&self, topic: &str) -> Option<String> {
        if self.regex.matches(topic) {
            self.replacement.replace_first(&self.regex, topic)
        } else {
            None
        }
    }
}

impl Transform for RegexRouter {
    fn apply(&self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>, TransformError> {
        if let Some(topic) = self.route(&record.topic) {
            record.topic = topic;
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::data::Value;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (format!("transforms.route.{k}"), v.to_string())).collect()
    }

    fn record(topic: &str) -> ConnectRecord {
        ConnectRecord::new(topic, (None, Value::Null), (None, Value::from("v")))
    }

    #[test]
    fn routes_whole_matches_only() {
        let props = props(&[("regex", "dbserver1\\.inventory\\.(.*)"), ("replacement", "inv_$1")]);
        let router = RegexRouter::configure(&Settings::new("transforms.route.", &props, RegexRouter::config_def()))
            .expect("router");
        let routed = router.apply(record("dbserver1.inventory.orders")).expect("apply").expect("kept");
        assert_eq!(routed.topic, "inv_orders");
        assert_eq!(routed.value, Value::from("v"));
        let other = router.apply(record("x.dbserver1.inventory.orders")).expect("apply").expect("kept");
        assert_eq!(other.topic, "x.dbserver1.inventory.orders", "a partial match is not a match");
    }

    #[test]
    fn names_bad_settings() {
        let missing = props(&[("regex", "a")]);
        let errors = RegexRouter::configure(&Settings::new("transforms.route.", &missing, RegexRouter::config_def()))
            .err()
            .unwrap_or_default();
        assert_eq!(errors.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["transforms.route.replacement"]);
        let bad = props(&[("regex", "(a"), ("replacement", "b")]);
        let errors = RegexRouter::configure(&Settings::new("transforms.route.", &bad, RegexRouter::config_def()))
            .err()
            .unwrap_or_default();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].name, "transforms.route.regex");
        assert!(errors[0].message.contains("not a valid regular expression"), "{}", errors[0].message);
        let bad_group = props(&[("regex", "(a)"), ("replacement", "$2")]);
        let errors = RegexRouter::configure(&Settings::new("transforms.route.", &bad_group, RegexRouter::config_def()))
            .err()
            .unwrap_or_default();
        assert_eq!(errors[0].name, "transforms.route.replacement");
        assert!(errors[0].message.ends_with("No group 2"), "{}", errors[0].message);
    }
}
