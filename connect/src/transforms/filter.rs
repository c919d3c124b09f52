//! `org.apache.kafka.connect.transforms.Filter`: drops every record it sees. On its own it empties the stream; with
//! a predicate (`transforms.x.predicate=isTombstone`) it drops the records the predicate selects.

use crate::config::{ConfigDef, FieldError};
use crate::record::ConnectRecord;

use super::error::TransformError;
use super::settings::Settings;
use super::Transform;

/// Kafka's `Filter`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter;

impl Filter {
    /// No settings.
    pub fn config_def() -> ConfigDef {
        ConfigDef::default()
    }

    /// The filter (it has no settings to refuse).
    pub fn configure(_settings: &Settings) -> Result<Self, Vec<FieldError>> {
        Ok(Filter)
    }
}

impl Transform for Filter {
    fn apply(&self, _record: ConnectRecord) -> Result<Option<ConnectRecord>, TransformError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Value;

    #[test]
    fn drops_everything() {
        let record = ConnectRecord::new("t", (None, Value::Null), (None, Value::from("v")));
        assert_eq!(Filter.apply(record), Ok(None));
    }
}
