//! How a broker connects to another broker's inter-broker listener (its first listener) to fetch as a replica:
//! PLAINTEXT in a cluster without a secret; with a cluster secret, SASL_PLAINTEXT or SASL_SSL, authenticated with
//! SCRAM as [`INTER_BROKER_USER`], whose credential every node derives from the secret. SCRAM proves both sides
//! know the secret, and its nonces make a recorded exchange useless to replay.

use std::sync::Arc;

use thiserror::Error;

use super::cluster_secret::{ClusterSecret, INTER_BROKER_USER};
use super::listener::SecurityProtocol;
use super::sasl::SaslMechanism;
use super::scram::ScramMechanism;
use crate::client::{ClientSecurity, SaslLogin};

/// The inter-broker listener cannot be used as configured.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum InterBrokerError {
    /// A secured cluster needs brokers to authenticate to each other.
    #[error(
        "with a cluster secret the inter-broker listener (the first --kafka-listen) must be SASL_PLAINTEXT or \
         SASL_SSL, so that brokers authenticate to each other; it is {0}"
    )]
    Unauthenticated(SecurityProtocol),
    /// SASL between brokers needs the secret.
    #[error(
        "the inter-broker listener (the first --kafka-listen) is {0}: brokers authenticate to it with the cluster \
         secret (--cluster-secret-file or TIDEMARK_CLUSTER_SECRET), which is not set"
    )]
    NoSecret(SecurityProtocol),
    /// Brokers log in with SCRAM.
    #[error("brokers authenticate to each other with SCRAM: enable SCRAM-SHA-512 or SCRAM-SHA-256 in --sasl-enabled-mechanisms")]
    NoScram,
    /// TLS between brokers needs a CA to check the other brokers' certificates.
    #[error("the inter-broker listener is SASL_SSL: --tls-ca must name the CA that signed the brokers' certificates")]
    NoTrustedCa,
}

/// The security of this broker's connections to the others' inter-broker listener, `listener` being this
/// broker's first (every node of a cluster must list the same protocol first). `tls` verifies the others'
/// certificates.
pub fn inter_broker_security(
    listener: SecurityProtocol,
    mechanisms: &[SaslMechanism],
    secret: Option<&ClusterSecret>,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<ClientSecurity, InterBrokerError> {
    let Some(secret) = secret else {
        return match listener {
            SecurityProtocol::Plaintext => Ok(ClientSecurity::plaintext()),
            other => Err(InterBrokerError::NoSecret(other)),
        };
    };
    if !matches!(listener, SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl) {
        return Err(InterBrokerError::Unauthenticated(listener));
    }
    let mechanism = [ScramMechanism::Sha512, ScramMechanism::Sha256]
        .into_iter()
        .map(SaslMechanism::Scram)
        .find(|m| mechanisms.contains(m))
        .ok_or(InterBrokerError::NoScram)?;
    let tls = match listener {
        SecurityProtocol::SaslSsl => Some(tls.ok_or(InterBrokerError::NoTrustedCa)?),
        _ => None,
    };
    let login = SaslLogin { mechanism, user: INTER_BROKER_USER.to_owned(), password: secret.inter_broker_password() };
    Ok(ClientSecurity { protocol: listener, tls, sasl: Some(login) })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_listener_and_the_secret_must_agree() {
        let secret = ClusterSecret::new(b"0123456789abcdef0123").unwrap();
        let all = &SaslMechanism::ALL[..];
        let plain = inter_broker_security(SecurityProtocol::Plaintext, all, None, None).unwrap();
        assert_eq!(plain.protocol, SecurityProtocol::Plaintext);
        assert!(plain.sasl.is_none());
        assert_eq!(
            inter_broker_security(SecurityProtocol::Plaintext, all, Some(&secret), None).unwrap_err(),
            InterBrokerError::Unauthenticated(SecurityProtocol::Plaintext)
        );
        assert_eq!(
            inter_broker_security(SecurityProtocol::Ssl, all, Some(&secret), None).unwrap_err(),
            InterBrokerError::Unauthenticated(SecurityProtocol::Ssl)
        );
        assert_eq!(
            inter_broker_security(SecurityProtocol::SaslPlaintext, all, None, None).unwrap_err(),
            InterBrokerError::NoSecret(SecurityProtocol::SaslPlaintext)
        );
        assert_eq!(
            inter_broker_security(SecurityProtocol::SaslPlaintext, &[SaslMechanism::Plain], Some(&secret), None)
                .unwrap_err(),
            InterBrokerError::NoScram
        );
        assert_eq!(
            inter_broker_security(SecurityProtocol::SaslSsl, all, Some(&secret), None).unwrap_err(),
            InterBrokerError::NoTrustedCa
        );
        let sasl = inter_broker_security(SecurityProtocol::SaslPlaintext, all, Some(&secret), None).unwrap();
        let login = sasl.sasl.unwrap();
        assert_eq!(login.mechanism, SaslMechanism::Scram(ScramMechanism::Sha512));
        assert_eq!((login.user.as_str(), login.password), (INTER_BROKER_USER, secret.inter_broker_password()));
    }
}
