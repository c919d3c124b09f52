//! Properties the connector does not read. Kafka Connect hands a connector every property of its config, so
//! unknown ones are accepted, never silently: the task names them in a warning at start, and says "not supported
//! yet" for Debezium's own properties that this connector does not implement.

use std::collections::BTreeMap;

use tidemark_connect::config::ConfigDef;

/// Property prefixes (and names) that belong to the worker, the converters and the transforms.
const RUNTIME: &[&str] = &[
    "name",
    "connector.class",
    "tasks.max",
    "task.id",
    "key.converter",
    "value.converter",
    "header.converter",
    "transforms",
    "predicates",
    "errors.",
    "topic.creation.",
    "offset.flush.",
    "producer.override.",
    "consumer.override.",
    "admin.override.",
    "config.action.reload",
    "exactly.once.support",
    "transaction.boundary",
    "offsets.storage.topic",
];

/// A warning for each property of `props` that `def` does not declare: Debezium's properties the connector does not
/// implement (`unsupported`, and the `column.mask*` / `column.truncate*` families) as "not supported yet", the rest
/// as unknown. The worker's, converters' and transforms' properties are not mentioned.
pub fn warnings(def: &ConfigDef, props: &BTreeMap<String, String>, unsupported: &[&str]) -> Vec<String> {
    props
        .keys()
        .filter(|name| def.key(name).is_none() && !RUNTIME.iter().any(|prefix| name.starts_with(prefix)))
        .map(|name| {
            if unsupported.contains(&name.as_str())
                || name.starts_with("column.mask")
                || name.starts_with("column.truncate")
            {
                format!("the Debezium property {name} is not supported yet and is ignored")
            } else {
                format!("unknown property {name} is ignored")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidemark_connect::config::{ConfigKey, ConfigType};

    #[test]
    fn names_what_it_ignores() {
        let def = ConfigDef::new([ConfigKey::required("slot.name", ConfigType::String, "slot")]);
        let props: BTreeMap<String, String> = [
            "slot.name",
            "connector.class",
            "transforms.unwrap.type",
            "key.converter.schemas.enable",
            "column.propagate.source.type",
            "column.mask.with.12.chars",
            "database.server.name",
        ]
        .iter()
        .map(|k| (k.to_string(), "x".to_owned()))
        .collect();
        assert_eq!(
            warnings(&def, &props, &["column.propagate.source.type"]),
            [
                "the Debezium property column.mask.with.12.chars is not supported yet and is ignored",
                "the Debezium property column.propagate.source.type is not supported yet and is ignored",
                "unknown property database.server.name is ignored",
            ]
        );
    }
}
