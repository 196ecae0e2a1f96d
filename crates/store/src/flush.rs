//! Flush services.
//!
//! - ASYNC_FLUSH: every `flushIntervalCommitLog` ms flush if at least `flushCommitLogLeastPages`
//!   pages are dirty, everything every `flushCommitLogThoroughInterval` ms.
//! - SYNC_FLUSH (group commit): the thread sleeps on a doorbell that every append rings; when
//!   woken it flushes everything written so far with one `msync` per file touched, then completes
//!   the oneshot of every waiting put whose end it covered (one flush serves many puts, and only
//!   those are woken). A failed flush fails every put still waiting (never a silent OK).
//! - A failed flush is final until the broker restarts: the kernel marks the pages it could not
//!   write clean, so a second `msync` would report success for bytes that never reached the disk
//!   (and recovery would later stop at the hole, dropping everything acknowledged after it).
//!   From the first failure on nothing is flushed, no checkpoint moves and appends are refused
//!   ([`FlushProgress::failure`]); what was flushed before it is what recovery finds.
//! - ConsumeQueues, index and checkpoint: every `flushIntervalConsumeQueue` ms; the checkpoint is
//!   written last so its timestamps never claim more than what is on disk.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::checkpoint::Checkpoint;
use crate::commit_log::CommitLog;
use crate::cq_store::ConsumeQueueStore;
use crate::dispatch::Dispatcher;
use crate::index_service::IndexService;
use crate::service::StopSignal;

/// Why a waiting put was released without its bytes being flushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlushWaitError {
    /// The flush that should have covered it failed.
    Failed,
}

type Waiter = (i64, oneshot::Sender<Result<(), FlushWaitError>>);

/// The flushed offset, and the puts waiting for it (SYNC_FLUSH). A flush completes exactly the
/// waiters it covered (no herd of wake-ups), and a failed flush fails every waiter.
pub(crate) struct FlushProgress {
    flushed: AtomicI64,
    waiters: Mutex<Vec<Waiter>>,
    /// Set by the first failed flush (what failed and why); never cleared.
    failure: OnceLock<String>,
}

impl FlushProgress {
    pub fn new(flushed: i64) -> Self {
        FlushProgress {
            flushed: AtomicI64::new(flushed),
            waiters: Mutex::new(Vec::new()),
            failure: OnceLock::new(),
        }
    }

    /// What failed, once a flush has failed (appends must be refused from then on).
    pub fn failure(&self) -> Option<String> {
        self.failure.get().cloned()
    }

    fn has_failed(&self) -> bool {
        self.failure.get().is_some()
    }

    pub fn flushed(&self) -> i64 {
        self.flushed.load(Ordering::Acquire)
    }

    /// Registers interest in `end` being flushed. `None` if it already is.
    pub fn wait(&self, end: i64) -> Option<oneshot::Receiver<Result<(), FlushWaitError>>> {
        if self.flushed() >= end {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        let mut w = self.waiters.lock();
        // Re-check under the lock: `advance` publishes before it drains, `fail` marks before it
        // drains.
        if self.flushed() >= end {
            return None;
        }
        if self.has_failed() {
            let _ = tx.send(Err(FlushWaitError::Failed));
        } else {
            w.push((end, tx));
        }
        Some(rx)
    }

    /// A replica cut its log back to `to`: nothing beyond it is flushed any more.
    pub fn rewind(&self, to: i64) {
        self.flushed.fetch_min(to, Ordering::AcqRel);
    }

    fn advance(&self, to: i64) {
        self.flushed.fetch_max(to, Ordering::AcqRel);
        let flushed = self.flushed();
        let mut done = Vec::new();
        {
            let mut w = self.waiters.lock();
            let mut i = 0;
            while i < w.len() {
                if w[i].0 <= flushed {
                    done.push(w.swap_remove(i));
                } else {
                    i += 1;
                }
            }
        }
        for (_, tx) in done {
            let _ = tx.send(Ok(()));
        }
    }

    /// Records the first failure (`what` failed, `why`) and fails every waiting put.
    fn fail(&self, what: &str, why: &std::io::Error) {
        // The first failure is the one reported.
        let _ = self.failure.set(format!("{what}: {why}"));
        let failed = std::mem::take(&mut *self.waiters.lock());
        for (_, tx) in failed {
            let _ = tx.send(Err(FlushWaitError::Failed));
        }
    }
}

/// Everything a commit-log flush touches.
pub(crate) struct CommitLogFlusher {
    pub commit_log: Arc<CommitLog>,
    pub progress: Arc<FlushProgress>,
    pub checkpoint: Arc<Checkpoint>,
    /// Rung after each flush under SYNC_FLUSH: dispatch waits for flushed data.
    pub after_flush: Option<Arc<StopSignal>>,
}

impl CommitLogFlusher {
    /// Flushes; returns whether it succeeded. Updates the checkpoint's physic timestamp only when
    /// everything written before the timestamp was read is flushed.
    pub fn flush(&self, least_pages: usize) -> bool {
        if self.progress.has_failed() {
            return false;
        }
        let ts = self.commit_log.last_store_timestamp();
        let written = self.commit_log.max_offset();
        match self.commit_log.queue().flush(least_pages) {
            Ok(flushed) => {
                if flushed >= written && ts > 0 {
                    self.checkpoint
                        .physic_msg_timestamp
                        .fetch_max(ts, Ordering::AcqRel);
                }
                self.progress
                    .advance(flushed.min(self.commit_log.max_offset()));
                if let Some(s) = &self.after_flush {
                    s.bell.ring();
                }
                true
            }
            Err(e) => {
                let dir = self.commit_log.queue().dir().display().to_string();
                tracing::error!(dir, error = %e,
                    "commit log flush failed: waiting SYNC_FLUSH puts fail and appends are \
                     refused until the broker restarts. Check the disk");
                self.progress
                    .fail(&format!("flushing the commit log in {dir}"), &e);
                false
            }
        }
    }

    pub fn run_async(
        &self,
        stop: &StopSignal,
        interval: Duration,
        least_pages: usize,
        thorough: Duration,
    ) {
        let mut last_thorough = Instant::now();
        while !stop.is_stopped() {
            stop.sleep(interval);
            let least = if last_thorough.elapsed() >= thorough {
                last_thorough = Instant::now();
                0
            } else {
                least_pages
            };
            self.flush(least);
        }
        self.flush(0);
    }

    pub fn run_group_commit(&self, stop: &StopSignal) {
        let mut failures = 0u32;
        loop {
            let pending = || self.commit_log.max_offset() > self.progress.flushed();
            if stop.is_stopped() {
                self.flush(0);
                return;
            }
            if self.progress.has_failed() {
                // Nothing more will be flushed (see the module comment): wait for the stop.
                stop.bell.wait(Duration::from_secs(1), || stop.is_stopped());
                continue;
            }
            if pending() {
                if self.flush(0) {
                    failures = 0;
                } else {
                    // Do not spin on a failing disk.
                    failures = failures.saturating_add(1);
                    stop.sleep(Duration::from_millis(10 * u64::from(failures.min(100))));
                }
            } else {
                stop.bell
                    .wait(Duration::from_secs(1), || stop.is_stopped() || pending());
            }
        }
    }
}

/// Flushes consume queues, the index, then the checkpoint.
pub(crate) struct LogicsFlusher {
    pub cqs: Arc<ConsumeQueueStore>,
    pub index: Option<Arc<IndexService>>,
    pub dispatcher: Arc<Dispatcher>,
    pub checkpoint: Arc<Checkpoint>,
    pub progress: Arc<FlushProgress>,
}

impl LogicsFlusher {
    /// Flushes; returns whether everything flushed. A failure is final, as for the commit log:
    /// the checkpoint stops moving and appends are refused, so a restart rebuilds the queues.
    pub fn flush(&self, least_pages: usize) -> bool {
        if self.progress.has_failed() {
            return false;
        }
        let ts = self.dispatcher.last_timestamp();
        if let Err(e) = self.cqs.flush(least_pages) {
            tracing::error!(error = %e, "consume queue flush failed: appends are refused until the broker restarts. Check the disk");
            self.progress.fail("flushing a consume queue", &e);
            return false;
        }
        self.checkpoint
            .logics_msg_timestamp
            .fetch_max(ts, Ordering::AcqRel);
        if let Some(index) = &self.index {
            if let Err(e) = index.flush() {
                tracing::error!(error = %e, "index flush failed: appends are refused until the broker restarts. Check the disk");
                self.progress.fail("flushing the index", &e);
                return false;
            }
            self.checkpoint
                .index_msg_timestamp
                .fetch_max(ts, Ordering::AcqRel);
        }
        self.checkpoint
            .confirm_phy_offset
            .store(self.progress.flushed(), Ordering::Release);
        if let Err(e) = self.checkpoint.flush() {
            tracing::error!(error = %e, "checkpoint flush failed; check the disk");
            return false;
        }
        true
    }

    pub fn run(
        &self,
        stop: &StopSignal,
        interval: Duration,
        least_pages: usize,
        thorough: Duration,
    ) {
        let mut last_thorough = Instant::now();
        while !stop.is_stopped() {
            stop.sleep(interval);
            let least = if last_thorough.elapsed() >= thorough {
                last_thorough = Instant::now();
                0
            } else {
                least_pages
            };
            self.flush(least);
        }
    }
}
