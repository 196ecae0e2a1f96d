//! [`QueueHandle`]: the work for one owned queue, shared by the rebalance that starts and stops
//! it, the pull loop that fills it and the consume services that drain it. A leaf module, so
//! that none of those files imports another for it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::consumer::process_queue::ProcessQueue;

/// A local lock is trusted this long after the last successful lock (`lockMaxLiveTime`).
const LOCK_MAX_LIVE: Duration = Duration::from_secs(30);

/// Whether this client holds the broker lock of an orderly queue.
#[derive(Debug, Default)]
pub(crate) struct LockState {
    locked: AtomicBool,
    last_locked: Mutex<Option<Instant>>,
}

impl LockState {
    pub fn set(&self, locked: bool) {
        self.locked.store(locked, Ordering::Release);
        if locked {
            *self.last_locked.lock() = Some(Instant::now());
        }
    }

    /// Locked, and renewed recently enough to trust.
    pub fn is_valid(&self) -> bool {
        self.locked.load(Ordering::Acquire)
            && self
                .last_locked
                .lock()
                .is_some_and(|t| t.elapsed() < LOCK_MAX_LIVE)
    }
}

/// The work for one owned queue.
#[derive(Debug, Clone)]
pub(crate) struct QueueHandle {
    pub pq: Arc<ProcessQueue>,
    /// Stops the queue's pull loop and consume worker (also at shutdown, when listener calls in
    /// progress still finish and commit).
    pub cancel: CancellationToken,
    /// The queue is no longer this member's (rebalanced away, or reset): listener calls still
    /// running for it commit nothing.
    pub released: CancellationToken,
    pub lock: Arc<LockState>,
    /// Orderly: wakes the consume worker when messages arrive.
    pub wake: Arc<Notify>,
    /// Orderly: held while the listener consumes this queue.
    pub consume_lock: Arc<tokio::sync::Mutex<()>>,
}

impl QueueHandle {
    /// Gives the queue up: stops its work and keeps running listener calls from committing.
    pub fn release(&self) {
        self.released.cancel();
        self.cancel.cancel();
    }
}
