//! Popped messages not yet settled: for each (group, popped topic, queue) the offsets in flight,
//! with the time each becomes visible again, the revive-log position of the checkpoint that set
//! that time, and its delivery attempt.
//!
//! Receive adds entries, ack settles them, ChangeInvisibleDuration moves their deadline, and the
//! revive task takes the due ones. The table is the broker's working copy; the revive log
//! (`log.rs`) is what rebuilds it after a restart. Its size is bounded ([`MAX_IN_FLIGHT`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::Notify;

/// Messages in flight a broker keeps track of at most (about 100 bytes each); past it receives
/// answer "too many requests" until consumers ack.
pub const MAX_IN_FLIGHT: usize = 500_000;

/// A queue as one group pops it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueKey {
    pub group: String,
    /// The topic popped: the consumer's topic or its `%RETRY%group_topic`.
    pub topic: String,
    pub queue_id: i32,
}

/// One message in flight.
#[derive(Debug, Clone)]
pub struct Entry {
    /// When it becomes visible again (ms since the epoch).
    pub deadline: i64,
    /// Revive-log offset of the checkpoint that recorded this deadline.
    pub ck_pos: i64,
    /// Delivery attempt (1 for the first delivery).
    pub attempt: i32,
    /// Popped by a FIFO group: redelivered from its own queue, not moved to the retry topic.
    pub fifo: bool,
    /// Received with `auto_renew` by this client: renewed while the client stays connected.
    pub renew_for: Option<Arc<str>>,
}

/// What a FIFO pop finds on a queue.
#[derive(Debug)]
pub enum FifoQueue {
    /// Nothing in flight: deliver from the committed offset.
    Free,
    /// Messages in flight and not yet due: deliver nothing from this queue.
    Blocked,
    /// Everything in flight is due: deliver these offsets again, in order.
    Expired(Vec<(i64, Entry)>),
}

#[derive(Default)]
struct Inner {
    queues: HashMap<Arc<QueueKey>, BTreeMap<i64, Entry>>,
    /// Entries the revive task must look at, by deadline.
    due: BTreeSet<(i64, Arc<QueueKey>, i64)>,
    /// Checkpoint positions still referenced, with how many entries reference each.
    ck_refs: BTreeMap<i64, usize>,
    len: usize,
    busy: HashSet<Arc<QueueKey>>,
}

impl Inner {
    fn intern(&mut self, key: &QueueKey) -> Arc<QueueKey> {
        match self.queues.get_key_value(key) {
            Some((k, _)) => k.clone(),
            None => {
                let k = Arc::new(key.clone());
                self.queues.insert(k.clone(), BTreeMap::new());
                k
            }
        }
    }

    fn unref(&mut self, ck_pos: i64) {
        if let Some(n) = self.ck_refs.get_mut(&ck_pos) {
            *n -= 1;
            if *n == 0 {
                self.ck_refs.remove(&ck_pos);
            }
        }
    }

    fn remove(&mut self, key: &QueueKey, offset: i64) -> Option<Entry> {
        let (k, q) = self.queues.get_key_value(key)?;
        let k = k.clone();
        let q_len = q.len();
        let entry = self.queues.get_mut(key)?.remove(&offset)?;
        self.due.remove(&(entry.deadline, k.clone(), offset));
        self.unref(entry.ck_pos);
        self.len -= 1;
        if q_len == 1 && !self.busy.contains(key) {
            self.queues.remove(key);
        }
        Some(entry)
    }
}

/// The in-flight table.
#[derive(Default)]
pub struct InFlight {
    inner: Mutex<Inner>,
    /// Woken when a deadline earlier than any before may have been added.
    changed: Notify,
}

/// Exclusive right to pop one queue; released on drop.
pub struct Busy<'a> {
    table: &'a InFlight,
    key: Arc<QueueKey>,
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        let mut inner = self.table.inner.lock();
        inner.busy.remove(&self.key);
        if inner.queues.get(&self.key).is_some_and(BTreeMap::is_empty) {
            inner.queues.remove(&self.key);
        }
    }
}

impl InFlight {
    /// The right to pop `key`, unless another receive is popping it now.
    pub fn try_busy(&self, key: &QueueKey) -> Option<Busy<'_>> {
        let mut inner = self.inner.lock();
        let k = inner.intern(key);
        if !inner.busy.insert(k.clone()) {
            return None;
        }
        Some(Busy {
            table: self,
            key: k,
        })
    }

    /// Whether `more` entries still fit under [`MAX_IN_FLIGHT`].
    pub fn has_room(&self, more: usize) -> bool {
        self.inner.lock().len + more <= MAX_IN_FLIGHT
    }

    /// Records `offsets` (offset, attempt) of `key` as in flight until `deadline`, replacing
    /// entries already there (a checkpoint later in the log wins).
    pub fn add(
        &self,
        key: &QueueKey,
        offsets: &[(i64, i32)],
        deadline: i64,
        ck_pos: i64,
        fifo: bool,
        renew_for: Option<Arc<str>>,
    ) {
        let mut inner = self.inner.lock();
        let k = inner.intern(key);
        for &(offset, attempt) in offsets {
            inner.remove(key, offset);
            let k = if inner.queues.contains_key(key) {
                k.clone()
            } else {
                inner.intern(key)
            };
            inner.due.insert((deadline, k.clone(), offset));
            *inner.ck_refs.entry(ck_pos).or_default() += 1;
            inner.len += 1;
            if let Some(q) = inner.queues.get_mut(&k) {
                q.insert(
                    offset,
                    Entry {
                        deadline,
                        ck_pos,
                        attempt,
                        fifo,
                        renew_for: renew_for.clone(),
                    },
                );
            }
        }
        drop(inner);
        self.changed.notify_one();
    }

    /// Moves an entry's deadline (ChangeInvisibleDuration, auto renewal); false when the
    /// message is not in flight any more. A consumer's own change ends automatic renewal
    /// (`keep_renewing` false): it asked for this deadline.
    pub fn renew(
        &self,
        key: &QueueKey,
        offset: i64,
        deadline: i64,
        ck_pos: i64,
        keep_renewing: bool,
    ) -> bool {
        let mut inner = self.inner.lock();
        let Some(mut entry) = inner.remove(key, offset) else {
            return false;
        };
        entry.deadline = deadline;
        entry.ck_pos = ck_pos;
        if !keep_renewing {
            entry.renew_for = None;
        }
        let k = inner.intern(key);
        inner.due.insert((deadline, k.clone(), offset));
        *inner.ck_refs.entry(ck_pos).or_default() += 1;
        inner.len += 1;
        if let Some(q) = inner.queues.get_mut(&k) {
            q.insert(offset, entry);
        }
        drop(inner);
        self.changed.notify_one();
        true
    }

    /// The entry of a message in flight.
    pub fn get(&self, key: &QueueKey, offset: i64) -> Option<Entry> {
        self.inner.lock().queues.get(key)?.get(&offset).cloned()
    }

    /// Settles a message (acked, revived, sent to the DLQ); its entry if it was in flight.
    pub fn settle(&self, key: &QueueKey, offset: i64) -> Option<Entry> {
        self.inner.lock().remove(key, offset)
    }

    /// Settles a message only if its deadline is still `deadline` (nobody renewed it meanwhile).
    pub fn settle_if(&self, key: &QueueKey, offset: i64, deadline: i64) -> bool {
        let mut inner = self.inner.lock();
        let same = inner
            .queues
            .get(key)
            .and_then(|q| q.get(&offset))
            .is_some_and(|e| e.deadline == deadline);
        same && inner.remove(key, offset).is_some()
    }

    /// Up to `max` entries due at `now`, earliest first.
    pub fn due(&self, now: i64, max: usize) -> Vec<(QueueKey, i64, Entry)> {
        let inner = self.inner.lock();
        inner
            .due
            .iter()
            .take_while(|(d, _, _)| *d <= now)
            .take(max)
            .filter_map(|(_, k, off)| {
                let e = inner.queues.get(k)?.get(off)?;
                Some(((**k).clone(), *off, e.clone()))
            })
            .collect()
    }

    /// Takes a due FIFO entry out of the revive task's view; it stays in flight until its
    /// queue is popped again.
    pub fn park(&self, key: &QueueKey, offset: i64) {
        let mut inner = self.inner.lock();
        let Some((k, q)) = inner.queues.get_key_value(key) else {
            return;
        };
        let Some(d) = q.get(&offset).map(|e| e.deadline) else {
            return;
        };
        let k = k.clone();
        inner.due.remove(&(d, k, offset));
    }

    /// The earliest deadline the revive task has to act on.
    pub fn next_deadline(&self) -> Option<i64> {
        self.inner.lock().due.first().map(|(d, _, _)| *d)
    }

    /// Completes when an entry was added or renewed.
    pub async fn changed(&self) {
        self.changed.notified().await
    }

    /// The lowest revive-log position a restart must replay from to rebuild this table.
    pub fn min_ck_pos(&self) -> Option<i64> {
        self.inner.lock().ck_refs.keys().next().copied()
    }

    pub fn len(&self) -> usize {
        self.inner.lock().len
    }

    /// How a FIFO pop may use `key` at `now`.
    pub fn fifo_queue(&self, key: &QueueKey, now: i64) -> FifoQueue {
        let inner = self.inner.lock();
        let Some(q) = inner.queues.get(key).filter(|q| !q.is_empty()) else {
            return FifoQueue::Free;
        };
        if q.values().any(|e| e.deadline > now) {
            return FifoQueue::Blocked;
        }
        FifoQueue::Expired(q.iter().map(|(o, e)| (*o, e.clone())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(q: i32) -> QueueKey {
        QueueKey {
            group: "g".into(),
            topic: "t".into(),
            queue_id: q,
        }
    }

    #[test]
    fn add_settle_and_replay_position() {
        let t = InFlight::default();
        t.add(&key(0), &[(5, 1), (6, 1)], 1000, 40, false, None);
        t.add(&key(1), &[(0, 1)], 2000, 41, false, None);
        assert_eq!(t.len(), 3);
        assert_eq!(t.min_ck_pos(), Some(40));
        assert!(t.settle(&key(0), 5).is_some());
        assert!(t.settle(&key(0), 5).is_none(), "settled once");
        assert_eq!(
            t.min_ck_pos(),
            Some(40),
            "offset 6 still needs checkpoint 40"
        );
        t.settle(&key(0), 6);
        assert_eq!(t.min_ck_pos(), Some(41));
        t.settle(&key(1), 0);
        assert_eq!((t.len(), t.min_ck_pos()), (0, None));
    }

    #[test]
    fn due_in_deadline_order_and_renewal_moves_it() {
        let t = InFlight::default();
        t.add(&key(0), &[(1, 1)], 3000, 1, false, None);
        t.add(&key(0), &[(2, 1)], 1000, 2, false, None);
        let due: Vec<i64> = t.due(5000, 10).iter().map(|(_, o, _)| *o).collect();
        assert_eq!(due, vec![2, 1]);
        assert!(t.renew(&key(0), 2, 9000, 3, false));
        assert_eq!(t.due(5000, 10).len(), 1);
        assert_eq!(t.next_deadline(), Some(3000));
        assert!(!t.settle_if(&key(0), 2, 1000), "renewed since");
        assert!(t.settle_if(&key(0), 2, 9000));
        assert!(!t.renew(&key(0), 2, 1, 4, false), "gone");
    }

    #[test]
    fn a_later_checkpoint_replaces_the_entry() {
        let t = InFlight::default();
        t.add(&key(0), &[(1, 1)], 1000, 1, false, None);
        t.add(&key(0), &[(1, 2)], 5000, 7, false, None);
        assert_eq!(t.len(), 1);
        assert_eq!(t.min_ck_pos(), Some(7));
        assert_eq!(t.get(&key(0), 1).map(|e| e.attempt), Some(2));
    }

    #[test]
    fn busy_is_exclusive_and_released() {
        let t = InFlight::default();
        let b = t.try_busy(&key(0)).unwrap();
        assert!(t.try_busy(&key(0)).is_none());
        assert!(t.try_busy(&key(1)).is_some());
        drop(b);
        assert!(t.try_busy(&key(0)).is_some());
    }

    #[test]
    fn fifo_queue_states() {
        let t = InFlight::default();
        assert!(matches!(t.fifo_queue(&key(0), 0), FifoQueue::Free));
        t.add(&key(0), &[(3, 1), (4, 1)], 1000, 1, true, None);
        assert!(matches!(t.fifo_queue(&key(0), 999), FifoQueue::Blocked));
        match t.fifo_queue(&key(0), 1000) {
            FifoQueue::Expired(v) => {
                assert_eq!(v.iter().map(|(o, _)| *o).collect::<Vec<_>>(), vec![3, 4])
            }
            other => panic!("{other:?}"),
        }
        t.park(&key(0), 3);
        assert_eq!(
            t.due(2000, 10).len(),
            1,
            "parked entries leave the revive view"
        );
    }
}
