//! openraft's type configuration for the controller: log entries carry [`Command`]s and
//! applying one answers an [`Outcome`]; nodes are numbered and reached at a `BasicNode`
//! address.

use std::io::Cursor;

use serde::{Deserialize, Serialize};

use crate::command::{Applied, Command, Rejected};

/// What applying one log entry did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Done(Applied),
    Refused(Rejected),
    /// An entry of Raft's own (a blank or a membership change).
    Nothing,
}

openraft::declare_raft_types!(
    /// The controller's Raft types.
    pub TypeConfig:
        D = Command,
        R = Outcome,
);

/// A log entry of the controller's Raft group.
pub type Entry = openraft::Entry<TypeConfig>;
/// A log id (term, leader and index).
pub type LogId = openraft::LogId<u64>;
pub type StorageError = openraft::StorageError<u64>;

/// A storage error about `subject`, from an I/O error or any other (a JSON one).
pub fn storage_error(
    subject: openraft::ErrorSubject<u64>,
    verb: openraft::ErrorVerb,
    e: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> StorageError {
    let io = match e.into().downcast::<std::io::Error>() {
        Ok(io) => *io,
        Err(other) => std::io::Error::other(other),
    };
    StorageError::from_io_error(subject, verb, io)
}
