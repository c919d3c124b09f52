//! Kafka listeners and their security protocols: `--kafka-listen SASL_SSL://0.0.0.0:9093` as Kafka's
//! `listeners=`. A listener is named after its protocol (Kafka's default `listener.security.protocol.map`), so a
//! broker has at most one listener of each protocol, and clients are told the endpoints of the listener they
//! connected to.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// Kafka's security protocols (`security.protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecurityProtocol {
    /// No encryption, no authentication.
    Plaintext,
    /// TLS, authenticated by a client certificate if the listener asks for one.
    Ssl,
    /// SASL authentication without encryption.
    SaslPlaintext,
    /// SASL authentication over TLS.
    SaslSsl,
}

impl SecurityProtocol {
    /// Every protocol.
    pub const ALL: [SecurityProtocol; 4] = [
        SecurityProtocol::Plaintext,
        SecurityProtocol::Ssl,
        SecurityProtocol::SaslPlaintext,
        SecurityProtocol::SaslSsl,
    ];

    /// Kafka's name for it, also the listener's name.
    pub fn name(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "PLAINTEXT",
            SecurityProtocol::Ssl => "SSL",
            SecurityProtocol::SaslPlaintext => "SASL_PLAINTEXT",
            SecurityProtocol::SaslSsl => "SASL_SSL",
        }
    }

    /// Whether connections are encrypted with TLS.
    pub fn uses_tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }

    /// Whether clients authenticate with SASL before anything else.
    pub fn uses_sasl(self) -> bool {
        matches!(self, SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl)
    }
}

impl fmt::Display for SecurityProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SecurityProtocol {
    type Err = ListenerError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        SecurityProtocol::ALL.into_iter().find(|protocol| protocol.name().eq_ignore_ascii_case(name)).ok_or_else(|| {
            ListenerError(format!("unknown security protocol '{name}' (PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)"))
        })
    }
}

/// A listener address that does not parse.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct ListenerError(String);

/// `[PROTOCOL://]HOST:PORT`: a listener to bind or an endpoint to advertise. Without a protocol it is PLAINTEXT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerAddress {
    /// The security protocol (and listener name).
    pub protocol: SecurityProtocol,
    /// The host or IP address.
    pub host: String,
    /// The port; 0 when binding picks a free one.
    pub port: u16,
}

impl FromStr for ListenerAddress {
    type Err = ListenerError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (protocol, address) = match text.split_once("://") {
            Some((protocol, address)) => (protocol.parse()?, address),
            None => (SecurityProtocol::Plaintext, text),
        };
        let (host, port) =
            address.rsplit_once(':').ok_or_else(|| ListenerError(format!("'{text}' is not [PROTOCOL://]HOST:PORT")))?;
        let port = port.parse().map_err(|_| ListenerError(format!("'{port}' in '{text}' is not a port")))?;
        // IPv6 literals are written in brackets, as in URLs.
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        Ok(ListenerAddress { protocol, host, port })
    }
}

impl fmt::Display for ListenerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "{}://[{}]:{}", self.protocol, self.host, self.port)
        } else {
            write!(f, "{}://{}:{}", self.protocol, self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listener_addresses_parse_with_and_without_a_protocol() {
        let parsed: ListenerAddress = "sasl_ssl://0.0.0.0:9093".parse().expect("parse");
        assert_eq!(parsed, ListenerAddress { protocol: SecurityProtocol::SaslSsl, host: "0.0.0.0".into(), port: 9093 });
        assert_eq!(parsed.to_string(), "SASL_SSL://0.0.0.0:9093");
        let plain: ListenerAddress = "127.0.0.1:9092".parse().expect("parse");
        assert_eq!(plain.protocol, SecurityProtocol::Plaintext);
        let v6: ListenerAddress = "SSL://[::1]:9094".parse().expect("parse");
        assert_eq!((v6.host.as_str(), v6.to_string().as_str()), ("::1", "SSL://[::1]:9094"));
        assert!("GSSAPI://h:1".parse::<ListenerAddress>().is_err());
        assert!("PLAINTEXT://h".parse::<ListenerAddress>().is_err());
        assert!("h:99999".parse::<ListenerAddress>().is_err());
    }
}
