//! [`TypeSettings`]: the MySQL connector properties that change how column values are represented, with
//! Debezium's names, values and defaults, and their declarations ([`type_config_keys`]).

use std::collections::BTreeMap;

use tidemark_connect::config::{ConfigKey, ConfigType};
use tidemark_debezium::choose;
pub use tidemark_debezium::{BinaryHandling, DecimalHandling, TimePrecision};

/// `bigint.unsigned.handling.mode`: how BIGINT UNSIGNED values are represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BigIntUnsignedHandling {
    /// `long` (the default): INT64; values above 2^63-1 wrap to negative numbers, as Java's `long` does.
    #[default]
    Long,
    /// `precise`: Kafka Connect's `Decimal` with scale 0 (and `connect.decimal.precision` 20), every value exact.
    Precise,
}

/// The settings that shape column schemas and values, read from Debezium's property names with
/// [`TypeSettings::from_props`]. [`Default`] gives the MySQL connector's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeSettings {
    /// `decimal.handling.mode` (default `precise`).
    pub decimal: DecimalHandling,
    /// `time.precision.mode` (the MySQL connector's default is `adaptive_time_microseconds`).
    pub time_precision: TimePrecision,
    /// `bigint.unsigned.handling.mode` (default `long`).
    pub bigint_unsigned: BigIntUnsignedHandling,
    /// `binary.handling.mode` (default `bytes`).
    pub binary: BinaryHandling,
    /// `enable.time.adjuster` (default true): years 0 to 99 of DATE and DATETIME values become 2000 to 2069 and
    /// 1970 to 1999, as MySQL reads two-digit years.
    pub time_adjuster: bool,
}

impl Default for TypeSettings {
    fn default() -> Self {
        TypeSettings {
            decimal: DecimalHandling::Precise,
            time_precision: TimePrecision::AdaptiveTimeMicroseconds,
            bigint_unsigned: BigIntUnsignedHandling::Long,
            binary: BinaryHandling::Bytes,
            time_adjuster: true,
        }
    }
}

impl TypeSettings {
    /// The settings from connector properties, by Debezium's names: `decimal.handling.mode`,
    /// `time.precision.mode`, `bigint.unsigned.handling.mode`, `binary.handling.mode`, `enable.time.adjuster`.
    /// Absent keys take the defaults; values are trimmed and compared without regard to case, as Debezium does;
    /// other keys are ignored. Every bad value is reported as (key, why).
    pub fn from_props(props: &BTreeMap<String, String>) -> Result<Self, Vec<(String, String)>> {
        let mut settings = TypeSettings::default();
        let mut errors = Vec::new();
        let mut read = |key: &str, apply: &mut dyn FnMut(&str) -> Result<(), String>| {
            if let Some(value) = props.get(key) {
                if let Err(why) = apply(value.trim()) {
                    errors.push((key.to_owned(), why));
                }
            }
        };
        read("decimal.handling.mode", &mut |v| {
            let options = [
                ("precise", DecimalHandling::Precise),
                ("double", DecimalHandling::Double),
                ("string", DecimalHandling::String),
            ];
            settings.decimal = choose(v, &options)?;
            Ok(())
        });
        read("time.precision.mode", &mut |v| {
            let options = [
                ("adaptive_time_microseconds", TimePrecision::AdaptiveTimeMicroseconds),
                ("adaptive", TimePrecision::Adaptive),
                ("connect", TimePrecision::Connect),
            ];
            settings.time_precision = choose(v, &options)?;
            Ok(())
        });
        read("bigint.unsigned.handling.mode", &mut |v| {
            let options = [("long", BigIntUnsignedHandling::Long), ("precise", BigIntUnsignedHandling::Precise)];
            settings.bigint_unsigned = choose(v, &options)?;
            Ok(())
        });
        read("binary.handling.mode", &mut |v| {
            let options = [
                ("bytes", BinaryHandling::Bytes),
                ("base64", BinaryHandling::Base64),
                ("base64-url-safe", BinaryHandling::Base64UrlSafe),
                ("hex", BinaryHandling::Hex),
            ];
            settings.binary = choose(v, &options)?;
            Ok(())
        });
        read("enable.time.adjuster", &mut |v| {
            settings.time_adjuster = choose(v, &[("true", true), ("false", false)])?;
            Ok(())
        });
        if errors.is_empty() {
            Ok(settings)
        } else {
            Err(errors)
        }
    }
}

/// The type settings, declared under Debezium's names with the MySQL connector's defaults (read by
/// [`TypeSettings::from_props`]).
pub fn type_config_keys() -> Vec<ConfigKey> {
    vec![
        ConfigKey::optional(
            "decimal.handling.mode",
            ConfigType::String,
            "precise",
            "DECIMAL and NUMERIC as precise (Connect Decimal), double or string.",
        )
        .one_of(&["precise", "double", "string"]),
        ConfigKey::optional(
            "time.precision.mode",
            ConfigType::String,
            "adaptive_time_microseconds",
            "Dates, times and timestamps as adaptive_time_microseconds, adaptive or connect types.",
        )
        .one_of(&["adaptive_time_microseconds", "adaptive", "connect"]),
        ConfigKey::optional(
            "bigint.unsigned.handling.mode",
            ConfigType::String,
            "long",
            "BIGINT UNSIGNED as long (INT64; values above 2^63-1 wrap) or precise (Connect Decimal).",
        )
        .one_of(&["long", "precise"]),
        ConfigKey::optional(
            "binary.handling.mode",
            ConfigType::String,
            "bytes",
            "BINARY, VARBINARY and BLOB as bytes, base64, base64-url-safe or hex.",
        )
        .one_of(&["bytes", "base64", "base64-url-safe", "hex"]),
        ConfigKey::optional(
            "enable.time.adjuster",
            ConfigType::Boolean,
            "true",
            "Read years 0-99 of DATE and DATETIME values as 2000-2069 and 1970-1999.",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_are_the_mysql_connectors() {
        let settings = TypeSettings::from_props(&BTreeMap::new()).expect("defaults");
        assert_eq!(settings, TypeSettings::default());
        assert_eq!(settings.time_precision, TimePrecision::AdaptiveTimeMicroseconds);
        assert_eq!(settings.bigint_unsigned, BigIntUnsignedHandling::Long);
        assert!(settings.time_adjuster);
        let keys = type_config_keys();
        let default = |name: &str| keys.iter().find(|k| k.name == name).and_then(|k| k.default);
        assert_eq!(default("time.precision.mode"), Some("adaptive_time_microseconds"));
        assert_eq!(default("bigint.unsigned.handling.mode"), Some("long"));
    }

    #[test]
    fn reads_every_property_and_names_every_bad_value() {
        let settings = TypeSettings::from_props(&props(&[
            ("decimal.handling.mode", " STRING "),
            ("time.precision.mode", "connect"),
            ("bigint.unsigned.handling.mode", "Precise"),
            ("binary.handling.mode", "hex"),
            ("enable.time.adjuster", "false"),
        ]))
        .expect("settings");
        assert_eq!(
            settings,
            TypeSettings {
                decimal: DecimalHandling::String,
                time_precision: TimePrecision::Connect,
                bigint_unsigned: BigIntUnsignedHandling::Precise,
                binary: BinaryHandling::Hex,
                time_adjuster: false,
            }
        );
        let errors = TypeSettings::from_props(&props(&[
            ("bigint.unsigned.handling.mode", "exact"),
            ("time.precision.mode", "nanos"),
        ]))
        .expect_err("bad values");
        let keys: Vec<&str> = errors.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["time.precision.mode", "bigint.unsigned.handling.mode"]);
        assert_eq!(errors[1].1, "\"exact\" is not one of long, precise");
    }
}
