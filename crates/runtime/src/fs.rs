//! Atomic file writes: a reader, or a process restarted after a crash, sees either the old
//! content or the new content of a file, never a mix or a truncated file.
//!
//! The new content goes to `<file>.tmp` in the same directory (so the rename cannot cross a
//! filesystem), is fsynced, renamed over `<file>`, and the directory is fsynced so the rename
//! itself survives a power cut. Apache's `MixAll.string2File` also keeps the previous content as
//! `<file>.bak` and its loaders fall back to it; the broker's config files and the client's
//! local offset file keep that promise ([`write_atomic_keeping_backup`], [`read_with_backup`]),
//! the name server's KV file never had it ([`write_atomic`]).
//!
//! Writers of one file must be serialized by the caller: the temp file name is fixed, so two
//! concurrent writers of the same file would share it.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Replaces `path` with `content` atomically, creating its directory if needed.
pub fn write_atomic(path: &Path, content: &[u8]) -> io::Result<()> {
    write(path, content, false)
}

/// Like [`write_atomic`], and first keeps the current content (if any) as `<path>.bak`.
pub fn write_atomic_keeping_backup(path: &Path, content: &[u8]) -> io::Result<()> {
    write(path, content, true)
}

/// Reads `path`, falling back to `<path>.bak` when the file is missing or empty. Returns the
/// file actually read and its content; `Ok(None)` when neither has content.
pub fn read_with_backup(path: &Path) -> io::Result<Option<(PathBuf, Vec<u8>)>> {
    for p in [path.to_path_buf(), backup_path(path)] {
        match std::fs::read(&p) {
            Ok(b) if b.iter().all(u8::is_ascii_whitespace) => continue,
            Ok(b) => return Ok(Some((p, b))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// `<path>.bak`, where the previous content is kept.
pub fn backup_path(path: &Path) -> PathBuf {
    with_suffix(path, ".bak")
}

fn write(path: &Path, content: &[u8], keep_backup: bool) -> io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = with_suffix(path, ".tmp");
    {
        let mut f = File::create(&tmp)?;
        f.write_all(content)?;
        f.sync_all()?;
    }
    if keep_backup {
        keep_backup_of(path)?;
    }
    std::fs::rename(&tmp, path)?;
    sync_dir(dir.unwrap_or(Path::new(".")));
    Ok(())
}

/// Makes `<path>.bak` the current content of `path` (if any) in one rename, so that a crash
/// leaves either the old backup or the new one, never a partly written one: a hard link to the
/// current file (already durable), or a synced copy where links are refused.
fn keep_backup_of(path: &Path) -> io::Result<()> {
    let staged = with_suffix(path, ".bak.tmp");
    match std::fs::remove_file(&staged) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    match std::fs::hard_link(path, &staged) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(_) => match std::fs::copy(path, &staged) {
            Ok(_) => File::open(&staged)?.sync_all()?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        },
    }
    std::fs::rename(&staged, backup_path(path))
}

/// Makes a rename durable. Some filesystems refuse to open or fsync a directory; the file itself
/// is already durable then, so this is best effort.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn writes_creates_dirs_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/file.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert!(!with_suffix(&path, ".tmp").exists());
        assert!(!backup_path(&path).exists());
    }

    #[test]
    fn keeps_the_previous_content_as_bak_and_reads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("topics.json");
        write_atomic_keeping_backup(&path, b"v1").unwrap();
        assert!(!backup_path(&path).exists());
        write_atomic_keeping_backup(&path, b"v2").unwrap();
        assert_eq!(std::fs::read(backup_path(&path)).unwrap(), b"v1");
        let (from, text) = read_with_backup(&path).unwrap().unwrap();
        assert_eq!((from, text), (path.clone(), b"v2".to_vec()));
        std::fs::remove_file(&path).unwrap();
        let (from, text) = read_with_backup(&path).unwrap().unwrap();
        assert_eq!((from, text), (backup_path(&path), b"v1".to_vec()));
        std::fs::remove_file(backup_path(&path)).unwrap();
        assert!(read_with_backup(&path).unwrap().is_none());
    }

    #[test]
    fn a_failed_write_leaves_the_old_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.json");
        write_atomic(&path, b"old").unwrap();
        // A directory where the temp file must go makes the write fail before the rename.
        std::fs::create_dir(with_suffix(&path, ".tmp")).unwrap();
        assert!(write_atomic(&path, b"new").is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
    }
}
