//! A broker joining its group, the way Apache's broker does it at start: GET_NEXT_BROKER_ID,
//! APPLY_BROKER_ID (the id then lives in the broker's identity file), REGISTER_BROKER (learns
//! the master, if there is a live one); then BROKER_HEARTBEAT every second to every controller
//! and GET_REPLICA_INFO every few seconds to the leader.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rmq_remoting::body::SyncStateSet;
use rmq_remoting::header::{
    ApplyBrokerIdRequestHeader, ApplyBrokerIdResponseHeader, BrokerHeartbeatRequestHeader,
    GetNextBrokerIdRequestHeader, GetNextBrokerIdResponseHeader, GetReplicaInfoRequestHeader,
    GetReplicaInfoResponseHeader, RegisterBrokerToControllerRequestHeader,
    RegisterBrokerToControllerResponseHeader,
};
use rmq_remoting::json::JsonBody;
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RemotingServer, RequestCode, ResponseCode};

use super::{broker_id, refused, wire_id, Controller};
use crate::command::Command;
use crate::liveness::Heartbeat;
use crate::replica_set::ReplicaSet;

/// Apache's default broker heartbeat timeout, for heartbeats that do not say.
const DEFAULT_HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) fn register(c: &Arc<Controller>, server: &mut RemotingServer) {
    route(
        c,
        server,
        RequestCode::ControllerGetNextBrokerId,
        |c, req| async move { c.next_broker_id(req).await },
    );
    route(
        c,
        server,
        RequestCode::ControllerApplyBrokerId,
        |c, req| async move { c.apply_broker_id(req).await },
    );
    route(
        c,
        server,
        RequestCode::ControllerRegisterBroker,
        |c, req| async move { c.register_broker(req).await },
    );
    route(
        c,
        server,
        RequestCode::ControllerGetReplicaInfo,
        |c, req| async move { c.replica_info(req).await },
    );
    route(
        c,
        server,
        RequestCode::BrokerHeartbeat,
        |c, req| async move { c.heartbeat(req) },
    );
}

/// Routes `code` to `handle` with this controller.
pub(super) fn route<F, Fut>(
    c: &Arc<Controller>,
    server: &mut RemotingServer,
    code: RequestCode,
    handle: F,
) where
    F: Fn(Arc<Controller>, RemotingCommand) -> Fut + Copy + Send + Sync + 'static,
    Fut: std::future::Future<Output = ProcessResult> + Send + 'static,
{
    let c = c.clone();
    server.register(code, move |_ctx, req: RemotingCommand| {
        handle(c.clone(), req)
    });
}

/// The SyncStateSet body every replica answer carries.
pub(super) fn sync_state_body(g: &ReplicaSet) -> bytes::Bytes {
    SyncStateSet {
        sync_state_set: g.sync_state_set.iter().map(|id| wire_id(*id)).collect(),
        sync_state_set_epoch: g.sync_state_set_epoch,
    }
    .to_json_bytes()
}

impl Controller {
    async fn next_broker_id(&self, req: RemotingCommand) -> ProcessResult {
        let h: GetNextBrokerIdRequestHeader = req.decode_header()?;
        let state = self.leader_state().await?;
        let next = state.next_broker_id(&h.broker_name);
        Ok(Some(req.response_to(ResponseCode::Success).with_header(
            &GetNextBrokerIdResponseHeader {
                cluster_name: Some(h.cluster_name),
                broker_name: Some(h.broker_name),
                next_broker_id: Some(wire_id(next)),
            },
        )))
    }

    async fn apply_broker_id(&self, req: RemotingCommand) -> ProcessResult {
        let h: ApplyBrokerIdRequestHeader = req.decode_header()?;
        let id = broker_id("appliedBrokerId", h.applied_broker_id)?;
        // Apache's check code is `brokerAddr;millis`: the address is the broker's.
        let addr = h
            .register_check_code
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned();
        let applied = self
            .propose(Command::ApplyBrokerId {
                cluster: h.cluster_name.clone(),
                broker_name: h.broker_name.clone(),
                id,
                addr,
                check_code: h.register_check_code,
            })
            .await?;
        applied.map_err(refused)?;
        Ok(Some(req.response_to(ResponseCode::Success).with_header(
            &ApplyBrokerIdResponseHeader {
                cluster_name: Some(h.cluster_name),
                broker_name: Some(h.broker_name),
            },
        )))
    }

    async fn register_broker(&self, req: RemotingCommand) -> ProcessResult {
        let h: RegisterBrokerToControllerRequestHeader = req.decode_header()?;
        let id = broker_id("brokerId", h.broker_id)?;
        let state = self.leader_state().await?;
        let Some(g) = state
            .group(&h.broker_name)
            .filter(|g| g.replicas.contains_key(&id))
        else {
            return Err(ProcessError::response(
                ResponseCode::ControllerBrokerNeedToBeRegistered,
                format!(
                    "broker id {id} of group {} is not registered with the controller: apply for \
                     an id first (CONTROLLER_APPLY_BROKER_ID)",
                    h.broker_name
                ),
            ));
        };
        if g.replicas[&id].addr != h.broker_address {
            self.propose(Command::UpdateAddress {
                broker_name: h.broker_name.clone(),
                id,
                addr: h.broker_address.clone(),
            })
            .await?
            .map_err(refused)?;
        }
        let now = Instant::now();
        let live_master = g
            .master
            .filter(|m| self.liveness.lock().is_alive(now, &g.broker_name, *m));
        let mut answer = RegisterBrokerToControllerResponseHeader {
            cluster_name: Some(h.cluster_name),
            broker_name: Some(h.broker_name),
            ..Default::default()
        };
        if let Some(m) = live_master {
            answer.master_broker_id = Some(wire_id(m));
            answer.master_address = g.master_addr().map(str::to_owned);
            answer.master_epoch = Some(g.master_epoch);
            answer.sync_state_set_epoch = Some(g.sync_state_set_epoch);
        }
        Ok(Some(
            req.response_to(ResponseCode::Success)
                .with_header(&answer)
                .with_body(sync_state_body(g)),
        ))
    }

    async fn replica_info(&self, req: RemotingCommand) -> ProcessResult {
        let h: GetReplicaInfoRequestHeader = req.decode_header()?;
        let state = self.leader_state().await?;
        let Some(g) = state.group(&h.broker_name) else {
            return Err(ProcessError::response(
                ResponseCode::ControllerBrokerMetadataNotExist,
                format!(
                    "broker group {} is not registered with the controller",
                    h.broker_name
                ),
            ));
        };
        Ok(Some(
            req.response_to(ResponseCode::Success)
                .with_header(&GetReplicaInfoResponseHeader {
                    master_broker_id: g.master.map(wire_id),
                    master_address: g.master_addr().map(str::to_owned),
                    master_epoch: Some(g.master_epoch),
                })
                .with_body(sync_state_body(g)),
        ))
    }

    /// Any controller takes heartbeats: each keeps its own view of who is alive.
    fn heartbeat(&self, req: RemotingCommand) -> ProcessResult {
        let h: BrokerHeartbeatRequestHeader = req.decode_header()?;
        let (Some(id), Some(name)) = (h.broker_id, h.broker_name) else {
            return Err(ProcessError::response(
                ResponseCode::ControllerInvalidRequest,
                "Heart beat with empty brokerId or brokerName",
            ));
        };
        let id = broker_id("brokerId", id)?;
        let timeout = h
            .heartbeat_timeout_mills
            .and_then(|ms| u64::try_from(ms).ok())
            .filter(|ms| *ms > 0)
            .map_or(DEFAULT_HEARTBEAT_TIMEOUT, Duration::from_millis);
        self.liveness.lock().heartbeat(
            Instant::now(),
            Heartbeat {
                broker_name: name,
                id,
                epoch: h.epoch.unwrap_or(-1),
                max_offset: h.max_offset.unwrap_or(-1),
                priority: h.election_priority.unwrap_or(i32::MAX),
                timeout,
            },
        );
        if req.is_oneway() {
            return Ok(None);
        }
        Ok(Some(
            req.response_to(ResponseCode::Success)
                .with_remark("Heart beat success"),
        ))
    }
}
