//! `HaClient`: the slave side of replication (Apache's `HAClient`).
//!
//! The master's HA address is not fixed: the broker learns it from the name server's
//! REGISTER_BROKER answer (or `haMasterAddress`) and it can change at any time, so the client
//! follows a `watch` channel. A new address drops the current connection and connects at once;
//! a failure waits `reconnect_interval`. Each connection resumes from the slave's own
//! CommitLog end, so a slave restart neither duplicates nor skips data.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use rmq_store::{BrokerRole, MessageStore};
use tokio::sync::watch;
use tokio_util::sync::{CancellationToken, DropGuard};
use tokio_util::task::TaskTracker;

use crate::config::HaConfig;
use crate::error::HaError;
use crate::slave::connection;
use crate::slave::state::ClientState;

/// The slave's replication client. Clones share it; dropping the last clone stops its task
/// (without waiting: call [`HaClient::shutdown`] for that).
#[derive(Clone)]
pub struct HaClient {
    state: Arc<ClientState>,
    cancel: CancellationToken,
    tracker: TaskTracker,
    _stop_on_drop: Arc<DropGuard>,
}

impl std::fmt::Debug for HaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HaClient")
            .field("master", &self.master_address())
            .field("connected", &self.is_connected())
            .finish()
    }
}

impl HaClient {
    /// Starts replicating into `store` (a SLAVE store) from whatever address `master_addr`
    /// holds (`host:port` of the master's HA port; `None` while unknown). Must be called inside
    /// a tokio runtime. Refuses a store whose role is not SLAVE: replicated bytes appended to a
    /// master's CommitLog would collide with its own appends.
    pub fn start(
        store: Arc<MessageStore>,
        master_addr: watch::Receiver<Option<String>>,
        cfg: HaConfig,
    ) -> Result<HaClient, HaError> {
        Self::start_proving(store, master_addr, cfg, None)
    }

    /// As [`start`](Self::start); with a prover, every connection opens by proving its account
    /// (masters with ACL on require it).
    pub fn start_proving(
        store: Arc<MessageStore>,
        master_addr: watch::Receiver<Option<String>>,
        cfg: HaConfig,
        prover: Option<Arc<dyn crate::HaProver>>,
    ) -> Result<HaClient, HaError> {
        let role = store.role();
        if role != BrokerRole::Slave {
            return Err(HaError::NotSlave { role });
        }
        let state = Arc::new(ClientState {
            store,
            cfg,
            connected: AtomicBool::new(false),
            master_offset: AtomicI64::new(-1),
            master_addr: Mutex::new(None),
            broker_id: AtomicI64::new(-1),
            prover,
        });
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        tracker.spawn(run(Arc::clone(&state), master_addr, cancel.clone()));
        Ok(HaClient {
            state,
            _stop_on_drop: Arc::new(cancel.clone().drop_guard()),
            cancel,
            tracker,
        })
    }

    /// Controller mode: introduce this slave by its broker id on every new connection, so the
    /// master can count it in the SyncStateSet.
    pub fn set_broker_id(&self, id: i64) {
        self.state.broker_id.store(id, Ordering::Release);
    }

    /// Stops following (closing the connection) and completes once no replicated byte can be
    /// appended any more: the client has given up its connection.
    pub async fn stop_following(&self, addr_tx: &watch::Sender<Option<String>>) {
        addr_tx.send_replace(None);
        let mut pause = std::time::Duration::from_millis(1);
        while self.state.master_addr.lock().is_some() || self.is_connected() {
            if self.cancel.is_cancelled() {
                return;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(std::time::Duration::from_millis(20));
        }
    }

    /// The master HA address currently used (or being connected to).
    pub fn master_address(&self) -> Option<String> {
        self.state.master_addr.lock().clone()
    }

    pub fn is_connected(&self) -> bool {
        self.state.connected.load(Ordering::Acquire)
    }

    /// How far the master had data in the last frame it sent (`None` before any frame).
    pub fn master_offset(&self) -> Option<i64> {
        Some(self.state.master_offset.load(Ordering::Acquire)).filter(|o| *o >= 0)
    }

    /// Bytes the slave lacks relative to what the master last announced.
    pub fn lag_bytes(&self) -> Option<i64> {
        self.master_offset()
            .map(|m| (m - self.state.store.commit_log_max_offset()).max(0))
    }

    /// Closes the connection and stops the client.
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

/// The master address channel; once its sender is gone the last address stays in force.
struct AddrWatch {
    rx: watch::Receiver<Option<String>>,
    open: bool,
}

impl AddrWatch {
    fn current(&mut self) -> Option<String> {
        self.rx.borrow_and_update().clone()
    }

    /// Completes when the address changes; never, once the sender is dropped.
    async fn changed(&mut self) {
        if self.open && self.rx.changed().await.is_ok() {
            return;
        }
        self.open = false;
        std::future::pending::<()>().await;
    }
}

async fn run(
    state: Arc<ClientState>,
    rx: watch::Receiver<Option<String>>,
    cancel: CancellationToken,
) {
    let mut addr = AddrWatch { rx, open: true };
    loop {
        let current = addr.current();
        *state.master_addr.lock() = current.clone();
        let Some(master) = current else {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = addr.changed() => continue,
            }
        };
        let result = tokio::select! {
            _ = cancel.cancelled() => return,
            _ = addr.changed() => {
                tracing::info!(old = %master, new = ?addr.rx.borrow().as_deref(),
                    "HA master address changed; reconnecting");
                continue;
            }
            r = connection::replicate(&master, &state) => r,
        };
        report(&master, result, &state);
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = addr.changed() => {}
            _ = tokio::time::sleep(state.cfg.reconnect_interval) => {}
        }
    }
}

fn report(master: &str, result: Result<(), HaError>, state: &ClientState) {
    let offset = state.store.commit_log_max_offset();
    match result {
        Ok(()) => tracing::info!(master, offset, "HA disconnected from master"),
        Err(e @ (HaError::Protocol(_) | HaError::Append { .. } | HaError::Silent { .. })) => {
            tracing::warn!(master, offset, error = %e, "HA connection to master failed")
        }
        Err(
            e @ (HaError::ConnectTimeout { .. }
            | HaError::Io {
                op: "connect to master",
                ..
            }),
        ) => {
            tracing::info!(master, offset, error = %e, retry_ms = state.cfg.reconnect_interval.as_millis() as u64,
                "HA cannot reach master")
        }
        Err(e) => tracing::info!(master, offset, error = %e, "HA disconnected from master"),
    }
}
