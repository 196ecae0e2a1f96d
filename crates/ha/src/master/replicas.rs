//! Which slaves are connected and how far they have acknowledged: the state a SYNC_MASTER put
//! waits on.
//!
//! Every ACK raises one monotonic "best acked offset" (Apache's `push2SlaveMaxOffset`) held in
//! a `watch` channel, so `wait_for_replica` sleeps on the channel and wakes on the ACK that
//! covers it: no polling, and thousands of concurrent waiters cost one comparison each per ACK.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rmq_store::PutMessageStatus;
use tokio::sync::watch;

/// Outcome of waiting for a slave to have a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaResult {
    /// A slave acknowledged the offset.
    Ok,
    /// No ACK within the timeout: FLUSH_SLAVE_TIMEOUT.
    Timeout,
    /// No slave connected, or the best one is more than `haMaxGapNotInSync` behind:
    /// SLAVE_NOT_AVAILABLE.
    NotAvailable,
}

impl ReplicaResult {
    /// The put status once replication is taken into account: a replication failure replaces
    /// the flush status, as in Apache's `CommitLog.handleDiskFlushAndHA` (the message is stored
    /// on the master either way).
    pub fn apply_to(self, status: PutMessageStatus) -> PutMessageStatus {
        match self {
            ReplicaResult::Ok => status,
            ReplicaResult::Timeout => PutMessageStatus::FlushSlaveTimeout,
            ReplicaResult::NotAvailable => PutMessageStatus::SlaveNotAvailable,
        }
    }
}

/// One connected slave, as reported by [`crate::HaServer::connected_slaves`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaveStatus {
    pub addr: SocketAddr,
    /// The slave's last reported CommitLog end; `None` before its first report.
    pub acked_offset: Option<i64>,
    /// How many bytes of the master's CommitLog the slave lacks (master end − acked offset).
    pub lag_bytes: Option<i64>,
    pub connected_for: Duration,
}

struct Entry {
    id: u64,
    addr: SocketAddr,
    acked: Arc<AtomicI64>,
    since: Instant,
}

const NO_ACK: i64 = -1;

pub(crate) struct Replicas {
    next_id: AtomicU64,
    slaves: Mutex<Vec<Entry>>,
    best_acked: watch::Sender<i64>,
    max_gap: i64,
}

impl Replicas {
    pub fn new(max_gap: i64) -> Self {
        Replicas {
            next_id: AtomicU64::new(1),
            slaves: Mutex::new(Vec::new()),
            best_acked: watch::Sender::new(0),
            max_gap,
        }
    }

    /// Registers a connection; dropping the returned handle unregisters it.
    pub fn register(self: &Arc<Self>, addr: SocketAddr) -> SlaveHandle {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let acked = Arc::new(AtomicI64::new(NO_ACK));
        self.slaves.lock().push(Entry {
            id,
            addr,
            acked: Arc::clone(&acked),
            since: Instant::now(),
        });
        SlaveHandle {
            id,
            addr,
            acked,
            replicas: Arc::clone(self),
        }
    }

    pub fn count(&self) -> usize {
        self.slaves.lock().len()
    }

    pub fn best_acked(&self) -> i64 {
        *self.best_acked.borrow()
    }

    pub fn statuses(&self, master_max: i64) -> Vec<SlaveStatus> {
        self.slaves
            .lock()
            .iter()
            .map(|e| {
                let acked = Some(e.acked.load(Ordering::Acquire)).filter(|a| *a != NO_ACK);
                SlaveStatus {
                    addr: e.addr,
                    acked_offset: acked,
                    lag_bytes: acked.map(|a| (master_max - a).max(0)),
                    connected_for: e.since.elapsed(),
                }
            })
            .collect()
    }

    /// Apache's `isSlaveOK`: a slave is connected and the best ACK is within the gap limit.
    pub fn is_slave_ok(&self, master_put_offset: i64) -> bool {
        self.count() > 0 && master_put_offset - self.best_acked() < self.max_gap
    }

    /// Waits until some slave acknowledged `end_offset`.
    pub async fn wait_for(&self, end_offset: i64, timeout: Duration) -> ReplicaResult {
        let mut rx = self.best_acked.subscribe();
        if *rx.borrow_and_update() >= end_offset {
            return ReplicaResult::Ok;
        }
        if !self.is_slave_ok(end_offset) {
            return ReplicaResult::NotAvailable;
        }
        let covered = tokio::time::timeout(timeout, rx.wait_for(|acked| *acked >= end_offset))
            .await
            .map(|r| r.is_ok());
        match covered {
            Ok(true) => ReplicaResult::Ok,
            // The sender lives as long as `self`; treat its loss like no slave.
            Ok(false) => ReplicaResult::NotAvailable,
            Err(_) => ReplicaResult::Timeout,
        }
    }
}

/// A registered slave connection; records its ACKs and unregisters on drop.
pub(crate) struct SlaveHandle {
    id: u64,
    addr: SocketAddr,
    acked: Arc<AtomicI64>,
    replicas: Arc<Replicas>,
}

impl SlaveHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn acked(&self) -> Option<i64> {
        Some(self.acked.load(Ordering::Acquire)).filter(|a| *a != NO_ACK)
    }

    pub fn on_ack(&self, offset: i64) {
        self.acked.store(offset, Ordering::Release);
        self.replicas.best_acked.send_if_modified(|best| {
            if offset > *best {
                *best = offset;
                true
            } else {
                false
            }
        });
    }
}

impl Drop for SlaveHandle {
    fn drop(&mut self) {
        self.replicas.slaves.lock().retain(|e| e.id != self.id);
        tracing::info!(slave = %self.addr, acked = ?self.acked(), slaves = self.replicas.count(),
            "HA slave disconnected");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 10912))
    }

    #[tokio::test(start_paused = true)]
    async fn waits_complete_on_the_covering_ack() {
        let r = Arc::new(Replicas::new(1000));
        assert_eq!(
            r.wait_for(10, Duration::from_secs(1)).await,
            ReplicaResult::NotAvailable,
            "no slave"
        );
        let slave = r.register(addr());
        slave.on_ack(0);
        let r2 = Arc::clone(&r);
        let waiter = tokio::spawn(async move { r2.wait_for(100, Duration::from_secs(3)).await });
        tokio::task::yield_now().await;
        slave.on_ack(99);
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        slave.on_ack(150);
        assert_eq!(waiter.await.ok(), Some(ReplicaResult::Ok));
        assert_eq!(
            r.wait_for(120, Duration::ZERO).await,
            ReplicaResult::Ok,
            "already covered"
        );
        assert_eq!(
            r.wait_for(200, Duration::from_secs(3)).await,
            ReplicaResult::Timeout
        );
    }

    #[tokio::test]
    async fn gap_and_disconnect_make_the_slave_unavailable() {
        let r = Arc::new(Replicas::new(1000));
        let slave = r.register(addr());
        slave.on_ack(500);
        assert!(r.is_slave_ok(1499));
        assert!(!r.is_slave_ok(1500));
        assert_eq!(
            r.wait_for(5000, Duration::from_secs(1)).await,
            ReplicaResult::NotAvailable
        );
        assert_eq!(r.statuses(800)[0].lag_bytes, Some(300));
        drop(slave);
        assert_eq!(r.count(), 0);
        assert!(!r.is_slave_ok(600));
    }

    #[test]
    fn results_map_to_put_statuses() {
        use PutMessageStatus::*;
        assert_eq!(
            ReplicaResult::Ok.apply_to(FlushDiskTimeout),
            FlushDiskTimeout
        );
        assert_eq!(ReplicaResult::Timeout.apply_to(PutOk), FlushSlaveTimeout);
        assert_eq!(
            ReplicaResult::NotAvailable.apply_to(FlushDiskTimeout),
            SlaveNotAvailable
        );
    }
}
