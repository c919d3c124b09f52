//! Converter settings from Kafka Connect's properties (the part after `value.converter.`), with Kafka's defaults
//! and parsing: booleans are `true`/`false` in any case, surrounding blanks are ignored, unknown keys are left to
//! others (a worker passes every `value.converter.*` key to the converter, `schema.registry.url` included).

use std::collections::BTreeMap;

use super::error::ConfigError;

/// The role a converter plays, from `converter.type` (Kafka's `ConverterConfig`), which the runtime sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConverterType {
    /// The record key.
    Key,
    /// The record value.
    Value,
    /// Header values.
    Header,
}

impl ConverterType {
    /// The property naming the role.
    pub const CONFIG: &'static str = "converter.type";

    /// The connector key that names this role's converter class: `key.converter`, `value.converter`,
    /// `header.converter`.
    pub const fn config_key(self) -> &'static str {
        match self {
            ConverterType::Key => "key.converter",
            ConverterType::Value => "value.converter",
            ConverterType::Header => "header.converter",
        }
    }

    /// The role from `converter.type` (`key`, `value` or `header`).
    pub fn from_props(props: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let value = props.get(Self::CONFIG).ok_or_else(|| ConfigError::Missing { key: Self::CONFIG.to_owned() })?;
        match value.trim().to_ascii_lowercase().as_str() {
            "key" => Ok(ConverterType::Key),
            "value" => Ok(ConverterType::Value),
            "header" => Ok(ConverterType::Header),
            _ => Err(ConfigError::Invalid {
                key: Self::CONFIG.to_owned(),
                value: value.clone(),
                expected: "key, value or header",
            }),
        }
    }
}

/// How the JSON converter writes DECIMAL values (`decimal.format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DecimalFormat {
    /// Base64 of the unscaled bytes (Kafka's default).
    #[default]
    Base64,
    /// A JSON number, as Java's `BigDecimal.toString()` writes it.
    Numeric,
}

/// The settings of [`super::JsonConverter`] (Kafka's `JsonConverterConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonConverterConfig {
    /// The converter's role.
    pub converter_type: ConverterType,
    /// `schemas.enable` (default true): write and expect the `{"schema": ..., "payload": ...}` envelope.
    pub schemas_enable: bool,
    /// `decimal.format` (default `BASE64`).
    pub decimal_format: DecimalFormat,
    /// `replace.null.with.default` (default true): a null with a default is written, and read, as the default.
    pub replace_null_with_default: bool,
    /// `schemas.cache.size` (default 1000): how many schemas' JSON to keep rendered.
    pub schemas_cache_size: usize,
}

impl JsonConverterConfig {
    /// Kafka's defaults for a role.
    pub const fn new(converter_type: ConverterType) -> Self {
        JsonConverterConfig {
            converter_type,
            schemas_enable: true,
            decimal_format: DecimalFormat::Base64,
            replace_null_with_default: true,
            schemas_cache_size: 1000,
        }
    }

    /// The settings in `props`; `converter.type` is required.
    pub fn from_props(props: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let converter_type = ConverterType::from_props(props)?;
        let props = Props { props, prefix: converter_type.config_key() };
        let defaults = Self::new(converter_type);
        let decimal_format = match props.get("decimal.format") {
            None => defaults.decimal_format,
            Some(v) if v.eq_ignore_ascii_case("BASE64") => DecimalFormat::Base64,
            Some(v) if v.eq_ignore_ascii_case("NUMERIC") => DecimalFormat::Numeric,
            Some(v) => return Err(props.invalid("decimal.format", v, "BASE64 or NUMERIC")),
        };
        let schemas_cache_size = match props.get("schemas.cache.size") {
            None => defaults.schemas_cache_size,
            Some(v) => v.parse().map_err(|_| props.invalid("schemas.cache.size", v, "a non-negative integer"))?,
        };
        Ok(JsonConverterConfig {
            converter_type,
            schemas_enable: props.boolean("schemas.enable", defaults.schemas_enable)?,
            decimal_format,
            replace_null_with_default: props
                .boolean("replace.null.with.default", defaults.replace_null_with_default)?,
            schemas_cache_size,
        })
    }
}

/// A character encoding of [`super::StringConverter`] (Java charset names, any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// `UTF-8` / `UTF8` (the default).
    #[default]
    Utf8,
    /// `US-ASCII` / `ASCII`.
    Ascii,
    /// `ISO-8859-1` / `latin1`.
    Latin1,
}

/// The settings of [`super::StringConverter`] (Kafka's `StringConverterConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StringConverterConfig {
    /// The converter's role.
    pub converter_type: ConverterType,
    /// `converter.encoding` (default UTF-8), used both ways as Kafka does.
    pub encoding: Encoding,
}

impl StringConverterConfig {
    /// The settings in `props`; `converter.type` is required.
    pub fn from_props(props: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let converter_type = ConverterType::from_props(props)?;
        let props = Props { props, prefix: converter_type.config_key() };
        let encoding = match props.get("converter.encoding").map(|v| (v, v.to_ascii_uppercase())) {
            None => Encoding::Utf8,
            Some((_, name)) if matches!(name.as_str(), "UTF-8" | "UTF8") => Encoding::Utf8,
            Some((_, name)) if matches!(name.as_str(), "US-ASCII" | "ASCII") => Encoding::Ascii,
            Some((_, name)) if matches!(name.as_str(), "ISO-8859-1" | "ISO8859_1" | "LATIN1") => Encoding::Latin1,
            Some((v, _)) => return Err(props.invalid("converter.encoding", v, "UTF-8, US-ASCII or ISO-8859-1")),
        };
        Ok(StringConverterConfig { converter_type, encoding })
    }
}

/// Properties read under a converter's prefix, for errors that name the key as the user wrote it.
pub(super) struct Props<'a> {
    pub(super) props: &'a BTreeMap<String, String>,
    pub(super) prefix: &'static str,
}

impl Props<'_> {
    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.props.get(key).map(|v| v.trim())
    }

    pub(super) fn boolean(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(self.invalid(key, v, "true or false")),
        }
    }

    pub(super) fn invalid(&self, key: &str, value: &str, expected: &'static str) -> ConfigError {
        ConfigError::Invalid { key: format!("{}.{key}", self.prefix), value: value.to_owned(), expected }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn json_defaults_are_kafkas() {
        let config = JsonConverterConfig::from_props(&props(&[("converter.type", "value")])).expect("config");
        assert_eq!(config, JsonConverterConfig::new(ConverterType::Value));
        assert!(config.schemas_enable && config.replace_null_with_default);
        assert_eq!(config.decimal_format, DecimalFormat::Base64);
    }

    #[test]
    fn json_settings_parse_as_kafka_does() {
        let config = JsonConverterConfig::from_props(&props(&[
            ("converter.type", " Key "),
            ("schemas.enable", "FALSE"),
            ("decimal.format", "numeric"),
            ("replace.null.with.default", " false"),
            ("schemas.cache.size", "5"),
            ("schema.registry.url", "http://ignored"),
        ]))
        .expect("config");
        assert_eq!(config.converter_type, ConverterType::Key);
        assert!(!config.schemas_enable && !config.replace_null_with_default);
        assert_eq!((config.decimal_format, config.schemas_cache_size), (DecimalFormat::Numeric, 5));
    }

    #[test]
    fn errors_name_the_key() {
        let missing = JsonConverterConfig::from_props(&props(&[]));
        assert_eq!(missing, Err(ConfigError::Missing { key: "converter.type".to_owned() }));
        let bad_type = ConverterType::from_props(&props(&[("converter.type", "body")])).map_err(|e| e.to_string());
        assert_eq!(bad_type, Err("converter.type: invalid value \"body\", expected key, value or header".to_owned()));
        let bad_bool =
            JsonConverterConfig::from_props(&props(&[("converter.type", "value"), ("schemas.enable", "yes")]));
        let expected = "value.converter.schemas.enable: invalid value \"yes\", expected true or false";
        assert_eq!(bad_bool.map_err(|e| e.to_string()), Err(expected.to_owned()));
        let bad_format =
            JsonConverterConfig::from_props(&props(&[("converter.type", "key"), ("decimal.format", "hex")]));
        assert!(matches!(bad_format, Err(ConfigError::Invalid { key, .. }) if key == "key.converter.decimal.format"));
        let bad_size =
            JsonConverterConfig::from_props(&props(&[("converter.type", "header"), ("schemas.cache.size", "-1")]));
        assert!(
            matches!(bad_size, Err(ConfigError::Invalid { key, .. }) if key == "header.converter.schemas.cache.size")
        );
    }

    #[test]
    fn string_encodings() {
        let config = |encoding: &str| {
            StringConverterConfig::from_props(&props(&[("converter.type", "key"), ("converter.encoding", encoding)]))
        };
        assert_eq!(config("utf8").map(|c| c.encoding), Ok(Encoding::Utf8));
        assert_eq!(config("US-ASCII").map(|c| c.encoding), Ok(Encoding::Ascii));
        assert_eq!(config("iso-8859-1").map(|c| c.encoding), Ok(Encoding::Latin1));
        assert!(
            matches!(config("EBCDIC"), Err(ConfigError::Invalid { key, .. }) if key == "key.converter.converter.encoding")
        );
        let default = StringConverterConfig::from_props(&props(&[("converter.type", "value")])).expect("default");
        assert_eq!(default.encoding, Encoding::Utf8);
    }
}
