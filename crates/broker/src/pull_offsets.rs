//! Where each group's pulls have got to (`commitPullOffset` in Apache 5): the next offset the
//! broker handed out, as opposed to the offset the consumer committed. GET_CONSUME_STATS
//! reports both, so a consumer that pulls but does not commit (or commits late) shows up.
//!
//! In memory only, like Apache's pull offset table. Updated on every pull that returns
//! messages, so a seen queue costs a read lock and an atomic store, and no allocation.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};

use parking_lot::RwLock;

type Queues = HashMap<i32, AtomicI64>;

/// group -> topic -> queue -> next offset to pull.
#[derive(Default)]
pub struct PullOffsets {
    table: RwLock<HashMap<String, HashMap<String, Queues>>>,
}

impl PullOffsets {
    /// Records that `group` will pull `queue_id` of `topic` from `next` on.
    pub fn record(&self, group: &str, topic: &str, queue_id: i32, next: i64) {
        if let Some(slot) = self
            .table
            .read()
            .get(group)
            .and_then(|t| t.get(topic))
            .and_then(|q| q.get(&queue_id))
        {
            slot.store(next, Ordering::Relaxed);
            return;
        }
        self.table
            .write()
            .entry(group.to_owned())
            .or_default()
            .entry(topic.to_owned())
            .or_default()
            .entry(queue_id)
            .or_insert_with(|| AtomicI64::new(next))
            .store(next, Ordering::Relaxed);
    }

    /// The next offset `group` pulls from, if it pulled this queue since the broker started.
    pub fn get(&self, group: &str, topic: &str, queue_id: i32) -> Option<i64> {
        self.table
            .read()
            .get(group)
            .and_then(|t| t.get(topic))
            .and_then(|q| q.get(&queue_id))
            .map(|a| a.load(Ordering::Relaxed))
    }

    /// Forgets a group (deleted with its offsets).
    pub fn remove_group(&self, group: &str) {
        self.table.write().remove(group);
    }
}

#[cfg(test)]
mod tests {
    use super::PullOffsets;

    #[test]
    fn records_and_overwrites() {
        let p = PullOffsets::default();
        assert_eq!(p.get("g", "t", 0), None);
        p.record("g", "t", 0, 5);
        p.record("g", "t", 0, 9);
        assert_eq!(p.get("g", "t", 0), Some(9));
        p.remove_group("g");
        assert_eq!(p.get("g", "t", 0), None);
    }
}
