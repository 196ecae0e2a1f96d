//! The state machine openraft applies committed entries to: the [`ControllerState`], the last
//! applied log id and membership. It is persisted as snapshots (`snapshot.json`, replaced
//! atomically); at start it is the last snapshot, and openraft applies the committed entries
//! after it again.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    BasicNode, EntryPayload, OptionalSend, RaftLogId, RaftSnapshotBuilder, SnapshotMeta,
    StoredMembership,
};
use parking_lot::{Mutex, RwLock};
use rmq_common::time::now_millis;
use rmq_runtime::fs::write_atomic;
use serde::{Deserialize, Serialize};

use openraft::{ErrorSubject, ErrorVerb};

use super::files::{parse_json, read_json};
use super::types::{storage_error, Entry, LogId, Outcome, StorageError, TypeConfig};
use crate::state::ControllerState;

const SNAPSHOT: &str = "snapshot.json";

/// What the state machine holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Machine {
    pub state: ControllerState,
    pub last_applied: Option<LogId>,
    pub membership: StoredMembership<u64, BasicNode>,
}

/// A snapshot as kept on disk and sent to followers.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    meta: SnapshotMeta<u64, BasicNode>,
    /// The [`Machine`] as JSON.
    data: Vec<u8>,
}

/// The state machine; clones share it. [`StateMachineStore::machine`] is what the controller
/// reads its decisions' inputs from.
#[derive(Clone)]
pub struct StateMachineStore {
    dir: PathBuf,
    machine: Arc<RwLock<Machine>>,
    snapshot: Arc<Mutex<Option<Stored>>>,
}

impl StateMachineStore {
    /// Opens the state machine under `dir`: its last snapshot, or empty.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(SNAPSHOT);
        let snapshot: Option<Stored> = read_json(&path)?;
        let machine = match &snapshot {
            Some(s) => parse_json(&path, &s.data)?,
            None => Machine::default(),
        };
        Ok(StateMachineStore {
            dir: dir.to_owned(),
            machine: Arc::new(RwLock::new(machine)),
            snapshot: Arc::new(Mutex::new(snapshot)),
        })
    }

    pub fn machine(&self) -> Arc<RwLock<Machine>> {
        self.machine.clone()
    }

    /// Writes `stored` as the current snapshot.
    fn keep(&self, stored: Stored) -> Result<(), Box<StorageError>> {
        let sig = Some(stored.meta.signature());
        let written = serde_json::to_vec(&stored)
            .map_err(std::io::Error::other)
            .and_then(|bytes| write_atomic(&self.dir.join(SNAPSHOT), &bytes));
        if let Err(e) = written {
            return Err(Box::new(storage_error(
                ErrorSubject::Snapshot(sig),
                ErrorVerb::Write,
                e,
            )));
        }
        *self.snapshot.lock() = Some(stored);
        Ok(())
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachineStore {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let (data, last_applied, membership) = {
            let m = self.machine.read();
            let data = serde_json::to_vec(&*m)
                .map_err(|e| storage_error(ErrorSubject::StateMachine, ErrorVerb::Read, e))?;
            (data, m.last_applied, m.membership.clone())
        };
        let snapshot_id = match last_applied {
            Some(l) => format!("{}-{}-{}", l.leader_id, l.index, now_millis()),
            None => format!("none-{}", now_millis()),
        };
        let meta = SnapshotMeta {
            last_log_id: last_applied,
            last_membership: membership,
            snapshot_id,
        };
        self.keep(Stored {
            meta: meta.clone(),
            data: data.clone(),
        })
        .map_err(|e| *e)?;
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachineStore {
    type SnapshotBuilder = StateMachineStore;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId>, StoredMembership<u64, BasicNode>), StorageError> {
        let m = self.machine.read();
        Ok((m.last_applied, m.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Outcome>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut m = self.machine.write();
        let mut out = Vec::new();
        for e in entries {
            let log_id = *e.get_log_id();
            m.last_applied = Some(log_id);
            out.push(match e.payload {
                EntryPayload::Blank => Outcome::Nothing,
                EntryPayload::Normal(cmd) => match m.state.apply(&cmd) {
                    Ok(a) => Outcome::Done(a),
                    Err(r) => Outcome::Refused(r),
                },
                EntryPayload::Membership(mem) => {
                    m.membership = StoredMembership::new(Some(log_id), mem);
                    Outcome::Nothing
                }
            });
        }
        Ok(out)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<u64, BasicNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let data = snapshot.into_inner();
        let mut machine: Machine = serde_json::from_slice(&data).map_err(|e| {
            storage_error(
                ErrorSubject::Snapshot(Some(meta.signature())),
                ErrorVerb::Read,
                e,
            )
        })?;
        machine.last_applied = meta.last_log_id;
        machine.membership = meta.last_membership.clone();
        self.keep(Stored {
            meta: meta.clone(),
            data,
        })
        .map_err(|e| *e)?;
        *self.machine.write() = machine;
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        Ok(self.snapshot.lock().as_ref().map(|s| Snapshot {
            meta: s.meta.clone(),
            snapshot: Box::new(Cursor::new(s.data.clone())),
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use openraft::testing::{StoreBuilder, Suite};

    use super::*;
    use crate::raft::LogStore;

    struct Builder;

    impl StoreBuilder<TypeConfig, LogStore, StateMachineStore, tempfile::TempDir> for Builder {
        async fn build(
            &self,
        ) -> Result<(tempfile::TempDir, LogStore, StateMachineStore), StorageError> {
            let dir = tempfile::tempdir().unwrap();
            let log = LogStore::open(&dir.path().join("log")).unwrap();
            let sm = StateMachineStore::open(&dir.path().join("sm")).unwrap();
            Ok((dir, log, sm))
        }
    }

    /// openraft's own conformance suite for log and state-machine storage, on real files.
    #[test]
    fn openraft_storage_suite() {
        Suite::test_all(Builder).unwrap();
    }
}
