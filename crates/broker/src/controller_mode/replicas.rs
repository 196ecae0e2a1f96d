//! [`ReplicasManager`]: the one task that talks to the controllers for this broker and owns
//! its role (see the module docs of `controller_mode`).

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rmq_common::time::now_millis;
use rmq_remoting::body::EpochEntryCache;
use rmq_remoting::header::{
    ApplyBrokerIdRequestHeader, BrokerHeartbeatRequestHeader, ElectMasterRequestHeader,
    ElectMasterResponseHeader, GetNextBrokerIdRequestHeader, GetNextBrokerIdResponseHeader,
    GetReplicaInfoRequestHeader, GetReplicaInfoResponseHeader,
    RegisterBrokerToControllerRequestHeader,
};
use rmq_remoting::json::JsonBody;
use rmq_remoting::{RemotingCommand, RequestCode, ResponseCode};
use rmq_store::BrokerRole;
use tokio_util::sync::CancellationToken;

use super::identity::{IdentityFiles, Pending};
use super::in_sync_task::InSyncTask;
use super::rpc::{self, header, CALL_TIMEOUT};
use crate::background::{start_master_tasks, start_slave_tasks};
use crate::parts::BrokerParts;
use crate::peer_error::PeerError;
use crate::registration::{self, Registration};

/// A slave waiting for the name servers to name its new master's HA address asks this often.
const LEARN_MASTER_EVERY: Duration = Duration::from_millis(300);

/// How long a following slave waits for its master's epochs on the role loop.
const ADOPT_TIMEOUT: Duration = Duration::from_millis(500);

/// The master the controllers named, under the master epoch they named it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Master {
    id: i64,
    addr: String,
    epoch: i32,
}

pub(crate) struct ReplicasManager {
    p: BrokerParts,
    registration: Arc<Registration>,
    controllers: Vec<String>,
    /// The id the controllers gave this broker (0 until joined).
    id: i64,
    /// The role applied last.
    applied: Option<Master>,
    /// Highest master epoch seen, for the heartbeats.
    epoch: Arc<AtomicI32>,
    /// Stops the current role's tasks.
    role_tasks: Option<CancellationToken>,
    registering: bool,
    /// When the controller leader last answered this broker.
    last_contact: std::time::Instant,
    /// The epochs of the master followed, read once per master epoch: a master records its
    /// epochs only when made master, so the role loop never waits on the master (which may be
    /// the very broker that just went silent) to refresh them.
    their_epochs: Option<(i32, Vec<rmq_ha::EpochEntry>)>,
}

impl ReplicasManager {
    pub(crate) fn new(p: BrokerParts, registration: Arc<Registration>) -> Self {
        let controllers = p.config.controller.controllers();
        ReplicasManager {
            p,
            registration,
            controllers,
            id: 0,
            applied: None,
            epoch: Arc::new(AtomicI32::new(0)),
            role_tasks: None,
            registering: false,
            last_contact: std::time::Instant::now(),
            their_epochs: None,
        }
    }

    pub(crate) async fn run(mut self, stop: CancellationToken) {
        let retry = Duration::from_secs(1);
        self.id = loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                joined = self.join() => match joined {
                    Ok(id) => break id,
                    Err(e) => tracing::warn!(error = %e, controllers = ?self.controllers,
                        "cannot join the broker group through the controllers; retrying"),
                },
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(retry) => {}
            }
        };
        tracing::info!(
            id = self.id,
            "joined the broker group through the controllers"
        );
        self.p.ha.set_broker_id(self.id);
        self.p.tasks.spawn(heartbeats(
            self.p.clone(),
            self.controllers.clone(),
            self.id,
            self.epoch.clone(),
            stop.clone(),
        ));
        let period = Duration::from_millis(self.p.config.controller.sync_broker_metadata_period);
        let notice = self.p.role_notice.clone();
        // A master checks in every heartbeat, to learn soon that it lost the controllers.
        let master_period =
            Duration::from_millis(self.p.config.controller.broker_heartbeat_interval).min(period);
        loop {
            // A master fences on time even while a call to an unreachable controller hangs.
            let timeout =
                Duration::from_millis(self.p.config.controller.controller_heart_beat_timeout_mills);
            let fence_at = tokio::time::Instant::from_std(self.last_contact + timeout / 2);
            let watched = self.is_master() && !self.p.store.is_fenced();
            let synced = if watched {
                tokio::time::timeout_at(fence_at, self.sync()).await
            } else {
                Ok(self.sync().await)
            };
            match synced {
                Ok(Ok(())) => self.in_contact(),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "cannot learn this broker's role from the controllers");
                    self.maybe_fence();
                }
                Err(_) => self.maybe_fence(),
            }
            let wait = if self.waiting_for_master_ha() {
                LEARN_MASTER_EVERY
            } else if self.is_master() {
                master_period
            } else {
                period
            };
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = notice.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn call(
        &self,
        addr: &str,
        req: RemotingCommand,
        also: &[ResponseCode],
    ) -> Result<RemotingCommand, PeerError> {
        rpc::call(&self.p, addr, req, also).await
    }

    async fn leader(&self) -> Result<String, PeerError> {
        rpc::leader(&self.p, &self.controllers).await
    }

    fn identity(&self) -> IdentityFiles {
        let b = &self.p.config.broker;
        IdentityFiles::new(
            &self.p.config.store.store_path_root_dir,
            &b.broker_cluster_name,
            &b.broker_name,
        )
    }

    /// This broker's id in its group, applied for the first time if need be, and registered.
    async fn join(&self) -> Result<i64, PeerError> {
        let leader = self.leader().await?;
        let b = &self.p.config.broker;
        let files = self.identity();
        let id = match files.applied()? {
            Some(id) => id,
            None => {
                let pending = match files.pending()? {
                    Some(p) => p,
                    None => {
                        let h = GetNextBrokerIdRequestHeader {
                            cluster_name: b.broker_cluster_name.clone(),
                            broker_name: b.broker_name.clone(),
                        };
                        let req =
                            RemotingCommand::request(RequestCode::ControllerGetNextBrokerId, &h);
                        let resp = self.call(&leader, req, &[]).await?;
                        let next = header::<GetNextBrokerIdResponseHeader>(
                            RequestCode::ControllerGetNextBrokerId,
                            &resp,
                        )?
                        .next_broker_id;
                        let p = Pending {
                            id: next.unwrap_or(1),
                            check_code: format!(
                                "{};{}",
                                self.registration.broker_addr,
                                now_millis()
                            ),
                        };
                        files.begin(&p)?;
                        p
                    }
                };
                let h = ApplyBrokerIdRequestHeader {
                    cluster_name: b.broker_cluster_name.clone(),
                    broker_name: b.broker_name.clone(),
                    applied_broker_id: pending.id,
                    register_check_code: pending.check_code.clone(),
                };
                let req = RemotingCommand::request(RequestCode::ControllerApplyBrokerId, &h);
                if let Err(e) = self.call(&leader, req, &[]).await {
                    // Refused (the id went to another broker): ask for a new one next time.
                    if matches!(e, PeerError::Refused { .. }) {
                        files.abandon();
                    }
                    return Err(e);
                }
                files.commit(pending.id)?;
                pending.id
            }
        };
        let h = RegisterBrokerToControllerRequestHeader {
            cluster_name: b.broker_cluster_name.clone(),
            broker_name: b.broker_name.clone(),
            broker_id: id,
            broker_address: self.registration.broker_addr.clone(),
            invoke_time: Some(now_millis()),
        };
        let req = RemotingCommand::request(RequestCode::ControllerRegisterBroker, &h);
        self.call(&leader, req, &[]).await?;
        Ok(id)
    }

    /// Asks the leader for the group's master; elects one when there is none; applies it.
    async fn sync(&mut self) -> Result<(), PeerError> {
        let leader = self.leader().await?;
        let name = self.p.config.broker.broker_name.clone();
        let req = RemotingCommand::request(
            RequestCode::ControllerGetReplicaInfo,
            &GetReplicaInfoRequestHeader {
                broker_name: name.clone(),
            },
        );
        let resp = self
            .call(
                &leader,
                req,
                &[ResponseCode::ControllerBrokerMetadataNotExist],
            )
            .await?;
        if resp.response_code() == ResponseCode::ControllerBrokerMetadataNotExist {
            // The controllers forgot the group (cleanBrokerMetadata): register again.
            tracing::warn!(broker_name = %name, "the controllers do not know this group; registering again");
            self.id = self.join().await?;
            self.p.ha.set_broker_id(self.id);
            return Ok(());
        }
        let h =
            header::<GetReplicaInfoResponseHeader>(RequestCode::ControllerGetReplicaInfo, &resp)?;
        let master = match (h.master_broker_id, h.master_address) {
            (Some(id), Some(addr)) => Master {
                id,
                addr,
                epoch: h.master_epoch.unwrap_or_default(),
            },
            _ => match self.elect(&leader).await? {
                Some(m) => m,
                None => return Ok(()),
            },
        };
        self.apply(master).await;
        Ok(())
    }

    /// Asks for an election with this broker as the candidate; the master it ends with.
    async fn elect(&self, leader: &str) -> Result<Option<Master>, PeerError> {
        // The controllers must know this broker alive and how far its log goes.
        send_heartbeat(
            &self.p,
            &self.controllers,
            self.id,
            self.epoch.load(Ordering::Acquire),
        )
        .await;
        let b = &self.p.config.broker;
        let h = ElectMasterRequestHeader {
            cluster_name: Some(b.broker_cluster_name.clone()),
            broker_name: b.broker_name.clone(),
            broker_id: Some(self.id),
            designate_elect: Some(false),
            invoke_time: Some(now_millis()),
        };
        let req = RemotingCommand::request(RequestCode::ControllerElectMaster, &h);
        let resp = self
            .call(
                leader,
                req,
                &[
                    ResponseCode::ControllerMasterStillExist,
                    ResponseCode::ControllerElectMasterFailed,
                ],
            )
            .await?;
        if resp.response_code() == ResponseCode::ControllerElectMasterFailed {
            tracing::warn!(remark = ?resp.remark, "no master could be elected for this group yet");
            return Ok(None);
        }
        let h = header::<ElectMasterResponseHeader>(RequestCode::ControllerElectMaster, &resp)?;
        Ok(match (h.master_broker_id, h.master_address) {
            (Some(id), Some(addr)) => Some(Master {
                id,
                addr,
                epoch: h.master_epoch.unwrap_or_default(),
            }),
            _ => None,
        })
    }

    /// Takes the role `master` gives this broker, once per master epoch; a slave also keeps
    /// looking for its master's HA address until it has it, and before following a master
    /// cuts its log back to the last point the two logs share.
    async fn apply(&mut self, master: Master) {
        let newer = self.applied.as_ref().is_none_or(|a| master.epoch > a.epoch);
        if newer {
            self.epoch.fetch_max(master.epoch, Ordering::AcqRel);
            self.p.topics.set_master_epoch(master.epoch);
            if master.id == self.id {
                self.become_master(master.epoch);
            } else {
                self.become_slave().await;
            }
            tracing::info!(master = %master.addr, master_id = master.id, epoch = master.epoch,
                me = self.id, "role from the controllers applied");
            self.applied = Some(master.clone());
        }
        if master.id == self.id {
            return;
        }
        if self.p.ha.following().is_some() {
            // The master's epochs that start within what has been replicated since.
            if let Err(e) = self.adopt_epochs(&master).await {
                tracing::debug!(error = %e, "cannot refresh the master's epochs");
            }
            return;
        }
        match self.registration.master.ha_addr_of(&master.addr) {
            Some(ha) => match self.reconcile(&master).await {
                Ok(()) => {
                    tracing::info!(master = %master.addr, ha = %ha, "following the new master");
                    self.p.ha.follow(Some(ha));
                }
                Err(e) => tracing::warn!(master = %master.addr, error = %e,
                    "cannot compare this broker's log with the master's yet; retrying"),
            },
            // Registering again brings the name servers' answer naming it.
            None => {
                self.p.registration.request_now();
            }
        }
    }

    /// The master's epochs and CommitLog end (GET_BROKER_EPOCH_CACHE).
    async fn master_epochs(&self, master: &Master) -> Result<EpochEntryCache, PeerError> {
        let req = RemotingCommand::new_request(RequestCode::GetBrokerEpochCache);
        let resp = self.call(&master.addr, req, &[]).await?;
        EpochEntryCache::from_json_bytes(&resp.body).map_err(|source| PeerError::Body {
            request: RequestCode::GetBrokerEpochCache,
            source,
        })
    }

    /// Before following `master`: cuts this broker's CommitLog back to the last point it
    /// shares with the master's (what it wrote alone as an older master, or received from one,
    /// goes), then adopts the master's epochs.
    async fn reconcile(&mut self, master: &Master) -> Result<(), PeerError> {
        let Some(epochs) = self.p.epochs.clone() else {
            return Ok(());
        };
        let cache = self.master_epochs(master).await?;
        let theirs = entries_of(&cache);
        self.remember_epochs(master, &theirs);
        let mine = epochs.entries();
        let store = &self.p.store;
        let end = store.commit_log_max_offset();
        if end > 0 && !mine.is_empty() {
            let point = match rmq_ha::epoch_file::consistent_point(
                &mine,
                end,
                &theirs,
                cache.max_offset,
            ) {
                Some(point) => point,
                None => {
                    let first = theirs.first().map_or(end, |e| e.start_offset);
                    tracing::error!(mine = ?mine, master = ?theirs, cut_to = first,
                        "this broker's log shares no epoch with the master's; keeping only what precedes the master's first epoch");
                    first
                }
            };
            if point < end {
                tracing::warn!(master = %master.addr, end, point, lost_bytes = end - point,
                    "this broker has CommitLog data the new master does not (written or received under an older epoch, never acknowledged by the in-sync replicas); cutting it");
                store
                    .cut_back_replica(point)
                    .map_err(crate::BrokerError::from)?;
            }
        }
        self.adopt(&theirs)
    }

    /// Refreshes the epoch file from the master this broker follows: from the epochs read
    /// under the master's current epoch, asking the master only when it has a newer one.
    async fn adopt_epochs(&mut self, master: &Master) -> Result<(), PeerError> {
        if self.p.epochs.is_none() {
            return Ok(());
        }
        let theirs = match &self.their_epochs {
            Some((epoch, theirs)) if *epoch == master.epoch => theirs.clone(),
            _ => {
                // Bounded well below the call timeout: a silent master must not hold up the
                // role loop (and with it learning of the next master).
                let cache = tokio::time::timeout(ADOPT_TIMEOUT, self.master_epochs(master))
                    .await
                    .map_err(|_| PeerError::NoAnswer {
                        request: RequestCode::GetBrokerEpochCache,
                        addr: master.addr.clone(),
                    })??;
                let theirs = entries_of(&cache);
                self.remember_epochs(master, &theirs);
                theirs
            }
        };
        self.adopt(&theirs)
    }

    /// Keeps the master's epochs once they include the one it was made master under (a master
    /// answering before it recorded it is asked again next time).
    fn remember_epochs(&mut self, master: &Master, theirs: &[rmq_ha::EpochEntry]) {
        if theirs.last().is_some_and(|e| e.epoch == master.epoch) {
            self.their_epochs = Some((master.epoch, theirs.to_vec()));
        }
    }

    /// The master's epochs that start within this broker's log become its own.
    fn adopt(&self, theirs: &[rmq_ha::EpochEntry]) -> Result<(), PeerError> {
        let Some(epochs) = &self.p.epochs else {
            return Ok(());
        };
        let end = self.p.store.commit_log_max_offset();
        let kept: Vec<rmq_ha::EpochEntry> = theirs
            .iter()
            .copied()
            .filter(|e| e.start_offset <= end)
            .collect();
        epochs
            .replace_all(&kept)
            .map_err(|e| PeerError::State(crate::BrokerError::from(e)))
    }

    fn is_master(&self) -> bool {
        self.applied.as_ref().is_some_and(|m| m.id == self.id)
    }

    /// The controllers answered (and still name this broker master, or it would have become a
    /// slave): a fenced master takes writes again.
    fn in_contact(&mut self) {
        self.last_contact = std::time::Instant::now();
        if self.p.store.is_fenced() && self.is_master() {
            tracing::info!(
                "the controllers confirm this broker is still the master; taking writes again"
            );
            self.p.store.set_fenced(false);
        }
    }

    /// A master that has not heard from the controller leader for half its heartbeat timeout
    /// stops taking writes: by the full timeout the controllers may elect another master, and
    /// two masters must never both take writes.
    fn maybe_fence(&mut self) {
        let timeout =
            Duration::from_millis(self.p.config.controller.controller_heart_beat_timeout_mills);
        if self.is_master()
            && !self.p.store.is_fenced()
            && self.last_contact.elapsed() > timeout / 2
        {
            tracing::warn!(silent_ms = self.last_contact.elapsed().as_millis() as u64,
                "lost the controllers while master: fenced, refusing writes until they confirm this broker");
            self.p.store.set_fenced(true);
        }
    }

    fn waiting_for_master_ha(&self) -> bool {
        self.applied.as_ref().is_some_and(|m| m.id != self.id) && self.p.ha.following().is_none()
    }

    fn become_master(&mut self, epoch: i32) {
        self.record_epoch(epoch);
        self.p.store.set_fenced(false);
        {
            let p = &self.p;
            p.store.set_role(BrokerRole::AsyncMaster);
            p.ha.become_master(false);
            p.live.set_role(BrokerRole::AsyncMaster, 0);
            p.pop.recover(&p.store, &p.offsets);
        }
        let stop = self.switch_role_tasks();
        let task = InSyncTask {
            p: self.p.clone(),
            controllers: self.controllers.clone(),
            me: self.id,
            master_epoch: epoch,
        };
        self.p.tasks.spawn(task.run(stop.clone()));
        if let Err(e) = start_master_tasks(&self.p, stop) {
            tracing::error!(error = %e, "cannot start the master's tasks");
        }
        self.announce();
    }

    /// Made master under `epoch`: the CommitLog from its end on is that epoch's (Apache's rule:
    /// later epochs recorded before are dropped; an epoch starting where the last one did is
    /// not recorded).
    fn record_epoch(&self, epoch: i32) {
        let Some(epochs) = &self.p.epochs else { return };
        let start = self.p.store.commit_log_max_offset();
        // Epochs starting at or past the end hold no data here: the new one replaces them.
        let recorded = epochs
            .truncate_from_offset(start)
            .and_then(|()| epochs.truncate_from_epoch(epoch))
            .and_then(|()| {
                epochs.append(rmq_ha::EpochEntry {
                    epoch,
                    start_offset: start,
                })
            });
        match recorded {
            Ok(true) => tracing::info!(epoch, start, "epoch recorded"),
            Ok(false) => tracing::info!(
                epoch,
                start,
                "epoch not recorded: the last one starts at the same offset"
            ),
            Err(e) => tracing::error!(error = %e, "cannot record the new epoch"),
        }
    }

    async fn become_slave(&mut self) {
        self.p.store.set_fenced(false);
        self.p.live.set_role(BrokerRole::Slave, self.id);
        self.p.store.set_role(BrokerRole::Slave);
        self.p.ha.stop_following().await;
        let stop = self.switch_role_tasks();
        start_slave_tasks(&self.p, &self.registration, stop);
        self.announce();
    }

    /// Stops the previous role's tasks; the token for the new role's.
    fn switch_role_tasks(&mut self) -> CancellationToken {
        if let Some(old) = self.role_tasks.take() {
            old.cancel();
        }
        let token = self.p.shutdown.child_token();
        self.role_tasks = Some(token.clone());
        token
    }

    /// Registers with the name servers under the new role (the first time, starts the
    /// registration tasks).
    fn announce(&mut self) {
        if !self.registering {
            registration::start(&self.registration, &self.p.tasks, &self.p.shutdown);
            self.registering = true;
        }
        self.p.registration.request_now();
    }
}

fn entries_of(cache: &EpochEntryCache) -> Vec<rmq_ha::EpochEntry> {
    cache
        .epoch_list
        .iter()
        .map(|e| rmq_ha::EpochEntry {
            epoch: e.epoch,
            start_offset: e.start_offset,
        })
        .collect()
}

/// One heartbeat to every controller, oneway.
async fn send_heartbeat(p: &BrokerParts, controllers: &[String], id: i64, epoch: i32) {
    let c = &p.config.controller;
    let b = &p.config.broker;
    let h = BrokerHeartbeatRequestHeader {
        cluster_name: b.broker_cluster_name.clone(),
        broker_addr: p.store_host.to_string(),
        broker_name: Some(b.broker_name.clone()),
        broker_id: Some(id),
        epoch: Some(epoch),
        max_offset: Some(p.store.commit_log_max_offset()),
        confirm_offset: Some(p.store.commit_log_max_offset()),
        heartbeat_timeout_mills: Some(c.controller_heart_beat_timeout_mills as i64),
        election_priority: Some(c.broker_election_priority),
        ..Default::default()
    };
    for addr in controllers {
        let req = RemotingCommand::request(RequestCode::BrokerHeartbeat, &h);
        // A controller that is down misses this beat; the next one will try it again.
        if let Err(e) = p.outbound.invoke_oneway(addr, req, CALL_TIMEOUT).await {
            tracing::debug!(controller = %addr, error = %e, "heartbeat not sent");
        }
    }
}

/// Heartbeats every controller every `brokerHeartbeatInterval` until `stop`.
async fn heartbeats(
    p: BrokerParts,
    controllers: Vec<String>,
    id: i64,
    epoch: Arc<AtomicI32>,
    stop: CancellationToken,
) {
    let every = Duration::from_millis(p.config.controller.broker_heartbeat_interval);
    loop {
        send_heartbeat(&p, &controllers, id, epoch.load(Ordering::Acquire)).await;
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
