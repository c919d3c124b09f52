//! Kafka Connect's predicates (`org.apache.kafka.connect.transforms.predicates.*`): `TopicNameMatches` (`pattern`,
//! the whole topic name must match), `RecordIsTombstone` (the value is null) and `HasHeaderKey` (`name`, a header
//! with that key exists).

use crate::config::{ConfigDef, ConfigKey, ConfigType, FieldError};
use crate::record::ConnectRecord;

use super::java_regex::JavaRegex;
use super::settings::Settings;
use super::Predicate;

/// `TopicNameMatches`: the topic name matches `pattern` as a whole (`Matcher.matches()`).
#[derive(Debug, Clone)]
pub struct TopicNameMatches {
    pattern: JavaRegex,
}

impl TopicNameMatches {
    /// The declared settings: `pattern`, required.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new([ConfigKey::required(
            "pattern",
            ConfigType::String,
            "A Java regular expression for matching against the name of a record's topic.",
        )])
    }

    /// The predicate from its settings; a missing, empty or invalid pattern is named.
    pub fn configure(settings: &Settings) -> Result<Self, Vec<FieldError>> {
        let errors = settings.check_declared();
        if !errors.is_empty() {
            return Err(errors);
        }
        let pattern = settings.raw("pattern");
        if pattern.is_empty() {
            return Err(vec![settings.invalid("pattern", "String must be non-empty")]);
        }
        let pattern = JavaRegex::new(&pattern).map_err(|why| vec![settings.invalid("pattern", why)])?;
        Ok(TopicNameMatches { pattern })
    }
}

impl Predicate for TopicNameMatches {
    fn test(&self, record: &ConnectRecord) -> bool {
        self.pattern.matches(&record.topic)
    }
}

/// `RecordIsTombstone`: the record's value is null.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordIsTombstone;

impl RecordIsTombstone {
    /// No settings.
    pub fn config_def() -> ConfigDef {
        ConfigDef::default()
    }

    /// The predicate (it has no settings to refuse).
    pub fn configure(_settings: &Settings) -> Result<Self, Vec<FieldError>> {
        Ok(RecordIsTombstone)
    }
}

impl Predicate for RecordIsTombstone {
    fn test(&self, record: &ConnectRecord) -> bool {
        record.is_tombstone()
    }
}

/// `HasHeaderKey`: the record has at least one header with key `name`.
#[derive(Debug, Clone)]
pub struct HasHeaderKey {
    name: String,
}

impl HasHeaderKey {
    /// The declared settings: `name`, required.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new([ConfigKey::required("name", ConfigType::String, "The header name.")])
    }

    /// The predicate from its settings; a missing or empty name is named.
    pub fn configure(settings: &Settings) -> Result<Self, Vec<FieldError>> {
        let errors = settings.check_declared();
        if !errors.is_empty() {
            return Err(errors);
        }
        let name = settings.raw("name");
        if name.is_empty() {
            return Err(vec![settings.invalid("name", "String must be non-empty")]);
        }
        Ok(HasHeaderKey { name })
    }
}

impl Predicate for HasHeaderKey {
    fn test(&self, record: &ConnectRecord) -> bool {
        record.headers.iter().any(|h| h.key == self.name)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::data::Value;
    use crate::record::Header;

    fn settings<'a>(props: &'a BTreeMap<String, String>, def: ConfigDef) -> Settings<'a> {
        Settings::new("predicates.p.", props, def)
    }

    #[test]
    fn each_predicate_tests_what_kafka_tests() {
        let mut record = ConnectRecord::new("dbserver1.inventory.orders", (None, Value::Null), (None, Value::Null));
        let props = BTreeMap::from([("predicates.p.pattern".to_owned(), "dbserver1\\.inventory\\..*".to_owned())]);
        let topic = TopicNameMatches::configure(&settings(&props, TopicNameMatches::config_def())).expect("topic");
        assert!(topic.test(&record));
        record.topic = "x.dbserver1.inventory.orders".into();
        assert!(!topic.test(&record), "the whole name must match");
        assert!(RecordIsTombstone.test(&record));
        record.value = Value::from("v");
        assert!(!RecordIsTombstone.test(&record));
        let props = BTreeMap::from([("predicates.p.name".to_owned(), "trace".to_owned())]);
        let header = HasHeaderKey::configure(&settings(&props, HasHeaderKey::config_def())).expect("header");
        assert!(!header.test(&record));
        record.headers.push(Header::string("trace", "1"));
        assert!(header.test(&record));
    }

    #[test]
    fn names_bad_settings() {
        let none = BTreeMap::new();
        let errors = TopicNameMatches::configure(&settings(&none, TopicNameMatches::config_def())).err();
        assert_eq!(errors.map(|e| e[0].name.clone()).as_deref(), Some("predicates.p.pattern"));
        let bad = BTreeMap::from([("predicates.p.pattern".to_owned(), "(".to_owned())]);
        assert!(TopicNameMatches::configure(&settings(&bad, TopicNameMatches::config_def())).is_err());
        let empty = BTreeMap::from([("predicates.p.name".to_owned(), String::new())]);
        assert!(HasHeaderKey::configure(&settings(&empty, HasHeaderKey::config_def())).is_err());
    }
}
