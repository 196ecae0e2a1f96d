//! Elections: asked for by a broker that finds its group without a master, forced by an
//! operator (`mqadmin electMaster`), or started by the leader's watch when a master falls
//! silent ([`watch_masters`]). The decision is [`election::elect`]'s, made on this
//! controller's view of who is alive and committed as [`Command::ElectMaster`] under the
//! master epoch it saw; a decision overtaken by another is decided again, up to
//! `electMasterMaxRetryCount` times. A new master is announced at once to the group's live
//! brokers (NOTIFY_BROKER_ROLE_CHANGED) when `notifyBrokerRoleChanged` is on.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use rmq_remoting::body::{BrokerMemberGroup, ElectMasterResponseBody};
use rmq_remoting::header::{
    ElectMasterRequestHeader, ElectMasterResponseHeader, NotifyBrokerRoleChangedRequestHeader,
};
use rmq_remoting::json::JsonBody;
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RemotingServer, RequestCode, ResponseCode};
use tokio_util::sync::CancellationToken;

use super::replicas::route;
use super::{broker_id, refused, wire_id, Controller};
use crate::command::{Applied, Rejected};
use crate::election::{self, Candidate, Decision};
use crate::replica_set::{BrokerId, ReplicaSet};

pub(super) fn register(c: &Arc<Controller>, server: &mut RemotingServer) {
    route(
        c,
        server,
        RequestCode::ControllerElectMaster,
        |c, req| async move { c.elect_master(req).await },
    );
}

/// Who asked for an election.
#[derive(Debug, Clone, Copy)]
enum Trigger {
    /// A broker of the group that found no master: it is alive, whatever heartbeats say.
    Broker(BrokerId),
    /// An operator naming the new master.
    Admin(BrokerId),
    /// The leader's watch: the master fell silent.
    Controller,
}

/// How an election ended.
enum Elected {
    /// The master that was there stays.
    Kept(ReplicaSet),
    /// A new master (or none, when the watch found no candidate): the group after it.
    Changed(ReplicaSet),
    NoCandidate,
}

impl Controller {
    async fn elect_master(self: Arc<Self>, req: RemotingCommand) -> ProcessResult {
        let h: ElectMasterRequestHeader = req.decode_header()?;
        let requested = h.broker_id.filter(|id| *id >= 0);
        let trigger = match (requested, h.designate_elect.unwrap_or(false)) {
            (Some(id), true) => Trigger::Admin(broker_id("brokerId", id)?),
            (Some(id), false) => Trigger::Broker(broker_id("brokerId", id)?),
            (None, _) => Trigger::Controller,
        };
        match self.elect(&h.broker_name, trigger).await? {
            Elected::Kept(g) => Ok(Some(
                req.response_to(ResponseCode::ControllerMasterStillExist)
                    .with_remark(format!(
                        "broker id {:?} is still the master of {}",
                        g.master, g.broker_name
                    ))
                    .with_header(&answer_header(&g))
                    .with_body(
                        ElectMasterResponseBody {
                            broker_member_group: None,
                            sync_state_set: g.sync_state_set.iter().map(|i| wire_id(*i)).collect(),
                        }
                        .to_json_bytes(),
                    ),
            )),
            Elected::Changed(g) if g.master.is_some() => Ok(Some(
                req.response_to(ResponseCode::Success)
                    .with_header(&answer_header(&g))
                    .with_body(elected_body(&g)),
            )),
            Elected::Changed(g) => Err(ProcessError::response(
                ResponseCode::ControllerMasterNotAvailable,
                format!("no replica of {} can be master now", g.broker_name),
            )),
            Elected::NoCandidate => Err(ProcessError::response(
                ResponseCode::ControllerElectMasterFailed,
                format!(
                    "no live replica of {} in its SyncStateSet can be master (an unclean one only \
                     with enableElectUncleanMaster=true)",
                    h.broker_name
                ),
            )),
        }
    }

    /// Decides and commits an election for `broker_name`, deciding again when another
    /// decision got in first; announces a new master.
    async fn elect(
        self: &Arc<Self>,
        broker_name: &str,
        trigger: Trigger,
    ) -> Result<Elected, ProcessError> {
        let tries = self.config.elect_master_max_retry_count.max(1);
        let mut last = None;
        for _ in 0..tries {
            let state = self.leader_state().await?;
            let Some(g) = state.group(broker_name) else {
                return Err(ProcessError::response(
                    ResponseCode::ControllerBrokerNeedToBeRegistered,
                    format!("broker group {broker_name} is not registered with the controller"),
                ));
            };
            let mut alive = self.liveness.lock().alive(Instant::now(), broker_name);
            let preferred = match trigger {
                Trigger::Broker(id) => {
                    if g.replicas.contains_key(&id) && !alive.iter().any(|c| c.id == id) {
                        // It is asking, so it is alive; its progress is unknown.
                        alive.push(Candidate {
                            id,
                            epoch: -1,
                            max_offset: -1,
                            priority: i32::MAX,
                        });
                    }
                    None
                }
                Trigger::Admin(id) => Some(id),
                Trigger::Controller => None,
            };
            let decision = election::elect(
                g,
                &alive,
                preferred,
                self.config.enable_elect_unclean_master,
            )
            .map_err(refused)?;
            let cmd = match (decision, decision.command(g)) {
                (Decision::Keep(_), _) => return Ok(Elected::Kept(g.clone())),
                (Decision::NoCandidate, None) => return Ok(Elected::NoCandidate),
                (_, Some(cmd)) => cmd,
                (Decision::New { .. }, None) => return Ok(Elected::Kept(g.clone())),
            };
            match self.propose(cmd).await? {
                Ok(Applied::MasterElected {
                    master,
                    master_epoch,
                    ..
                }) => {
                    let after = self.machine.read().state.group(broker_name).cloned();
                    let Some(after) = after else {
                        return Err(ProcessError::response(
                            ResponseCode::SystemError,
                            format!("broker group {broker_name} vanished during its election"),
                        ));
                    };
                    tracing::info!(
                        broker_name,
                        ?master,
                        master_epoch,
                        ?trigger,
                        "new master elected"
                    );
                    if decision == Decision::NoCandidate && !matches!(trigger, Trigger::Controller)
                    {
                        return Ok(Elected::NoCandidate);
                    }
                    self.announce(&after);
                    return Ok(Elected::Changed(after));
                }
                Ok(other) => {
                    return Err(ProcessError::response(
                        ResponseCode::SystemError,
                        format!("an election applied as {other:?}"),
                    ))
                }
                Err(r @ Rejected::StaleMasterEpoch { .. }) => last = Some(r),
                Err(r) => return Err(refused(r)),
            }
        }
        Err(last.map_or_else(
            || {
                ProcessError::response(
                    ResponseCode::ControllerElectMasterFailed,
                    "no election tried",
                )
            },
            refused,
        ))
    }

    /// Tells the group's live brokers of its new master, in the background.
    fn announce(self: &Arc<Self>, g: &ReplicaSet) {
        if !self.config.notify_broker_role_changed {
            return;
        }
        let Some(master) = g.master else { return };
        let now = Instant::now();
        let targets: Vec<String> = {
            let live = self.liveness.lock();
            g.replicas
                .iter()
                .filter(|(id, _)| live.is_alive(now, &g.broker_name, **id))
                .map(|(_, r)| r.addr.clone())
                .collect()
        };
        let header = NotifyBrokerRoleChangedRequestHeader {
            master_address: g.master_addr().map(str::to_owned),
            master_epoch: Some(g.master_epoch),
            sync_state_set_epoch: Some(g.sync_state_set_epoch),
            master_broker_id: Some(wire_id(master)),
        };
        let body = super::replicas::sync_state_body(g);
        let client = self.notifier.clone();
        tokio::spawn(async move {
            for addr in targets {
                let req = RemotingCommand::request(RequestCode::NotifyBrokerRoleChanged, &header)
                    .with_body(body.clone());
                if let Err(e) = client.invoke_oneway(&addr, req, super::APPLY_TIMEOUT).await {
                    // Not lost: the broker learns it from its next GET_REPLICA_INFO.
                    tracing::info!(%addr, error = %e, "could not tell a broker of its group's new master now");
                }
            }
        });
    }

    /// One look at every group: a master silent past its heartbeat timeout, while another
    /// replica of the group is alive, is replaced.
    async fn check_masters(self: &Arc<Self>) {
        if !self.is_leader() {
            return;
        }
        let groups: Vec<ReplicaSet> = self.machine.read().state.groups().cloned().collect();
        let now = Instant::now();
        let silent: Vec<String> = {
            let live = self.liveness.lock();
            groups
                .iter()
                .filter(|g| g.master_epoch > 0)
                .filter(|g| {
                    g.master
                        .is_none_or(|m| live.is_dead(now, &g.broker_name, m))
                })
                .filter(|g| !live.alive(now, &g.broker_name).is_empty())
                .map(|g| g.broker_name.clone())
                .collect()
        };
        for name in silent {
            match self.elect(&name, Trigger::Controller).await {
                Ok(_) => {}
                Err(e) => tracing::warn!(broker_name = %name, error = %e, "re-election failed"),
            }
        }
    }
}

/// The leader's watch over masters, every `scanInactiveMasterInterval`, until `stop`.
pub async fn watch_masters(c: Arc<Controller>, stop: CancellationToken) {
    let mut tick = tokio::time::interval(c.config.scan_interval());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut leader = None;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {
                let now = c.raft.metrics().borrow().current_leader;
                if now != leader {
                    let name = now.and_then(|l| c.peers.get(&l)).map_or("none", |p| p.name.as_str());
                    tracing::info!(leader = name, me = c.me == now.unwrap_or(u64::MAX), "controller leader changed");
                    leader = now;
                }
                c.check_masters().await;
            }
        }
    }
}

fn answer_header(g: &ReplicaSet) -> ElectMasterResponseHeader {
    ElectMasterResponseHeader {
        master_broker_id: g.master.map(wire_id),
        master_address: g.master_addr().map(str::to_owned),
        master_epoch: Some(g.master_epoch),
        sync_state_set_epoch: Some(g.sync_state_set_epoch),
    }
}

/// A new master's answer: every registered replica of the group, and the new SyncStateSet.
fn elected_body(g: &ReplicaSet) -> bytes::Bytes {
    let broker_addrs: BTreeMap<i64, String> = g
        .replicas
        .iter()
        .map(|(id, r)| (wire_id(*id), r.addr.clone()))
        .collect();
    ElectMasterResponseBody {
        broker_member_group: Some(BrokerMemberGroup {
            broker_addrs,
            broker_name: g.broker_name.clone(),
            cluster: g.cluster.clone(),
        }),
        sync_state_set: g.sync_state_set.iter().map(|i| wire_id(*i)).collect(),
    }
    .to_fastjson_bytes()
}
