//! Validation results in Kafka Connect's shapes: the `ConfigInfos` document of
//! `PUT /connector-plugins/{p}/config/validate`, and the message of the HTTP 400 that refuses an invalid config
//! on create and update ("Connector configuration is invalid and contains the following N error(s): ...").

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::def::{ConfigDef, FieldError};
use super::mask::{is_secret, HIDDEN};

/// Kafka Connect's `ConfigInfos` for `props` checked against `def`: one entry per declared key (and per given key
/// with an error that the definition does not declare), each with its value (secrets hidden) and its errors.
pub fn config_infos(plugin: &str, def: &ConfigDef, props: &BTreeMap<String, String>, errors: &[FieldError]) -> Value {
    let errors_of =
        |name: &str| -> Vec<&str> { errors.iter().filter(|e| e.name == name).map(|e| e.message.as_str()).collect() };
    let shown = |name: &str, value: Option<&str>| -> Value {
        match value {
            Some(_) if is_secret(def, name) => json!(HIDDEN),
            Some(v) => json!(v),
            None => Value::Null,
        }
    };
    let mut configs: Vec<Value> = def
        .keys()
        .iter()
        .enumerate()
        .map(|(order, key)| {
            json!({
                "definition": {
                    "name": key.name,
                    "type": key.kind,
                    "required": key.default.is_none(),
                    "default_value": key.default,
                    "importance": key.importance,
                    "documentation": key.doc,
                    "group": Value::Null,
                    "width": "NONE",
                    "display_name": key.name,
                    "dependents": [],
                    "order": order as i64 + 1,
                },
                "value": {
                    "name": key.name,
                    "value": shown(key.name, def.value(props, key.name)),
                    "recommended_values": key.allowed,
                    "errors": errors_of(key.name),
                    "visible": true,
                },
            })
        })
        .collect();
    let undeclared: BTreeSet<&String> = errors.iter().map(|e| &e.name).filter(|name| def.key(name).is_none()).collect();
    for name in undeclared {
        configs.push(json!({
            "value": {
                "name": name,
                "value": shown(name, props.get(name.as_str()).map(String::as_str)),
                "recommended_values": [],
                "errors": errors_of(name),
                "visible": true,
            },
        }));
    }
    json!({ "name": plugin, "error_count": errors.len(), "groups": ["Common"], "configs": configs })
}

/// The message Kafka Connect puts in the 400 answer to an invalid connector config.
pub fn invalid_config_message(errors: &[FieldError]) -> String {
    let mut message =
        format!("Connector configuration is invalid and contains the following {} error(s):", errors.len());
    for error in errors {
        message.push('\n');
        message.push_str(&error.message);
    }
    message.push_str("\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`");
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigKey, ConfigType};

    #[test]
    fn infos_list_every_key_with_hidden_secrets_and_errors() {
        let def = ConfigDef::new([
            ConfigKey::required("database.hostname", ConfigType::String, "host"),
            ConfigKey::required("database.password", ConfigType::Password, "password"),
            ConfigKey::optional("snapshot.mode", ConfigType::String, "initial", "mode").one_of(&["initial", "never"]),
        ]);
        let props: BTreeMap<String, String> =
            [("database.password", "hunter2"), ("snapshot.mode", "sometimes"), ("table.include.list", "a.b")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let mut errors = def.validate(&props);
        errors.push(FieldError { name: "connection.secret".into(), message: "unreachable".into() });
        let infos = config_infos("postgres", &def, &props, &errors);
        assert_eq!(infos["error_count"], json!(3));
        let configs = infos["configs"].as_array().expect("configs");
        assert_eq!(configs.len(), 4);
        assert_eq!(configs[0]["value"]["errors"].as_array().map(Vec::len), Some(1), "hostname is missing");
        assert_eq!(configs[1]["value"]["value"], json!(HIDDEN));
        assert_eq!(configs[1]["definition"]["type"], json!("PASSWORD"));
        assert_eq!(configs[1]["definition"]["importance"], json!("HIGH"));
        assert_eq!(configs[2]["definition"]["importance"], json!("MEDIUM"));
        assert_eq!(configs[2]["value"]["recommended_values"], json!(["initial", "never"]));
        assert_eq!(configs[3]["value"]["name"], json!("connection.secret"));
        assert!(!infos.to_string().contains("hunter2"));

        let message = invalid_config_message(&errors);
        assert!(message.starts_with("Connector configuration is invalid and contains the following 3 error(s):"));
        assert!(message.contains("Missing required configuration \"database.hostname\""));
    }
}
