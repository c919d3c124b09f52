//! [`AvroConverterConfig`]: the Avro converter's settings, with the keys and defaults of Confluent's
//! `AvroConverterConfig` (the serializer's settings) and `AvroDataConfig` (the mapping's). Settings Confluent has
//! and this converter does not honour are refused when set to anything but their default, never ignored.

use std::collections::BTreeMap;

use reqwest::Url;

use crate::converters::config::Props;
use crate::converters::{ConfigError, ConverterType};

/// How the registry subject of a record is named (`key.subject.name.strategy`, `value.subject.name.strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SubjectNameStrategy {
    /// `<topic>-key` or `<topic>-value` (the default).
    #[default]
    TopicName,
    /// The full name of the record (its Avro type name for a non-record schema).
    RecordName,
    /// `<topic>-<record full name>`.
    TopicRecordName,
}

impl SubjectNameStrategy {
    /// The strategy a class name (Confluent's, or the simple name) stands for.
    fn parse(class: &str) -> Option<Self> {
        let simple = class.rsplit('.').next().unwrap_or(class);
        let known_package = class == simple || class.starts_with("io.confluent.kafka.serializers.subject.");
        match simple {
            "TopicNameStrategy" if known_package => Some(SubjectNameStrategy::TopicName),
            "RecordNameStrategy" if known_package => Some(SubjectNameStrategy::RecordName),
            "TopicRecordNameStrategy" if known_package => Some(SubjectNameStrategy::TopicRecordName),
            _ => None,
        }
    }

    /// The subject of a record of `topic` whose Avro schema is named `record_name` (see
    /// [`super::schema::AvroSchema::strategy_name`]).
    pub fn subject(self, topic: &str, is_key: bool, record_name: &str) -> String {
        match self {
            SubjectNameStrategy::TopicName => format!("{topic}-{}", if is_key { "key" } else { "value" }),
            SubjectNameStrategy::RecordName => record_name.to_owned(),
            SubjectNameStrategy::TopicRecordName => format!("{topic}-{record_name}"),
        }
    }
}

/// `AvroDataConfig`: how Connect schemas map to Avro schemas and back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvroDataConfig {
    /// `enhanced.avro.schema.support` (default false): Connect strings carrying `io.confluent.connect.avro.Enum`
    /// parameters become Avro enums again, and union members are named by full name.
    pub enhanced_avro_schema_support: bool,
    /// `connect.meta.data` (default true): write and read the `connect.*` properties.
    pub connect_meta_data: bool,
    /// `scrub.invalid.names` (default false): make record and field names valid Avro names.
    pub scrub_invalid_names: bool,
    /// `allow.optional.map.keys` (default false): a map with optional string keys is still an Avro map.
    pub allow_optional_map_keys: bool,
    /// `ignore.default.for.nullables` (default false): a null optional field is written null, not its default.
    pub ignore_default_for_nullables: bool,
    /// `schemas.cache.config` (default 1000): how many converted schemas each cache keeps.
    pub schemas_cache_size: usize,
}

impl Default for AvroDataConfig {
    fn default() -> Self {
        AvroDataConfig {
            enhanced_avro_schema_support: false,
            connect_meta_data: true,
            scrub_invalid_names: false,
            allow_optional_map_keys: false,
            ignore_default_for_nullables: false,
            schemas_cache_size: 1000,
        }
    }
}

/// The settings of [`super::AvroConverter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvroConverterConfig {
    /// The converter's role (key or value; a header converter is refused).
    pub converter_type: ConverterType,
    /// `schema.registry.url`: one or more comma-separated http or https URLs (required).
    pub urls: Vec<Url>,
    /// `schema.registry.ssl.truststore.location`: a PEM file of CAs trusted for https URLs besides the system's
    /// (`schema.registry.ssl.truststore.type` must then be PEM, if given).
    pub truststore: Option<std::path::PathBuf>,
    /// HTTP basic credentials (`basic.auth.credentials.source` = `USER_INFO` with `basic.auth.user.info`, or
    /// `URL`, the default, with the user info of the URLs).
    pub credentials: Option<(String, String)>,
    /// `auto.register.schemas` (default true): register new schemas; when false, look them up only.
    pub auto_register_schemas: bool,
    /// `key.subject.name.strategy` or `value.subject.name.strategy`, whichever this converter's role reads.
    pub subject_name_strategy: SubjectNameStrategy,
    /// The mapping's settings.
    pub data: AvroDataConfig,
}

impl AvroConverterConfig {
    /// The settings in `props` (the properties after the converter's prefix, `converter.type` included).
    pub fn from_props(props: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let converter_type = ConverterType::from_props(props)?;
        let props = Props { props, prefix: converter_type.config_key() };
        let key = |k: &str| format!("{}.{k}", converter_type.config_key());
        if converter_type == ConverterType::Header {
            return Err(ConfigError::Unsupported {
                key: ConverterType::CONFIG.to_owned(),
                value: "header".to_owned(),
                reason: "the Avro converter converts record keys and values, not headers",
            });
        }
        let (urls, url_credentials) = registry_urls(&props, &key("schema.registry.url"))?;
        let credentials = match props.get("basic.auth.credentials.source").map(str::to_ascii_uppercase).as_deref() {
            None | Some("URL") => url_credentials,
            Some("USER_INFO") => {
                let info = props
                    .get("basic.auth.user.info")
                    .or_else(|| props.get("schema.registry.basic.auth.user.info"))
                    .ok_or_else(|| ConfigError::Missing { key: key("basic.auth.user.info") })?;
                let (user, password) = info
                    .split_once(':')
                    .ok_or_else(|| props.invalid("basic.auth.user.info", "[hidden]", "user:password"))?;
                Some((user.to_owned(), password.to_owned()))
            }
            Some(_) => {
                let value = props.get("basic.auth.credentials.source").unwrap_or_default();
                if value.eq_ignore_ascii_case("SASL_INHERIT") {
                    return Err(unsupported(&key("basic.auth.credentials.source"), value, "use USER_INFO or URL"));
                }
                return Err(props.invalid("basic.auth.credentials.source", value, "URL or USER_INFO"));
            }
        };
        let truststore = props.get("schema.registry.ssl.truststore.location").map(std::path::PathBuf::from);
        if let Some(kind) = props.get("schema.registry.ssl.truststore.type") {
            if !kind.eq_ignore_ascii_case("PEM") {
                let reason = "only PEM truststores are read: give the CA certificates as PEM with type PEM";
                return Err(unsupported(&key("schema.registry.ssl.truststore.type"), kind, reason));
            }
        }
        let strategy_key = match converter_type {
            ConverterType::Key => "key.subject.name.strategy",
            _ => "value.subject.name.strategy",
        };
        let subject_name_strategy = match props.get(strategy_key) {
            None => SubjectNameStrategy::TopicName,
            Some(class) => SubjectNameStrategy::parse(class).ok_or_else(|| {
                props.invalid(strategy_key, class, "TopicNameStrategy, RecordNameStrategy or TopicRecordNameStrategy")
            })?,
        };
        if props.boolean("use.latest.version", false)? {
            return Err(unsupported(
                &key("use.latest.version"),
                "true",
                "this converter writes with the schema it registers (or looks up, with auto.register.schemas=false)",
            ));
        }
        for refused in ["generalized.sum.type.support", "discard.type.doc.default"] {
            if props.boolean(refused, false)? {
                return Err(unsupported(&key(refused), "true", "only the default (false) is implemented"));
            }
        }
        let defaults = AvroDataConfig::default();
        let schemas_cache_size = match props.get("schemas.cache.config") {
            None => defaults.schemas_cache_size,
            Some(v) => v
                .parse::<i64>()
                .map(|n| n.clamp(1, i64::from(i32::MAX)) as usize)
                .map_err(|_| props.invalid("schemas.cache.config", v, "an integer"))?,
        };
        let data = AvroDataConfig {
            enhanced_avro_schema_support: props
                .boolean("enhanced.avro.schema.support", defaults.enhanced_avro_schema_support)?,
            connect_meta_data: props.boolean("connect.meta.data", defaults.connect_meta_data)?,
            scrub_invalid_names: props.boolean("scrub.invalid.names", defaults.scrub_invalid_names)?,
            allow_optional_map_keys: props.boolean("allow.optional.map.keys", defaults.allow_optional_map_keys)?,
            ignore_default_for_nullables: props
                .boolean("ignore.default.for.nullables", defaults.ignore_default_for_nullables)?,
            schemas_cache_size,
        };
        Ok(AvroConverterConfig {
            converter_type,
            urls,
            truststore,
            credentials,
            auto_register_schemas: props.boolean("auto.register.schemas", true)?,
            subject_name_strategy,
            data,
        })
    }

    /// Whether this converter handles record keys.
    pub fn is_key(&self) -> bool {
        self.converter_type == ConverterType::Key
    }
}

fn unsupported(key: &str, value: &str, reason: &'static str) -> ConfigError {
    ConfigError::Unsupported { key: key.to_owned(), value: value.to_owned(), reason }
}

/// The URLs of `schema.registry.url` without their user info, and the first user info found (for
/// `basic.auth.credentials.source=URL`).
type UrlsAndCredentials = (Vec<Url>, Option<(String, String)>);

fn registry_urls(props: &Props<'_>, key: &str) -> Result<UrlsAndCredentials, ConfigError> {
    let text = props.get("schema.registry.url").ok_or_else(|| ConfigError::Missing { key: key.to_owned() })?;
    let mut urls = Vec::new();
    let mut credentials = None;
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let mut url =
            Url::parse(entry).map_err(|_| props.invalid("schema.registry.url", entry, "http or https URLs"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(props.invalid("schema.registry.url", entry, "http or https URLs"));
        }
        if !url.username().is_empty() && credentials.is_none() {
            let user = decode(url.username());
            credentials = Some((user, decode(url.password().unwrap_or_default())));
        }
        let _ = url.set_username("");
        let _ = url.set_password(None);
        urls.push(url);
    }
    if urls.is_empty() {
        return Err(ConfigError::Missing { key: key.to_owned() });
    }
    Ok((urls, credentials))
}

/// Percent-decoding of URL user info.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<AvroConverterConfig, ConfigError> {
        let props = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        AvroConverterConfig::from_props(&props)
    }

    #[test]
    fn defaults_are_confluents() {
        let config = config(&[("converter.type", "value"), ("schema.registry.url", "http://localhost:8081")]);
        let config = config.expect("config");
        assert!(config.auto_register_schemas && !config.is_key());
        assert_eq!(config.subject_name_strategy, SubjectNameStrategy::TopicName);
        assert_eq!(config.data, AvroDataConfig::default());
        assert!(config.data.connect_meta_data && !config.data.enhanced_avro_schema_support);
        assert_eq!(config.credentials, None);
    }

    #[test]
    fn urls_credentials_and_strategies() {
        let config = config(&[
            ("converter.type", "key"),
            ("schema.registry.url", " http://a:1 , http://u%40x:p%3A@b:2/path "),
            ("key.subject.name.strategy", "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy"),
            ("value.subject.name.strategy", "nonsense"),
            ("auto.register.schemas", "false"),
            ("schemas.cache.config", "0"),
            ("enhanced.avro.schema.support", "true"),
        ])
        .expect("config");
        assert_eq!(config.urls.iter().map(Url::as_str).collect::<Vec<_>>(), ["http://a:1/", "http://b:2/path"]);
        assert_eq!(config.credentials, Some(("u@x".to_owned(), "p:".to_owned())));
        assert_eq!(config.subject_name_strategy, SubjectNameStrategy::TopicRecordName);
        assert_eq!(config.data.schemas_cache_size, 1);
        assert!(!config.auto_register_schemas && config.data.enhanced_avro_schema_support);
        let user_info = self::config(&[
            ("converter.type", "value"),
            ("schema.registry.url", "http://a:1"),
            ("basic.auth.credentials.source", "USER_INFO"),
            ("basic.auth.user.info", "fred:letmein"),
        ]);
        assert_eq!(user_info.map(|c| c.credentials), Ok(Some(("fred".to_owned(), "letmein".to_owned()))));
    }

    #[test]
    fn strategies_name_subjects() {
        assert_eq!(SubjectNameStrategy::TopicName.subject("orders", false, "x.Y"), "orders-value");
        assert_eq!(SubjectNameStrategy::TopicName.subject("orders", true, "x.Y"), "orders-key");
        assert_eq!(SubjectNameStrategy::RecordName.subject("orders", false, "x.Y"), "x.Y");
        assert_eq!(SubjectNameStrategy::TopicRecordName.subject("orders", true, "x.Y"), "orders-x.Y");
        assert_eq!(SubjectNameStrategy::parse("RecordNameStrategy"), Some(SubjectNameStrategy::RecordName));
        assert_eq!(SubjectNameStrategy::parse("com.example.RecordNameStrategy"), None);
    }

    #[test]
    fn refusals_name_the_key() {
        let url = ("schema.registry.url", "http://a:1");
        let error = |pairs: &[(&str, &str)]| config(pairs).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            error(&[("converter.type", "value")]),
            "value.converter.schema.registry.url: missing required configuration"
        );
        assert!(error(&[("converter.type", "value"), url, ("use.latest.version", "true")])
            .starts_with("value.converter.use.latest.version: \"true\" is not supported"));
        assert!(config(&[("converter.type", "value"), ("schema.registry.url", "https://a:1")]).is_ok());
        assert!(error(&[("converter.type", "value"), url, ("schema.registry.ssl.truststore.type", "JKS")])
            .starts_with("value.converter.schema.registry.ssl.truststore.type: \"JKS\" is not supported"));
        assert!(error(&[("converter.type", "value"), ("schema.registry.url", "localhost:8081")])
            .starts_with("value.converter.schema.registry.url: invalid value"));
        assert!(error(&[("converter.type", "header"), url]).starts_with("converter.type: \"header\" is not supported"));
        assert!(error(&[("converter.type", "key"), url, ("key.subject.name.strategy", "Mine")])
            .starts_with("key.converter.key.subject.name.strategy: invalid value \"Mine\""));
        assert!(error(&[("converter.type", "value"), url, ("basic.auth.credentials.source", "USER_INFO")])
            .starts_with("value.converter.basic.auth.user.info: missing"));
        assert!(error(&[("converter.type", "value"), url, ("generalized.sum.type.support", "true")])
            .contains("not supported"));
        assert!(error(&[("converter.type", "value"), url, ("connect.meta.data", "maybe")]).contains("true or false"));
    }
}
