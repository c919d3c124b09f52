//! The sink's settings, under Debezium's JDBC sink property names, and their typed form ([`SinkConfig`]).

use std::collections::BTreeMap;

use tidemark_connect::config::{ConfigDef, ConfigKey, ConfigType, FieldError};
use tidemark_debezium::choose;
use tidemark_debezium::config::POSITIVE;

use crate::tls::SinkTls;
use crate::url::ConnectionUrl;

/// Debezium JDBC sink properties this sink does not implement: named in a warning at task start.
pub const UNSUPPORTED: &[&str] = &[
    "connection.pool.min_size",
    "connection.pool.max_size",
    "connection.pool.acquire_increment",
    "connection.pool.timeout",
    "connection.provider",
    "database.time_zone",
    "field.include.list",
    "field.exclude.list",
    "column.naming.strategy",
    "table.naming.strategy",
    "collection.naming.strategy",
    "dialect.postgres.postgis.schema",
    "dialect.sqlserver.identity.insert",
    "flush.max.retries",
    "flush.retry.delay.ms",
    "use.reduction.buffer",
];

/// `insert.mode`: how a row is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertMode {
    /// `insert` (the default): `INSERT`; a row whose key exists is refused by the database.
    Insert,
    /// `upsert`: insert, or update the row with the same key (idempotent).
    Upsert,
    /// `update`: update the row with the same key; nothing when there is none.
    Update,
}

/// `primary.key.mode`: which columns key a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrimaryKeyMode {
    /// `none` (the default): no key; only `insert.mode=insert` works.
    None,
    /// `kafka`: the record's position, columns `__connect_topic`, `__connect_partition` and `__connect_offset`.
    Kafka,
    /// `record_key`: the key struct's fields (those in `primary.key.fields`, or all), or a primitive key as the
    /// column `primary.key.fields` names.
    RecordKey,
    /// `record_value`: the value fields `primary.key.fields` names, or all of them.
    RecordValue,
}

/// `schema.evolution`: what happens when a table or a column is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaEvolution {
    /// `none` (the default): the task fails and says what is missing.
    None,
    /// `basic`: missing tables are created and missing columns added, from the record's schema.
    Basic,
}

const INSERT_MODES: &[(&str, InsertMode)] =
    &[("insert", InsertMode::Insert), ("upsert", InsertMode::Upsert), ("update", InsertMode::Update)];
const KEY_MODES: &[(&str, PrimaryKeyMode)] = &[
    ("none", PrimaryKeyMode::None),
    ("kafka", PrimaryKeyMode::Kafka),
    ("record_key", PrimaryKeyMode::RecordKey),
    ("record_value", PrimaryKeyMode::RecordValue),
];
const EVOLUTIONS: &[(&str, SchemaEvolution)] = &[("none", SchemaEvolution::None), ("basic", SchemaEvolution::Basic)];

/// The settings a task runs with, checked and typed.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    /// `connection.url`.
    pub url: ConnectionUrl,
    /// TLS to the database, from `connection.url`'s parameters.
    pub tls: SinkTls,
    /// `connection.username`.
    pub username: String,
    /// `connection.password`.
    pub password: String,
    /// `insert.mode`.
    pub insert_mode: InsertMode,
    /// `delete.enabled`.
    pub delete_enabled: bool,
    /// `truncate.enabled`.
    pub truncate_enabled: bool,
    /// `primary.key.mode`.
    pub primary_key_mode: PrimaryKeyMode,
    /// `primary.key.fields`, empty for all.
    pub primary_key_fields: Vec<String>,
    /// `schema.evolution`.
    pub schema_evolution: SchemaEvolution,
    /// `collection.name.format`, else `table.name.format`.
    pub table_name_format: String,
    /// `quote.identifiers`.
    pub quote_identifiers: bool,
    /// `batch.size`.
    pub batch_size: usize,
}

/// The declared settings.
pub fn config_def() -> ConfigDef {
    ConfigDef::new([
        ConfigKey::required(
            "connection.url",
            ConfigType::String,
            "The database: jdbc:postgresql://host:port/database, jdbc:mysql://host:port/database or \
             jdbc:mariadb://host:port/database. TLS as the drivers' parameters say: for Postgres sslmode (libpq's \
             modes, prefer when absent; ssl=true alone is verify-full), sslrootcert, sslcert and sslkey (PEM files); \
             for MySQL and MariaDB sslMode (DISABLED, PREFERRED when absent, REQUIRED, VERIFY_CA, VERIFY_IDENTITY, \
             or MariaDB's disable, trust, verify-ca, verify-full; useSSL=false is DISABLED) and serverSslCert (the \
             CA, PEM). Other parameters are ignored with a warning.",
        )
        .checked(|v| ConnectionUrl::parse(v).map(drop).map_err(|e| e.to_string())),
        ConfigKey::required("connection.username", ConfigType::String, "The user to connect as."),
        ConfigKey::optional("connection.password", ConfigType::Password, "", "The user's password."),
        ConfigKey::optional(
            "insert.mode",
            ConfigType::String,
            "insert",
            "insert: INSERT every row; upsert: insert or update the row with the same primary key (idempotent); \
             update: update the row with the same primary key.",
        )
        .one_of(&["insert", "upsert", "update"]),
        ConfigKey::optional(
            "delete.enabled",
            ConfigType::Boolean,
            "false",
            "Delete the row of a delete event or a tombstone; needs primary.key.mode=record_key.",
        ),
        ConfigKey::optional(
            "truncate.enabled",
            ConfigType::Boolean,
            "false",
            "Empty the table (TRUNCATE TABLE) on a truncate event (op t); otherwise truncate events are skipped.",
        ),
        ConfigKey::optional(
            "primary.key.mode",
            ConfigType::String,
            "none",
            "The primary key columns: none; kafka (__connect_topic, __connect_partition, __connect_offset); \
             record_key (the key's fields, or a primitive key as the column primary.key.fields names); record_value \
             (the value fields primary.key.fields names, or all).",
        )
        .one_of(&["none", "kafka", "record_key", "record_value"]),
        ConfigKey::optional(
            "primary.key.fields",
            ConfigType::List,
            "",
            "The fields that make the primary key (record_key, record_value); the column of a primitive key.",
        ),
        ConfigKey::optional(
            "schema.evolution",
            ConfigType::String,
            "none",
            "none: a missing table or column fails the task; basic: create missing tables and add missing columns \
             from the record's schema.",
        )
        .one_of(&["none", "basic"]),
        ConfigKey::optional(
            "table.name.format",
            ConfigType::String,
            "${topic}",
            "The table a topic's records go to; ${topic} is the topic, and dots become underscores \
             (server.inventory.customers goes to server_inventory_customers).",
        )
        .checked(check_format),
        ConfigKey::optional(
            "collection.name.format",
            ConfigType::String,
            "",
            "The newer name of table.name.format; wins when set.",
        )
        .checked(|v| if v.trim().is_empty() { Ok(()) } else { check_format(v) }),
        ConfigKey::optional(
            "quote.identifiers",
            ConfigType::Boolean,
            "false",
            "Keep the case of table and column names in Postgres; by default they are lower-cased, as Postgres \
             folds unquoted names. Names are always quoted in the SQL written.",
        ),
        ConfigKey::optional("batch.size", ConfigType::Int, "500", "The most rows one statement writes.")
            .checked(POSITIVE),
    ])
}

fn check_format(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        Err("must not be empty".to_owned())
    } else {
        Ok(())
    }
}

impl SinkConfig {
    /// The typed settings of `props`, or every problem with them (each on the setting to fix).
    pub fn from_props(props: &BTreeMap<String, String>) -> Result<Self, Vec<FieldError>> {
        let def = config_def();
        let mut errors = def.validate(props);
        if !errors.is_empty() {
            return Err(errors);
        }
        let text = |name: &str| def.value(props, name).unwrap_or_default().trim().to_owned();
        let field_error = |name: &str, message: String| FieldError { name: name.to_owned(), message };
        let url =
            ConnectionUrl::parse(&text("connection.url")).map_err(|e| field_error("connection.url", e.to_string()));
        let insert_mode = choose(&text("insert.mode"), INSERT_MODES).map_err(|e| field_error("insert.mode", e));
        let key_mode = choose(&text("primary.key.mode"), KEY_MODES).map_err(|e| field_error("primary.key.mode", e));
        let evolution = choose(&text("schema.evolution"), EVOLUTIONS).map_err(|e| field_error("schema.evolution", e));
        let tls = match &url {
            Ok(url) => SinkTls::from_url(url)
                .map_err(|why| errors.push(field_error("connection.url", format!("TLS settings: {why}")))),
            Err(_) => Err(()),
        };
        let (Ok(url), Ok(tls), Ok(insert_mode), Ok(primary_key_mode), Ok(schema_evolution)) =
            (url, tls, insert_mode, key_mode, evolution)
        else {
            return Err(errors);
        };
        let delete_enabled = text("delete.enabled").eq_ignore_ascii_case("true");
        if delete_enabled && primary_key_mode != PrimaryKeyMode::RecordKey {
            errors.push(field_error(
                "delete.enabled",
                format!(
                    "delete.enabled=true needs primary.key.mode=record_key (the key of a delete or a tombstone says \
                     which row to delete), but primary.key.mode is {}",
                    text("primary.key.mode")
                ),
            ));
        }
        if insert_mode != InsertMode::Insert && primary_key_mode == PrimaryKeyMode::None {
            errors.push(field_error(
                "primary.key.mode",
                format!(
                    "insert.mode={} needs a primary key: set primary.key.mode to record_key, record_value or kafka",
                    text("insert.mode")
                ),
            ));
        }
        let primary_key_fields: Vec<String> =
            text("primary.key.fields").split(',').map(str::trim).filter(|f| !f.is_empty()).map(str::to_owned).collect();
        let collection_format = text("collection.name.format");
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(SinkConfig {
            url,
            tls,
            username: text("connection.username"),
            // Not trimmed: a password may have spaces.
            password: def.value(props, "connection.password").unwrap_or_default().to_owned(),
            insert_mode,
            delete_enabled,
            truncate_enabled: text("truncate.enabled").eq_ignore_ascii_case("true"),
            primary_key_mode,
            primary_key_fields,
            schema_evolution,
            table_name_format: if collection_format.is_empty() { text("table.name.format") } else { collection_format },
            quote_identifiers: text("quote.identifiers").eq_ignore_ascii_case("true"),
            batch_size: text("batch.size").parse().unwrap_or(500),
        })
    }

    /// The table a topic's records are written to: the format with `${topic}` replaced, dots made underscores.
    pub fn table_name(&self, topic: &str) -> String {
        self.table_name_format.replace("${topic}", topic).replace('.', "_")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut props: BTreeMap<String, String> = [
            ("connection.url", "jdbc:postgresql://localhost:5432/sink"),
            ("connection.username", "tidemark"),
            ("connection.password", " secret "),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        props.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        props
    }

    #[test]
    fn defaults_are_debeziums() {
        let config = SinkConfig::from_props(&props(&[])).expect("valid");
        assert_eq!(config.insert_mode, InsertMode::Insert);
        assert_eq!(config.primary_key_mode, PrimaryKeyMode::None);
        assert_eq!(config.schema_evolution, SchemaEvolution::None);
        assert!(!config.delete_enabled && !config.quote_identifiers);
        assert_eq!((config.batch_size, config.password.as_str()), (500, " secret "));
        assert_eq!(config.table_name("server.inventory.customers"), "server_inventory_customers");
    }

    #[test]
    fn typed_settings() {
        let config = SinkConfig::from_props(&props(&[
            ("insert.mode", "UPSERT"),
            ("delete.enabled", "true"),
            ("primary.key.mode", "record_key"),
            ("primary.key.fields", " id, tenant ,"),
            ("schema.evolution", "basic"),
            ("table.name.format", "old_${topic}"),
            ("collection.name.format", "sink_${topic}"),
            ("batch.size", "20"),
        ]))
        .expect("valid");
        assert_eq!(config.insert_mode, InsertMode::Upsert);
        assert_eq!(config.primary_key_fields, ["id", "tenant"]);
        assert_eq!(config.schema_evolution, SchemaEvolution::Basic);
        assert_eq!(config.table_name("pg1.public.orders"), "sink_pg1_public_orders");
        assert_eq!(config.batch_size, 20);
    }

    #[test]
    fn every_bad_field_is_named() {
        let errors = SinkConfig::from_props(&props(&[
            ("connection.url", "jdbc:oracle:thin:@h:1521:x"),
            ("insert.mode", "merge"),
            ("batch.size", "0"),
        ]))
        .expect_err("invalid");
        let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["connection.url", "insert.mode", "batch.size"]);
        let mut missing = props(&[]);
        missing.remove("connection.username");
        let errors = SinkConfig::from_props(&missing).expect_err("invalid");
        assert_eq!(errors[0].name, "connection.username");
    }

    #[test]
    fn deletes_need_record_keys_and_upserts_need_keys() {
        let errors =
            SinkConfig::from_props(&props(&[("delete.enabled", "true"), ("primary.key.mode", "record_value")]))
                .expect_err("invalid");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].name, "delete.enabled");
        assert!(errors[0].message.contains("primary.key.mode=record_key"), "{}", errors[0].message);
        let errors = SinkConfig::from_props(&props(&[("insert.mode", "upsert")])).expect_err("invalid");
        assert_eq!(errors[0].name, "primary.key.mode");
        assert!(errors[0].message.contains("insert.mode=upsert needs a primary key"), "{}", errors[0].message);
    }
}
