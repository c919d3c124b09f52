//! `--command-config`: Kafka client properties from a file, as Kafka's tools take them, for librdkafka (every
//! property) and for Tidemark's own client (the security ones).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use tidemark_broker::client::{ClientSecurity, KafkaConnection, SaslLogin};
use tidemark_broker::security::listener::SecurityProtocol;
use tidemark_broker::security::sasl::SaslMechanism;
use tidemark_broker::security::tls;

use crate::args::ClientArgs;

/// The properties of `--command-config`; none without it.
pub fn load(client: &ClientArgs) -> Result<BTreeMap<String, String>> {
    match &client.command_config {
        Some(path) => parse_file(path),
        None => Ok(BTreeMap::new()),
    }
}

/// Reads a properties file: `key=value` (or `key: value`) a line; blank lines and `#` or `!` comments skipped.
/// (Java's line continuations and escapes are not read; client settings do not need them.)
fn parse_file(path: &Path) -> Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut properties = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some((key, value)) = line.split_once(['=', ':']) else {
            bail!("{} line {}: expected key=value", path.display(), number + 1);
        };
        properties.insert(key.trim().to_owned(), value.trim().to_owned());
    }
    Ok(properties)
}

/// Tidemark's own client's security from the properties librdkafka would read: `security.protocol`,
/// `sasl.mechanism` (or librdkafka's `sasl.mechanisms`), `sasl.username`, `sasl.password`, `ssl.ca.location`.
pub fn client_security(properties: &BTreeMap<String, String>) -> Result<ClientSecurity> {
    let get = |key: &str| properties.get(key).map(String::as_str);
    let protocol: SecurityProtocol = get("security.protocol").unwrap_or("PLAINTEXT").parse()?;
    let tls = match protocol.uses_tls() {
        true => {
            let ca = get("ssl.ca.location").context("an SSL or SASL_SSL connection needs ssl.ca.location")?;
            Some(tls::client_config(Path::new(ca))?)
        }
        false => None,
    };
    let sasl = match protocol.uses_sasl() {
        true => {
            let name = get("sasl.mechanism").or(get("sasl.mechanisms")).context("SASL needs sasl.mechanism")?;
            let mechanism = SaslMechanism::from_name(name)
                .with_context(|| format!("sasl.mechanism {name} is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"))?;
            let user = get("sasl.username").context("SASL needs sasl.username")?.to_owned();
            let password = get("sasl.password").context("SASL needs sasl.password")?.to_owned();
            Some(SaslLogin { mechanism, user, password })
        }
        false => None,
    };
    Ok(ClientSecurity { protocol, tls, sasl })
}

/// A connection of Tidemark's own client to the first bootstrap server that answers, secured as the
/// `--command-config` properties say (for the requests librdkafka has no API for).
pub async fn connect(client: &ClientArgs) -> Result<KafkaConnection> {
    let security = client_security(&load(client)?)?;
    let mut last_error = None;
    for address in client.bootstrap_servers.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        match KafkaConnection::connect(address, &security, "tidemark-cli").await {
            Ok(connection) => return Ok(connection),
            Err(e) => last_error = Some(anyhow::Error::new(e).context(format!("connecting to {address}"))),
        }
    }
    Err(last_error.unwrap_or_else(|| anyhow::anyhow!("--bootstrap-servers names no broker")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_files_read_as_kafka_tools_read_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("client.properties");
        let text = "# a comment\n! another\n\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism: SCRAM-SHA-512\n\
                    sasl.username = alice\nsasl.password=a=b\n";
        std::fs::write(&path, text).expect("write");
        let properties = parse_file(&path).expect("parse");
        assert_eq!(properties["sasl.password"], "a=b");
        assert_eq!(properties["sasl.mechanism"], "SCRAM-SHA-512");
        let security = client_security(&properties).expect("security");
        assert_eq!(security.protocol, SecurityProtocol::SaslPlaintext);
        let login = security.sasl.expect("sasl");
        assert_eq!((login.user.as_str(), login.password.as_str()), ("alice", "a=b"));
        std::fs::write(&path, "security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n").expect("write");
        let error = client_security(&parse_file(&path).expect("parse")).expect_err("no CA");
        assert!(error.to_string().contains("ssl.ca.location"), "{error}");
        std::fs::write(&path, "just words\n").expect("write");
        assert!(parse_file(&path).is_err());
    }
}
