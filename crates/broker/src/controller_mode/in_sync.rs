//! The master's rules for its SyncStateSet, without I/O (time is an argument): which slaves
//! keep up, and so which set to propose to the controllers.
//!
//! A connected slave is *caught up* at a tick when it has what the master had at the previous
//! tick (a slave under constant load never reaches the exact end, but stays a tick behind at
//! most). A member that has not been caught up for `haMaxTimeSlaveNotCatchup`, or is not
//! connected at all, is shrunk out (Apache's `maybeShrinkSyncStateSet`); a connected slave
//! outside the set that is caught up is expanded in (`maybeExpandInSyncStateSet`). The master
//! always stays in.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// One connected slave: its broker id and how far it has the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SlaveProgress {
    pub id: i64,
    pub acked: i64,
}

#[derive(Debug)]
pub(crate) struct InSyncTracker {
    me: i64,
    max_not_caught_up: Duration,
    /// When each connected slave was last caught up (its connection time until it first is).
    caught_up: HashMap<i64, Instant>,
    /// The master's CommitLog end at the previous tick.
    prev_end: i64,
}

impl InSyncTracker {
    pub fn new(me: i64, max_not_caught_up: Duration, master_end: i64) -> Self {
        InSyncTracker {
            me,
            max_not_caught_up,
            caught_up: HashMap::new(),
            prev_end: master_end,
        }
    }

    /// One tick: the set to propose, if it differs from `set`.
    pub fn tick(
        &mut self,
        now: Instant,
        master_end: i64,
        slaves: &[SlaveProgress],
        set: &BTreeSet<i64>,
    ) -> Option<BTreeSet<i64>> {
        let target = self.prev_end.min(master_end);
        self.caught_up
            .retain(|id, _| slaves.iter().any(|s| s.id == *id));
        for s in slaves {
            if s.acked >= target {
                self.caught_up.insert(s.id, now);
            } else {
                self.caught_up.entry(s.id).or_insert(now);
            }
        }
        self.prev_end = master_end;
        let mut next: BTreeSet<i64> = set
            .iter()
            .copied()
            .filter(|id| {
                *id == self.me
                    || self
                        .caught_up
                        .get(id)
                        .is_some_and(|t| now.duration_since(*t) <= self.max_not_caught_up)
            })
            .collect();
        next.insert(self.me);
        for s in slaves {
            if s.id != self.me && s.acked >= target {
                next.insert(s.id);
            }
        }
        (next != *set).then_some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Duration = Duration::from_secs(15);

    fn set(ids: &[i64]) -> BTreeSet<i64> {
        ids.iter().copied().collect()
    }

    fn slave(id: i64, acked: i64) -> SlaveProgress {
        SlaveProgress { id, acked }
    }

    #[test]
    fn a_slave_that_catches_up_is_expanded_in() {
        let t0 = Instant::now();
        let mut t = InSyncTracker::new(1, MAX, 1000);
        // Far behind: not yet.
        assert_eq!(t.tick(t0, 1000, &[slave(2, 100)], &set(&[1])), None);
        // Has what the master had at the previous tick, though the master moved on.
        assert_eq!(
            t.tick(t0, 1500, &[slave(2, 1000)], &set(&[1])),
            Some(set(&[1, 2]))
        );
    }

    #[test]
    fn a_member_behind_too_long_or_gone_is_shrunk_out() {
        let t0 = Instant::now();
        let mut t = InSyncTracker::new(1, MAX, 0);
        let s = set(&[1, 2, 3]);
        assert_eq!(t.tick(t0, 100, &[slave(2, 100), slave(3, 100)], &s), None);
        // Slave 2 stops short of what the master had at the last tick; within the limit it
        // stays.
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(t.tick(t1, 900, &[slave(2, 90), slave(3, 900)], &s), None);
        let t2 = t0 + Duration::from_secs(16);
        assert_eq!(
            t.tick(t2, 1800, &[slave(2, 90), slave(3, 900)], &s),
            Some(set(&[1, 3]))
        );
        // A member that is not connected is shrunk out at once.
        assert_eq!(t.tick(t2, 1800, &[slave(2, 90)], &s), Some(set(&[1])));
    }

    #[test]
    fn the_master_always_stays_and_a_fresh_member_gets_its_grace() {
        let t0 = Instant::now();
        let mut t = InSyncTracker::new(1, MAX, 5000);
        assert_eq!(t.tick(t0, 5000, &[], &set(&[2])), Some(set(&[1])));
        // A member that just connected behind is given the full limit to catch up.
        let mut t = InSyncTracker::new(1, MAX, 5000);
        assert_eq!(t.tick(t0, 5000, &[slave(2, 10)], &set(&[1, 2])), None);
        let late = t0 + MAX + Duration::from_millis(1);
        assert_eq!(
            t.tick(late, 5000, &[slave(2, 10)], &set(&[1, 2])),
            Some(set(&[1]))
        );
    }

    #[test]
    fn an_idle_group_with_an_empty_log_expands_its_slave() {
        let t0 = Instant::now();
        let mut t = InSyncTracker::new(1, MAX, 0);
        assert_eq!(
            t.tick(t0, 0, &[slave(2, 0)], &set(&[1])),
            Some(set(&[1, 2]))
        );
    }
}
