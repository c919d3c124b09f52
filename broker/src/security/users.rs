//! The users SASL authenticates: their SCRAM credentials (salt, iterations, StoredKey, ServerKey; never a
//! password), kept where the cluster metadata lives. A single node keeps them in `DATA/meta/users.json`, replaced
//! atomically on every change; a cluster member keeps them in the controller's image, changed through the quorum
//! ([`MetadataCommand::AlterScramCredentials`]), so every broker authenticates the same users.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::sasl::CredentialLookup;
use super::scram::{ScramCredential, ScramMechanism};
use crate::controller::image::MetadataCommand;
use crate::controller::{Controller, ProposeError};
use crate::storage::atomic_file::write_atomically;

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

/// Why the users could not be changed.
#[derive(Debug, Error)]
pub enum UsersError {
    /// `users.json` could not be written.
    #[error("writing the users file: {0}")]
    Io(#[from] io::Error),
    /// The controller quorum did not take the change.
    #[error("the controller did not take the change: {0}")]
    Controller(#[from] ProposeError),
}

/// The users of this broker, shared by every connection.
#[derive(Debug)]
pub struct Users {
    source: Source,
}

#[derive(Debug)]
enum Source {
    /// A single node: the file and its content.
    File { path: PathBuf, users: Mutex<Arc<UserCredentials>> },
    /// A cluster member: the controller's image.
    Controller(Arc<Controller>),
}

impl Users {
    /// Reads a single node's users from `meta_dir/users.json`; a missing file means none.
    pub fn open(meta_dir: &Path) -> io::Result<Self> {
        let path = meta_dir.join("users.json");
        let users = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display())))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => UserCredentials::new(),
            Err(e) => return Err(e),
        };
        Ok(Users { source: Source::File { path, users: Mutex::new(Arc::new(users)) } })
    }

    /// A cluster member's users: those of `controller`'s image.
    pub fn from_controller(controller: Arc<Controller>) -> Self {
        Users { source: Source::Controller(controller) }
    }

    /// Every user's credentials as this broker knows them now.
    pub fn all(&self) -> Arc<UserCredentials> {
        match &self.source {
            Source::File { users, .. } => Arc::clone(&users.lock().unwrap_or_else(|p| p.into_inner())),
            Source::Controller(controller) => Arc::new(controller.image().scram_credentials.clone()),
        }
    }

    /// Applies `changes`; answers once they are durable (and, in a cluster, applied on this broker too, so that
    /// a describe right after sees them).
    pub async fn change(&self, changes: Vec<CredentialChange>) -> Result<(), UsersError> {
        match &self.source {
            Source::File { path, users } => {
                let mut guard = users.lock().unwrap_or_else(|p| p.into_inner());
                let mut changed = UserCredentials::clone(&guard);
                apply_changes(&mut changed, &changes);
                let json = serde_json::to_vec_pretty(&changed).map_err(io::Error::other)?;
                write_atomically(path, &json)?;
                *guard = Arc::new(changed);
                Ok(())
            }
            Source::Controller(controller) => {
                let index = controller.propose(MetadataCommand::AlterScramCredentials { changes }).await?;
                controller.wait_applied(index).await?;
                Ok(())
            }
        }
    }
}

impl CredentialLookup for Users {
    fn scram_credential(&self, user: &str, mechanism: ScramMechanism) -> Option<ScramCredential> {
        match &self.source {
            Source::File { users, .. } => {
                users.lock().unwrap_or_else(|p| p.into_inner()).get(user)?.get(&mechanism).cloned()
            }
            Source::Controller(controller) => controller.image().scram_credentials.get(user)?.get(&mechanism).cloned(),
        }
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
