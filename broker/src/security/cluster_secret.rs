//! The secret every node of a cluster shares (`--cluster-secret-file` or `TIDEMARK_CLUSTER_SECRET`), and the keys
//! derived from it: one signs the controller requests and answers between nodes (`controller/signature.rs`), the
//! other two make the SCRAM credential of the brokers' own principal, [`INTER_BROKER_USER`], with which a broker
//! authenticates to the others' inter-broker listener to fetch as a replica. Each use has its own key, derived with
//! HMAC-SHA256 from the secret, so learning one key tells nothing of the secret or the others.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::hmac;
use thiserror::Error;

use super::scram::{salted_password, ScramCredential, ScramMechanism};

/// The user name brokers authenticate as to each other; no client can add or change it
/// (AlterUserScramCredentials refuses it), and with a cluster secret it may do everything.
pub const INTER_BROKER_USER: &str = "__tidemark_broker";

/// The shortest secret accepted: 16 bytes, 128 bits if random.
pub const MIN_SECRET_BYTES: usize = 16;

/// The secret is unusable.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ClusterSecretError {
    /// Too short to resist guessing.
    #[error("the cluster secret has {0} bytes; it needs at least {MIN_SECRET_BYTES} (e.g. `openssl rand -hex 32`)")]
    TooShort(usize),
}

/// The cluster's shared secret. Never printed, not even by `Debug`.
#[derive(Clone)]
pub struct ClusterSecret {
    root: hmac::Key,
    inter_broker_credentials: BTreeMap<ScramMechanism, ScramCredential>,
}

impl std::fmt::Debug for ClusterSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterSecret([hidden])")
    }
}

impl ClusterSecret {
    /// The secret `bytes`, at least [`MIN_SECRET_BYTES`] long.
    pub fn new(bytes: &[u8]) -> Result<Self, ClusterSecretError> {
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(ClusterSecretError::TooShort(bytes.len()));
        }
        let root = hmac::Key::new(hmac::HMAC_SHA256, bytes);
        let password = STANDARD.encode(derive(&root, "inter-broker password"));
        let salt = derive(&root, "inter-broker salt");
        let iterations = ScramMechanism::MIN_ITERATIONS;
        let inter_broker_credentials = [ScramMechanism::Sha256, ScramMechanism::Sha512]
            .into_iter()
            .map(|mechanism| {
                let salted = salted_password(mechanism, password.as_bytes(), &salt, iterations.unsigned_abs());
                (mechanism, ScramCredential::from_salted_password(mechanism, &salted, salt.clone(), iterations))
            })
            .collect();
        Ok(ClusterSecret { root, inter_broker_credentials })
    }

    /// The key that signs controller requests and their answers.
    pub fn controller_key(&self) -> hmac::Key {
        hmac::Key::new(hmac::HMAC_SHA256, &derive(&self.root, "controller requests"))
    }

    /// The password of [`INTER_BROKER_USER`].
    pub fn inter_broker_password(&self) -> String {
        STANDARD.encode(derive(&self.root, "inter-broker password"))
    }

    /// The SCRAM credential of [`INTER_BROKER_USER`] for `mechanism`: the same on every node, as its salt is
    /// derived from the secret too.
    pub fn inter_broker_credential(&self, mechanism: ScramMechanism) -> Option<ScramCredential> {
        self.inter_broker_credentials.get(&mechanism).cloned()
    }
}

/// HMAC(root, "tidemark " + purpose): a key of its own for each use of the secret.
fn derive(root: &hmac::Key, purpose: &str) -> Vec<u8> {
    hmac::sign(root, format!("tidemark {purpose}").as_bytes()).as_ref().to_vec()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef-a-cluster-secret";

    #[test]
    fn a_short_secret_is_refused() {
        assert_eq!(ClusterSecret::new(b"short").unwrap_err(), ClusterSecretError::TooShort(5));
        assert!(ClusterSecret::new(&SECRET[..MIN_SECRET_BYTES]).is_ok());
    }

    #[test]
    fn every_node_derives_the_same_inter_broker_login_and_it_matches_its_credential() {
        let (one, two) = (ClusterSecret::new(SECRET).unwrap(), ClusterSecret::new(SECRET).unwrap());
        assert_eq!(one.inter_broker_password(), two.inter_broker_password());
        for mechanism in [ScramMechanism::Sha256, ScramMechanism::Sha512] {
            let credential = one.inter_broker_credential(mechanism).unwrap();
            assert_eq!(Some(&credential), two.inter_broker_credential(mechanism).as_ref());
            assert!(credential.verify_password(&one.inter_broker_password()));
        }
        let other = ClusterSecret::new(b"0123456789abcdef-another-secret").unwrap();
        assert_ne!(other.inter_broker_password(), one.inter_broker_password());
        let credential = one.inter_broker_credential(ScramMechanism::Sha512).unwrap();
        assert!(!credential.verify_password(&other.inter_broker_password()));
    }

    #[test]
    fn the_keys_are_distinct_and_the_debug_form_hides_them() {
        let secret = ClusterSecret::new(SECRET).unwrap();
        let tag = |key: &hmac::Key| hmac::sign(key, b"a message").as_ref().to_vec();
        let controller = tag(&secret.controller_key());
        for purpose in ["inter-broker password", "inter-broker salt"] {
            let other = hmac::Key::new(hmac::HMAC_SHA256, &derive(&secret.root, purpose));
            assert_ne!(controller, tag(&other), "the controller key is not the {purpose} key");
        }
        assert_ne!(controller, tag(&secret.root), "nor the secret itself");
        assert_eq!(format!("{secret:?}"), "ClusterSecret([hidden])");
    }
}
