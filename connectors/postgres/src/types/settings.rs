//! [`TypeSettings`]: the connector properties that change how column values are represented, with Debezium's
//! names, values and defaults.

use std::collections::BTreeMap;

use bytes::Bytes;
use tidemark_debezium::choose;
pub use tidemark_debezium::{BinaryHandling, DecimalHandling, TimePrecision};

/// `interval.handling.mode`: how `interval` values are represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IntervalHandling {
    /// `numeric` (the default): `io.debezium.time.MicroDuration`, INT64 microseconds with a month counted as
    /// 365.25 / 12 days.
    #[default]
    Numeric,
    /// `string`: `io.debezium.time.Interval`, `P<y>Y<m>M<d>DT<h>H<m>M<s>S`.
    String,
}

/// `hstore.handling.mode`: how `hstore` values are represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HstoreHandling {
    /// `json` (the default): an `io.debezium.data.Json` string of a JSON object.
    #[default]
    Json,
    /// `map`: a MAP from STRING to optional STRING.
    Map,
}

/// The settings that shape column schemas and values, read from Debezium's property names with
/// [`TypeSettings::from_props`]. [`Default`] gives Debezium's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeSettings {
    /// `decimal.handling.mode`.
    pub decimal: DecimalHandling,
    /// `time.precision.mode`.
    pub time_precision: TimePrecision,
    /// `binary.handling.mode`.
    pub binary: BinaryHandling,
    /// `interval.handling.mode`.
    pub interval: IntervalHandling,
    /// `hstore.handling.mode`.
    pub hstore: HstoreHandling,
    /// `money.fraction.digits`: the scale of `money` values in `precise` mode (text values are rounded half up to
    /// it); also the number of fraction digits the binary form of `money` counts in, which is `lc_monetary`'s
    /// (2 for `C` and most locales). Default 2.
    pub money_fraction_digits: u8,
    /// `unavailable.value.placeholder`: what an unchanged TOASTed value becomes (default
    /// `__debezium_unavailable_value`; a value starting with `hex:` is the bytes its hex digits spell).
    pub unavailable_value_placeholder: Bytes,
    /// `include.unknown.datatypes`: columns of types without a mapping are captured as the bytes of their text
    /// form (under `binary.handling.mode`) instead of being left out. Default false.
    pub include_unknown_datatypes: bool,
}

/// Debezium's default `unavailable.value.placeholder`.
pub const DEFAULT_PLACEHOLDER: &str = "__debezium_unavailable_value";

impl Default for TypeSettings {
    fn default() -> Self {
        TypeSettings {
            decimal: DecimalHandling::default(),
            time_precision: TimePrecision::default(),
            binary: BinaryHandling::default(),
            interval: IntervalHandling::default(),
            hstore: HstoreHandling::default(),
            money_fraction_digits: 2,
            unavailable_value_placeholder: Bytes::from_static(DEFAULT_PLACEHOLDER.as_bytes()),
            include_unknown_datatypes: false,
        }
    }
}

impl TypeSettings {
    /// The settings from connector properties, by Debezium's names: `decimal.handling.mode`,
    /// `time.precision.mode`, `binary.handling.mode`, `interval.handling.mode`, `hstore.handling.mode`,
    /// `money.fraction.digits`, `unavailable.value.placeholder`, `include.unknown.datatypes`. Absent keys take
    /// Debezium's defaults; values are trimmed and compared without regard to case, as Debezium does; other keys
    /// are ignored. Every bad value is reported as (key, why).
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
            settings.decimal = choose(
                v,
                &[
                    ("precise", DecimalHandling::Precise),
                    ("double", DecimalHandling::Double),
                    ("string", DecimalHandling::String),
                ],
            )?;
            Ok(())
        });
        read("time.precision.mode", &mut |v| {
            settings.time_precision = choose(
                v,
                &[
                    ("adaptive", TimePrecision::Adaptive),
                    ("adaptive_time_microseconds", TimePrecision::AdaptiveTimeMicroseconds),
                    ("connect", TimePrecision::Connect),
                ],
            )?;
            Ok(())
        });
        read("binary.handling.mode", &mut |v| {
            settings.binary = choose(
                v,
                &[
                    ("bytes", BinaryHandling::Bytes),
                    ("base64", BinaryHandling::Base64),
                    ("base64-url-safe", BinaryHandling::Base64UrlSafe),
                    ("hex", BinaryHandling::Hex),
                ],
            )?;
            Ok(())
        });
        read("interval.handling.mode", &mut |v| {
            settings.interval =
                choose(v, &[("numeric", IntervalHandling::Numeric), ("string", IntervalHandling::String)])?;
            Ok(())
        });
        read("hstore.handling.mode", &mut |v| {
            settings.hstore = choose(v, &[("json", HstoreHandling::Json), ("map", HstoreHandling::Map)])?;
            Ok(())
        });
        read("money.fraction.digits", &mut |v| {
            settings.money_fraction_digits =
                v.parse().map_err(|_| format!("{v:?} is not a whole number from 0 to 255"))?;
            Ok(())
        });
        read("unavailable.value.placeholder", &mut |v| {
            settings.unavailable_value_placeholder = placeholder(v)?;
            Ok(())
        });
        read("include.unknown.datatypes", &mut |v| {
            settings.include_unknown_datatypes = choose(v, &[("true", true), ("false", false)])?;
            Ok(())
        });
        if errors.is_empty() {
            Ok(settings)
        } else {
            Err(errors)
        }
    }
}

/// The placeholder's bytes: the text's UTF-8, or after `hex:` the bytes its hex digits spell (as Debezium reads
/// it).
fn placeholder(value: &str) -> Result<Bytes, String> {
    let Some(hex) = value.strip_prefix("hex:") else {
        return Ok(Bytes::copy_from_slice(value.as_bytes()));
    };
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    if hex.len() % 2 != 0 {
        return Err(format!("{value:?} has an odd number of hex digits"));
    }
    hex.as_bytes()
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect::<Option<Vec<u8>>>()
        .map(Bytes::from)
        .ok_or_else(|| format!("{value:?} is not hex digits after \"hex:\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_are_debeziums() {
        let settings = TypeSettings::from_props(&BTreeMap::new()).expect("defaults");
        assert_eq!(settings, TypeSettings::default());
        assert_eq!(settings.money_fraction_digits, 2);
        assert_eq!(&settings.unavailable_value_placeholder[..], b"__debezium_unavailable_value");
        assert!(!settings.include_unknown_datatypes);
    }

    #[test]
    fn reads_every_property() {
        let settings = TypeSettings::from_props(&props(&[
            ("decimal.handling.mode", " STRING "),
            ("time.precision.mode", "adaptive_time_microseconds"),
            ("binary.handling.mode", "base64-url-safe"),
            ("interval.handling.mode", "string"),
            ("hstore.handling.mode", "map"),
            ("money.fraction.digits", "4"),
            ("unavailable.value.placeholder", "hex:00ff10"),
            ("include.unknown.datatypes", "TRUE"),
            ("topic.prefix", "ignored"),
        ]))
        .expect("settings");
        assert_eq!(settings.decimal, DecimalHandling::String);
        assert_eq!(settings.time_precision, TimePrecision::AdaptiveTimeMicroseconds);
        assert_eq!(settings.binary, BinaryHandling::Base64UrlSafe);
        assert_eq!(settings.interval, IntervalHandling::String);
        assert_eq!(settings.hstore, HstoreHandling::Map);
        assert_eq!(settings.money_fraction_digits, 4);
        assert_eq!(&settings.unavailable_value_placeholder[..], &[0x00, 0xff, 0x10]);
        assert!(settings.include_unknown_datatypes);
    }

    #[test]
    fn names_every_bad_value() {
        let errors = TypeSettings::from_props(&props(&[
            ("decimal.handling.mode", "exact"),
            ("money.fraction.digits", "-1"),
            ("unavailable.value.placeholder", "hex:abc"),
            ("include.unknown.datatypes", "yes"),
        ]))
        .expect_err("bad values");
        let keys: Vec<&str> = errors.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "decimal.handling.mode",
                "money.fraction.digits",
                "unavailable.value.placeholder",
                "include.unknown.datatypes"
            ]
        );
        assert_eq!(errors[0].1, "\"exact\" is not one of precise, double, string");
    }
}
