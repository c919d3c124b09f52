//! The connector's settings, under Debezium's property names, and their typed form ([`SourceConfig`]).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::streamed::SPILL_BYTES;
use tidemark_connect::config::{ConfigDef, ConfigKey, ConfigType, FieldError};
use tidemark_debezium::config::{common_config_keys, transaction_topic, Container, POSITIVE};
pub use tidemark_debezium::config::{SkippedOperations, SnapshotMode};
use tidemark_debezium::{ColumnFilter, MessageKeyColumns, TableFilter};

use super::columns::TypeSettings;
use super::schema::SchemaRules;
use crate::tls::{PgTls, SslMode, TlsFiles, TlsSetting};

/// What `publication.autocreate.mode` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutocreateMode {
    /// `all_tables`: create the publication `FOR ALL TABLES` when it is missing.
    AllTables,
    /// `filtered`: create (or alter) the publication `FOR TABLE` the captured tables.
    Filtered,
    /// `disabled`: the publication must exist.
    Disabled,
}

/// The settings a task runs with, checked and typed.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// `database.hostname`.
    pub host: String,
    /// `database.port`.
    pub port: u16,
    /// `database.user`.
    pub user: String,
    /// `database.password`.
    pub password: String,
    /// `database.dbname`.
    pub dbname: String,
    /// `database.sslmode` with `database.sslrootcert`, `database.sslcert` and `database.sslkey`, the files read.
    pub tls: PgTls,
    /// `topic.prefix`: the first part of every topic name, and the server name in events and offsets.
    pub topic_prefix: String,
    /// `slot.name`.
    pub slot_name: String,
    /// `publication.name`.
    pub publication_name: String,
    /// `publication.autocreate.mode`.
    pub autocreate: AutocreateMode,
    /// `schema.*.list` and `table.*.list`.
    pub filter: TableFilter,
    /// `column.include.list` / `column.exclude.list`.
    pub columns: ColumnFilter,
    /// `message.key.columns`.
    pub message_keys: MessageKeyColumns,
    /// `snapshot.mode`.
    pub snapshot_mode: SnapshotMode,
    /// `tombstones.on.delete`.
    pub tombstones_on_delete: bool,
    /// `slot.drop.on.stop`.
    pub drop_slot_on_stop: bool,
    /// `heartbeat.interval.ms`, `None` for 0 (no heartbeats).
    pub heartbeat_interval: Option<Duration>,
    /// `streamed.transaction.spill.bytes`: a streamed transaction's held bytes beyond which it goes to a file.
    pub spill_bytes: usize,
    /// `snapshot.max.threads`: how many connections read the snapshot.
    pub snapshot_threads: usize,
    /// `status.update.interval.ms`: how often the slot hears from the task when nothing else makes it.
    pub status_interval: Duration,
    /// `skipped.operations`.
    pub skipped: SkippedOperations,
    /// `provide.transaction.metadata`.
    pub transaction_metadata: bool,
    /// `<topic.prefix>.<topic.transaction>`.
    pub transaction_topic: String,
    /// `heartbeat.action.query`, when set.
    pub heartbeat_action: Option<String>,
    /// The settings the column types read (`decimal.handling.mode`, ...).
    pub types: TypeSettings,
}

const AUTOCREATE_MODES: &[&str] = &["all_tables", "filtered", "disabled"];

/// Refuses any value of a Debezium TLS setting that has no equivalent here.
fn unsupported_tls_setting(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        Ok(())
    } else {
        Err("is not supported: TLS is set up with database.sslmode, database.sslrootcert, database.sslcert and an \
             unencrypted database.sslkey (PEM files)"
            .to_owned())
    }
}

/// The declared settings (the type settings are declared by [`super::columns::type_config_keys`]).
pub fn config_def() -> ConfigDef {
    let mut keys = vec![
        ConfigKey::required("database.hostname", ConfigType::String, "The Postgres server's host name or address."),
        ConfigKey::optional("database.port", ConfigType::Int, "5432", "The Postgres server's port.")
            .checked(|v| v.trim().parse::<u16>().map(drop).map_err(|_| "must be a TCP port (1-65535)".to_owned())),
        ConfigKey::required(
            "database.user",
            ConfigType::String,
            "The role to connect as; it needs the REPLICATION attribute (or to be a superuser).",
        ),
        ConfigKey::optional("database.password", ConfigType::Password, "", "The role's password."),
        ConfigKey::required("database.dbname", ConfigType::String, "The database whose changes are captured."),
        ConfigKey::optional(
            "database.sslmode",
            ConfigType::String,
            "prefer",
            "TLS to the server, as libpq's sslmode: disable; allow (plain, TLS only when the server refuses a plain \
             login); prefer (TLS when the server offers it, else plain); require (TLS, the certificate not checked \
             unless database.sslrootcert is set, then as verify-ca); verify-ca (TLS, the certificate signed by a CA \
             of database.sslrootcert); verify-full (as verify-ca, and issued for database.hostname). allow and \
             prefer never check the certificate. Both the SQL and the replication connections use it.",
        )
        .one_of(SslMode::NAMES),
        ConfigKey::optional(
            "database.sslrootcert",
            ConfigType::String,
            "",
            "A PEM file on the worker with the CA certificates the server's certificate must chain to; needed by \
             verify-ca and verify-full.",
        ),
        ConfigKey::optional(
            "database.sslcert",
            ConfigType::String,
            "",
            "A PEM file on the worker with the client certificate (chain) shown to a server that asks for one \
             (clientcert in pg_hba.conf, or the cert method); needs database.sslkey.",
        ),
        ConfigKey::optional(
            "database.sslkey",
            ConfigType::String,
            "",
            "A PEM file on the worker with the client certificate's private key (PKCS#8, PKCS#1 or SEC1), not \
             encrypted.",
        ),
        ConfigKey::optional(
            "database.sslpassword",
            ConfigType::Password,
            "",
            "Not supported (refused when set): database.sslkey must not be encrypted.",
        )
        .checked(unsupported_tls_setting),
        ConfigKey::optional(
            "database.sslfactory",
            ConfigType::String,
            "",
            "Not supported (refused when set): pgjdbc's socket factory class; TLS is set up with database.sslmode \
             and the PEM files above.",
        )
        .checked(unsupported_tls_setting),
        ConfigKey::optional("plugin.name", ConfigType::String, "pgoutput", "The logical decoding plugin.")
            .one_of(&["pgoutput"]),
        ConfigKey::optional("slot.name", ConfigType::String, "debezium", "The logical replication slot.")
            .checked(check_slot_name),
        ConfigKey::optional("publication.name", ConfigType::String, "dbz_publication", "The publication streamed.")
            .checked(|v| if v.trim().is_empty() { Err("must not be empty".to_owned()) } else { Ok(()) }),
        ConfigKey::optional(
            "publication.autocreate.mode",
            ConfigType::String,
            "all_tables",
            "all_tables: create the publication FOR ALL TABLES when missing; filtered: create or alter it FOR TABLE \
             the captured tables; disabled: it must exist.",
        )
        .one_of(AUTOCREATE_MODES),
        ConfigKey::optional(
            "slot.drop.on.stop",
            ConfigType::Boolean,
            "false",
            "Drop the slot when the task stops (for tests: the database then keeps no WAL for it).",
        ),
        ConfigKey::optional(
            "status.update.interval.ms",
            ConfigType::Int,
            "10000",
            "How often the task reports its durable position to the server.",
        )
        .checked(POSITIVE),
        ConfigKey::optional(
            "snapshot.max.threads",
            ConfigType::Int,
            "1",
            "How many connections read the snapshot, sharing its exported snapshot: with more than one, tables, and \
             ranges of pages of a large table, are read ahead in parallel. The events come out in table order all \
             the same, as one connection gives them. One reader already works beside the task's conversion; more \
             help when the database, not the worker, is the bottleneck.",
        )
        .checked(POSITIVE),
        ConfigKey::optional(
            "streamed.transaction.spill.bytes",
            ConfigType::Long,
            "67108864",
            "Tidemark's own: how many bytes of changes of a transaction that Postgres streams before it commits \
             (one larger than logical_decoding_work_mem) the task holds in memory; past that they go to a temporary \
             file until the commit, so a transaction of any size fits.",
        )
        .checked(POSITIVE),
    ];
    keys.extend(common_config_keys(Container::Schema));
    keys.extend(super::columns::type_config_keys());
    ConfigDef::new(keys)
}

/// The TLS settings, their files read; a problem is reported on the setting to fix.
fn tls_settings(text: &dyn Fn(&str) -> String) -> Result<PgTls, FieldError> {
    let path = |name: &str| Some(text(name)).filter(|p| !p.is_empty()).map(PathBuf::from);
    let files = TlsFiles {
        root_cert: path("database.sslrootcert"),
        client_cert: path("database.sslcert"),
        client_key: path("database.sslkey"),
    };
    // The declared check allows only the modes' names.
    let mode = SslMode::parse(&text("database.sslmode")).unwrap_or(SslMode::Prefer);
    PgTls::new(mode, files).map_err(|error| {
        let name = match error.setting() {
            TlsSetting::Mode => "database.sslmode",
            TlsSetting::RootCert => "database.sslrootcert",
            TlsSetting::ClientCert => "database.sslcert",
            TlsSetting::ClientKey => "database.sslkey",
        };
        FieldError { name: name.to_owned(), message: format!("Invalid configuration {name}: {error}") }
    })
}

/// Whether `schema` holds system catalogs or temporary tables, never captured.
fn is_system_schema(schema: &str) -> bool {
    matches!(schema, "pg_catalog" | "information_schema" | "pg_toast")
        || schema.starts_with("pg_temp_")
        || schema.starts_with("pg_toast_temp_")
}

/// Postgres's rule for replication slot names.
fn check_slot_name(value: &str) -> Result<(), String> {
    let valid = !value.is_empty()
        && value.len() <= 63
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(())
    } else {
        Err("a slot name has at most 63 characters, each a lower-case letter, a digit or '_'".to_owned())
    }
}

impl SourceConfig {
    /// The typed settings of `props`, or every problem with them (declared checks, then the filters, then the
    /// type settings).
    pub fn from_props(props: &BTreeMap<String, String>) -> Result<Self, Vec<FieldError>> {
        let def = config_def();
        let mut errors = def.validate(props);
        if !errors.is_empty() {
            return Err(errors);
        }
        let filter = TableFilter::from_props(props, "schema", is_system_schema).map_err(|e| errors.push(e)).ok();
        let columns = ColumnFilter::from_props(props).map_err(|e| errors.push(e)).ok();
        let types = TypeSettings::from_props(props)
            .map_err(|problems| {
                errors.extend(problems.into_iter().map(|(name, message)| FieldError { name, message }));
            })
            .ok();
        let text = |name: &str| def.value(props, name).unwrap_or_default().trim().to_owned();
        let tls = tls_settings(&text).map_err(|e| errors.push(e)).ok();
        let (Some(filter), Some(columns), Some(types), Some(tls)) = (filter, columns, types, tls) else {
            return Err(errors);
        };
        let flag = |name: &str| text(name).eq_ignore_ascii_case("true");
        let millis = |name: &str| text(name).parse::<u64>().unwrap_or(0);
        let snapshot_mode = SnapshotMode::parse(&text("snapshot.mode"));
        let autocreate = match text("publication.autocreate.mode").to_ascii_lowercase().as_str() {
            "filtered" => AutocreateMode::Filtered,
            "disabled" => AutocreateMode::Disabled,
            _ => AutocreateMode::AllTables,
        };
        let heartbeat = millis("heartbeat.interval.ms");
        Ok(SourceConfig {
            host: text("database.hostname"),
            port: text("database.port").parse().unwrap_or(5432),
            user: text("database.user"),
            // Not trimmed: a password may have spaces.
            password: def.value(props, "database.password").unwrap_or_default().to_owned(),
            dbname: text("database.dbname"),
            tls,
            topic_prefix: text("topic.prefix"),
            slot_name: text("slot.name"),
            publication_name: text("publication.name"),
            autocreate,
            filter,
            columns,
            // Checked by the declared validator above.
            message_keys: MessageKeyColumns::parse(&text("message.key.columns")).unwrap_or_default(),
            snapshot_mode,
            tombstones_on_delete: flag("tombstones.on.delete"),
            drop_slot_on_stop: flag("slot.drop.on.stop"),
            heartbeat_interval: (heartbeat > 0).then(|| Duration::from_millis(heartbeat)),
            status_interval: Duration::from_millis(millis("status.update.interval.ms").max(1)),
            spill_bytes: text("streamed.transaction.spill.bytes").parse().unwrap_or(SPILL_BYTES),
            snapshot_threads: text("snapshot.max.threads").parse::<usize>().unwrap_or(1).max(1),
            skipped: SkippedOperations::parse(&text("skipped.operations")).unwrap_or_default(),
            transaction_metadata: flag("provide.transaction.metadata"),
            transaction_topic: transaction_topic(&text("topic.prefix"), props),
            heartbeat_action: Some(text("heartbeat.action.query")).filter(|q| !q.is_empty()),
            types,
        })
    }

    /// The settings that shape the tables' schemas.
    pub fn rules(&self) -> SchemaRules<'_> {
        SchemaRules { columns: &self.columns, keys: &self.message_keys, types: &self.types }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut props: BTreeMap<String, String> = [
            ("database.hostname", "db"),
            ("database.user", "cdc"),
            ("database.password", " secret "),
            ("database.dbname", "shop"),
            ("topic.prefix", "pg1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        props.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        props
    }

    #[test]
    fn defaults_are_debeziums() {
        let config = SourceConfig::from_props(&props(&[])).expect("valid");
        assert_eq!((config.host.as_str(), config.port, config.dbname.as_str()), ("db", 5432, "shop"));
        assert_eq!(config.password, " secret ");
        assert_eq!((config.slot_name.as_str(), config.publication_name.as_str()), ("debezium", "dbz_publication"));
        assert_eq!(config.autocreate, AutocreateMode::AllTables);
        assert_eq!(config.snapshot_mode, SnapshotMode::Initial);
        assert!(config.tombstones_on_delete && !config.drop_slot_on_stop);
        assert_eq!(config.heartbeat_interval, None);
        assert_eq!(config.skipped, SkippedOperations { truncates: true, ..SkippedOperations::default() });
        assert!(!config.transaction_metadata);
        assert!(config.columns.includes("public", "orders", "id"));
    }

    #[test]
    fn columns_keys_and_transaction_metadata() {
        let config = SourceConfig::from_props(&props(&[
            ("column.exclude.list", "public\\.orders\\.secret"),
            ("message.key.columns", "public.orders:sku"),
            ("provide.transaction.metadata", "true"),
        ]))
        .expect("valid");
        assert!(config.transaction_metadata);
        assert!(!config.columns.includes("public", "orders", "secret"));
        assert_eq!(config.message_keys.key_columns("public", "orders", &["id", "sku"]), Some(vec!["sku"]));
        let both =
            SourceConfig::from_props(&props(&[("column.include.list", "a.b.c"), ("column.exclude.list", "a.b.d")]))
                .expect_err("both lists");
        assert_eq!(both.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["column.exclude.list"]);
        assert!(both[0].message.contains("column.include.list and column.exclude.list"));
    }

    #[test]
    fn modes_and_aliases() {
        let config = SourceConfig::from_props(&props(&[
            ("snapshot.mode", "never"),
            ("publication.autocreate.mode", "FILTERED"),
            ("skipped.operations", "none"),
            ("heartbeat.interval.ms", "500"),
        ]))
        .expect("valid");
        assert_eq!(config.snapshot_mode, SnapshotMode::NoData);
        assert_eq!(config.autocreate, AutocreateMode::Filtered);
        assert_eq!(config.skipped, SkippedOperations::default());
        assert_eq!(config.heartbeat_interval, Some(Duration::from_millis(500)));
    }

    #[test]
    fn every_bad_setting_is_named() {
        let errors = SourceConfig::from_props(&props(&[
            ("topic.prefix", "pg 1"),
            ("plugin.name", "decoderbufs"),
            ("slot.name", "Debezium"),
            ("snapshot.mode", "sometimes"),
            ("provide.transaction.metadata", "maybe"),
            ("skipped.operations", "c,x"),
            ("database.sslmode", "verify_full"),
            ("table.include.list", "public.(orders"),
            ("column.exclude.list", "public.orders.(x"),
            ("message.key.columns", "public.orders"),
        ]))
        .expect_err("invalid");
        let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        for name in [
            "topic.prefix",
            "plugin.name",
            "slot.name",
            "snapshot.mode",
            "provide.transaction.metadata",
            "skipped.operations",
            "database.sslmode",
            "table.include.list",
            "column.exclude.list",
            "message.key.columns",
        ] {
            assert!(names.contains(&name), "{name} not in {names:?}");
        }
        let errors = SourceConfig::from_props(&BTreeMap::new()).expect_err("missing");
        let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["database.hostname", "database.user", "database.dbname", "topic.prefix"]);
    }

    #[test]
    fn tls_settings_are_read_and_their_files_checked() {
        let dir = tempfile::tempdir().expect("dir");
        let certs = tidemark_tests::tls::Certificates::generate(dir.path(), "pg", "cdc").expect("certificates");
        let path = |p: &std::path::Path| p.to_string_lossy().into_owned();
        let config = SourceConfig::from_props(&props(&[])).expect("valid");
        assert_eq!(config.tls.mode(), SslMode::Prefer);
        let config = SourceConfig::from_props(&props(&[
            ("database.sslmode", "VERIFY-FULL"),
            ("database.sslrootcert", &path(&certs.ca)),
            ("database.sslcert", &path(&certs.client_cert)),
            ("database.sslkey", &path(&certs.client_key)),
        ]))
        .expect("valid");
        assert_eq!(config.tls.mode(), SslMode::VerifyFull);

        let refused = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            SourceConfig::from_props(&props(pairs))
                .expect_err("refused")
                .into_iter()
                .map(|e| (e.name, e.message))
                .collect()
        };
        let errors = refused(&[("database.sslmode", "verify-ca")]);
        assert_eq!(errors[0].0, "database.sslrootcert");
        assert!(errors[0].1.contains("verify-ca"), "{errors:?}");
        let errors = refused(&[("database.sslmode", "verify-full"), ("database.sslrootcert", "/nonexistent/ca.pem")]);
        assert_eq!(errors[0].0, "database.sslrootcert");
        assert!(errors[0].1.contains("/nonexistent/ca.pem"), "{errors:?}");
        let errors = refused(&[("database.sslmode", "require"), ("database.sslcert", &path(&certs.client_cert))]);
        assert_eq!(errors[0].0, "database.sslkey");
        // A key that is not the certificate's.
        let errors = refused(&[
            ("database.sslmode", "require"),
            ("database.sslcert", &path(&certs.client_cert)),
            ("database.sslkey", &path(&certs.server_key)),
        ]);
        assert_eq!(errors[0].0, "database.sslkey", "{errors:?}");
        for name in ["database.sslpassword", "database.sslfactory"] {
            let errors = refused(&[(name, "x")]);
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].0, name);
            assert!(errors[0].1.contains("is not supported") && !errors[0].1.contains(": x:"), "{errors:?}");
        }
        // Empty means unset, as Debezium's defaults.
        assert!(SourceConfig::from_props(&props(&[("database.sslpassword", ""), ("database.sslrootcert", "")])).is_ok());
    }

    #[test]
    fn the_password_is_a_secret() {
        assert!(config_def().is_secret("database.password"));
    }
}
