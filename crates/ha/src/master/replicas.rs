//! Which slaves are connected and how far they have acknowledged: the state a SYNC_MASTER put
//! waits on.
//!
//! Every ACK raises one monotonic "best acked offset" (Apache's `push2SlaveMaxOffset`) held in
//! a `watch` channel, so `wait_for_replica` sleeps on the channel and wakes on the ACK that
//! covers it: no polling, and thousands of concurrent waiters cost one comparison each per ACK.

use std::collections::BTreeSet;
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
    /// The broker id its hello gave (controller mode); `None` for a classic slave.
    pub broker_id: Option<i64>,
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
    broker_id: Arc<AtomicI64>,
    since: Instant,
}

/// How many members of the in-sync set must have a put before it is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InSyncNeed {
    /// Every slave in the set (`allAckInSyncStateSet=true`).
    All,
    /// This many slaves of the set (`inSyncReplicas` - 1: the master counts itself).
    Slaves(usize),
}

const NO_ACK: i64 = -1;
const NO_ID: i64 = -1;

pub(crate) struct Replicas {
    next_id: AtomicU64,
    slaves: Mutex<Vec<Entry>>,
    best_acked: watch::Sender<i64>,
    max_gap: i64,
    /// Controller mode: the slaves (by broker id) whose ACKs count; `None` in classic mode.
    in_sync: Mutex<Option<BTreeSet<i64>>>,
    /// Bumped on every ACK and every change of `in_sync`, for the in-sync waiters.
    changed: watch::Sender<u64>,
}

impl Replicas {
    pub fn new(max_gap: i64) -> Self {
        Replicas {
            next_id: AtomicU64::new(1),
            slaves: Mutex::new(Vec::new()),
            best_acked: watch::Sender::new(0),
            max_gap,
            in_sync: Mutex::new(None),
            changed: watch::Sender::new(0),
        }
    }

    /// Registers a connection; dropping the returned handle unregisters it.
    pub fn register(self: &Arc<Self>, addr: SocketAddr) -> SlaveHandle {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let acked = Arc::new(AtomicI64::new(NO_ACK));
        let broker_id = Arc::new(AtomicI64::new(NO_ID));
        self.slaves.lock().push(Entry {
            id,
            addr,
            acked: Arc::clone(&acked),
            broker_id: Arc::clone(&broker_id),
            since: Instant::now(),
        });
        SlaveHandle {
            id,
            addr,
            acked,
            broker_id,
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
                    broker_id: Some(e.broker_id.load(Ordering::Acquire)).filter(|b| *b != NO_ID),
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

    /// Controller mode: the slaves whose ACKs count from now on (`None`: classic mode).
    pub fn set_in_sync(&self, ids: Option<BTreeSet<i64>>) {
        *self.in_sync.lock() = ids;
        self.changed.send_modify(|n| *n += 1);
    }

    pub fn in_sync(&self) -> Option<BTreeSet<i64>> {
        self.in_sync.lock().clone()
    }

    /// The highest ACK of the slave with broker id `id` over its connections.
    fn acked_by(&self, id: i64) -> Option<i64> {
        self.slaves
            .lock()
            .iter()
            .filter(|e| e.broker_id.load(Ordering::Acquire) == id)
            .map(|e| e.acked.load(Ordering::Acquire))
            .filter(|a| *a != NO_ACK)
            .max()
    }

    /// How far every in-sync slave has the log (`None` in classic mode or with no slave in
    /// the set): what consumers may see without reading something a failover could undo.
    pub fn in_sync_confirm(&self) -> Option<i64> {
        let ids = self.in_sync()?;
        let mut confirm: Option<i64> = None;
        for id in ids {
            let a = self.acked_by(id).unwrap_or(0);
            confirm = Some(confirm.map_or(a, |c| c.min(a)));
        }
        confirm
    }

    fn in_sync_met(&self, end_offset: i64, need: InSyncNeed) -> Option<bool> {
        let ids = self.in_sync()?;
        let have = ids
            .iter()
            .filter(|id| self.acked_by(**id).is_some_and(|a| a >= end_offset))
            .count();
        Some(match need {
            InSyncNeed::All => have == ids.len(),
            InSyncNeed::Slaves(n) => have >= n,
        })
    }

    /// Controller mode: waits until the in-sync slaves `need` says have `end_offset`. The set
    /// is read again on every ACK and every change, so a slave shrunk out of it stops holding
    /// puts back, and one expanded into it starts to.
    pub async fn wait_for_in_sync(
        &self,
        end_offset: i64,
        need: InSyncNeed,
        timeout: Duration,
    ) -> ReplicaResult {
        let mut rx = self.changed.subscribe();
        let wait = async {
            loop {
                rx.borrow_and_update();
                match self.in_sync_met(end_offset, need) {
                    None => return ReplicaResult::NotAvailable,
                    Some(true) => return ReplicaResult::Ok,
                    Some(false) => {}
                }
                if rx.changed().await.is_err() {
                    return ReplicaResult::NotAvailable;
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .unwrap_or(ReplicaResult::Timeout)
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
    broker_id: Arc<AtomicI64>,
    replicas: Arc<Replicas>,
}

impl SlaveHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn acked(&self) -> Option<i64> {
        Some(self.acked.load(Ordering::Acquire)).filter(|a| *a != NO_ACK)
    }

    pub fn broker_id(&self) -> Option<i64> {
        Some(self.broker_id.load(Ordering::Acquire)).filter(|b| *b != NO_ID)
    }

    /// The slave's hello named its broker id.
    pub fn set_broker_id(&self, id: i64) {
        self.broker_id.store(id, Ordering::Release);
        self.replicas.changed.send_modify(|n| *n += 1);
    }

    pub fn on_ack(&self, offset: i64) {
        self.acked.store(offset, Ordering::Release);
        self.replicas.changed.send_modify(|n| *n += 1);
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
        self.replicas.changed.send_modify(|n| *n += 1);
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
