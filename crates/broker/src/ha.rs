//! Master/slave replication in the broker, on top of `rmq-ha`.
//!
//! A master (ASYNC_MASTER or SYNC_MASTER) serves its CommitLog on `haListenPort`; a SYNC_MASTER
//! additionally holds each send with `WAIT=true` until a slave has it (FLUSH_SLAVE_TIMEOUT after
//! `slaveTimeout`, as Apache's `CommitLog.handleHA` waits; SLAVE_NOT_AVAILABLE when no slave is in sync; the message is stored
//! either way). A slave follows the master's HA address: `haMasterAddress` if configured, else
//! the address the name servers return when it registers.
//!
//! In controller mode the role changes while the broker runs: both sides are started, the
//! server listening and the client idle, and [`BrokerHa::become_master`] /
//! [`BrokerHa::follow`] switch between them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use std::collections::BTreeSet;

use rmq_ha::{HaClient, HaConfig, HaServer, InSyncNeed, ReplicaResult, SlaveStatus};
use rmq_store::{BrokerRole, MessageStore, PutMessageResult};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::BrokerStartupConfig;
use crate::BrokerError;

/// The broker's side of replication: a server on masters, a client on slaves.
pub struct BrokerHa {
    server: Option<HaServer>,
    client: Option<HaClient>,
    master_addr: watch::Sender<Option<String>>,
    sync_master: AtomicBool,
    /// Serving slaves (a master) rather than following a master.
    serving: AtomicBool,
    wait_timeout: Duration,
    /// Controller mode: when a send is acknowledged, from the SyncStateSet.
    in_sync_acks: Option<InSyncAcks>,
}

/// Controller mode's acknowledgement rule (`allAckInSyncStateSet`, `inSyncReplicas`,
/// `minInSyncReplicas`; each count includes the master).
#[derive(Debug, Clone, Copy)]
struct InSyncAcks {
    all: bool,
    replicas: usize,
    min_replicas: usize,
}

fn ha_config(cfg: &BrokerStartupConfig) -> HaConfig {
    let b = &cfg.broker;
    HaConfig {
        send_heartbeat_interval: Duration::from_millis(b.ha_send_heartbeat_interval.max(1)),
        housekeeping_interval: Duration::from_millis(b.ha_housekeeping_interval.max(1)),
        transfer_batch_size: b.ha_transfer_batch_size,
        max_gap_not_in_sync: b.ha_max_gap_not_in_sync as i64,
        ..HaConfig::default()
    }
}

impl BrokerHa {
    /// Starts the role's side. `dynamic_port` says the broker's own port was picked by the OS,
    /// so a busy `listenPort + 1` falls back to any free port instead of failing.
    /// `guard` decides which slaves may replicate (ACL on); `prover` is this broker's own
    /// account, proven to its master.
    pub async fn start(
        cfg: &mut BrokerStartupConfig,
        store: &Arc<MessageStore>,
        dynamic_port: bool,
        guard: Option<Arc<dyn rmq_ha::HaGuard>>,
        prover: Option<Arc<dyn rmq_ha::HaProver>>,
    ) -> Result<BrokerHa, BrokerError> {
        let (master_addr, rx) = watch::channel(None);
        let role = cfg.store.broker_role;
        let mut ha = BrokerHa {
            server: None,
            client: None,
            master_addr,
            sync_master: AtomicBool::new(role == BrokerRole::SyncMaster),
            serving: AtomicBool::new(role != BrokerRole::Slave),
            wait_timeout: Duration::from_millis(cfg.broker.slave_timeout.max(1)),
            in_sync_acks: cfg.controller.enable_controller_mode.then_some(InSyncAcks {
                all: cfg.controller.all_ack_in_sync_state_set,
                replicas: cfg.controller.in_sync_replicas,
                min_replicas: cfg.controller.min_in_sync_replicas,
            }),
        };
        let controlled = cfg.controller.enable_controller_mode;
        // Controller mode follows whoever the controllers name (idle until then); a classic
        // slave follows its master and serves no slaves.
        if controlled || role == BrokerRole::Slave {
            if !controlled && !cfg.broker.ha_master_address.is_empty() {
                ha.master_addr
                    .send_replace(Some(cfg.broker.ha_master_address.clone()));
            }
            let client = HaClient::start_proving(store.clone(), rx, ha_config(cfg), prover)?;
            ha.client = Some(client);
            if !controlled {
                return Ok(ha);
            }
        }
        let addr = format!("0.0.0.0:{}", cfg.broker.ha_listen_port);
        let listener = match TcpListener::bind(&addr).await {
            Ok(l) => l,
            Err(_) if dynamic_port => TcpListener::bind("0.0.0.0:0").await?,
            Err(source) => {
                return Err(BrokerError::HaBind {
                    addr,
                    port: cfg.broker.ha_listen_port,
                    source,
                })
            }
        };
        cfg.broker.ha_listen_port = listener.local_addr()?.port();
        ha.server = Some(HaServer::start_guarded(
            listener,
            store.clone(),
            ha_config(cfg),
            guard,
        )?);
        Ok(ha)
    }

    /// Controller mode: stop following and serve slaves; `sync` waits for a slave on puts as
    /// a SYNC_MASTER does.
    /// The SyncStateSet starts as the master alone; slaves join it as they catch up.
    pub fn become_master(&self, sync: bool) {
        self.master_addr.send_replace(None);
        self.sync_master.store(sync, Ordering::Release);
        if let Some(s) = &self.server {
            s.set_in_sync(Some(BTreeSet::new()));
        }
        self.serving.store(true, Ordering::Release);
    }

    /// Controller mode: follow the master at `ha_addr` (`None` while it is not known yet).
    pub fn follow(&self, ha_addr: Option<String>) {
        self.serving.store(false, Ordering::Release);
        self.sync_master.store(false, Ordering::Release);
        if let Some(s) = &self.server {
            s.set_in_sync(None);
        }
        self.master_addr.send_if_modified(|cur| {
            let changed = *cur != ha_addr;
            *cur = ha_addr.clone();
            changed
        });
    }

    /// Controller mode: stops following and completes once nothing more can be appended from
    /// the old master (before the log is cut back to the point shared with a new one).
    ///
    /// The in-sync set of a former master stays until [`BrokerHa::follow`]: it is what keeps
    /// the tail no in-sync slave acknowledged out of the consume queues until that tail is cut
    /// back (lifting it here let consumers read, and move past, entries the new master then
    /// filled with other messages).
    pub async fn stop_following(&self) {
        self.serving.store(false, Ordering::Release);
        if let Some(c) = &self.client {
            c.stop_following(&self.master_addr).await;
        } else {
            self.master_addr.send_replace(None);
        }
    }

    /// Controller mode: this broker's id, introduced to every master it follows.
    pub fn set_broker_id(&self, id: i64) {
        if let Some(c) = &self.client {
            c.set_broker_id(id);
        }
    }

    /// Controller mode master: the slaves (broker ids) of the SyncStateSet, the master left
    /// out; sends then wait for them as `allAckInSyncStateSet`/`inSyncReplicas` say.
    pub fn set_in_sync(&self, slaves: BTreeSet<i64>) {
        if let Some(s) = &self.server {
            s.set_in_sync(Some(slaves));
        }
    }

    /// The connected slaves with their ids and progress (masters).
    pub fn connected_slaves(&self) -> Vec<SlaveStatus> {
        self.server
            .as_ref()
            .map(HaServer::connected_slaves)
            .unwrap_or_default()
    }

    /// Waits until every slave of the in-sync set has `end_offset`.
    pub async fn wait_in_sync(&self, end_offset: i64, timeout: Duration) -> bool {
        match &self.server {
            Some(s) => {
                s.wait_for_in_sync(end_offset, InSyncNeed::All, timeout)
                    .await
                    == ReplicaResult::Ok
            }
            None => false,
        }
    }

    /// The HA address followed now.    /// The HA address followed now.
    pub fn following(&self) -> Option<String> {
        self.master_addr.borrow().clone()
    }

    /// A slave learned its master's HA address (from a name server); ignored when
    /// `haMasterAddress` is configured.
    pub fn set_master(&self, ha_addr: &str, configured: bool) {
        if configured || ha_addr.is_empty() {
            return;
        }
        self.master_addr.send_if_modified(|cur| {
            if cur.as_deref() == Some(ha_addr) {
                false
            } else {
                *cur = Some(ha_addr.to_owned());
                true
            }
        });
    }

    /// Controller mode master, before storing a send that waits for replicas: `Some((members,
    /// minInSyncReplicas))` when the SyncStateSet (the master counted) is smaller than
    /// `minInSyncReplicas`, and the send is to be refused unstored (Apache's
    /// IN_SYNC_REPLICAS_NOT_ENOUGH).
    pub fn in_sync_shortfall(&self, wait_store_msg_ok: bool) -> Option<(usize, usize)> {
        let acks = self.in_sync_acks?;
        let server = self.server.as_ref()?;
        if !wait_store_msg_ok || !self.serving.load(Ordering::Acquire) {
            return None;
        }
        let members = server.in_sync()?.len() + 1;
        (members < acks.min_replicas).then_some((members, acks.min_replicas))
    }

    /// After a put: wakes the replication writers and, on a SYNC_MASTER, waits for a slave.
    pub async fn after_put(
        &self,
        mut r: PutMessageResult,
        wait_store_msg_ok: bool,
    ) -> PutMessageResult {
        let Some(server) = &self.server else {
            return r;
        };
        server.notify_appended();
        if let Some(acks) = self.in_sync_acks {
            return self
                .after_controlled_put(server, acks, r, wait_store_msg_ok)
                .await;
        }
        if !self.sync_master.load(Ordering::Acquire) || !wait_store_msg_ok || !r.status.is_stored()
        {
            return r;
        }
        if let Some(a) = &r.append {
            r.status = server
                .wait_for_replica(a.end_offset, self.wait_timeout)
                .await
                .apply_to(r.status);
        }
        r
    }

    /// Controller mode: a stored send is acknowledged once the SyncStateSet members the rule
    /// names have it; with fewer members than `inSyncReplicas` needs (or than
    /// `minInSyncReplicas`, when the set shrank after [`BrokerHa::in_sync_shortfall`] let it
    /// in) it is answered SLAVE_NOT_AVAILABLE at once (stored, not acknowledged as replicated).
    async fn after_controlled_put(
        &self,
        server: &HaServer,
        acks: InSyncAcks,
        mut r: PutMessageResult,
        wait_store_msg_ok: bool,
    ) -> PutMessageResult {
        if !self.serving.load(Ordering::Acquire) || !r.status.is_stored() {
            return r;
        }
        let Some(a) = &r.append else { return r };
        let slaves = server.in_sync().unwrap_or_default();
        let members = slaves.len() + 1;
        let need = if acks.all {
            InSyncNeed::All
        } else {
            InSyncNeed::Slaves(acks.replicas.saturating_sub(1))
        };
        let short = members < acks.min_replicas || (!acks.all && acks.replicas > members);
        if short {
            r.status = ReplicaResult::NotAvailable.apply_to(r.status);
            return r;
        }
        if !wait_store_msg_ok || slaves.is_empty() || need == InSyncNeed::Slaves(0) {
            return r;
        }
        r.status = server
            .wait_for_in_sync(a.end_offset, need, self.wait_timeout)
            .await
            .apply_to(r.status);
        r
    }

    /// How far the furthest-behind slave (on a master) or this slave is, in bytes.
    pub fn lag_bytes(&self) -> i64 {
        if let Some(s) = self
            .server
            .as_ref()
            .filter(|_| self.serving.load(Ordering::Acquire))
        {
            return s
                .connected_slaves()
                .iter()
                .filter_map(|st| st.lag_bytes)
                .max()
                .unwrap_or(0);
        }
        self.client
            .as_ref()
            .and_then(HaClient::lag_bytes)
            .unwrap_or(0)
    }

    /// Connected slaves (masters) or whether connected to the master (slaves), for runtime info.
    pub fn describe(&self) -> String {
        if let Some(s) = self
            .server
            .as_ref()
            .filter(|_| self.serving.load(Ordering::Acquire))
        {
            return format!("{} slave(s) connected", s.connected_slave_count());
        }
        match &self.client {
            Some(c) if c.is_connected() => format!(
                "replicating from {}",
                c.master_address().unwrap_or_default()
            ),
            Some(_) => "not connected to a master".into(),
            None => String::new(),
        }
    }

    pub async fn shutdown(&self) {
        if let Some(s) = &self.server {
            s.shutdown().await;
        }
        if let Some(c) = &self.client {
            c.shutdown().await;
        }
    }
}
