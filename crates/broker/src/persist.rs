//! Durable JSON config files under `<storePathRootDir>/config/`, written the way Apache's
//! `ConfigManager` writes them: through `rmq_runtime::fs` (temp file, fsync, rename, fsync of the
//! directory), keeping the previous version as `<file>.bak`. A crash at any point leaves either
//! the old or the new file complete, and the loader falls back to `.bak` when the file is
//! missing or empty, as operators who restore from `.bak` rely on.

use std::path::Path;

use rmq_runtime::fs::{read_with_backup, write_atomic_keeping_backup};

/// Loads a JSON config file (standard JSON or fastjson's shapes), falling back to `.bak`;
/// a missing file yields `T::default()`.
pub fn load_json<T: serde::de::DeserializeOwned + Default>(
    path: &Path,
) -> Result<T, crate::BrokerError> {
    let err = |p: &Path, reason: String| crate::BrokerError::ConfigFile {
        path: p.to_owned(),
        reason,
    };
    match read_with_backup(path).map_err(|e| err(path, e.to_string()))? {
        None => Ok(T::default()),
        Some((from, text)) => rmq_remoting::json::from_slice(&text)
            .map_err(|e| err(&from, format!("{e}; fix or remove the file to start"))),
    }
}

/// Writes a JSON config file atomically (pretty-printed like Apache's).
pub fn store_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), crate::BrokerError> {
    let text = encode_json(path, value)?;
    write_json(path, &text)
}

/// The text [`store_json`] writes: lets a caller encode under its lock and write without it
/// (a slow disk must not hold the lock every request takes).
pub fn encode_json<T: serde::Serialize>(
    path: &Path,
    value: &T,
) -> Result<Vec<u8>, crate::BrokerError> {
    serde_json::to_vec_pretty(value).map_err(|e| crate::BrokerError::ConfigFile {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// Writes text from [`encode_json`] atomically.
pub fn write_json(path: &Path, text: &[u8]) -> Result<(), crate::BrokerError> {
    write_atomic_keeping_backup(path, text).map_err(|e| crate::BrokerError::ConfigFile {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}
