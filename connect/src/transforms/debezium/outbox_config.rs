//! The settings of the outbox `EventRouter` (Debezium's `EventRouterConfigDefinition`: names and defaults, and
//! Tidemark's `route.message.prefix`) and the parsing of `table.fields.additional.placement`.

use crate::config::{ConfigDef, ConfigKey, ConfigType, Importance};

/// Where an additional outbox column goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// A header named by the alias.
    Header,
    /// A field of the value, next to `payload` (the value becomes a struct).
    Envelope,
    /// The record's partition (an INT32 column).
    Partition,
}

/// One `column:placement[:alias]` item of `table.fields.additional.placement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AdditionalField {
    /// The outbox column.
    pub(crate) column: String,
    /// Where it goes.
    pub(crate) placement: Placement,
    /// The header or field name (the column's own by default).
    pub(crate) alias: String,
}

impl AdditionalField {
    /// Parses one item; the error says what is wrong with it.
    pub(crate) fn parse(item: &str) -> Result<Self, String> {
        let parts: Vec<&str> = item.split(':').map(str::trim).collect();
        let (column, placement, alias) = match parts[..] {
            [column, placement] => (column, placement, column),
            [column, placement, alias] => (column, placement, alias),
            _ => return Err(format!("'{item}' is not a column:placement or column:placement:alias pair")),
        };
        let placement = match placement.to_ascii_lowercase().as_str() {
            "header" => Placement::Header,
            "envelope" => Placement::Envelope,
            "partition" => Placement::Partition,
            other => return Err(format!("placement '{other}' of '{item}' must be header, envelope or partition")),
        };
        if column.is_empty() || alias.is_empty() {
            return Err(format!("'{item}' names no column or alias"));
        }
        Ok(AdditionalField { column: column.to_owned(), placement, alias: alias.to_owned() })
    }
}

/// The settings `EventRouter` declares.
pub(crate) fn config_def() -> ConfigDef {
    let key = |name, kind, default, doc| ConfigKey::optional(name, kind, default, doc);
    ConfigDef::new([
        key(
            "table.op.invalid.behavior",
            ConfigType::String,
            "warn",
            "What an UPDATE of the outbox table does: warn, error (both skip it) or fatal.",
        )
        .one_of(&["warn", "error", "fatal"]),
        key("table.field.event.id", ConfigType::String, "id", "The column holding the event id (the id header)."),
        key(
            "table.field.event.key",
            ConfigType::String,
            "aggregateid",
            "The column holding the event key (the record key).",
        ),
        key("table.field.event.type", ConfigType::String, "type", "The column holding the event type."),
        key(
            "table.field.event.timestamp",
            ConfigType::String,
            "",
            "The column holding the event timestamp; by default the change event's ts_ms.",
        ),
        key(
            "table.field.event.payload",
            ConfigType::String,
            "payload",
            "The column holding the event payload (the record value).",
        ),
        key(
            "table.field.event.schema.version",
            ConfigType::String,
            "",
            "The INT32 column holding the version of the value schema.",
        ),
        key(
            "table.fields.additional.placement",
            ConfigType::List,
            "",
            "Extra columns as column:header|envelope|partition[:alias].",
        )
        .importance(Importance::High),
        key(
            "table.fields.additional.error.on.missing",
            ConfigType::Boolean,
            "true",
            "Whether a missing additional column is an error.",
        ),
        key(
            "table.expand.json.payload",
            ConfigType::Boolean,
            "false",
            "Whether a JSON string payload is expanded into a struct with an inferred schema.",
        ),
        key(
            "table.json.payload.null.behavior",
            ConfigType::String,
            "ignore",
            "What a JSON null of an expanded payload becomes: ignore or optional_bytes.",
        )
        .one_of(&["ignore", "optional_bytes"]),
        key("route.by.field", ConfigType::String, "aggregatetype", "The column whose value routes the event.")
            .importance(Importance::High),
        key(
            "route.topic.regex",
            ConfigType::String,
            "(?<routedByValue>.*)",
            "The regex applied to the route.by.field value.",
        ),
        key(
            "route.topic.replacement",
            ConfigType::String,
            "outbox.event.${routedByValue}",
            "The topic, with the regex's groups.",
        )
        .importance(Importance::High),
        key(
            "route.message.prefix",
            ConfigType::String,
            "outbox",
            "Beyond Debezium: Postgres logical decoding messages with this prefix (pg_logical_emit_message(true, \
             'outbox', '{...}')) are routed as outbox rows whose columns are the JSON content's members; blank for \
             none. Messages with other prefixes pass unchanged.",
        ),
        key(
            "route.tombstone.on.empty.payload",
            ConfigType::Boolean,
            "false",
            "Whether a null or empty payload becomes a tombstone.",
        )
        .importance(Importance::High),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_placements() {
        let header = AdditionalField::parse("eventType:header:type").expect("header");
        assert_eq!(
            header,
            AdditionalField { column: "eventType".into(), placement: Placement::Header, alias: "type".into() }
        );
        assert_eq!(AdditionalField::parse("partitionColumn:partition").map(|f| f.placement), Ok(Placement::Partition));
        assert_eq!(AdditionalField::parse("my-field:ENVELOPE").map(|f| f.alias), Ok("my-field".into()));
        assert!(AdditionalField::parse("eventType").is_err());
        assert!(AdditionalField::parse("eventType:body").is_err());
    }
}
