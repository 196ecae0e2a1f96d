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
            Command::ApplyBrokerId {
                cluster,
                broker_name,
                id,
                addr,
                check_code,
            } => self.apply_broker_id(cluster, broker_name, *id, addr, check_code),
            Command::UpdateAddress {
                broker_name,
                id,
                addr,
            } => {
                let g = self.group_mut(broker_name)?;
                let r = g
                    .replicas
                    .get_mut(id)
                    .ok_or_else(|| Rejected::UnknownReplica {
                        broker_name: broker_name.clone(),
                        id: *id,
                    })?;
                r.addr = addr.clone();
                Ok(Applied::Registered { id: *id })
            }
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

    /// Apache's rules: a new group takes only the first id; a known one any id not taken,
    /// or a taken one again by the same apply (`check_code`).
    fn apply_broker_id(
        &mut self,
        cluster: &str,
        broker_name: &str,
        id: BrokerId,
        addr: &str,
        check_code: &str,
    ) -> Result<Applied, Rejected> {
        let taken = || Rejected::BrokerIdTaken {
            broker_name: broker_name.to_owned(),
            id,
        };
        if !self.groups.contains_key(broker_name) && id != FIRST_BROKER_ID {
            return Err(taken());
        }
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
        if id < FIRST_BROKER_ID {
            return Err(taken());
        }
        match g.replicas.get(&id) {
            Some(r) if r.check_code != check_code => return Err(taken()),
            _ => {}
        }
        g.replicas.insert(
            id,
            Replica {
                addr: addr.to_owned(),
                check_code: check_code.to_owned(),
            },
        );
        g.next_id = g.next_id.max(id + 1);
        Ok(Applied::Registered { id })
    }

    /// The id a new replica of `broker_name` should apply for.
    pub fn next_broker_id(&self, broker_name: &str) -> BrokerId {
        self.groups
            .get(broker_name)
            .map_or(FIRST_BROKER_ID, |g| g.next_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply_id(
        s: &mut ControllerState,
        id: BrokerId,
        addr: &str,
        at: u64,
    ) -> Result<Applied, Rejected> {
        s.apply(&Command::ApplyBrokerId {
            cluster: "C".into(),
            broker_name: "b".into(),
            id,
            addr: addr.into(),
            check_code: format!("{addr};{at}"),
        })
    }

    #[test]
    fn broker_ids_are_applied_for_the_way_apache_hands_them_out() {
        let mut s = ControllerState::default();
        assert_eq!(s.next_broker_id("b"), FIRST_BROKER_ID);
        // A new group starts at the first id.
        assert!(matches!(
            apply_id(&mut s, 2, "a:1", 1),
            Err(Rejected::BrokerIdTaken { id: 2, .. })
        ));
        assert_eq!(
            apply_id(&mut s, 1, "a:1", 1),
            Ok(Applied::Registered { id: 1 })
        );
        assert_eq!(s.next_broker_id("b"), 2);
        // The same apply again (a retry after a lost answer) succeeds; another broker's fails.
        assert_eq!(
            apply_id(&mut s, 1, "a:1", 1),
            Ok(Applied::Registered { id: 1 })
        );
        assert!(matches!(
            apply_id(&mut s, 1, "c:1", 5),
            Err(Rejected::BrokerIdTaken { .. })
        ));
        assert_eq!(
            apply_id(&mut s, 2, "c:1", 5),
            Ok(Applied::Registered { id: 2 })
        );
        assert_eq!(s.next_broker_id("b"), 3);
        assert!(matches!(
            s.apply(&Command::ApplyBrokerId {
                cluster: "Other".into(),
                broker_name: "b".into(),
                id: 3,
                addr: "d:1".into(),
                check_code: "d:1;1".into(),
            }),
            Err(Rejected::WrongCluster { .. })
        ));
        // A replica that moved keeps its id.
        let moved = Command::UpdateAddress {
            broker_name: "b".into(),
            id: 2,
            addr: "e:1".into(),
        };
        assert_eq!(s.apply(&moved), Ok(Applied::Registered { id: 2 }));
        assert_eq!(s.group("b").unwrap().replicas[&2].addr, "e:1");
    }
}
