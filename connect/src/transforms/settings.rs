//! [`Settings`]: the settings of one transform or predicate (`transforms.<alias>.<key>`), read through its
//! [`ConfigDef`] with defaults, and errors named with the full property name.

use std::collections::BTreeMap;

use crate::config::{ConfigDef, FieldError};

/// The settings of one transform or predicate: the connector's properties seen under a prefix
/// (`transforms.route.`), with the plugin's declared keys and their defaults.
#[derive(Debug)]
pub struct Settings<'a> {
    prefix: String,
    props: &'a BTreeMap<String, String>,
    def: ConfigDef,
}

impl<'a> Settings<'a> {
    /// The settings under `prefix` (ending with a dot) of `props`, declared by `def`.
    pub fn new(prefix: impl Into<String>, props: &'a BTreeMap<String, String>, def: ConfigDef) -> Self {
        Settings { prefix: prefix.into(), props, def }
    }

    /// The full property name of `key` (`transforms.route.regex`).
    pub fn name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Every declared key that is missing, of the wrong type or outside its allowed values, named in full.
    pub fn check_declared(&self) -> Vec<FieldError> {
        let own: BTreeMap<String, String> = self
            .props
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(self.prefix.as_str()).map(|short| (short.to_owned(), v.clone())))
            .collect();
        self.def
            .validate(&own)
            .into_iter()
            .map(|error| {
                let full = self.name(&error.name);
                let message = error
                    .message
                    .replace(&format!("configuration {}", error.name), &format!("configuration {full}"))
                    .replace(&format!("configuration \"{}\"", error.name), &format!("configuration \"{full}\""));
                FieldError { name: full, message }
            })
            .collect()
    }

    /// The value given for `key`, without the default.
    pub fn given(&self, key: &str) -> Option<&str> {
        self.props.get(&self.name(key)).map(String::as_str)
    }

    /// The value of `key`: given, or its declared default.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.given(key).or_else(|| self.def.key(key).and_then(|k| k.default))
    }

    /// The value of `key` trimmed, `None` when absent or blank.
    pub fn text(&self, key: &str) -> Option<String> {
        self.get(key).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    /// The value of `key` as given (not trimmed: replacements and formats keep their spaces), or "".
    pub fn raw(&self, key: &str) -> String {
        self.get(key).unwrap_or_default().to_owned()
    }

    /// The comma-separated list in `key`, each item trimmed, empty items left out.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.get(key)
            .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// The boolean in `key` (its type was checked by [`Settings::check_declared`]; anything else reads false).
    pub fn flag(&self, key: &str) -> bool {
        self.get(key).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    /// A refusal of `key`'s value, in Kafka's words: `Invalid value <v> for configuration <name>: <why>`.
    pub fn invalid(&self, key: &str, why: impl std::fmt::Display) -> FieldError {
        let name = self.name(key);
        let value = self.get(key).unwrap_or_default();
        FieldError { message: format!("Invalid value {value} for configuration {name}: {why}"), name }
    }

    /// A missing required `key`, in Kafka's words.
    pub fn missing(&self, key: &str) -> FieldError {
        let name = self.name(key);
        FieldError { message: format!("Missing required configuration \"{name}\" which has no default value."), name }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigKey, ConfigType};

    fn props() -> BTreeMap<String, String> {
        [("transforms.r.regex", " a.* "), ("transforms.r.flag", "yes"), ("transforms.r.items", "a, b,,c ")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_under_the_prefix_with_defaults_and_names_errors_in_full() {
        let props = props();
        let def = ConfigDef::new([
            ConfigKey::required("regex", ConfigType::String, "regex"),
            ConfigKey::required("replacement", ConfigType::String, "replacement"),
            ConfigKey::optional("flag", ConfigType::Boolean, "false", "flag"),
            ConfigKey::optional("items", ConfigType::List, "", "items"),
            ConfigKey::optional("format", ConfigType::String, "yyyy", "format"),
        ]);
        let settings = Settings::new("transforms.r.", &props, def);
        assert_eq!(settings.text("regex").as_deref(), Some("a.*"));
        assert_eq!(settings.raw("regex"), " a.* ");
        assert_eq!(settings.get("format"), Some("yyyy"));
        assert_eq!(settings.given("format"), None);
        assert_eq!(settings.list("items"), ["a", "b", "c"]);
        let errors = settings.check_declared();
        let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["transforms.r.replacement", "transforms.r.flag"]);
        assert!(errors[0].message.contains("\"transforms.r.replacement\""), "{}", errors[0].message);
        assert!(errors[1].message.contains("configuration transforms.r.flag:"), "{}", errors[1].message);
        let invalid = settings.invalid("regex", "bad");
        assert_eq!(invalid.message, "Invalid value  a.*  for configuration transforms.r.regex: bad");
    }
}
