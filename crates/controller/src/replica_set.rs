//! One broker group (one broker name): its replicas, master, SyncStateSet and epochs.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// A replica's id within its broker group, handed out by the controller from 1 on.
pub type BrokerId = u64;

/// A registered replica.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replica {
    /// Its remoting address (`ip:port`), updated when it registers again from elsewhere.
    pub addr: String,
    /// The `addr;millis` of the apply that took its id: the same apply again succeeds again.
    pub check_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReplicaSet {
    pub cluster: String,
    pub broker_name: String,
    pub replicas: BTreeMap<BrokerId, Replica>,
    pub next_id: BrokerId,
    /// The master, when there is one.
    pub master: Option<BrokerId>,
    /// Raised with every new master (and when the group loses its master), never lowered.
    pub master_epoch: i32,
    /// The replicas that hold everything the master acknowledged; always includes the master.
    pub sync_state_set: BTreeSet<BrokerId>,
    /// Raised with every change of the SyncStateSet.
    pub sync_state_set_epoch: i32,
}

impl ReplicaSet {
    /// Whether `id` holds everything acknowledged: a member of the SyncStateSet, or any replica
    /// before the group's first master (there is nothing to miss yet).
    pub fn in_sync(&self, id: BrokerId) -> bool {
        self.sync_state_set.is_empty() || self.sync_state_set.contains(&id)
    }

    pub fn master_addr(&self) -> Option<&str> {
        self.master
            .and_then(|m| self.replicas.get(&m))
            .map(|r| r.addr.as_str())
    }
}
