//! Config providers (Kafka's KIP-297 syntax): `${env:VAR}` takes an environment variable, `${file:/path:key}` a key
//! of a Java properties file. Connector configs are stored with the references; they are resolved only when a task
//! starts, so secrets never reach `connect-configs`.

use std::collections::BTreeMap;

use thiserror::Error;

/// A reference could not be resolved.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProviderError {
    /// `${provider:...}` names a provider Tidemark does not have.
    #[error("setting {setting}: unknown config provider '{provider}' (known: env, file)")]
    UnknownProvider {
        /// The setting.
        setting: String,
        /// The provider named.
        provider: String,
    },
    /// The variable, file or key does not exist.
    #[error("setting {setting}: {reference} cannot be resolved: {why}")]
    Unresolved {
        /// The setting.
        setting: String,
        /// The reference as written.
        reference: String,
        /// What is missing.
        why: String,
    },
}

/// Whether `value` contains a provider reference.
pub fn is_reference(value: &str) -> bool {
    value.contains("${env:") || value.contains("${file:")
}

/// `props` with every `${env:...}` and `${file:...:...}` reference replaced by what it names.
pub fn resolve(props: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, ProviderError> {
    props.iter().map(|(name, value)| Ok((name.clone(), resolve_value(name, value)?))).collect()
}

fn resolve_value(setting: &str, value: &str) -> Result<String, ProviderError> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        let Some(length) = rest[start..].find('}') else { break };
        let reference = &rest[start..start + length + 1];
        let inner = &reference[2..reference.len() - 1];
        let Some((provider, path)) = inner.split_once(':') else { break };
        let resolved = match provider {
            "env" => std::env::var(path).map_err(|_| unresolved(setting, reference, "no such environment variable"))?,
            "file" => file_key(setting, reference, path)?,
            other => {
                return Err(ProviderError::UnknownProvider { setting: setting.to_owned(), provider: other.to_owned() })
            }
        };
        out.push_str(&rest[..start]);
        out.push_str(&resolved);
        rest = &rest[start + length + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `${file:/path:key}`: `key` of the properties file at `/path` (the last `:` separates them).
fn file_key(setting: &str, reference: &str, path_and_key: &str) -> Result<String, ProviderError> {
    let (path, key) =
        path_and_key.rsplit_once(':').ok_or_else(|| unresolved(setting, reference, "expected ${file:/path:key}"))?;
    let text = std::fs::read_to_string(path).map_err(|e| unresolved(setting, reference, &format!("{path}: {e}")))?;
    parse_properties(&text)
        .remove(key)
        .ok_or_else(|| unresolved(setting, reference, &format!("{path} has no key {key}")))
}

/// The `key=value` (or `key: value`) pairs of a Java properties text; blank lines and `#`/`!` comments are skipped,
/// and a repeated key keeps its last value, as `java.util.Properties` does.
pub fn parse_properties(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with('!'))
        .filter_map(|line| line.split_once(['=', ':']).map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
        .collect()
}

fn unresolved(setting: &str, reference: &str, why: &str) -> ProviderError {
    ProviderError::Unresolved { setting: setting.to_owned(), reference: reference.to_owned(), why: why.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_environment_and_properties_files() {
        let dir = std::env::temp_dir().join(format!("tidemark-providers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("db.properties");
        std::fs::write(&file, "# secrets\nuser=app\npassword = s3cret\n").expect("write");
        let path = std::env::var("PATH").unwrap_or_default();
        let props: BTreeMap<String, String> = [
            ("database.password".to_owned(), format!("${{file:{}:password}}", file.display())),
            ("search".to_owned(), "x-${env:PATH}-y".to_owned()),
            ("plain".to_owned(), "no references".to_owned()),
        ]
        .into_iter()
        .collect();
        let resolved = resolve(&props).expect("resolves");
        assert_eq!(resolved["database.password"], "s3cret");
        assert_eq!(resolved["search"], format!("x-{path}-y"));
        assert_eq!(resolved["plain"], "no references");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn unresolvable_references_name_the_setting() {
        let props: BTreeMap<String, String> = [("a".to_owned(), "${vault:secret/db}".to_owned())].into_iter().collect();
        assert!(matches!(resolve(&props), Err(ProviderError::UnknownProvider { .. })));
        let props: BTreeMap<String, String> =
            [("b".to_owned(), "${env:TIDEMARK_SURELY_UNSET_VARIABLE}".to_owned())].into_iter().collect();
        let error = resolve(&props).expect_err("unset");
        assert!(error.to_string().starts_with("setting b:"), "{error}");
        let props: BTreeMap<String, String> =
            [("c".to_owned(), "${file:/nonexistent/x.properties:k}".to_owned())].into_iter().collect();
        assert!(matches!(resolve(&props), Err(ProviderError::Unresolved { .. })));
    }
}
