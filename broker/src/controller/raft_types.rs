//! The openraft type configuration of the controller quorum.

use std::io::Cursor;

use crate::controller::image::{MetadataCommand, MetadataError};

openraft::declare_raft_types!(
    /// The controller quorum's Raft types: metadata commands in, their outcomes out, nodes addressed by their
    /// controller listener.
    pub ControllerRaft:
        D = MetadataCommand,
        R = Result<(), MetadataError>,
        NodeId = u64,
        Node = openraft::BasicNode,
        Entry = openraft::Entry<ControllerRaft>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

/// A controller node's Raft instance.
pub type Raft = openraft::Raft<ControllerRaft>;
/// A log entry of the metadata log.
pub type Entry = openraft::Entry<ControllerRaft>;
/// A storage failure as openraft wants it.
pub type StorageError = openraft::StorageError<u64>;
/// A log position.
pub type LogId = openraft::LogId<u64>;

/// Wraps an I/O failure of the controller's files for openraft.
pub fn storage_error(
    subject: openraft::ErrorSubject<u64>,
    verb: openraft::ErrorVerb,
    e: std::io::Error,
) -> StorageError {
    openraft::StorageIOError::new(subject, verb, &e).into()
}
