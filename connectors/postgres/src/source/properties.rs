//! Properties the connector does not read. Kafka Connect hands a connector every property of its config, so
//! unknown ones are accepted, never silently: the task names them in a warning at start, and says "not supported
//! yet" for Debezium's own properties that this connector does not implement.

use std::collections::BTreeMap;

use tidemark_connect::config::ConfigDef;

/// Debezium Postgres connector properties this connector does not implement yet.
const UNSUPPORTED: &[&str] = &[
    "column.mask.hash",
    "column.propagate.source.type",
    "converters",
    "database.initial.statements",
    "database.sslcert",
    "database.sslfactory",
    "database.sslkey",
    "database.sslpassword",
    "database.sslrootcert",
    "database.tcpKeepAlive",
    "datatype.propagate.source.type",
    "event.processing.failure.handling.mode",
    "field.name.adjustment.mode",
    "flush.lsn.source",
    "heartbeat.action.query",
    "include.schema.comments",
    "include.unknown.datatypes",
    "incremental.snapshot.chunk.size",
    "message.prefix.exclude.list",
    "message.prefix.include.list",
    "notification.enabled.channels",
    "publish.via.partition.root",
    "read.only",
    "replica.identity.autoset.values",
    "retriable.restart.connector.wait.ms",
    "schema.name.adjustment.mode",
    "schema.refresh.mode",
    "signal.data.collection",
    "signal.enabled.channels",
    "slot.max.retries",
    "slot.retry.delay.ms",
    "slot.stream.params",
    "snapshot.delay.ms",
    "snapshot.fetch.size",
    "snapshot.include.collection.list",
    "snapshot.isolation.mode",
    "snapshot.lock.timeout.ms",
    "snapshot.locking.mode",
    "snapshot.max.threads",
    "snapshot.select.statement.overrides",
    "snapshot.tables.order.by.row.count",
    "table.ignore.builtin",
    "tombstones.on.delete.mode",
    "topic.delimiter",
    "topic.heartbeat.prefix",
    "topic.naming.strategy",
    "topic.transaction",
    "transaction.metadata.factory",
    "truncate.handling.mode",
    "xmin.fetch.interval.ms",
];

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

/// A warning for each property of `props` that `def` does not declare: Debezium's unimplemented ones as "not
/// supported yet", the rest as unknown. The worker's, converters' and transforms' properties are not mentioned.
pub fn warnings(def: &ConfigDef, props: &BTreeMap<String, String>) -> Vec<String> {
    props
        .keys()
        .filter(|name| def.key(name).is_none() && !RUNTIME.iter().any(|prefix| name.starts_with(prefix)))
        .map(|name| {
            if UNSUPPORTED.contains(&name.as_str())
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
            warnings(&def, &props),
            [
                "the Debezium property column.mask.with.12.chars is not supported yet and is ignored",
                "the Debezium property column.propagate.source.type is not supported yet and is ignored",
                "unknown property database.server.name is ignored",
            ]
        );
    }
}
