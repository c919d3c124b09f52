//! The connector's settings, under Debezium's MySQL connector property names, and their typed form
//! ([`SourceConfig`]).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use regex::Regex;
use tidemark_connect::config::{ConfigDef, ConfigKey, ConfigType, FieldError};
use tidemark_debezium::config::{
    common_config_keys, transaction_topic, Container, SkippedOperations, SnapshotMode, NON_NEGATIVE,
};
use tidemark_debezium::{ColumnFilter, ColumnRules, MessageKeyColumns, TableFilter};

use crate::tls::{MySqlTls, SslMode, TlsFiles, TlsSetting};
use crate::types::{type_config_keys, TypeSettings};

/// What `snapshot.locking.mode` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockingMode {
    /// `minimal` (the default): on MySQL, a global read lock only while the binlog position is read at the start
    /// of the snapshot's transaction. MariaDB reports the position of a consistent snapshot itself, so no lock is
    /// taken there.
    Minimal,
    /// `none`: no lock; the position may be off by the transactions committed while it is read (MySQL only).
    None,
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
    /// `database.ssl.mode` with `database.ssl.ca`, `database.ssl.cert` and `database.ssl.key`, the files read.
    pub tls: MySqlTls,
    /// `database.server.id`: the replica id the binlog is read as.
    pub server_id: u32,
    /// `topic.prefix`.
    pub topic_prefix: String,
    /// `database.*.list` and `table.*.list`.
    pub filter: TableFilter,
    /// `column.include.list` / `column.exclude.list`.
    pub columns: ColumnFilter,
    /// `message.key.columns`.
    pub message_keys: MessageKeyColumns,
    /// `snapshot.mode`.
    pub snapshot_mode: SnapshotMode,
    /// `snapshot.locking.mode`.
    pub locking: LockingMode,
    /// `gtid.source.includes`: the GTID sources (MySQL server UUIDs, MariaDB `domain-server`) whose GTIDs the
    /// stored position keeps; empty for all.
    pub gtid_includes: Vec<Regex>,
    /// `gtid.source.excludes`.
    pub gtid_excludes: Vec<Regex>,
    /// `include.schema.changes`.
    pub include_schema_changes: bool,
    /// `tombstones.on.delete`.
    pub tombstones_on_delete: bool,
    /// `heartbeat.interval.ms`, `None` for 0.
    pub heartbeat_interval: Option<Duration>,
    /// `skipped.operations`.
    pub skipped: SkippedOperations,
    /// `provide.transaction.metadata`.
    pub transaction_metadata: bool,
    /// `connect.timeout.ms`.
    pub connect_timeout: Duration,
    /// `<topic.prefix>.<topic.transaction>`.
    pub transaction_topic: String,
    /// `heartbeat.action.query`, when set.
    pub heartbeat_action: Option<String>,
    /// The column types' settings.
    pub types: TypeSettings,
}

/// The databases of the server itself, never captured.
fn is_system_database(database: &str) -> bool {
    matches!(database.to_ascii_lowercase().as_str(), "mysql" | "information_schema" | "performance_schema" | "sys")
}

/// The declared settings.
pub fn config_def() -> ConfigDef {
    let mut keys = vec![
        ConfigKey::required("database.hostname", ConfigType::String, "The MySQL or MariaDB server's host name."),
        ConfigKey::optional("database.port", ConfigType::Int, "3306", "The server's port.")
            .checked(|v| v.trim().parse::<u16>().map(drop).map_err(|_| "must be a TCP port (1-65535)".to_owned())),
        ConfigKey::required(
            "database.user",
            ConfigType::String,
            "The user to connect as; it needs SELECT, RELOAD (MySQL snapshots), REPLICATION SLAVE and REPLICATION \
             CLIENT.",
        ),
        ConfigKey::optional("database.password", ConfigType::Password, "", "The user's password."),
        ConfigKey::optional(
            "database.ssl.mode",
            ConfigType::String,
            "preferred",
            "TLS to the server, for the SQL and the binlog connections: disabled; preferred (TLS when the server \
             offers it, else plain; the certificate not checked); required (TLS, the certificate not checked); \
             verify_ca (TLS, the certificate signed by a CA of database.ssl.ca, or a public CA when that is not set); \
             verify_identity (as verify_ca, and issued for database.hostname). MariaDB Connector/J's disable, trust, \
             verify-ca and verify-full are taken for disabled, required, verify_ca and verify_identity. verify_ca \
             checks the host name too until mysql_async fixes its name check (docs/from-debezium.md).",
        )
        .one_of(SslMode::NAMES),
        ConfigKey::optional(
            "database.ssl.ca",
            ConfigType::String,
            "",
            "Tidemark's setting, for Debezium's database.ssl.truststore (a Java keystore it cannot read): a PEM file on \
             the worker with the CA certificates verify_ca and verify_identity check the server's certificate against.",
        ),
        ConfigKey::optional(
            "database.ssl.cert",
            ConfigType::String,
            "",
            "Tidemark's setting, for Debezium's database.ssl.keystore: a PEM file on the worker with the client \
             certificate (chain) shown to a server that asks for one (REQUIRE X509); needs database.ssl.key.",
        ),
        ConfigKey::optional(
            "database.ssl.key",
            ConfigType::String,
            "",
            "Tidemark's setting: a PEM file on the worker with the client certificate's private key (PKCS#8, PKCS#1 \
             or SEC1), not encrypted.",
        ),
        ConfigKey::required(
            "database.server.id",
            ConfigType::Long,
            "The replica id the binlog is read as: unique among the server's replicas and other connectors.",
        )
        .checked(|v| match v.trim().parse::<u32>() {
            Ok(id) if id > 0 => Ok(()),
            _ => Err("must be a whole number from 1 to 4294967295".to_owned()),
        }),
        ConfigKey::optional(
            "snapshot.locking.mode",
            ConfigType::String,
            "minimal",
            "minimal: hold a global read lock only while the binlog position is read (MySQL; MariaDB needs none); \
             none: take no lock.",
        )
        .one_of(&["minimal", "none"]),
        ConfigKey::optional(
            "gtid.source.includes",
            ConfigType::List,
            "",
            "Regular expressions of the GTID sources (server UUIDs; MariaDB domain-server) kept in the position.",
        )
        .checked(TableFilter::check_patterns),
        ConfigKey::optional(
            "gtid.source.excludes",
            ConfigType::List,
            "",
            "Regular expressions of the GTID sources left out of the position.",
        )
        .checked(TableFilter::check_patterns),
        ConfigKey::optional(
            "include.schema.changes",
            ConfigType::Boolean,
            "true",
            "Emit each DDL statement on captured tables or databases as a schema change event on the topic \
             <topic.prefix>.",
        ),
        ConfigKey::optional(
            "connect.timeout.ms",
            ConfigType::Int,
            "30000",
            "How long opening a connection to the server may take.",
        )
        .checked(NON_NEGATIVE),
    ];
    keys.extend(common_config_keys(Container::Database));
    keys.extend(type_config_keys());
    ConfigDef::new(keys)
}

impl SourceConfig {
    /// The typed settings of `props`, or every problem with them.
    pub fn from_props(props: &BTreeMap<String, String>) -> Result<Self, Vec<FieldError>> {
        let def = config_def();
        let mut errors = def.validate(props);
        if !errors.is_empty() {
            return Err(errors);
        }
        let filter =
            TableFilter::from_props(props, Container::Database.kind(), is_system_database).map_err(|e| errors.push(e));
        let columns = ColumnFilter::from_props(props).map_err(|e| errors.push(e));
        let types = TypeSettings::from_props(props).map_err(|problems| {
            errors.extend(problems.into_iter().map(|(name, message)| FieldError { name, message }));
        });
        let text = |name: &str| def.value(props, name).unwrap_or_default().trim().to_owned();
        let gtid_includes = gtid_sources(&text("gtid.source.includes"));
        let gtid_excludes = gtid_sources(&text("gtid.source.excludes"));
        if !gtid_includes.is_empty() && !gtid_excludes.is_empty() {
            errors.push(FieldError {
                name: "gtid.source.excludes".to_owned(),
                message: "gtid.source.includes and gtid.source.excludes cannot both be set".to_owned(),
            });
        }
        let tls = tls_settings(props, &text).map_err(|e| errors.push(e));
        let (Ok(filter), Ok(columns), Ok(types), Ok(tls), true) = (filter, columns, types, tls, errors.is_empty())
        else {
            return Err(errors);
        };
        let flag = |name: &str| text(name).eq_ignore_ascii_case("true");
        let millis = |name: &str| text(name).parse::<u64>().unwrap_or(0);
        let heartbeat = millis("heartbeat.interval.ms");
        Ok(SourceConfig {
            host: text("database.hostname"),
            port: text("database.port").parse().unwrap_or(3306),
            user: text("database.user"),
            // Not trimmed: a password may have spaces.
            password: def.value(props, "database.password").unwrap_or_default().to_owned(),
            tls,
            server_id: text("database.server.id").parse().unwrap_or(1),
            topic_prefix: text("topic.prefix"),
            filter,
            columns,
            // Checked by the declared validator.
            message_keys: MessageKeyColumns::parse(&text("message.key.columns")).unwrap_or_default(),
            snapshot_mode: SnapshotMode::parse(&text("snapshot.mode")),
            locking: if text("snapshot.locking.mode").eq_ignore_ascii_case("none") {
                LockingMode::None
            } else {
                LockingMode::Minimal
            },
            gtid_includes,
            gtid_excludes,
            include_schema_changes: flag("include.schema.changes"),
            tombstones_on_delete: flag("tombstones.on.delete"),
            heartbeat_interval: (heartbeat > 0).then(|| Duration::from_millis(heartbeat)),
            skipped: SkippedOperations::parse(&text("skipped.operations")).unwrap_or_default(),
            transaction_metadata: flag("provide.transaction.metadata"),
            transaction_topic: transaction_topic(&text("topic.prefix"), props),
            heartbeat_action: Some(text("heartbeat.action.query")).filter(|q| !q.is_empty()),
            connect_timeout: Duration::from_millis(millis("connect.timeout.ms").max(1)),
            types,
        })
    }

    /// The settings that shape the tables' schemas beyond their columns.
    pub fn column_rules(&self) -> ColumnRules<'_> {
        ColumnRules { columns: &self.columns, keys: &self.message_keys }
    }

    /// Whether the stored position keeps the GTIDs of source `id` (`gtid.source.includes|excludes`).
    pub fn keeps_gtid_source(&self, id: &str) -> bool {
        if !self.gtid_includes.is_empty() {
            return self.gtid_includes.iter().any(|p| p.is_match(id));
        }
        !self.gtid_excludes.iter().any(|p| p.is_match(id))
    }
}

/// The TLS settings, their files read; a problem is reported on the setting to fix.
fn tls_settings(props: &BTreeMap<String, String>, text: &dyn Fn(&str) -> String) -> Result<MySqlTls, FieldError> {
    let path = |name: &str| Some(text(name)).filter(|p| !p.is_empty()).map(PathBuf::from);
    let files =
        TlsFiles { ca: path("database.ssl.ca"), cert: path("database.ssl.cert"), key: path("database.ssl.key") };
    // The declared check allows only the modes' names.
    let mode = SslMode::parse(&text("database.ssl.mode")).unwrap_or(SslMode::Preferred);
    let truststore = props.get("database.ssl.truststore").is_some_and(|store| !store.trim().is_empty());
    if mode.verifies() && truststore && files.ca.is_none() {
        // Trusting the public CAs instead of the truststore's would check against other authorities than asked.
        return Err(FieldError {
            name: "database.ssl.truststore".to_owned(),
            message: "Java truststores cannot be read: give the CA certificates as a PEM file in database.ssl.ca"
                .to_owned(),
        });
    }
    MySqlTls::new(mode, files).map_err(|error| {
        let name = match error.setting() {
            TlsSetting::Ca => "database.ssl.ca",
            TlsSetting::Cert => "database.ssl.cert",
            TlsSetting::Key => "database.ssl.key",
        };
        FieldError { name: name.to_owned(), message: format!("Invalid configuration {name}: {error}") }
    })
}

/// The expressions of a GTID source list (checked by the declared validator).
fn gtid_sources(value: &str) -> Vec<Regex> {
    TableFilter::patterns(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut props: BTreeMap<String, String> = [
            ("database.hostname", "db"),
            ("database.user", "cdc"),
            ("database.password", "secret"),
            ("database.server.id", "184054"),
            ("topic.prefix", "my1"),
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
        assert_eq!((config.host.as_str(), config.port, config.server_id), ("db", 3306, 184_054));
        assert_eq!(config.snapshot_mode, SnapshotMode::Initial);
        assert_eq!(config.locking, LockingMode::Minimal);
        assert!(config.include_schema_changes && config.tombstones_on_delete && !config.transaction_metadata);
        assert!(config.filter.includes("inventory", "orders"));
        for system in ["mysql", "information_schema", "performance_schema", "sys"] {
            assert!(!config.filter.includes(system, "t"), "{system}");
        }
        assert!(config.keeps_gtid_source("0-1"));
    }

    #[test]
    fn lists_and_gtid_sources() {
        let config = SourceConfig::from_props(&props(&[
            ("database.include.list", "inventory"),
            ("table.exclude.list", "inventory\\.audit"),
            ("gtid.source.includes", "0-1, 3e11fa47-.*"),
        ]))
        .expect("valid");
        assert!(config.filter.includes("inventory", "orders") && !config.filter.includes("inventory", "audit"));
        assert!(!config.filter.includes("shop", "orders"));
        assert!(config.keeps_gtid_source("0-1") && config.keeps_gtid_source("3e11fa47-71ca-11e1-9e33-c80aa9429562"));
        assert!(!config.keeps_gtid_source("1-2"));
    }

    #[test]
    fn every_bad_setting_is_named() {
        let errors = SourceConfig::from_props(&props(&[
            ("database.server.id", "0"),
            ("snapshot.locking.mode", "extended"),
            ("snapshot.mode", "sometimes"),
            ("database.include.list", "inv(entory"),
        ]))
        .expect_err("invalid");
        let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        for name in ["database.server.id", "snapshot.locking.mode", "snapshot.mode", "database.include.list"] {
            assert!(names.contains(&name), "{name} not in {names:?}");
        }
        let both = SourceConfig::from_props(&props(&[("gtid.source.includes", "a"), ("gtid.source.excludes", "b")]))
            .expect_err("both");
        assert_eq!(both[0].name, "gtid.source.excludes");
        let missing = SourceConfig::from_props(&BTreeMap::new()).expect_err("missing");
        let names: Vec<&str> = missing.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["database.hostname", "database.user", "database.server.id", "topic.prefix"]);
        assert!(config_def().is_secret("database.password"));
    }

    #[test]
    fn tls_settings_are_read_and_their_files_checked() {
        let dir = tempfile::tempdir().expect("dir");
        let certs = tidemark_tests::tls::Certificates::generate(dir.path(), "my", "cdc").expect("certificates");
        let path = |p: &std::path::Path| p.to_string_lossy().into_owned();
        assert_eq!(SourceConfig::from_props(&props(&[])).expect("valid").tls.mode(), SslMode::Preferred);
        let config = SourceConfig::from_props(&props(&[
            ("database.ssl.mode", "VERIFY_IDENTITY"),
            ("database.ssl.ca", &path(&certs.ca)),
            ("database.ssl.cert", &path(&certs.client_cert)),
            ("database.ssl.key", &path(&certs.client_key)),
        ]))
        .expect("valid");
        assert_eq!(config.tls.mode(), SslMode::VerifyIdentity);
        assert!(!format!("{config:?}").contains("PRIVATE KEY"));

        let refused = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            SourceConfig::from_props(&props(pairs))
                .expect_err("refused")
                .into_iter()
                .map(|e| (e.name, e.message))
                .collect()
        };
        let errors = refused(&[("database.ssl.mode", "verify_full")]);
        assert_eq!(errors[0].0, "database.ssl.mode");
        let errors = refused(&[("database.ssl.mode", "verify_ca"), ("database.ssl.ca", "/nonexistent/ca.pem")]);
        assert_eq!(errors[0].0, "database.ssl.ca");
        assert!(errors[0].1.contains("/nonexistent/ca.pem"), "{errors:?}");
        let errors = refused(&[("database.ssl.key", &path(&certs.client_key))]);
        assert_eq!(errors[0].0, "database.ssl.cert");
        let errors =
            refused(&[("database.ssl.cert", &path(&certs.client_cert)), ("database.ssl.key", &path(&certs.ca))]);
        assert_eq!(errors[0].0, "database.ssl.key", "{errors:?}");
        let errors =
            refused(&[("database.ssl.mode", "verify_identity"), ("database.ssl.truststore", "/etc/trust.jks")]);
        assert_eq!(errors[0].0, "database.ssl.truststore");
        // A truststore beside a PEM CA, or in a mode that checks nothing, is only warned about.
        for extra in [("database.ssl.ca", path(&certs.ca)), ("database.ssl.mode", "required".to_owned())] {
            let pairs = [
                ("database.ssl.truststore", "/etc/trust.jks"),
                ("database.ssl.mode", "verify_ca"),
                (extra.0, &extra.1),
            ];
            assert!(SourceConfig::from_props(&props(&pairs)).is_ok(), "{extra:?}");
        }
    }
}
