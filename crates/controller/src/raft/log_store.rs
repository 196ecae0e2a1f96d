//! The Raft log on disk: `log.jsonl` (one JSON entry per line, appended and fsynced before
//! openraft is told the entries are durable), `vote.json` and `meta.json` (what was purged,
//! what was committed), the last two replaced atomically. The log is small (a controller
//! decides a few things per broker failure), so it is also held in memory; a truncate or purge
//! rewrites the file atomically.
//!
//! After a crash a last line cut short is dropped (it was never reported durable); any other
//! line that does not parse stops the controller with the file and line named.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::ops::RangeBounds;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openraft::storage::{LogFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::{OptionalSend, RaftLogId, Vote};
use parking_lot::Mutex;
use rmq_runtime::fs::write_atomic;
use serde::{Deserialize, Serialize};

use openraft::{ErrorSubject, ErrorVerb};

use super::files::{invalid_data, read_json, to_json};
use super::types::{storage_error, Entry, LogId, StorageError, TypeConfig};

const LOG: &str = "log.jsonl";
const VOTE: &str = "vote.json";
const META: &str = "meta.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Meta {
    last_purged: Option<LogId>,
    committed: Option<LogId>,
}

struct Inner {
    dir: PathBuf,
    entries: BTreeMap<u64, Entry>,
    vote: Option<Vote<u64>>,
    meta: Meta,
}

/// The log storage; clones share it (the reader openraft asks for is a clone).
#[derive(Clone)]
pub struct LogStore {
    inner: Arc<Mutex<Inner>>,
}

impl LogStore {
    /// Opens (or creates) the log under `dir`.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let vote = read_json(&dir.join(VOTE))?;
        let meta: Meta = read_json(&dir.join(META))?.unwrap_or_default();
        let mut entries = BTreeMap::new();
        let path = dir.join(LOG);
        let mut torn = false;
        if path.exists() {
            let lines: Vec<String> = BufReader::new(File::open(&path)?)
                .lines()
                .collect::<Result<_, _>>()?;
            for (i, line) in lines.iter().enumerate() {
                match serde_json::from_str::<Entry>(line) {
                    Ok(e) => {
                        entries.insert(e.get_log_id().index, e);
                    }
                    Err(_) if i + 1 == lines.len() => {
                        tracing::warn!(file = %path.display(), line = i + 1, "dropping a Raft log entry cut short by a crash (it was never acknowledged)");
                        torn = true;
                    }
                    Err(e) => {
                        return Err(invalid_data(format!(
                            "{} line {}: {e}; the controller's Raft log is damaged",
                            path.display(),
                            i + 1
                        )))
                    }
                }
            }
        }
        if let Some(p) = meta.last_purged {
            entries.retain(|i, _| *i > p.index);
        }
        let store = LogStore {
            inner: Arc::new(Mutex::new(Inner {
                dir: dir.to_owned(),
                entries,
                vote,
                meta,
            })),
        };
        if torn {
            store.inner.lock().rewrite()?;
        }
        Ok(store)
    }
}

impl Inner {
    /// Writes the whole log file anew (after a truncate or purge).
    fn rewrite(&self) -> std::io::Result<()> {
        let mut out = Vec::new();
        for e in self.entries.values() {
            out.extend_from_slice(&to_json(e)?);
            out.push(b'\n');
        }
        write_atomic(&self.dir.join(LOG), &out)
    }

    fn save_meta(&self) -> std::io::Result<()> {
        write_atomic(&self.dir.join(META), &to_json(&self.meta)?)
    }

    fn append(&mut self, batch: Vec<Entry>) -> std::io::Result<()> {
        let mut out = Vec::new();
        for e in &batch {
            out.extend_from_slice(&to_json(e)?);
            out.push(b'\n');
        }
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(LOG))?;
        f.write_all(&out)?;
        f.sync_data()?;
        for e in batch {
            self.entries.insert(e.get_log_id().index, e);
        }
        Ok(())
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        Ok(self
            .inner
            .lock()
            .entries
            .range(range)
            .map(|(_, e)| e.clone())
            .collect())
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let inner = self.inner.lock();
        let last_purged_log_id = inner.meta.last_purged;
        let last_log_id = inner
            .entries
            .values()
            .next_back()
            .map(|e| *e.get_log_id())
            .or(last_purged_log_id);
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<u64>) -> Result<(), StorageError> {
        let mut inner = self.inner.lock();
        let path = inner.dir.join(VOTE);
        to_json(vote)
            .and_then(|b| write_atomic(&path, &b))
            .map_err(|e| storage_error(ErrorSubject::Vote, ErrorVerb::Write, e))?;
        inner.vote = Some(*vote);
        Ok(())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<u64>>, StorageError> {
        Ok(self.inner.lock().vote)
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        let mut inner = self.inner.lock();
        inner.meta.committed = committed;
        inner
            .save_meta()
            .map_err(|e| storage_error(ErrorSubject::Store, ErrorVerb::Write, e))
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        Ok(self.inner.lock().meta.committed)
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let batch: Vec<Entry> = entries.into_iter().collect();
        let result = self.inner.lock().append(batch);
        match result {
            Ok(()) => {
                callback.log_io_completed(Ok(()));
                Ok(())
            }
            Err(e) => {
                let err = storage_error(ErrorSubject::Logs, ErrorVerb::Write, invalid_data(&e));
                callback.log_io_completed(Err(e));
                Err(err)
            }
        }
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let mut inner = self.inner.lock();
        inner.entries.retain(|i, _| *i < log_id.index);
        inner
            .rewrite()
            .map_err(|e| storage_error(ErrorSubject::Logs, ErrorVerb::Write, e))
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let mut inner = self.inner.lock();
        // The purge point first: a crash before the rewrite leaves entries the next start drops.
        inner.meta.last_purged = Some(log_id);
        inner
            .save_meta()
            .map_err(|e| storage_error(ErrorSubject::Logs, ErrorVerb::Write, e))?;
        inner.entries.retain(|i, _| *i > log_id.index);
        inner
            .rewrite()
            .map_err(|e| storage_error(ErrorSubject::Logs, ErrorVerb::Write, e))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use openraft::{CommittedLeaderId, EntryPayload};

    use super::*;
    use crate::command::Command;

    fn entry(index: u64) -> Entry {
        Entry {
            log_id: openraft::LogId::new(CommittedLeaderId::new(1, 1), index),
            payload: EntryPayload::Normal(Command::Clean {
                broker_name: format!("b{index}"),
                ids: None,
            }),
        }
    }

    #[tokio::test]
    async fn survives_a_restart_and_a_torn_last_line_but_not_a_damaged_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = LogStore::open(dir.path()).unwrap();
        s.inner.lock().append((1..=3).map(entry).collect()).unwrap();
        s.save_vote(&Vote::new(2, 1)).await.unwrap();
        s.purge(openraft::LogId::new(CommittedLeaderId::new(1, 1), 1))
            .await
            .unwrap();
        drop(s);
        // A crash in the middle of an append leaves half a line.
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join(LOG))
            .unwrap();
        f.write_all(br#"{"log_id":{"leader_id":{"term":1,"#)
            .unwrap();
        drop(f);

        let mut s = LogStore::open(dir.path()).unwrap();
        assert_eq!(s.read_vote().await.unwrap(), Some(Vote::new(2, 1)));
        let state = s.get_log_state().await.unwrap();
        assert_eq!(state.last_purged_log_id.unwrap().index, 1);
        assert_eq!(state.last_log_id.unwrap().index, 3);
        let got = s.try_get_log_entries(0..10).await.unwrap();
        assert_eq!(got, vec![entry(2), entry(3)]);
        drop(s);

        let text = std::fs::read_to_string(dir.path().join(LOG)).unwrap();
        std::fs::write(dir.path().join(LOG), format!("garbage\n{text}")).unwrap();
        let e = LogStore::open(dir.path()).err().unwrap();
        assert!(e.to_string().contains("line 1"), "{e}");
    }
}
