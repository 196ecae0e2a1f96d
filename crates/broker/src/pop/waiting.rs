//! Receives waiting for messages, counted per (group, topic, queue): what POLLING_INFO reports.
//! A waiting receive holds a [`Waiting`] guard; dropping it (answered, timed out, cancelled)
//! takes it off the count.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

/// (group, topic, queue; `None` for every queue of the topic).
type Key = (String, String, Option<i32>);

#[derive(Default)]
pub struct WaitingReceives {
    counts: Arc<Mutex<HashMap<Key, usize>>>,
}

/// One waiting receive, counted while it lives.
pub struct Waiting {
    counts: Arc<Mutex<HashMap<Key, usize>>>,
    key: Key,
}

impl WaitingReceives {
    pub fn enter(&self, group: &str, topic: &str, queue_id: Option<i32>) -> Waiting {
        let key = (group.to_owned(), topic.to_owned(), queue_id);
        *self.counts.lock().entry(key.clone()).or_default() += 1;
        Waiting {
            counts: self.counts.clone(),
            key,
        }
    }

    /// Receives of `group` waiting on `queue_id` of `topic`, including those waiting on every
    /// queue of the topic.
    pub fn count(&self, group: &str, topic: &str, queue_id: i32) -> usize {
        let c = self.counts.lock();
        let at = |q| {
            c.get(&(group.to_owned(), topic.to_owned(), q))
                .copied()
                .unwrap_or(0)
        };
        at(Some(queue_id)) + at(None)
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let mut c = self.counts.lock();
        if let Some(n) = c.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                c.remove(&self.key);
            }
        }
    }
}
