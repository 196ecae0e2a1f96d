//! Who becomes master. The controller leader decides from what heartbeats tell it of the live
//! replicas; the decision goes into the log as [`Command::ElectMaster`] carrying the master
//! epoch it was made under, so a decision made on a stale view is refused when applied.
//!
//! The rules, in order:
//! 1. A master that is alive stays master (unless an operator names another eligible replica).
//! 2. Else the best live member of the SyncStateSet: the highest epoch, then the highest max
//!    offset, then the smallest `brokerElectionPriority`, then the smallest id.
//! 3. Else, only with `enableElectUncleanMaster=true`, the best live replica outside the set
//!    (it may miss acknowledged messages).
//! 4. Else no master: the group's master epoch is raised all the same (see
//!    [`Decision::command`]), so a master that was cut off and comes back learns it was fenced.

use crate::command::{Command, Rejected};
use crate::replica_set::{BrokerId, ReplicaSet};

/// A live replica, as its latest heartbeat describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub id: BrokerId,
    /// The highest master epoch in its log.
    pub epoch: i32,
    /// Its CommitLog's max offset.
    pub max_offset: i64,
    /// `brokerElectionPriority`: smaller wins among equals.
    pub priority: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The current master stays.
    Keep(BrokerId),
    /// A new master; `unclean` when it is outside the SyncStateSet.
    New { id: BrokerId, unclean: bool },
    /// Nobody can be master now.
    NoCandidate,
}

impl Decision {
    /// The log entry that carries this decision out, or `None` when nothing changes (the
    /// master stays, or the group already has no master).
    pub fn command(self, g: &ReplicaSet) -> Option<Command> {
        let (new_master, unclean) = match self {
            Decision::Keep(_) => return None,
            Decision::NoCandidate if g.master.is_none() => return None,
            Decision::NoCandidate => (None, false),
            Decision::New { id, unclean } => (Some(id), unclean),
        };
        Some(Command::ElectMaster {
            broker_name: g.broker_name.clone(),
            new_master,
            seen_master_epoch: g.master_epoch,
            unclean,
        })
    }
}

/// Decides the group's master from the live replicas (`alive`; replicas not listed are dead).
/// `preferred` is an operator's choice (`mqadmin electMaster`), refused when that replica is
/// dead or not eligible.
pub fn elect(
    g: &ReplicaSet,
    alive: &[Candidate],
    preferred: Option<BrokerId>,
    allow_unclean: bool,
) -> Result<Decision, Rejected> {
    let live = |id: BrokerId| g.replicas.contains_key(&id) && alive.iter().any(|c| c.id == id);
    if let Some(id) = preferred {
        if !g.replicas.contains_key(&id) {
            return Err(Rejected::UnknownReplica {
                broker_name: g.broker_name.clone(),
                id,
            });
        }
        if !live(id) {
            return Err(Rejected::NotAlive {
                broker_name: g.broker_name.clone(),
                id,
            });
        }
        if g.master == Some(id) {
            return Ok(Decision::Keep(id));
        }
        let clean = g.in_sync(id);
        if !clean && !allow_unclean {
            return Err(Rejected::NotInSyncStateSet {
                broker_name: g.broker_name.clone(),
                id,
                sync_state_set: g.sync_state_set.iter().copied().collect(),
            });
        }
        return Ok(Decision::New {
            id,
            unclean: !clean,
        });
    }
    if let Some(m) = g.master.filter(|m| live(*m)) {
        return Ok(Decision::Keep(m));
    }
    let best = |clean: bool| {
        alive
            .iter()
            .filter(|c| g.replicas.contains_key(&c.id) && g.in_sync(c.id) == clean)
            .min_by(|a, b| {
                b.epoch
                    .cmp(&a.epoch)
                    .then(b.max_offset.cmp(&a.max_offset))
                    .then(a.priority.cmp(&b.priority))
                    .then(a.id.cmp(&b.id))
            })
            .map(|c| c.id)
    };
    if let Some(id) = best(true) {
        return Ok(Decision::New { id, unclean: false });
    }
    if allow_unclean {
        if let Some(id) = best(false) {
            return Ok(Decision::New { id, unclean: true });
        }
    }
    Ok(Decision::NoCandidate)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::state::ControllerState;

    fn group(n: u64) -> ControllerState {
        let mut s = ControllerState::default();
        for i in 0..n {
            s.apply(&Command::ApplyBrokerId {
                cluster: "C".into(),
                broker_name: "b".into(),
                id: i + 1,
                addr: format!("10.0.0.{i}:10911"),
                check_code: format!("10.0.0.{i}:10911;0"),
            })
            .unwrap();
        }
        s
    }

    fn cand(id: BrokerId, epoch: i32, max_offset: i64, priority: i32) -> Candidate {
        Candidate {
            id,
            epoch,
            max_offset,
            priority,
        }
    }

    fn run(s: &mut ControllerState, alive: &[Candidate], unclean: bool) -> Decision {
        let g = s.group("b").unwrap().clone();
        let d = elect(&g, alive, None, unclean).unwrap();
        if let Some(cmd) = d.command(&g) {
            s.apply(&cmd).unwrap();
        }
        d
    }

    #[test]
    fn a_live_master_stays_and_the_best_in_sync_replica_follows_it() {
        let mut s = group(3);
        let all = [cand(1, 0, 0, 9), cand(2, 0, 0, 1), cand(3, 0, 0, 5)];
        // First master: everyone is in sync; the smallest priority wins among equals.
        assert_eq!(
            run(&mut s, &all, false),
            Decision::New {
                id: 2,
                unclean: false
            }
        );
        assert_eq!(run(&mut s, &all, false), Decision::Keep(2));
        let g = s.group("b").unwrap();
        assert_eq!((g.master, g.master_epoch), (Some(2), 1));
        s.apply(&Command::AlterSyncStateSet {
            broker_name: "b".into(),
            master: 2,
            master_epoch: 1,
            sync_state_set_epoch: 1,
            new_set: [1, 2, 3].into(),
        })
        .unwrap();
        // Master 2 dies: 3 has more of the log than 1, whatever the priorities.
        let d = run(&mut s, &[cand(1, 1, 100, 0), cand(3, 1, 120, 9)], false);
        assert_eq!(
            d,
            Decision::New {
                id: 3,
                unclean: false
            }
        );
        let g = s.group("b").unwrap();
        assert_eq!((g.master, g.master_epoch), (Some(3), 2));
        assert_eq!(g.sync_state_set, [3].into());
    }

    #[test]
    fn no_unclean_election_unless_allowed() {
        let mut s = group(2);
        run(&mut s, &[cand(1, 0, 0, 0), cand(2, 0, 0, 1)], false);
        // Master 1 alone in its set dies; 2 is alive but outside the set.
        let alive = [cand(2, 1, 50, 0)];
        assert_eq!(run(&mut s, &alive, false), Decision::NoCandidate);
        let g = s.group("b").unwrap();
        assert_eq!(
            (g.master, g.master_epoch),
            (None, 2),
            "fenced: the epoch moved on"
        );
        assert_eq!(run(&mut s, &alive, false), Decision::NoCandidate);
        assert_eq!(
            s.group("b").unwrap().master_epoch,
            2,
            "no change, no new epoch"
        );
        assert_eq!(
            run(&mut s, &alive, true),
            Decision::New {
                id: 2,
                unclean: true
            }
        );
        // The old master back in a set of its own would have been elected cleanly.
        let mut s = group(2);
        run(&mut s, &[cand(1, 0, 0, 0)], false);
        run(&mut s, &[cand(2, 1, 0, 0)], false);
        assert_eq!(
            run(&mut s, &[cand(1, 1, 10, 0), cand(2, 1, 0, 0)], false),
            Decision::New {
                id: 1,
                unclean: false
            }
        );
    }

    #[test]
    fn an_operator_choice_is_checked() {
        let mut s = group(3);
        run(&mut s, &[cand(1, 0, 0, 0)], false);
        let g = s.group("b").unwrap().clone();
        let alive = [cand(1, 1, 0, 0), cand(2, 1, 0, 0)];
        assert!(matches!(
            elect(&g, &alive, Some(3), false),
            Err(Rejected::NotAlive { id: 3, .. })
        ));
        assert!(matches!(
            elect(&g, &alive, Some(2), false),
            Err(Rejected::NotInSyncStateSet { id: 2, .. })
        ));
        assert!(matches!(
            elect(&g, &alive, Some(9), false),
            Err(Rejected::UnknownReplica { id: 9, .. })
        ));
        assert_eq!(
            elect(&g, &alive, Some(2), true).unwrap(),
            Decision::New {
                id: 2,
                unclean: true
            }
        );
        assert_eq!(
            elect(&g, &alive, Some(1), false).unwrap(),
            Decision::Keep(1)
        );
    }

    #[test]
    fn a_decision_on_a_stale_view_is_refused() {
        let mut s = group(2);
        let g0 = s.group("b").unwrap().clone();
        let first = elect(&g0, &[cand(1, 0, 0, 0)], None, false).unwrap();
        let second = elect(&g0, &[cand(2, 0, 0, 0)], None, false).unwrap();
        s.apply(&first.command(&g0).unwrap()).unwrap();
        assert!(matches!(
            s.apply(&second.command(&g0).unwrap()),
            Err(Rejected::StaleMasterEpoch {
                seen: 0,
                current: 1,
                ..
            })
        ));
        assert_eq!(s.group("b").unwrap().master, Some(1));
    }
}
