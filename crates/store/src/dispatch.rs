//! Dispatch ("reput"): turns newly appended CommitLog records into ConsumeQueue and index entries
//! and tells the broker a queue grew.
//!
//! The same [`Dispatcher::dispatch_until`] runs in the background thread (woken by a doorbell
//! that appends and flushes ring, never a polling sleep) and during recovery, where it rebuilds
//! what the consume queues and index lack. Both sinks are idempotent, so re-dispatching a stretch
//! that was already dispatched is harmless.
//!
//! Under ASYNC_FLUSH the appending thread dispatches its own record right after the append
//! ([`Dispatcher::try_dispatch_until`]) when nobody else is dispatching: waking the background
//! thread for every message cost a futex wake and two context switches per put, about a quarter of
//! a broker worker's time on 2 cores. One lock keeps a single dispatcher at a time.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use rmq_common::delay::DelayLevels;
use rmq_common::record::{peek_record, Peek, RecordError};

use crate::commit_log::CommitLog;
use crate::cq_store::ConsumeQueueStore;
use crate::dispatch_request::DispatchRequest;
use crate::index_service::IndexService;

/// Called after a message is dispatched: `(topic, queue_id, new max logical offset, tag code)`.
pub type ArrivalListener = Arc<dyn Fn(&str, i32, i64, i64) + Send + Sync>;

pub(crate) struct Dispatcher {
    commit_log: Arc<CommitLog>,
    cqs: Arc<ConsumeQueueStore>,
    index: Option<Arc<IndexService>>,
    delay: DelayLevels,
    listener: RwLock<Option<ArrivalListener>>,
    /// Next commit-log offset to dispatch.
    reput: AtomicI64,
    /// Store time of the last dispatched record (checkpoint logics/index timestamps).
    last_timestamp: AtomicI64,
    stalled: AtomicBool,
    /// Held while dispatching: `reput` is read, advanced and stored by one thread at a time.
    running: Mutex<()>,
}

impl Dispatcher {
    pub fn new(
        commit_log: Arc<CommitLog>,
        cqs: Arc<ConsumeQueueStore>,
        index: Option<Arc<IndexService>>,
        delay: DelayLevels,
    ) -> Self {
        Dispatcher {
            commit_log,
            cqs,
            index,
            delay,
            listener: RwLock::new(None),
            reput: AtomicI64::new(0),
            last_timestamp: AtomicI64::new(0),
            stalled: AtomicBool::new(false),
            running: Mutex::new(()),
        }
    }

    pub fn set_listener(&self, l: Option<ArrivalListener>) {
        *self.listener.write() = l;
    }
    pub fn reput_offset(&self) -> i64 {
        self.reput.load(Ordering::Acquire)
    }
    pub fn set_reput_offset(&self, offset: i64) {
        self.reput.store(offset, Ordering::Release);
    }
    pub fn last_timestamp(&self) -> i64 {
        self.last_timestamp.load(Ordering::Acquire)
    }

    /// Runs `f` with dispatch paused, then moves the next offset to dispatch back to at most
    /// `offset` (a replica cutting its log back).
    pub fn rewind_with<R>(&self, offset: i64, f: impl FnOnce() -> R) -> R {
        let _running = self.running.lock();
        let r = f();
        self.reput.fetch_min(offset, Ordering::AcqRel);
        self.stalled.store(false, Ordering::Release);
        r
    }

    /// Dispatches every record below `limit`, waiting for a dispatch running on another thread
    /// to finish first. Stops early (and stays stalled until the log moves on) at bytes that are
    /// not a record, logging it once.
    pub fn dispatch_until(&self, limit: i64) {
        let _running = self.running.lock();
        self.dispatch_locked(limit);
    }

    fn dispatch_locked(&self, limit: i64) {
        let listener = self.listener.read().clone();
        let mut reput = self.reput_offset();
        while reput < limit {
            let Some(file) = self.commit_log.queue().find(reput) else {
                break;
            };
            let pos = (reput - file.start()) as usize;
            let end = ((limit - file.start()) as usize).min(file.wrote_pos());
            let Some(data) = file.published(pos, end.saturating_sub(pos)) else {
                break;
            };
            let mut at = 0;
            while at < data.len() {
                match peek_record(&data[at..], false) {
                    Ok(Peek::Record(v)) if v.physical_offset == reput => {
                        self.dispatch_one(
                            &DispatchRequest::from_view(&v, &self.delay),
                            listener.as_ref(),
                        );
                        at += v.total_size as usize;
                        reput += v.total_size as i64;
                    }
                    Ok(Peek::Blank) => {
                        reput = file.end();
                        break;
                    }
                    // A record only partly present (a slave mid-chunk): wait for the rest.
                    Err(RecordError::Truncated { .. }) => {
                        self.reput.store(reput, Ordering::Release);
                        return;
                    }
                    other => {
                        if !self.stalled.swap(true, Ordering::AcqRel) {
                            let why = match other {
                                Err(e) => e.to_string(),
                                _ => "physical offset field does not match its position".into(),
                            };
                            tracing::error!(offset = reput, file = %file.path().display(), reason = %why,
                                "dispatch found bytes that are not a record; consume queues stop here. \
                                 Restart the broker to run recovery");
                        }
                        self.reput.store(reput, Ordering::Release);
                        return;
                    }
                }
            }
            if at >= data.len() && reput < file.end() && end >= file.size() {
                // The file is exhausted without a blank (recovered end at the file end).
                reput = file.end();
            }
            self.reput.store(reput, Ordering::Release);
        }
        self.reput.store(reput, Ordering::Release);
    }

    fn dispatch_one(&self, req: &DispatchRequest<'_>, listener: Option<&ArrivalListener>) {
        if req.goes_to_consume_queue() {
            let cq = self.cqs.find_or_create(req.topic, req.queue_id);
            match cq.put(req.phy_offset, req.size, req.tags_code, req.queue_offset) {
                Ok(true) => {
                    if let Some(l) = listener {
                        l(req.topic, req.queue_id, req.queue_offset + 1, req.tags_code);
                    }
                }
                Ok(false) => {}
                Err(e) => tracing::error!(topic = req.topic, queue_id = req.queue_id, error = %e,
                    "cannot write consume queue entry; check disk space and permissions"),
            }
        }
        if let Some(index) = &self.index {
            if req.goes_to_index() {
                if let Err(e) = index.build(req) {
                    tracing::error!(error = %e, "cannot write index entry; check disk space");
                }
            }
        }
        self.last_timestamp
            .fetch_max(req.store_timestamp, Ordering::AcqRel);
    }
}
