//! Durable JSON config files under `<storePathRootDir>/config/`, written the way Apache's
//! `ConfigManager` writes them: the new content goes to `<file>.tmp`, the previous file is kept
//! as `<file>.bak`, then the temp file is renamed over the original. A crash at any point leaves
//! either the old or the new file complete, and the loader falls back to `.bak`.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `content` to `path` atomically, keeping the previous version as `path.bak`.
pub fn write_atomically(path: &Path, content: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = with_suffix(path, ".tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(content)?;
        f.sync_data()?;
    }
    if path.exists() {
        let _ = std::fs::copy(path, with_suffix(path, ".bak"));
    }
    std::fs::rename(&tmp, path)
}

/// Reads `path`, falling back to `path.bak`; `Ok(None)` when neither exists.
pub fn read_with_backup(path: &Path) -> std::io::Result<Option<(PathBuf, String)>> {
    for p in [path.to_path_buf(), with_suffix(path, ".bak")] {
        match std::fs::read_to_string(&p) {
            Ok(s) if !s.trim().is_empty() => return Ok(Some((p, s))),
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

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
        Some((from, text)) => rmq_remoting::json::from_slice(text.as_bytes())
            .map_err(|e| err(&from, format!("{e}; fix or remove the file to start"))),
    }
}

/// Writes a JSON config file atomically (pretty-printed like Apache's).
pub fn store_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), crate::BrokerError> {
    let text = serde_json::to_vec_pretty(value).map_err(|e| crate::BrokerError::ConfigFile {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    write_atomically(path, &text).map_err(|e| crate::BrokerError::ConfigFile {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}
