//! The users SASL authenticates: their SCRAM credentials (salt, iterations, StoredKey, ServerKey; never a
//! password), in `DATA/meta/users.json` on a single node and in the controller's image in a cluster
//! ([`MetadataCommand::AlterScramCredentials`]; see [`SecurityStore`]). In a cluster with a shared secret,
//! [`INTER_BROKER_USER`]'s credential comes from the secret instead.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::cluster_secret::{ClusterSecret, INTER_BROKER_USER};
use super::sasl::CredentialLookup;
use super::scram::{ScramCredential, ScramMechanism};
use super::store::{SecurityStore, StoreError};
use crate::controller::image::MetadataCommand;
use crate::controller::Controller;

/// Every user's credentials: user name → mechanism → credential.
pub type UserCredentials = BTreeMap<String, BTreeMap<ScramMechanism, ScramCredential>>;

/// One change of Kafka's AlterUserScramCredentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CredentialChange {
    /// Adds or replaces a user's credential for one mechanism.
    Upsert {
        /// The user.
        user: String,
        /// The credential; its mechanism says which one it replaces.
        credential: ScramCredential,
    },
    /// Removes a user's credential for one mechanism (the user is gone once it has none).
    Delete {
        /// The user.
        user: String,
        /// The mechanism.
        mechanism: ScramMechanism,
    },
}

/// Applies `changes` in order. Deterministic (it runs in every controller node's state machine); deleting a
/// credential that does not exist changes nothing.
pub fn apply_changes(users: &mut UserCredentials, changes: &[CredentialChange]) {
    for change in changes {
        match change {
            CredentialChange::Upsert { user, credential } => {
                users.entry(user.clone()).or_default().insert(credential.mechanism, credential.clone());
            }
            CredentialChange::Delete { user, mechanism } => {
                if let Some(credentials) = users.get_mut(user) {
                    credentials.remove(mechanism);
                    if credentials.is_empty() {
                        users.remove(user);
                    }
                }
            }
        }
    }
}

/// The users of this broker, shared by every connection.
#[derive(Debug)]
pub struct Users {
    store: SecurityStore<UserCredentials>,
    /// The cluster's secret, which makes the brokers' own login.
    secret: Option<ClusterSecret>,
}

impl Users {
    /// Reads a single node's users from `meta_dir/users.json`; a missing file means none.
    pub fn open(meta_dir: &Path) -> io::Result<Self> {
        Ok(Users { store: SecurityStore::open(meta_dir.join("users.json"))?, secret: None })
    }

    /// A cluster member's users: those of `controller`'s image, and the brokers' own with a cluster `secret`.
    pub fn from_controller(controller: Arc<Controller>, secret: Option<ClusterSecret>) -> Self {
        Users { store: SecurityStore::from_controller(controller, |image| &image.scram_credentials), secret }
    }

    /// Every user's credentials as this broker knows them now.
    pub fn all(&self) -> Arc<UserCredentials> {
        self.store.read(|users| Arc::new(users.clone()))
    }

    /// Whether `user` has any credential.
    pub fn exists(&self, user: &str) -> bool {
        self.store.read(|users| users.contains_key(user))
    }

    /// Applies `changes`; answers once they are durable (and, in a cluster, applied on this broker too, so that
    /// a describe right after sees them).
    pub async fn change(&self, changes: Vec<CredentialChange>) -> Result<(), StoreError> {
        let apply = |users: &mut UserCredentials| apply_changes(users, &changes);
        let command = MetadataCommand::AlterScramCredentials { changes: changes.clone() };
        self.store.change(apply, command).await
    }
}

impl CredentialLookup for Users {
    fn scram_credential(&self, user: &str, mechanism: ScramMechanism) -> Option<ScramCredential> {
        if user == INTER_BROKER_USER {
            return self.secret.as_ref()?.inter_broker_credential(mechanism);
        }
        self.store.read(|users| users.get(user)?.get(&mechanism).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upsert(user: &str, mechanism: ScramMechanism, password: &str) -> CredentialChange {
        let credential = ScramCredential::generate(mechanism, password, ScramMechanism::MIN_ITERATIONS);
        CredentialChange::Upsert { user: user.to_owned(), credential }
    }

    #[tokio::test]
    async fn a_single_nodes_users_survive_a_restart_and_deletes_remove_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let users = Users::open(dir.path()).expect("open");
        users
            .change(vec![upsert("alice", ScramMechanism::Sha256, "a"), upsert("alice", ScramMechanism::Sha512, "a")])
            .await
            .expect("change");
        users.change(vec![upsert("bob", ScramMechanism::Sha512, "b")]).await.expect("change");
        let reopened = Users::open(dir.path()).expect("reopen");
        assert_eq!(reopened.all(), users.all());
        let alice = reopened.scram_credential("alice", ScramMechanism::Sha256).expect("alice");
        assert!(alice.verify_password("a"));
        assert!(!alice.verify_password("b"));
        let delete = |user: &str, mechanism| CredentialChange::Delete { user: user.to_owned(), mechanism };
        reopened
            .change(vec![delete("bob", ScramMechanism::Sha512), delete("alice", ScramMechanism::Sha256)])
            .await
            .expect("delete");
        let left = Users::open(dir.path()).expect("reopen").all();
        assert_eq!(left.keys().collect::<Vec<_>>(), ["alice"]);
        assert_eq!(left["alice"].keys().collect::<Vec<_>>(), [&ScramMechanism::Sha512]);
        let text = std::fs::read_to_string(dir.path().join("users.json")).expect("read");
        assert!(!text.contains("\"a\""), "no password is stored: {text}");
    }
}
