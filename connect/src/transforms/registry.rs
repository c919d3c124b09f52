//! The transform and predicate classes Tidemark knows, in one place: the Java class name users paste, the simple
//! name also accepted, the declared settings and the constructor. [`TransformChain`](super::TransformChain) looks
//! `transforms.<alias>.type` and `predicates.<alias>.type` up here.

use std::sync::Arc;

use crate::config::{ConfigDef, FieldError};

use super::debezium::{EventRouter, ExtractNewRecordState};
use super::settings::Settings;
use super::side::Side;
use super::{
    Filter, HasHeaderKey, InsertField, Predicate, RecordIsTombstone, RegexRouter, ReplaceField, TimestampRouter,
    TopicNameMatches, Transform, ValueToKey,
};

/// Builds a plugin from its settings, naming every bad one.
pub type Build<T> = fn(&Settings) -> Result<T, Vec<FieldError>>;

/// A class a connector config may name: `class` (the Java name) or `simple_name`.
pub struct Plugin<T: 'static> {
    /// The Java class name, e.g. `org.apache.kafka.connect.transforms.RegexRouter`.
    pub class: &'static str,
    /// The short name also accepted, e.g. `RegexRouter`, `InsertField$Value`.
    pub simple_name: &'static str,
    /// The settings it declares (under `transforms.<alias>.` or `predicates.<alias>.`).
    pub config_def: fn() -> ConfigDef,
    /// Its constructor.
    pub build: Build<T>,
}

impl<T> Plugin<T> {
    fn answers_to(&self, name: &str) -> bool {
        let name = name.trim();
        name == self.class || name == self.simple_name
    }
}

/// Every transform class: Kafka's built-ins and Debezium's.
pub static TRANSFORMS: &[Plugin<Box<dyn Transform>>] = &[
    Plugin {
        class: "org.apache.kafka.connect.transforms.RegexRouter",
        simple_name: "RegexRouter",
        config_def: RegexRouter::config_def,
        build: |s| Ok(Box::new(RegexRouter::configure(s)?)),
    },
    Plugin {
        class: "org.apache.kafka.connect.transforms.Filter",
        simple_name: "Filter",
        config_def: Filter::config_def,
        build: |s| Ok(Box::new(Filter::configure(s)?)),
    },
    Plugin {
        class: "org.apache.kafka.connect.transforms.InsertField$Value",
        simple_name: "InsertField$Value",
        config_def: InsertField::config_def,
        build: |s| Ok(Box::new(InsertField::configure(Side::Value, s)?)),
    },
    Plugin {
        class: "org.apache.kafka.connect.transforms.InsertField$Key",
        simple_name: "InsertField$Key",
        config_def: InsertField::config_def,
        build: |s| Ok(Box::new(InsertField::configure(Side::Key, s)?)),
    },
    Plugin {
        class: "org.apache.kafka.connect.transforms.ReplaceField$Value",
        simple_name: "ReplaceField$Value",
        config_def: ReplaceField::config_def,
        build: |s| Ok(Box::new(ReplaceField::configure(Side::Value, s)?)),
    },
    Plugin {
        class: "org.apache.kafka.connect.transforms.ReplaceField$Key",
        simple_name: "ReplaceField$Key",
        config_def: ReplaceField::config_def,
        build: |s| Ok(Box::new(ReplaceField::configure(Side::Key, s)?)),
    },
    Plugin {
        class: "org.apache.kafka.connect.transforms.ValueToKey",
        simple_name: "ValueToKey",
        config_def: ValueToKey::config_def,
        build: |s| Ok(Box::new(ValueToKey::configure(s)?)),
    },
    Plugin {
        class: "org.apache.kafka.connect.transforms.TimestampRouter",
        simple_name: "TimestampRouter",
        config_def: TimestampRouter::config_def,
        build: |s| Ok(Box::new(TimestampRouter::configure(s)?)),
    },
    Plugin {
        class: "io.debezium.transforms.ExtractNewRecordState",
        simple_name: "ExtractNewRecordState",
        config_def: ExtractNewRecordState::config_def,
        build: |s| Ok(Box::new(ExtractNewRecordState::configure(s)?)),
    },
    Plugin {
        class: "io.debezium.transforms.outbox.EventRouter",
        simple_name: "EventRouter",
        config_def: EventRouter::config_def,
        build: |s| Ok(Box::new(EventRouter::configure(s)?)),
    },
];

/// Every predicate class: Kafka's built-ins.
pub static PREDICATES: &[Plugin<Arc<dyn Predicate>>] = &[
    Plugin {
        class: "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
        simple_name: "TopicNameMatches",
        config_def: TopicNameMatches::config_def,
        build: |s| Ok(Arc::new(TopicNameMatches::configure(s)?)),
    },
    Plugin {
        class: "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
        simple_name: "RecordIsTombstone",
        config_def: RecordIsTombstone::config_def,
        build: |s| Ok(Arc::new(RecordIsTombstone::configure(s)?)),
    },
    Plugin {
        class: "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
        simple_name: "HasHeaderKey",
        config_def: HasHeaderKey::config_def,
        build: |s| Ok(Arc::new(HasHeaderKey::configure(s)?)),
    },
];

/// The transform class called `name` (Java or simple name).
pub fn transform(name: &str) -> Option<&'static Plugin<Box<dyn Transform>>> {
    TRANSFORMS.iter().find(|p| p.answers_to(name))
}

/// The predicate class called `name` (Java or simple name).
pub fn predicate(name: &str) -> Option<&'static Plugin<Arc<dyn Predicate>>> {
    PREDICATES.iter().find(|p| p.answers_to(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_java_and_simple_names() {
        assert_eq!(
            transform("org.apache.kafka.connect.transforms.InsertField$Key").map(|p| p.simple_name),
            Some("InsertField$Key")
        );
        assert_eq!(transform(" EventRouter ").map(|p| p.class), Some("io.debezium.transforms.outbox.EventRouter"));
        assert!(transform("org.apache.kafka.connect.transforms.Cast$Value").is_none());
        assert!(predicate("RecordIsTombstone").is_some());
        assert!(predicate("RegexRouter").is_none());
    }
}
