//! The epoch file (`<storePathRootDir>/epochFileCheckpoint`): which master epoch wrote which
//! part of the CommitLog, as Apache's controller mode keeps it (docs/notes/autoswitch-ha.md §3).
//! A broker made master appends `(its epoch, its CommitLog end)`; replicas compare these lists
//! to find where their logs part.
//!
//! The text is Apache's, so files move between rmq and Apache brokers: the number of entries,
//! a CRC-32 (masked non-negative) of the entry lines, then one `epoch-startOffset` line per
//! entry, in ascending epoch order. A CRC of 0 is not checked. Apache writes in place and keeps
//! the previous text in `<file>.bak`, which a reader falls back to; rmq writes atomically (the
//! file is whole or absent) and keeps the same `.bak`.

use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use rmq_common::java::crc32_masked;
use rmq_runtime::fs::write_atomic;

/// One epoch: a master epoch and the CommitLog offset its first message was written at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochEntry {
    pub epoch: i32,
    pub start_offset: i64,
}

/// Why the epoch file cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum EpochFileError {
    #[error("epoch file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "epoch file {path} is damaged ({why}) and so is its .bak; move both away to start this \
         replica's epoch history afresh (it then copies its master's log from the start)"
    )]
    Damaged { path: String, why: String },
}

/// The epoch file of one broker; the list is kept in memory and rewritten on each change.
pub struct EpochFile {
    path: PathBuf,
    entries: Mutex<Vec<EpochEntry>>,
}

impl EpochFile {
    /// Reads `path` (or its `.bak` when the file is damaged or empty); no file is no epochs.
    pub fn open(path: &Path) -> Result<EpochFile, EpochFileError> {
        let entries = match read(path) {
            Ok(Some(e)) if !e.is_empty() => e,
            main => match (main, read(&bak(path))) {
                (_, Ok(Some(e))) if !e.is_empty() => e,
                (Ok(e), _) => e.unwrap_or_default(),
                (Err(why), _) => return Err(damaged(path, why)),
            },
        };
        Ok(EpochFile {
            path: path.to_owned(),
            entries: Mutex::new(entries),
        })
    }

    pub fn entries(&self) -> Vec<EpochEntry> {
        self.entries.lock().clone()
    }

    /// The last epoch, or -1 with none (what Apache's handshake sends).
    pub fn last_epoch(&self) -> i32 {
        self.entries.lock().last().map_or(-1, |e| e.epoch)
    }

    /// Appends an epoch when both its number and its start are past the last entry's (Apache's
    /// rule: two epochs never start at the same offset); `false` when refused.
    pub fn append(&self, entry: EpochEntry) -> Result<bool, EpochFileError> {
        let mut entries = self.entries.lock();
        if let Some(last) = entries.last() {
            if entry.epoch <= last.epoch || entry.start_offset <= last.start_offset {
                return Ok(false);
            }
        }
        let mut next = entries.clone();
        next.push(entry);
        self.write(&next)?;
        *entries = next;
        Ok(true)
    }

    /// Drops the epochs numbered `epoch` or above.
    pub fn truncate_from_epoch(&self, epoch: i32) -> Result<(), EpochFileError> {
        self.retain(|e| e.epoch < epoch)
    }

    /// Drops the epochs that start at `offset` or later.
    pub fn truncate_from_offset(&self, offset: i64) -> Result<(), EpochFileError> {
        self.retain(|e| e.start_offset < offset)
    }

    fn retain(&self, keep: impl Fn(&EpochEntry) -> bool) -> Result<(), EpochFileError> {
        let mut entries = self.entries.lock();
        let next: Vec<EpochEntry> = entries.iter().copied().filter(|e| keep(e)).collect();
        if next.len() != entries.len() {
            self.write(&next)?;
            *entries = next;
        }
        Ok(())
    }

    /// Replaces every entry (a slave adopting its master's epochs for the log it copies).
    pub fn replace_all(&self, next: &[EpochEntry]) -> Result<(), EpochFileError> {
        let mut entries = self.entries.lock();
        if entries.as_slice() != next {
            self.write(next)?;
            *entries = next.to_vec();
        }
        Ok(())
    }

    /// Each epoch with the offset it ends at: the next one's start, and `max_offset` (the
    /// CommitLog end) for the last.
    pub fn with_ends(&self, max_offset: i64) -> Vec<(EpochEntry, i64)> {
        let entries = self.entries.lock();
        entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let end = entries.get(i + 1).map_or(max_offset, |n| n.start_offset);
                (*e, end)
            })
            .collect()
    }

    fn write(&self, entries: &[EpochEntry]) -> Result<(), EpochFileError> {
        let io = |source| EpochFileError::Io {
            path: self.path.display().to_string(),
            source,
        };
        if let Ok(old) = std::fs::read(&self.path) {
            write_atomic(&bak(&self.path), &old).map_err(io)?;
        }
        write_atomic(&self.path, render(entries).as_bytes()).map_err(io)
    }
}

fn bak(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".bak");
    PathBuf::from(p)
}

fn damaged(path: &Path, why: String) -> EpochFileError {
    EpochFileError::Damaged {
        path: path.display().to_string(),
        why,
    }
}

/// The file's text for `entries`.
fn render(entries: &[EpochEntry]) -> String {
    let lines: String = entries
        .iter()
        .map(|e| format!("{}-{}\n", e.epoch, e.start_offset))
        .collect();
    format!(
        "{}\n{}\n{lines}",
        entries.len(),
        crc32_masked(lines.as_bytes())
    )
}

/// The entries of the file at `path`; `None` when there is no file, an error naming what is
/// wrong when it cannot be trusted.
fn read(path: &Path) -> Result<Option<Vec<EpochEntry>>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let mut lines = text.lines();
    let count: usize = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .ok_or("no entry count on the first line")?;
    let crc: u32 = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .ok_or("no checksum on the second line")?;
    let mut entries = Vec::new();
    let mut body = String::new();
    for line in lines {
        let Some((epoch, start)) = line.trim().split_once('-') else {
            continue;
        };
        let (Ok(epoch), Ok(start_offset)) = (epoch.parse(), start.parse()) else {
            continue;
        };
        body.push_str(line);
        body.push('\n');
        entries.push(EpochEntry {
            epoch,
            start_offset,
        });
    }
    if entries.len() != count {
        return Err(format!(
            "{count} entries announced, {} found",
            entries.len()
        ));
    }
    if crc != 0 && crc32_masked(body.as_bytes()) != crc {
        return Err("checksum mismatch".into());
    }
    Ok(Some(entries))
}

/// Where a replica's log and its master's stop being the same log (Apache's
/// `EpochFileCache.findConsistentPoint`): the end of the newest epoch both have, started at
/// the same offset, taken at the smaller of the two ends. `local_max` and `master_max` are the
/// CommitLog ends. `None` when they share no epoch: the logs have nothing provably in common.
pub fn consistent_point(
    local: &[EpochEntry],
    local_max: i64,
    master: &[EpochEntry],
    master_max: i64,
) -> Option<i64> {
    let end_of = |list: &[EpochEntry], i: usize, max: i64| {
        list.get(i + 1).map_or(max, |n| n.start_offset).min(max)
    };
    for (i, e) in local.iter().enumerate().rev() {
        let Some(j) = master.iter().position(|m| m.epoch == e.epoch) else {
            continue;
        };
        if master[j].start_offset != e.start_offset {
            continue;
        }
        return Some(end_of(local, i, local_max).min(end_of(master, j, master_max)));
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn consistent_point_is_the_end_of_the_newest_shared_epoch() {
        use super::consistent_point as cp;
        // The old master wrote 800..1000 alone under epoch 1; the new one started epoch 2 at 800.
        assert_eq!(cp(&[e(1, 0)], 1000, &[e(1, 0), e(2, 800)], 1500), Some(800));
        // A slave behind its master in the same epoch keeps everything.
        assert_eq!(
            cp(&[e(1, 0), e(2, 800)], 900, &[e(1, 0), e(2, 800)], 1500),
            Some(900)
        );
        // The old master of epoch 2 (written to 1100) rejoins a master of epoch 3 that started
        // at 1000 having missed nothing of epoch 1: epoch 2 is the old master's alone.
        assert_eq!(
            cp(&[e(1, 0), e(2, 800)], 1100, &[e(1, 0), e(3, 1000)], 1200),
            Some(800)
        );
        // Same epoch number at a different start is not the same epoch.
        assert_eq!(
            cp(&[e(1, 0), e(2, 700)], 900, &[e(1, 0), e(2, 800)], 1000),
            Some(700)
        );
        assert_eq!(cp(&[e(5, 0)], 10, &[e(1, 0)], 10), None);
        assert_eq!(cp(&[], 10, &[e(1, 0)], 10), None);
    }

    use super::*;

    fn e(epoch: i32, start_offset: i64) -> EpochEntry {
        EpochEntry {
            epoch,
            start_offset,
        }
    }

    #[test]
    fn apache_text_round_trips() {
        // Apache's own example: entries 7-7000 and 8-8000.
        assert_eq!(
            render(&[e(7, 7000), e(8, 8000)]),
            "2\n773307083\n7-7000\n8-8000\n"
        );
        assert_eq!(render(&[e(1, 0)]), "1\n1725254278\n1-0\n");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("epochFileCheckpoint");
        std::fs::write(&path, "2\n773307083\n7-7000\n8-8000\n").unwrap();
        let f = EpochFile::open(&path).unwrap();
        assert_eq!(f.entries(), [e(7, 7000), e(8, 8000)]);
        assert_eq!(f.last_epoch(), 8);
    }

    #[test]
    fn appends_follow_apaches_rule_and_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("epochFileCheckpoint");
        let f = EpochFile::open(&path).unwrap();
        assert_eq!(f.last_epoch(), -1);
        assert!(f.append(e(1, 0)).unwrap());
        assert!(f.append(e(2, 500)).unwrap());
        // Not past the last entry in both epoch and start: refused.
        assert!(!f.append(e(3, 500)).unwrap());
        assert!(!f.append(e(2, 900)).unwrap());
        assert!(f.append(e(4, 900)).unwrap());
        assert_eq!(
            f.with_ends(1200),
            [(e(1, 0), 500), (e(2, 500), 900), (e(4, 900), 1200)]
        );
        f.truncate_from_offset(900).unwrap();
        f.truncate_from_epoch(2).unwrap();
        let again = EpochFile::open(&path).unwrap();
        assert_eq!(again.entries(), [e(1, 0)]);
    }

    #[test]
    fn a_damaged_file_falls_back_to_its_bak_or_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("epochFileCheckpoint");
        let f = EpochFile::open(&path).unwrap();
        f.append(e(1, 0)).unwrap();
        f.append(e(2, 100)).unwrap();
        std::fs::write(&path, "2\n12345\n1-0\n2-100\n").unwrap();
        assert_eq!(EpochFile::open(&path).unwrap().entries(), [e(1, 0)]);
        std::fs::write(bak(&path), "garbage").unwrap();
        let err = EpochFile::open(&path).err().unwrap().to_string();
        assert!(
            err.contains("damaged") && err.contains("epochFileCheckpoint"),
            "{err}"
        );
        // A checksum of 0 is not checked.
        std::fs::write(&path, "1\n0\n3-300\n").unwrap();
        assert_eq!(EpochFile::open(&path).unwrap().entries(), [e(3, 300)]);
    }
}
