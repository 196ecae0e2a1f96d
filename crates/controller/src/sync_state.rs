//! The rules for a master's request to change its SyncStateSet. The master proposes (it sees
//! which slaves keep up: one that has not caught up for `haMaxTimeSlaveNotCatchup` is shrunk
//! out, one that reaches the master's end is expanded in); the controller accepts only a
//! request from the current master, under the current epochs, naming registered replicas and
//! keeping the master in the set.

use std::collections::BTreeSet;

use crate::command::Rejected;
use crate::replica_set::{BrokerId, ReplicaSet};

pub fn check_alter(
    g: &ReplicaSet,
    master: BrokerId,
    master_epoch: i32,
    sync_state_set_epoch: i32,
    new_set: &BTreeSet<BrokerId>,
) -> Result<(), Rejected> {
    let name = || g.broker_name.clone();
    if g.master != Some(master) {
        return Err(Rejected::NotMaster {
            broker_name: name(),
            asked: master,
            master: g.master,
        });
    }
    if master_epoch != g.master_epoch {
        return Err(Rejected::StaleMasterEpoch {
            broker_name: name(),
            seen: master_epoch,
            current: g.master_epoch,
        });
    }
    if sync_state_set_epoch != g.sync_state_set_epoch {
        return Err(Rejected::StaleSyncStateSetEpoch {
            broker_name: name(),
            seen: sync_state_set_epoch,
            current: g.sync_state_set_epoch,
        });
    }
    if !new_set.contains(&master) {
        return Err(Rejected::BadSyncStateSet {
            broker_name: name(),
            why: format!("it must contain the master {master}"),
        });
    }
    if let Some(unknown) = new_set.iter().find(|id| !g.replicas.contains_key(id)) {
        return Err(Rejected::BadSyncStateSet {
            broker_name: name(),
            why: format!("broker id {unknown} is not registered"),
        });
    }
    Ok(())
}
