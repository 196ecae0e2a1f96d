//! The small JSON files of the controller's store: read (absent is `None`; unreadable names the
//! file), and the error for content that is not what it should be.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// An error for damaged content, saying what and where.
pub fn invalid_data(what: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string())
}

/// The JSON content of `path`, or `None` when there is no such file.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> std::io::Result<Option<T>> {
    match std::fs::read(path) {
        Ok(b) => parse_json(path, &b).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// `bytes` (read from `path`) as JSON; the error names the file and says it is damaged.
pub fn parse_json<T: DeserializeOwned>(path: &Path, bytes: &[u8]) -> std::io::Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        invalid_data(format!(
            "{}: {e}; the controller's store is damaged",
            path.display()
        ))
    })
}

pub fn to_json<T: Serialize>(v: &T) -> std::io::Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(invalid_data)
}
