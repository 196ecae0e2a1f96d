//! `HaServer`: the master side of replication (Apache's `DefaultHAService` + `AcceptSocketService`
//! + `GroupTransferService`).
//!
//! Shaped like the other rmq servers: it is given a bound `TcpListener` (tests use port 0), owns
//! every task it starts (a `CancellationToken` and a `TaskTracker`), and `shutdown` stops and
//! awaits them all. It is a cheap `Clone` so the broker's send path can keep a handle.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rmq_store::MessageStore;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::{CancellationToken, DropGuard};
use tokio_util::task::TaskTracker;

use crate::config::HaConfig;
use crate::error::HaError;
use crate::master::connection;
use crate::master::replicas::InSyncNeed;
use crate::master::replicas::{ReplicaResult, Replicas, SlaveStatus};
use crate::master::shared::Shared;

/// Most slave connections served at once; more are refused (a master has one or two slaves, so
/// hitting this means something is connecting in a loop).
const MAX_SLAVES: usize = 64;

/// The master's replication service. Clones share it; dropping the last clone stops its tasks
/// (without waiting: call [`HaServer::shutdown`] for that).
#[derive(Clone)]
pub struct HaServer {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    _stop_on_drop: Arc<DropGuard>,
}

impl std::fmt::Debug for HaServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HaServer")
            .field("local_addr", &self.local_addr)
            .field("slaves", &self.shared.replicas.count())
            .finish()
    }
}

impl HaServer {
    /// Starts accepting slaves on `listener` (bound to `haListenPort`) and serving them from
    /// `store`. Must be called inside a tokio runtime.
    pub fn start(
        listener: TcpListener,
        store: Arc<MessageStore>,
        cfg: HaConfig,
    ) -> Result<HaServer, HaError> {
        Self::start_guarded(listener, store, cfg, None)
    }

    /// As [`start`](Self::start); with a guard, only slaves that prove an account it accepts
    /// may replicate (`crate::auth`).
    pub fn start_guarded(
        listener: TcpListener,
        store: Arc<MessageStore>,
        cfg: HaConfig,
        guard: Option<Arc<dyn crate::HaGuard>>,
    ) -> Result<HaServer, HaError> {
        let local_addr = listener.local_addr().map_err(|source| HaError::Io {
            op: "local address of",
            peer: "HA listener".into(),
            source,
        })?;
        let shared = Arc::new(Shared {
            store,
            replicas: Arc::new(Replicas::new(cfg.max_gap_not_in_sync)),
            cfg,
            data_ready: Notify::new(),
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
            guard,
        });
        let s = Arc::clone(&shared);
        shared.tracker.spawn(accept_loop(s, listener));
        tracing::info!(addr = %local_addr, "HA server listening");
        let guard = Arc::new(shared.cancel.clone().drop_guard());
        Ok(HaServer {
            shared,
            local_addr,
            _stop_on_drop: guard,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Wakes the connection writers: call after appending to the CommitLog for the lowest
    /// replication latency. Without it writers notice new data within a few milliseconds.
    pub fn notify_appended(&self) {
        self.shared.data_ready.notify_waiters();
    }

    /// The connected slaves with their ACK offsets and lag behind the master's CommitLog end.
    pub fn connected_slaves(&self) -> Vec<SlaveStatus> {
        self.shared
            .replicas
            .statuses(self.shared.store.commit_log_max_offset())
    }

    pub fn connected_slave_count(&self) -> usize {
        self.shared.replicas.count()
    }

    /// The highest offset any slave has acknowledged (Apache's `push2SlaveMaxOffset`).
    pub fn max_acked_offset(&self) -> i64 {
        self.shared.replicas.best_acked()
    }

    /// Apache's `isSlaveOK`: at least one slave is connected and the best one lags
    /// `master_put_offset` by less than `haMaxGapNotInSync`.
    pub fn is_slave_ok(&self, master_put_offset: i64) -> bool {
        self.shared.replicas.is_slave_ok(master_put_offset)
    }

    /// For a SYNC_MASTER put: completes as soon as a slave acknowledges `end_offset` (the put's
    /// `append.end_offset`), with `Timeout` after `timeout`, or at once with `NotAvailable` when
    /// [`HaServer::is_slave_ok`] is false or the server is shut down.
    pub async fn wait_for_replica(&self, end_offset: i64, timeout: Duration) -> ReplicaResult {
        if self.shared.cancel.is_cancelled() {
            return ReplicaResult::NotAvailable;
        }
        // Someone is waiting, so there is new data: wake the writers now.
        self.notify_appended();
        tokio::select! {
            r = self.shared.replicas.wait_for(end_offset, timeout) => r,
            _ = self.shared.cancel.cancelled() => ReplicaResult::NotAvailable,
        }
    }

    /// Controller mode: the slaves (by the broker ids of their hellos) in the SyncStateSet,
    /// whose ACKs [`HaServer::wait_for_in_sync`] counts and which limit what consumers see;
    /// `None` goes back to classic mode (any slave's ACK counts, no limit).
    pub fn set_in_sync(&self, slaves: Option<std::collections::BTreeSet<i64>>) {
        let classic = slaves.is_none();
        self.shared.replicas.set_in_sync(slaves);
        let confirm = if classic {
            None
        } else {
            self.shared.replicas.in_sync_confirm()
        };
        self.shared.store.set_replica_confirm(confirm);
    }

    /// The slaves whose ACKs count now (`None` in classic mode).
    pub fn in_sync(&self) -> Option<std::collections::BTreeSet<i64>> {
        self.shared.replicas.in_sync()
    }

    /// Controller mode: completes when the in-sync slaves `need` names have `end_offset`,
    /// with `Timeout` after `timeout`; `NotAvailable` in classic mode or after shutdown.
    pub async fn wait_for_in_sync(
        &self,
        end_offset: i64,
        need: InSyncNeed,
        timeout: Duration,
    ) -> ReplicaResult {
        if self.shared.cancel.is_cancelled() {
            return ReplicaResult::NotAvailable;
        }
        self.notify_appended();
        tokio::select! {
            r = self.shared.replicas.wait_for_in_sync(end_offset, need, timeout) => r,
            _ = self.shared.cancel.cancelled() => ReplicaResult::NotAvailable,
        }
    }

    /// Stops accepting, closes every slave connection and waits for all tasks to finish.
    pub async fn shutdown(&self) {
        self.shared.cancel.cancel();
        self.shared.tracker.close();
        self.shared.tracker.wait().await;
        tracing::info!(addr = %self.local_addr, "HA server stopped");
    }
}

async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    let mut backoff = Duration::from_millis(10);
    loop {
        let accepted = tokio::select! {
            _ = shared.cancel.cancelled() => return,
            r = listener.accept() => r,
        };
        match accepted {
            Ok((stream, peer)) => {
                backoff = Duration::from_millis(10);
                if shared.replicas.count() >= MAX_SLAVES {
                    tracing::warn!(slave = %peer, limit = MAX_SLAVES, "refusing HA connection: too many slaves");
                    continue;
                }
                let s = Arc::clone(&shared);
                shared.tracker.spawn(async move {
                    let mut stream = stream;
                    let within = s.cfg.housekeeping_interval;
                    let admitted = tokio::select! {
                        _ = s.cancel.cancelled() => return,
                        r = crate::auth::admit(&mut stream, peer.ip(), s.guard.as_deref(), within) => r,
                    };
                    match admitted {
                        Ok(prefix) => connection::spawn(&s, stream, peer, prefix),
                        Err(e) => tracing::warn!(slave = %peer, error = %e, "HA slave not admitted"),
                    }
                });
            }
            Err(e) => {
                // Usually out of file descriptors: back off instead of spinning.
                tracing::warn!(error = %e, retry_ms = backoff.as_millis() as u64, "HA accept failed");
                tokio::select! {
                    _ = shared.cancel.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}
