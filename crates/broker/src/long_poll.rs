//! Long polling (`PullRequestHoldService` in Apache, shaped for tokio).
//!
//! A pull that finds nothing and may suspend does not park a request object in a shared table
//! scanned by a timer. Its task waits on the queue's [`Notify`] until the store's dispatcher
//! reports a new message for that queue or the hold expires, then runs the pull again and
//! answers. The waiter is enabled *before* the store is checked, so a message dispatched between
//! the check and the wait still wakes it. The number of held pulls is bounded; past the bound a
//! pull is answered at once as "no new message" and the client simply pulls again.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// Wake-up points for held pulls, one per (topic, queue).
pub struct ArrivalNotifier {
    queues: Mutex<HashMap<String, HashMap<i32, Arc<Notify>>>>,
    /// Wake-ups for any queue of a topic (POP receives wait on every queue at once).
    topics: Mutex<HashMap<String, Arc<Notify>>>,
    holds: Arc<Semaphore>,
}

impl ArrivalNotifier {
    pub fn new(max_held_pulls: usize) -> Self {
        ArrivalNotifier {
            queues: Mutex::new(HashMap::new()),
            topics: Mutex::new(HashMap::new()),
            holds: Arc::new(Semaphore::new(max_held_pulls)),
        }
    }

    /// The notify for a queue, created on first use.
    pub fn queue(&self, topic: &str, queue_id: i32) -> Arc<Notify> {
        let mut q = self.queues.lock();
        if let Some(n) = q.get(topic).and_then(|t| t.get(&queue_id)) {
            return n.clone();
        }
        q.entry(topic.to_owned())
            .or_default()
            .entry(queue_id)
            .or_insert_with(|| Arc::new(Notify::new()))
            .clone()
    }

    /// The notify for every queue of a topic, created on first use.
    pub fn topic(&self, topic: &str) -> Arc<Notify> {
        self.topics
            .lock()
            .entry(topic.to_owned())
            .or_insert_with(|| Arc::new(Notify::new()))
            .clone()
    }

    /// Called by the store's dispatcher for every dispatched message.
    pub fn on_arrival(&self, topic: &str, queue_id: i32) {
        {
            let q = self.queues.lock();
            if let Some(n) = q.get(topic).and_then(|t| t.get(&queue_id)) {
                n.notify_waiters();
            }
        }
        if let Some(n) = self.topics.lock().get(topic) {
            n.notify_waiters();
        }
    }

    /// A permit to hold one more pull, or `None` when the bound is reached.
    pub fn try_hold(&self) -> Option<OwnedSemaphorePermit> {
        self.holds.clone().try_acquire_owned().ok()
    }

    /// Drops notifies nobody waits on (called periodically so the map tracks live queues only).
    pub fn prune(&self) {
        let mut q = self.queues.lock();
        for t in q.values_mut() {
            t.retain(|_, n| Arc::strong_count(n) > 1);
        }
        q.retain(|_, t| !t.is_empty());
        drop(q);
        self.topics.lock().retain(|_, n| Arc::strong_count(n) > 1);
    }
}
