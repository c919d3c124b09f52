//! Security metadata (users, ACLs) kept where the cluster metadata lives: a single node keeps each kind in a JSON
//! file under `DATA/meta/`, replaced atomically on every change; a cluster member reads the controller's image and
//! changes it through the quorum, so every broker of a cluster applies the same users and ACLs.

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde::Serialize;
use thiserror::Error;

use crate::controller::image::{ClusterImage, MetadataCommand};
use crate::controller::{Controller, ProposeError};
use crate::storage::atomic_file::write_atomically;

/// Why a change could not be made.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The file could not be written.
    #[error("writing {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: io::Error,
    },
    /// The controller quorum did not take the change.
    #[error("the controller did not take the change: {0}")]
    Controller(#[from] ProposeError),
}

/// One kind of security metadata, `T`.
#[derive(Debug)]
pub struct SecurityStore<T> {
    source: Source<T>,
}

#[derive(Debug)]
enum Source<T> {
    /// A single node: the file and its content.
    File { path: PathBuf, value: Mutex<Arc<T>> },
    /// A cluster member: the part of the controller's image that holds `T`.
    Controller { controller: Arc<Controller>, view: fn(&ClusterImage) -> &T },
}

impl<T: Clone + Default + Serialize + DeserializeOwned> SecurityStore<T> {
    /// A single node's, read from `path`; a missing file means the default (nothing).
    pub fn open(path: PathBuf) -> io::Result<Self> {
        let value = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display())))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => T::default(),
            Err(e) => return Err(e),
        };
        Ok(SecurityStore { source: Source::File { path, value: Mutex::new(Arc::new(value)) } })
    }

    /// A cluster member's: `view` of `controller`'s image.
    pub fn from_controller(controller: Arc<Controller>, view: fn(&ClusterImage) -> &T) -> Self {
        SecurityStore { source: Source::Controller { controller, view } }
    }

    /// Runs `read` over the current value, without copying it.
    pub fn read<R>(&self, read: impl FnOnce(&T) -> R) -> R {
        match &self.source {
            Source::File { value, .. } => {
                let current = Arc::clone(&value.lock().unwrap_or_else(|p| p.into_inner()));
                read(&current)
            }
            Source::Controller { controller, view } => read(view(&controller.image())),
        }
    }

    /// Changes the value: `apply` on a single node (then the file is replaced), `command` through the quorum in a
    /// cluster; answers once the change is durable and visible to [`SecurityStore::read`] on this broker.
    pub async fn change(&self, apply: impl FnOnce(&mut T), command: MetadataCommand) -> Result<(), StoreError> {
        match &self.source {
            Source::File { path, value } => {
                let mut guard = value.lock().unwrap_or_else(|p| p.into_inner());
                let mut changed = T::clone(&guard);
                apply(&mut changed);
                let io_error = |source| StoreError::Io { path: path.display().to_string(), source };
                let json = serde_json::to_vec_pretty(&changed).map_err(|e| io_error(io::Error::other(e)))?;
                write_atomically(path, &json).map_err(io_error)?;
                *guard = Arc::new(changed);
                Ok(())
            }
            Source::Controller { controller, .. } => {
                let index = controller.propose(command).await?;
                controller.wait_applied(index).await?;
                Ok(())
            }
        }
    }
}
