//! Keeping secrets out of answers and logs: every value of a secret setting is shown as `[hidden]`, and so is any
//! setting whose name says it holds a secret, declared or not (a Debezium config pasted with keys a connector
//! does not declare must not leak either). Values that are config-provider references (`${env:...}`,
//! `${file:...}`) name where the secret lives, not the secret, and are shown as they are.

use std::collections::BTreeMap;

use super::def::ConfigDef;
use super::providers::is_reference;

/// What a hidden value is shown as (Kafka Connect's own marker).
pub const HIDDEN: &str = "[hidden]";

/// Name fragments that mark a setting as secret even when no definition declares it.
const SECRET_NAME_PARTS: &[&str] = &["password", "secret", "token", "credentials", "api.key", "apikey", "private.key"];

/// Whether the setting `name` holds a secret.
pub fn is_secret(def: &ConfigDef, name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    def.is_secret(name) || SECRET_NAME_PARTS.iter().any(|part| lower.contains(part))
}

/// `props` with every secret value replaced by [`HIDDEN`].
pub fn masked(def: &ConfigDef, props: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    props
        .iter()
        .map(|(name, value)| {
            let shown = if is_secret(def, name) && !is_reference(value) { HIDDEN.to_owned() } else { value.clone() };
            (name.clone(), shown)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigKey, ConfigType};

    #[test]
    fn declared_and_recognisable_secrets_are_hidden() {
        let def = ConfigDef::new([ConfigKey::required("connection.credential", ConfigType::Password, "secret")]);
        let props: BTreeMap<String, String> = [
            ("connection.credential", "c"),
            ("database.password", "p"),
            ("database.user", "postgres"),
            ("sink.auth.token", "t"),
            ("connection.password", "${env:DB_PASSWORD}"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let shown = masked(&def, &props);
        assert_eq!(shown["connection.credential"], HIDDEN);
        assert_eq!(shown["database.password"], HIDDEN);
        assert_eq!(shown["sink.auth.token"], HIDDEN);
        assert_eq!(shown["database.user"], "postgres");
        assert_eq!(shown["connection.password"], "${env:DB_PASSWORD}", "a reference is not the secret");
    }
}
