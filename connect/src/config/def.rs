//! Declared connector settings (Kafka Connect's `ConfigDef`): each key's type, default, whether it is required or
//! secret, its allowed values; validation that names every bad field and why, before anything is stored.

use std::collections::BTreeMap;

use serde::Serialize;

/// The type of a setting, as Kafka Connect names it in `/config/validate` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ConfigType {
    /// Any text.
    String,
    /// A 32-bit integer.
    Int,
    /// A 64-bit integer.
    Long,
    /// A floating-point number.
    Double,
    /// `true` or `false` (any case).
    Boolean,
    /// A comma-separated list.
    List,
    /// A secret: never shown in answers or logs.
    Password,
    /// A class name.
    Class,
}

/// How much a setting matters to users (Kafka Connect's `Importance`, shown by `/config/validate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Importance {
    /// Must be looked at.
    High,
    /// Usually looked at.
    Medium,
    /// Rarely changed.
    Low,
}

/// A check beyond the type: `Err` says why the value is refused.
pub type Validator = fn(&str) -> Result<(), String>;

/// One declared setting.
#[derive(Debug, Clone)]
pub struct ConfigKey {
    /// The property name, e.g. `database.hostname`.
    pub name: &'static str,
    /// Its type.
    pub kind: ConfigType,
    /// The value when it is not given; `None` for a required setting.
    pub default: Option<&'static str>,
    /// What it does (shown by `GET /connector-plugins/{p}/config`).
    pub doc: &'static str,
    /// The values it may take, matched without regard to case; empty for any.
    pub allowed: &'static [&'static str],
    /// A further check.
    pub validator: Option<Validator>,
    /// How much it matters: HIGH for required settings and MEDIUM for the rest unless declared otherwise.
    pub importance: Importance,
}

impl ConfigKey {
    /// A required setting of `kind`.
    pub const fn required(name: &'static str, kind: ConfigType, doc: &'static str) -> Self {
        ConfigKey { name, kind, default: None, doc, allowed: &[], validator: None, importance: Importance::High }
    }

    /// An optional setting of `kind` with a default.
    pub const fn optional(name: &'static str, kind: ConfigType, default: &'static str, doc: &'static str) -> Self {
        let importance = Importance::Medium;
        ConfigKey { name, kind, default: Some(default), doc, allowed: &[], validator: None, importance }
    }

    /// The same setting restricted to `allowed` values.
    pub const fn one_of(mut self, allowed: &'static [&'static str]) -> Self {
        self.allowed = allowed;
        self
    }

    /// The same setting with another importance.
    pub const fn importance(mut self, importance: Importance) -> Self {
        self.importance = importance;
        self
    }

    /// The same setting with a further check.
    pub const fn checked(mut self, validator: Validator) -> Self {
        self.validator = Some(validator);
        self
    }

    /// Why `value` is not valid for this key, if it is not.
    fn check(&self, value: &str) -> Option<String> {
        let type_error = match self.kind {
            ConfigType::Int => value.trim().parse::<i32>().err().map(|_| "must be a 32-bit integer"),
            ConfigType::Long => value.trim().parse::<i64>().err().map(|_| "must be a 64-bit integer"),
            ConfigType::Double => value.trim().parse::<f64>().err().map(|_| "must be a number"),
            ConfigType::Boolean => (!value.trim().eq_ignore_ascii_case("true")
                && !value.trim().eq_ignore_ascii_case("false"))
            .then_some("must be true or false"),
            ConfigType::String | ConfigType::List | ConfigType::Password | ConfigType::Class => None,
        };
        if let Some(error) = type_error {
            return Some(format!("Invalid value {} for configuration {}: {error}", shown(self, value), self.name));
        }
        if !self.allowed.is_empty() && !self.allowed.iter().any(|a| a.eq_ignore_ascii_case(value.trim())) {
            return Some(format!(
                "Invalid value {} for configuration {}: must be one of {}",
                shown(self, value),
                self.name,
                self.allowed.join(", ")
            ));
        }
        let refused = self.validator.and_then(|validate| validate(value).err());
        refused.map(|why| format!("Invalid value {} for configuration {}: {why}", shown(self, value), self.name))
    }
}

/// A value as it may appear in a message: secrets never do.
fn shown(key: &ConfigKey, value: &str) -> String {
    if key.kind == ConfigType::Password {
        super::HIDDEN.to_owned()
    } else {
        value.to_owned()
    }
}

/// One refused setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The property name.
    pub name: String,
    /// Why it is refused.
    pub message: String,
}

/// The settings a connector (or the runtime) declares.
#[derive(Debug, Clone, Default)]
pub struct ConfigDef {
    keys: Vec<ConfigKey>,
}

impl ConfigDef {
    /// A definition of `keys`.
    pub fn new(keys: impl IntoIterator<Item = ConfigKey>) -> Self {
        ConfigDef { keys: keys.into_iter().collect() }
    }

    /// This definition and `other`'s keys (a connector's keys on top of the runtime's).
    pub fn merged(mut self, other: &ConfigDef) -> Self {
        self.keys.extend(other.keys.iter().cloned());
        self
    }

    /// The declared keys.
    pub fn keys(&self) -> &[ConfigKey] {
        &self.keys
    }

    /// The key named `name`.
    pub fn key(&self, name: &str) -> Option<&ConfigKey> {
        self.keys.iter().find(|k| k.name == name)
    }

    /// Every problem with `props`: missing required keys, values of the wrong type, values outside the allowed
    /// set, values a validator refuses. Keys the definition does not declare are not errors (connectors accept
    /// Debezium properties they do not use, with a warning where they are read).
    pub fn validate(&self, props: &BTreeMap<String, String>) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for key in &self.keys {
            match props.get(key.name) {
                None if key.default.is_none() => errors.push(FieldError {
                    name: key.name.to_owned(),
                    message: format!("Missing required configuration \"{}\" which has no default value.", key.name),
                }),
                None => {}
                Some(value) => {
                    if let Some(message) = key.check(value) {
                        errors.push(FieldError { name: key.name.to_owned(), message });
                    }
                }
            }
        }
        errors
    }

    /// The value of `name` in `props`, or its default.
    pub fn value<'a>(&'a self, props: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
        props.get(name).map(String::as_str).or_else(|| self.key(name).and_then(|k| k.default))
    }

    /// Whether `name` is declared secret.
    pub fn is_secret(&self, name: &str) -> bool {
        self.key(name).is_some_and(|k| k.kind == ConfigType::Password)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> ConfigDef {
        ConfigDef::new([
            ConfigKey::required("database.hostname", ConfigType::String, "host"),
            ConfigKey::optional("database.port", ConfigType::Int, "5432", "port"),
            ConfigKey::required("database.password", ConfigType::Password, "password"),
            ConfigKey::optional("snapshot.mode", ConfigType::String, "initial", "mode")
                .one_of(&["initial", "never", "always"]),
            ConfigKey::optional("tasks.max", ConfigType::Int, "1", "tasks").checked(|v| {
                match v.trim().parse::<i32>() {
                    Ok(n) if n >= 1 => Ok(()),
                    _ => Err("must be at least 1".into()),
                }
            }),
            ConfigKey::optional("tombstones.on.delete", ConfigType::Boolean, "true", "tombstones"),
        ])
    }

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn every_bad_field_is_named_with_its_reason() {
        let errors = def().validate(&props(&[
            ("database.port", "fifty"),
            ("database.password", "s3cret"),
            ("snapshot.mode", "sometimes"),
            ("tasks.max", "0"),
            ("tombstones.on.delete", "yes"),
            ("unknown.debezium.property", "kept"),
        ]));
        let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["database.hostname", "database.port", "snapshot.mode", "tasks.max", "tombstones.on.delete"]);
        assert!(errors[0].message.contains("Missing required configuration"));
        assert!(errors[2].message.contains("must be one of initial, never, always"), "{:?}", errors[2]);
        assert!(errors[3].message.contains("must be at least 1"));
    }

    #[test]
    fn secrets_never_appear_in_messages() {
        let def = ConfigDef::new([ConfigKey::required("database.password", ConfigType::Password, "password")
            .checked(|_| Err("too short".into()))]);
        let errors = def.validate(&props(&[("database.password", "hunter2")]));
        assert_eq!(errors.len(), 1);
        assert!(!errors[0].message.contains("hunter2"), "{}", errors[0].message);
        assert!(errors[0].message.contains("[hidden]"));
    }

    #[test]
    fn values_fall_back_to_defaults_and_enums_ignore_case() {
        let def = def();
        let given = props(&[("database.hostname", "db"), ("database.password", "p"), ("snapshot.mode", "NEVER")]);
        assert!(def.validate(&given).is_empty());
        assert_eq!(def.value(&given, "database.port"), Some("5432"));
        assert_eq!(def.value(&given, "snapshot.mode"), Some("NEVER"));
        assert!(def.is_secret("database.password"));
    }
}
