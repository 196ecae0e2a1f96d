//! The controller's rules against a simulated broker group (in the style of `crates/ha`'s
//! simulation): three replicas with logs, a master appending and acknowledging once every
//! replica it must wait for has a message, slaves replicating (truncating to the common prefix
//! first, as the epoch check does), replicas dying and coming back, SyncStateSet changes and
//! elections proposed on one view of the state and applied later, when it may have moved.
//!
//! After every step: no acknowledged message is missing from a master's log, the master is in
//! its SyncStateSet, epochs only grow and every new master has an epoch of its own.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashSet};

use proptest::prelude::*;

use crate::command::{Applied, Command};
use crate::election::{elect, Candidate};
use crate::replica_set::{BrokerId, ReplicaSet};
use crate::state::ControllerState;

const N: u64 = 3;

#[derive(Debug, Clone)]
enum Op {
    Append,
    Replicate(u64, usize),
    Ack,
    Kill(u64),
    Revive(u64),
    ProposeShrink(u64),
    ProposeExpand(u64),
    ProposeElect,
    ApplyPending(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let id = 1..=N;
    prop_oneof![
        4 => Just(Op::Append),
        4 => (id.clone(), 1usize..4).prop_map(|(i, n)| Op::Replicate(i, n)),
        3 => Just(Op::Ack),
        1 => id.clone().prop_map(Op::Kill),
        1 => id.clone().prop_map(Op::Revive),
        1 => id.clone().prop_map(Op::ProposeShrink),
        2 => id.prop_map(Op::ProposeExpand),
        2 => Just(Op::ProposeElect),
        3 => (0usize..4).prop_map(Op::ApplyPending),
    ]
}

struct Replica {
    alive: bool,
    /// (epoch it was written in, message id)
    log: Vec<(i32, u64)>,
}

struct World {
    s: ControllerState,
    replicas: Vec<Replica>,
    /// Commands proposed and not applied yet, with the expansions the master waits for.
    pending: Vec<Command>,
    /// Replicas the master waits for beyond its SyncStateSet: expansions it proposed.
    expanding: BTreeSet<BrokerId>,
    next_msg: u64,
    acked: HashSet<u64>,
    last_epoch: i32,
    epochs_seen: HashSet<i32>,
}

impl World {
    fn new() -> Self {
        let mut s = ControllerState::default();
        for i in 1..=N {
            let r = s.apply(&Command::ApplyBrokerId {
                cluster: "C".into(),
                broker_name: "b".into(),
                id: i,
                addr: format!("10.0.0.{i}:10911"),
                check_code: format!("10.0.0.{i}:10911;0"),
            });
            assert_eq!(r, Ok(Applied::Registered { id: i }));
        }
        World {
            s,
            replicas: (0..N)
                .map(|_| Replica {
                    alive: true,
                    log: Vec::new(),
                })
                .collect(),
            pending: Vec::new(),
            expanding: BTreeSet::new(),
            next_msg: 0,
            acked: HashSet::new(),
            last_epoch: 0,
            epochs_seen: HashSet::new(),
        }
    }

    fn r(&mut self, id: BrokerId) -> &mut Replica {
        &mut self.replicas[(id - 1) as usize]
    }

    fn live_master(&self) -> Option<BrokerId> {
        let g = self.s.group("b").unwrap();
        g.master.filter(|m| self.replicas[(*m - 1) as usize].alive)
    }

    fn step(&mut self, op: &Op) {
        let g = self.s.group("b").unwrap().clone();
        match *op {
            Op::Append => {
                if let Some(m) = self.live_master() {
                    self.next_msg += 1;
                    let e = g.master_epoch;
                    let msg = self.next_msg;
                    self.r(m).log.push((e, msg));
                }
            }
            Op::Replicate(id, n) => {
                let Some(m) = self.live_master() else { return };
                if id == m || !self.replicas[(id - 1) as usize].alive {
                    return;
                }
                let master_log = self.replicas[(m - 1) as usize].log.clone();
                let slave = self.r(id);
                let common = slave
                    .log
                    .iter()
                    .zip(&master_log)
                    .take_while(|(a, b)| a == b)
                    .count();
                slave.log.truncate(common);
                let end = (common + n).min(master_log.len());
                slave.log.extend_from_slice(&master_log[common..end]);
            }
            Op::Ack => {
                let Some(m) = self.live_master() else { return };
                let master_log = self.replicas[(m - 1) as usize].log.clone();
                let waits: BTreeSet<BrokerId> =
                    g.sync_state_set.union(&self.expanding).copied().collect();
                let covered = waits
                    .iter()
                    .map(|id| {
                        let log = &self.replicas[(*id - 1) as usize].log;
                        log.iter()
                            .zip(&master_log)
                            .take_while(|(a, b)| a == b)
                            .count()
                    })
                    .min()
                    .unwrap_or(0);
                for (_, msg) in &master_log[..covered] {
                    self.acked.insert(*msg);
                }
            }
            Op::Kill(id) => self.r(id).alive = false,
            Op::Revive(id) => self.r(id).alive = true,
            Op::ProposeShrink(id) => {
                let Some(m) = self.live_master() else { return };
                if id == m || !g.sync_state_set.contains(&id) {
                    return;
                }
                let mut new_set = g.sync_state_set.clone();
                new_set.remove(&id);
                self.pending.push(alter(&g, m, new_set));
            }
            Op::ProposeExpand(id) => {
                let Some(m) = self.live_master() else { return };
                if id == m || g.sync_state_set.contains(&id) {
                    return;
                }
                // Only a slave holding all of the master's log; from now on the master waits
                // for it too.
                if self.replicas[(id - 1) as usize].log != self.replicas[(m - 1) as usize].log {
                    return;
                }
                self.expanding.insert(id);
                let mut new_set = g.sync_state_set.clone();
                new_set.insert(id);
                self.pending.push(alter(&g, m, new_set));
            }
            Op::ProposeElect => {
                let alive: Vec<Candidate> = (1..=N)
                    .filter(|id| self.replicas[(*id - 1) as usize].alive)
                    .map(|id| {
                        let log = &self.replicas[(id - 1) as usize].log;
                        Candidate {
                            id,
                            epoch: log.last().map_or(0, |(e, _)| *e),
                            max_offset: log.len() as i64,
                            priority: 0,
                        }
                    })
                    .collect();
                let d = elect(&g, &alive, None, false).unwrap();
                if let Some(cmd) = d.command(&g) {
                    self.pending.push(cmd);
                }
            }
            Op::ApplyPending(k) => {
                if self.pending.is_empty() {
                    return;
                }
                let cmd = self.pending.remove(k % self.pending.len());
                let before = g.master;
                match (self.s.apply(&cmd), &cmd) {
                    (
                        Ok(Applied::MasterElected {
                            master,
                            master_epoch,
                            ..
                        }),
                        _,
                    ) => {
                        assert!(master_epoch > self.last_epoch);
                        assert!(
                            self.epochs_seen.insert(master_epoch),
                            "epoch {master_epoch} reused"
                        );
                        if master != before {
                            self.expanding.clear();
                        }
                        if let Some(m) = master {
                            let log: HashSet<u64> = self.replicas[(m - 1) as usize]
                                .log
                                .iter()
                                .map(|(_, x)| *x)
                                .collect();
                            let lost: Vec<&u64> =
                                self.acked.iter().filter(|x| !log.contains(x)).collect();
                            assert!(
                                lost.is_empty(),
                                "new master {m} lacks acknowledged {lost:?}"
                            );
                        }
                    }
                    (Ok(_), Command::AlterSyncStateSet { new_set, .. }) => {
                        self.expanding.retain(|id| !new_set.contains(id));
                    }
                    // Refused: the master stops waiting for what it proposed.
                    (
                        Err(_),
                        Command::AlterSyncStateSet {
                            new_set, master, ..
                        },
                    ) if Some(*master) == self.s.group("b").unwrap().master => {
                        let set = &self.s.group("b").unwrap().sync_state_set;
                        self.expanding
                            .retain(|id| !new_set.contains(id) || set.contains(id));
                    }
                    _ => {}
                }
            }
        }
        let g = self.s.group("b").unwrap();
        assert!(
            g.master_epoch >= self.last_epoch,
            "the master epoch went back"
        );
        self.last_epoch = g.master_epoch;
        if let Some(m) = g.master {
            assert!(
                g.sync_state_set.contains(&m),
                "master {m} outside {:?}",
                g.sync_state_set
            );
        }
        assert!(g
            .sync_state_set
            .iter()
            .all(|id| g.replicas.contains_key(id)));
    }
}

/// Master `m`'s request for `new_set`, under the epochs of `g` as it sees them now.
fn alter(g: &ReplicaSet, m: BrokerId, new_set: BTreeSet<BrokerId>) -> Command {
    Command::AlterSyncStateSet {
        broker_name: g.broker_name.clone(),
        master: m,
        master_epoch: g.master_epoch,
        sync_state_set_epoch: g.sync_state_set_epoch,
        new_set,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn no_acknowledged_message_is_lost_and_epochs_only_grow(ops in proptest::collection::vec(op(), 1..200)) {
        let mut w = World::new();
        for op in &ops {
            w.step(op);
        }
    }
}
