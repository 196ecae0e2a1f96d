//! The operator's questions (Apache's `mqadmin getControllerMetaData`, `getSyncStateSet`,
//! `cleanBrokerMetadata`, `getControllerConfig`), and GET_METADATA_INFO, which brokers also use
//! to find the leader.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use rmq_remoting::body::{BrokerReplicasInfo, ReplicaIdentity, ReplicasInfo};
use rmq_remoting::header::{CleanControllerBrokerDataRequestHeader, GetMetaDataResponseHeader};
use rmq_remoting::json::{self, JsonBody};
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RemotingServer, RequestCode, ResponseCode};

use super::replicas::route;
use super::{refused, wire_id, Controller};
use crate::command::Command;
use crate::replica_set::{BrokerId, ReplicaSet};

pub(super) fn register(c: &Arc<Controller>, server: &mut RemotingServer) {
    route(
        c,
        server,
        RequestCode::ControllerGetMetadataInfo,
        |c, req| async move { c.metadata(req) },
    );
    route(
        c,
        server,
        RequestCode::ControllerGetSyncStateData,
        |c, req| async move { c.sync_state_data(req).await },
    );
    route(
        c,
        server,
        RequestCode::CleanBrokerData,
        |c, req| async move { c.clean_broker_data(req).await },
    );
    route(
        c,
        server,
        RequestCode::GetControllerConfig,
        |c, req| async move {
            Ok(Some(
                req.response_to(ResponseCode::Success)
                    .with_body(c.config.render()),
            ))
        },
    );
    route(
        c,
        server,
        RequestCode::UpdateControllerConfig,
        |_c, _req| async move {
            Err(ProcessError::response(
                ResponseCode::RequestCodeNotSupported,
                "rmq's controller reads its settings at start: change controller.properties and \
             restart the controllers one at a time",
            ))
        },
    );
}

fn clean_refused(remark: String) -> ProcessError {
    ProcessError::response(ResponseCode::ControllerInvalidCleanBrokerMetadata, remark)
}

impl Controller {
    /// Who leads, as this controller knows it; answered by any controller.
    fn metadata(&self, req: RemotingCommand) -> ProcessResult {
        let leader = self.raft.metrics().borrow().current_leader;
        let name = |id: u64| {
            self.peers
                .get(&id)
                .map_or_else(|| format!("n{id}"), |p| p.name.clone())
        };
        let peers: String = self
            .peers
            .values()
            .map(|p| format!("{}:{};", p.name, p.addr))
            .collect();
        Ok(Some(
            req.response_to(ResponseCode::Success)
                .with_header(&GetMetaDataResponseHeader {
                    group: Some(self.config.group.clone()),
                    controller_leader_id: leader.map(name),
                    controller_leader_address: leader
                        .and_then(|l| self.peers.get(&l))
                        .map(|p| p.addr.clone()),
                    is_leader: Some(leader == Some(self.me)),
                    peers: Some(peers),
                }),
        ))
    }

    /// Each named group's master, epochs and replicas, in sync or not, alive or not.
    async fn sync_state_data(&self, req: RemotingCommand) -> ProcessResult {
        if req.body.is_empty() {
            return Ok(Some(req.response_to(ResponseCode::Success)));
        }
        let names: Vec<String> = json::from_slice(&req.body)?;
        let state = self.leader_state().await?;
        let now = Instant::now();
        let live = self.liveness.lock();
        let mut table = BTreeMap::new();
        for g in names.iter().filter_map(|n| state.group(n)) {
            let identity = |id: &BrokerId| ReplicaIdentity {
                alive: live.is_alive(now, &g.broker_name, *id),
                broker_address: g.replicas[id].addr.clone(),
                broker_id: wire_id(*id),
                broker_name: g.broker_name.clone(),
            };
            let (in_sync, not_in_sync): (Vec<&BrokerId>, Vec<&BrokerId>) = g
                .replicas
                .keys()
                .partition(|id| g.sync_state_set.contains(id));
            table.insert(
                g.broker_name.clone(),
                ReplicasInfo {
                    in_sync_replicas: in_sync.into_iter().map(identity).collect(),
                    master_address: g.master_addr().map(str::to_owned),
                    master_broker_id: g.master.map(wire_id),
                    master_epoch: g.master_epoch,
                    not_in_sync_replicas: not_in_sync.into_iter().map(identity).collect(),
                    sync_state_set_epoch: g.sync_state_set_epoch,
                },
            );
        }
        let body = BrokerReplicasInfo {
            replicas_info_table: table,
        };
        Ok(Some(
            req.response_to(ResponseCode::Success)
                .with_body(body.to_json_bytes()),
        ))
    }

    /// Forgets a group, or some of its replicas; living ones only when asked to.
    async fn clean_broker_data(&self, req: RemotingCommand) -> ProcessResult {
        let h: CleanControllerBrokerDataRequestHeader = req.decode_header()?;
        let ids = match h
            .broker_controller_ids_to_clean
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            None => None,
            Some(list) => Some(
                list.split(';')
                    .map(|s| s.trim().parse::<BrokerId>())
                    .collect::<Result<BTreeSet<BrokerId>, _>>()
                    .map_err(|_| {
                        clean_refused(format!("{list:?} is not a list of broker ids like 1;2"))
                    })?,
            ),
        };
        let state = self.leader_state().await?;
        let Some(g) = state.group(&h.broker_name) else {
            return Err(clean_refused(format!(
                "broker group {} is not registered with the controller",
                h.broker_name
            )));
        };
        if !h.is_clean_living_broker.unwrap_or(false) {
            check_not_living(self, g, ids.as_ref())?;
        }
        self.propose(Command::Clean {
            broker_name: h.broker_name,
            ids,
        })
        .await?
        .map_err(refused)?;
        Ok(Some(req.response_to(ResponseCode::Success)))
    }
}

/// Without `isCleanLivingBroker`, only dead replicas are forgotten, and a whole group only
/// when it has no master.
fn check_not_living(
    c: &Controller,
    g: &ReplicaSet,
    ids: Option<&BTreeSet<BrokerId>>,
) -> Result<(), ProcessError> {
    let Some(ids) = ids else {
        if let Some(m) = g.master {
            return Err(clean_refused(format!(
                "group {} still has master {m}: name the replicas to clean, or clean living \
                 brokers too (-l)",
                g.broker_name
            )));
        }
        return Ok(());
    };
    let now = Instant::now();
    let live = c.liveness.lock();
    if let Some(id) = ids
        .iter()
        .find(|id| live.is_alive(now, &g.broker_name, **id))
    {
        return Err(clean_refused(format!(
            "broker id {id} of {} is alive: stop it first, or clean living brokers too (-l)",
            g.broker_name
        )));
    }
    Ok(())
}
