//! Queue locks for orderly consumers (`RebalanceLockManager`): a client holds a queue of a group
//! exclusively until it unlocks it or stops renewing for `lock_max_live` (60 s).

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rmq_common::MessageQueue;

pub const DEFAULT_LOCK_MAX_LIVE: Duration = Duration::from_secs(60);

struct LockEntry {
    client_id: String,
    last_update: Instant,
}

/// Per-group queue locks.
pub struct QueueLocks {
    max_live: Duration,
    groups: Mutex<HashMap<String, HashMap<MessageQueue, LockEntry>>>,
}

impl QueueLocks {
    pub fn new(max_live: Duration) -> Self {
        QueueLocks {
            max_live,
            groups: Mutex::new(HashMap::new()),
        }
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
        let table = groups.entry(group.to_owned()).or_default();
        let mut held = BTreeSet::new();
        for mq in queues {
            match table.get_mut(mq) {
                Some(e) if e.client_id == client_id => {
                    e.last_update = now;
                    held.insert(mq.clone());
                }
                Some(e) if now.duration_since(e.last_update) <= self.max_live => {}
                _ => {
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
        held
    }

    /// Releases the queues held by `client_id`; others' locks are untouched.
    pub fn unlock_batch(&self, group: &str, queues: &BTreeSet<MessageQueue>, client_id: &str) {
        let mut groups = self.groups.lock();
        if let Some(table) = groups.get_mut(group) {
            for mq in queues {
                if table.get(mq).is_some_and(|e| e.client_id == client_id) {
                    table.remove(mq);
                }
            }
            if table.is_empty() {
                groups.remove(group);
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
        groups.get(group).and_then(|t| t.get(mq)).is_some_and(|e| {
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
        // c1 stops renewing: after 61 s c2 takes queue 1.
        let later = t0 + Duration::from_secs(61);
        assert_eq!(
            locks.try_lock_batch("g", &set(&[1]), "c2", later),
            set(&[1])
        );
        locks.unlock_batch("g", &set(&[0]), "c2");
        assert!(locks.is_locked_by("g", &MessageQueue::new("T", "b", 0), "c1", t0));
        locks.unlock_batch("g", &set(&[0]), "c1");
        assert_eq!(
            locks.try_lock_batch("g", &set(&[0]), "c2", later),
            set(&[0])
        );
    }
}
