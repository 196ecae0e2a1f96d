//! Queue locks for orderly consumers (`RebalanceLockManager`): a client holds a queue of a group
//! exclusively until it unlocks it or stops renewing for `lock_max_live` (60 s).
//!
//! Bounded: a lock request drops the expired locks of its own group, every group's expired locks
//! are dropped at most every [`SWEEP_EVERY`] (and whenever the limit is reached), and at most
//! [`MAX_LOCKS`] are held at once; a request beyond that gets only the queues it already holds.
//! The processor hands in only queues of this broker's topics.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rmq_common::MessageQueue;

pub const DEFAULT_LOCK_MAX_LIVE: Duration = Duration::from_secs(60);

/// Most locks held at once, over every group: far above what real orderly consumers hold (one
/// per queue and group), low enough that lock requests cannot grow memory without bound.
pub const MAX_LOCKS: usize = 100_000;

/// How often a lock request also drops the expired locks of every other group.
pub const SWEEP_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct LockEntry {
    client_id: String,
    last_update: Instant,
}

/// Per-group queue locks.
pub struct QueueLocks {
    max_live: Duration,
    max_locks: usize,
    groups: Mutex<Groups>,
}

#[derive(Default)]
struct Groups {
    tables: HashMap<String, HashMap<MessageQueue, LockEntry>>,
    last_sweep: Option<Instant>,
}

impl Groups {
    fn sweep(&mut self, max_live: Duration, now: Instant) {
        self.tables.retain(|_, table| {
            table.retain(|_, e| now.saturating_duration_since(e.last_update) <= max_live);
            !table.is_empty()
        });
        self.last_sweep = Some(now);
    }

    fn total(&self) -> usize {
        self.tables.values().map(HashMap::len).sum()
    }
}

impl QueueLocks {
    pub fn new(max_live: Duration) -> Self {
        Self::with_limit(max_live, MAX_LOCKS)
    }

    pub fn with_limit(max_live: Duration, max_locks: usize) -> Self {
        QueueLocks {
            max_live,
            max_locks,
            groups: Mutex::new(Groups::default()),
        }
    }

    /// Locks held now, over every group.
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.groups.lock().total()
    }

    /// Locks (or renews) every queue that is free, expired or already held by `client_id`, and
    /// returns the queues the client now holds.
    pub fn try_lock_batch(
        &self,
        group: &str,
        queues: &BTreeSet<MessageQueue>,
        client_id: &str,
        now: Instant,
    ) -> BTreeSet<MessageQueue> {
        let mut groups = self.groups.lock();
        let max_live = self.max_live;
        let sweep_due = groups
            .last_sweep
            .is_none_or(|t| now.saturating_duration_since(t) >= SWEEP_EVERY);
        if sweep_due {
            groups.sweep(max_live, now);
        } else if let Some(table) = groups.tables.get_mut(group) {
            table.retain(|_, e| now.saturating_duration_since(e.last_update) <= max_live);
        }
        let mut total = groups.total();
        if total >= self.max_locks && !sweep_due {
            groups.sweep(max_live, now);
            total = groups.total();
        }
        let table = groups.tables.entry(group.to_owned()).or_default();
        let mut held = BTreeSet::new();
        let mut refused = 0usize;
        for mq in queues {
            match table.get_mut(mq) {
                Some(e) if e.client_id == client_id => {
                    e.last_update = now;
                    held.insert(mq.clone());
                }
                Some(_) => {}
                None if total >= self.max_locks => refused += 1,
                None => {
                    total += 1;
                    table.insert(
                        mq.clone(),
                        LockEntry {
                            client_id: client_id.to_owned(),
                            last_update: now,
                        },
                    );
                    held.insert(mq.clone());
                }
            }
        }
        if table.is_empty() {
            groups.tables.remove(group);
        }
        if refused > 0 {
            tracing::warn!(
                group,
                client = client_id,
                refused,
                limit = self.max_locks,
                "queue locks refused: the broker holds its maximum of locks"
            );
        }
        held
    }

    /// Releases the queues held by `client_id`; others' locks are untouched.
    pub fn unlock_batch(&self, group: &str, queues: &BTreeSet<MessageQueue>, client_id: &str) {
        let mut groups = self.groups.lock();
        if let Some(table) = groups.tables.get_mut(group) {
            for mq in queues {
                if table.get(mq).is_some_and(|e| e.client_id == client_id) {
                    table.remove(mq);
                }
            }
            if table.is_empty() {
                groups.tables.remove(group);
            }
        }
    }

    /// Whether `client_id` holds an unexpired lock on `mq`.
    #[cfg(test)]
    pub fn is_locked_by(
        &self,
        group: &str,
        mq: &MessageQueue,
        client_id: &str,
        now: Instant,
    ) -> bool {
        let groups = self.groups.lock();
        groups
            .tables
            .get(group)
            .and_then(|t| t.get(mq))
            .is_some_and(|e| {
                e.client_id == client_id && now.duration_since(e.last_update) <= self.max_live
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[i32]) -> BTreeSet<MessageQueue> {
        ids.iter()
            .map(|i| MessageQueue::new("T", "b", *i))
            .collect()
    }

    #[test]
    fn exclusive_until_expiry_or_unlock() {
        let locks = QueueLocks::new(Duration::from_secs(60));
        let t0 = Instant::now();
        assert_eq!(
            locks.try_lock_batch("g", &set(&[0, 1]), "c1", t0),
            set(&[0, 1])
        );
        assert_eq!(
            locks.try_lock_batch("g", &set(&[1, 2]), "c2", t0),
            set(&[2])
        );
        assert!(locks.is_locked_by("g", &MessageQueue::new("T", "b", 1), "c1", t0));
        // Another client's unlock leaves c1's lock alone.
        locks.unlock_batch("g", &set(&[0]), "c2");
        assert!(locks.is_locked_by("g", &MessageQueue::new("T", "b", 0), "c1", t0));
        // c1 stops renewing: after 61 s c2 takes queue 1.
        let later = t0 + Duration::from_secs(61);
        assert_eq!(
            locks.try_lock_batch("g", &set(&[1]), "c2", later),
            set(&[1])
        );
        locks.unlock_batch("g", &set(&[0]), "c1");
        assert_eq!(
            locks.try_lock_batch("g", &set(&[0]), "c2", later),
            set(&[0])
        );
    }

    #[test]
    fn expired_locks_go_and_the_total_is_bounded() {
        let locks = QueueLocks::with_limit(Duration::from_secs(60), 3);
        let t0 = Instant::now();
        assert_eq!(locks.try_lock_batch("g1", &set(&[0, 1]), "c1", t0).len(), 2);
        // Only one more fits, in any group.
        assert_eq!(locks.try_lock_batch("g2", &set(&[0, 1]), "c2", t0).len(), 1);
        assert_eq!(locks.held(), 3);
        // Renewing what one holds still works at the limit.
        assert_eq!(locks.try_lock_batch("g1", &set(&[0, 1]), "c1", t0).len(), 2);
        // After expiry a request in another group sweeps every stale lock.
        let later = t0 + Duration::from_secs(61);
        assert_eq!(locks.try_lock_batch("g3", &set(&[5]), "c3", later).len(), 1);
        assert_eq!(locks.held(), 1);
    }

    #[test]
    fn other_groups_are_swept_when_due_or_at_the_limit() {
        let locks = QueueLocks::with_limit(Duration::from_secs(60), 3);
        let t0 = Instant::now();
        assert_eq!(locks.try_lock_batch("g1", &set(&[0, 1]), "c1", t0).len(), 2);
        // g1 expires between two sweeps: a request in g2 before the next sweep is due
        // leaves g1's stale locks (nothing needs the room).
        let stale = t0 + Duration::from_secs(55);
        assert_eq!(locks.try_lock_batch("g2", &set(&[0]), "c2", stale).len(), 1);
        let expired = stale + Duration::from_secs(6);
        assert!(expired.duration_since(stale) < SWEEP_EVERY);
        assert_eq!(locks.held(), 3);
        // At the limit the request sweeps first, so g1's expired locks make room.
        assert_eq!(
            locks.try_lock_batch("g3", &set(&[7]), "c3", expired).len(),
            1
        );
        assert_eq!(locks.held(), 2);
    }
}
