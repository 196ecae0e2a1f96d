//! Config files written by one background task, with group commit: every change takes the next
//! number; the persister writes the whole file (off the async workers) and publishes the highest
//! number the write covers, so changes made while a write runs share the next one (thousands of
//! topics created at once cost a few writes), and an answer that must not come before its
//! change is on disk waits for that number ([`GroupCommit::persisted`]). A slow or stalled disk
//! then holds only the answers that wait for it, never an async worker.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;

use crate::BrokerError;

/// What the persister has done: every change up to `upto` is on disk; `failed` is the last
/// failed write (the highest change it covered, and why).
#[derive(Clone, Default)]
struct Written {
    upto: u64,
    failed: Option<(u64, String)>,
}

/// The change counter and the persister's progress for one file.
pub struct GroupCommit {
    path: PathBuf,
    changes: AtomicU64,
    written: watch::Sender<Written>,
    changed: Notify,
}

impl GroupCommit {
    pub fn new(path: PathBuf) -> Self {
        GroupCommit {
            path,
            changes: AtomicU64::new(0),
            written: watch::Sender::new(Written::default()),
            changed: Notify::new(),
        }
    }

    /// Records a change (made before this call) and wakes the persister.
    pub fn mark(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
        self.changed.notify_one();
    }

    /// Waits for a change to write (the persister).
    async fn changed(&self) {
        self.changed.notified().await;
    }

    /// Runs `write` if anything changed since the last write, and publishes what it covered.
    pub fn write_if_dirty(
        &self,
        write: impl FnOnce() -> Result<(), BrokerError>,
    ) -> Result<(), BrokerError> {
        // Read the number first: the snapshot `write` takes includes every change up to it.
        let upto = self.changes.load(Ordering::Acquire);
        if upto <= self.written.borrow().upto {
            return Ok(());
        }
        match write() {
            Ok(()) => {
                self.written.send_modify(|w| w.upto = w.upto.max(upto));
                Ok(())
            }
            Err(e) => {
                self.written
                    .send_modify(|w| w.failed = Some((upto, e.to_string())));
                Err(e)
            }
        }
    }

    /// Waits until every change made so far is on disk. Immediate when nothing is pending; an
    /// error when the write covering the changes failed.
    pub async fn persisted(&self) -> Result<(), BrokerError> {
        let want = self.changes.load(Ordering::Acquire);
        // The send path calls this on every send: with nothing pending it costs a load and a
        // read lock, no receiver.
        if self.written.borrow().upto >= want {
            return Ok(());
        }
        let mut rx = self.written.subscribe();
        let outcome = rx
            .wait_for(|w| w.upto >= want || w.failed.as_ref().is_some_and(|f| f.0 >= want))
            .await;
        match outcome {
            Ok(w) if w.upto >= want => Ok(()),
            Ok(w) => Err(BrokerError::ConfigFile {
                path: self.path.clone(),
                reason: w.failed.as_ref().map_or_else(String::new, |f| f.1.clone()),
            }),
            // The sender lives in `self`, so it cannot be gone while we hold `&self`.
            Err(_) => Ok(()),
        }
    }
}

/// A config file kept by a [`GroupCommit`] persister.
pub trait Durable: Send + Sync + 'static {
    /// What the file holds, for logs ("topic configs").
    const WHAT: &'static str;
    fn commit(&self) -> &GroupCommit;
    /// Writes the whole file now.
    fn write(&self) -> Result<(), BrokerError>;
}

/// The persister task of `d`: writes whenever it changed; a failed write is retried every
/// second; on the way out one last write answers whoever still waits for one.
pub async fn persister<D: Durable>(d: Arc<D>, stop: CancellationToken) {
    loop {
        let stopping = tokio::select! {
            _ = d.commit().changed() => false,
            _ = stop.cancelled() => true,
        };
        while !write_once(&d).await && !stopping {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.cancelled() => {
                    write_once(&d).await;
                    return;
                }
            }
        }
        if stopping {
            return;
        }
    }
}

/// One write off the async workers; `false` (logged) when it failed.
async fn write_once<D: Durable>(d: &Arc<D>) -> bool {
    let t = Arc::clone(d);
    match tokio::task::spawn_blocking(move || t.commit().write_if_dirty(|| t.write())).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "could not persist {}; check the disk", D::WHAT);
            false
        }
        Err(e) => {
            tracing::error!(error = %e, "writing {} panicked", D::WHAT);
            false
        }
    }
}
