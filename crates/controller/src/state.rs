//! The controller's replicated state: every broker group it manages, changed only by applying
//! commands in log order. Applying is deterministic and never panics: every controller that
//! applies the same log holds the same state.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::command::{Applied, Command, Rejected};
use crate::replica_set::{BrokerId, Replica, ReplicaSet};
use crate::sync_state::check_alter;
use crate::FIRST_BROKER_ID;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ControllerState {
    groups: BTreeMap<String, ReplicaSet>,
}

impl ControllerState {
    pub fn group(&self, broker_name: &str) -> Option<&ReplicaSet> {
        self.groups.get(broker_name)
    }

    pub fn groups(&self) -> impl Iterator<Item = &ReplicaSet> {
        self.groups.values()
    }

    pub fn apply(&mut self, cmd: &Command) -> Result<Applied, Rejected> {
        match cmd {
            Command::Register {
                cluster,
                broker_name,
                addr,
                known_id,
            } => self.register(cluster, broker_name, addr, *known_id),
            Command::ElectMaster {
                broker_name,
                new_master,
                seen_master_epoch,
                unclean,
            } => {
                let g = self.group_mut(broker_name)?;
                if *seen_master_epoch != g.master_epoch {
                    return Err(Rejected::StaleMasterEpoch {
                        broker_name: broker_name.clone(),
                        seen: *seen_master_epoch,
                        current: g.master_epoch,
                    });
                }
                if let Some(id) = *new_master {
                    if !g.replicas.contains_key(&id) {
                        return Err(Rejected::UnknownReplica {
                            broker_name: broker_name.clone(),
                            id,
                        });
                    }
                    if !g.in_sync(id) && !unclean {
                        return Err(Rejected::NotInSyncStateSet {
                            broker_name: broker_name.clone(),
                            id,
                            sync_state_set: g.sync_state_set.iter().copied().collect(),
                        });
                    }
                }
                g.master_epoch += 1;
                g.master = *new_master;
                if let Some(id) = *new_master {
                    // A new master starts alone in its set; slaves join as they catch up.
                    g.sync_state_set = [id].into();
                    g.sync_state_set_epoch += 1;
                }
                Ok(Applied::MasterElected {
                    master: g.master,
                    master_epoch: g.master_epoch,
                    sync_state_set_epoch: g.sync_state_set_epoch,
                })
            }
            Command::AlterSyncStateSet {
                broker_name,
                master,
                master_epoch,
                sync_state_set_epoch,
                new_set,
            } => {
                let g = self.group_mut(broker_name)?;
                check_alter(g, *master, *master_epoch, *sync_state_set_epoch, new_set)?;
                g.sync_state_set = new_set.clone();
                g.sync_state_set_epoch += 1;
                Ok(Applied::SyncStateSetAltered {
                    sync_state_set_epoch: g.sync_state_set_epoch,
                })
            }
            Command::Clean { broker_name, ids } => {
                let Some(ids) = ids else {
                    self.groups
                        .remove(broker_name)
                        .ok_or_else(|| Rejected::UnknownGroup(broker_name.clone()))?;
                    return Ok(Applied::Cleaned);
                };
                let g = self.group_mut(broker_name)?;
                for id in ids {
                    g.replicas.remove(id);
                    g.sync_state_set.remove(id);
                }
                if g.master.is_some_and(|m| ids.contains(&m)) {
                    g.master = None;
                    g.master_epoch += 1;
                }
                Ok(Applied::Cleaned)
            }
        }
    }

    fn group_mut(&mut self, broker_name: &str) -> Result<&mut ReplicaSet, Rejected> {
        self.groups
            .get_mut(broker_name)
            .ok_or_else(|| Rejected::UnknownGroup(broker_name.to_owned()))
    }

    fn register(
        &mut self,
        cluster: &str,
        broker_name: &str,
        addr: &str,
        known_id: Option<BrokerId>,
    ) -> Result<Applied, Rejected> {
        let g = self
            .groups
            .entry(broker_name.to_owned())
            .or_insert_with(|| ReplicaSet {
                cluster: cluster.to_owned(),
                broker_name: broker_name.to_owned(),
                next_id: FIRST_BROKER_ID,
                ..ReplicaSet::default()
            });
        if g.cluster != cluster {
            return Err(Rejected::WrongCluster {
                broker_name: broker_name.to_owned(),
                registered: g.cluster.clone(),
                asked: cluster.to_owned(),
            });
        }
        let id = match known_id {
            // A broker keeps its id across restarts, wherever it comes back from; another
            // broker at its old address loses that address.
            Some(id) => {
                if let Some(other) = g.id_of(addr).filter(|o| *o != id) {
                    return Err(Rejected::AddrTaken {
                        broker_name: broker_name.to_owned(),
                        addr: addr.to_owned(),
                        registered: other,
                        asked: id,
                    });
                }
                id
            }
            None => match g.id_of(addr) {
                Some(id) => id,
                None => g.next_id,
            },
        };
        g.replicas.insert(
            id,
            Replica {
                addr: addr.to_owned(),
            },
        );
        g.next_id = g.next_id.max(id + 1);
        Ok(Applied::Registered { id })
    }
}
