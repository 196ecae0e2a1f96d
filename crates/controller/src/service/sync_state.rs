//! CONTROLLER_ALTER_SYNC_STATE_SET: the master shrinks a lagging slave out of its SyncStateSet
//! or expands a caught-up one in. Apache's checks, in Apache's order, then the change through
//! Raft under the epochs the master named ([`crate::sync_state::check_alter`]).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use rmq_remoting::body::SyncStateSet;
use rmq_remoting::header::{AlterSyncStateSetRequestHeader, AlterSyncStateSetResponseHeader};
use rmq_remoting::json::JsonBody;
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RemotingServer, RequestCode, ResponseCode};

use super::replicas::{route, sync_state_body};
use super::{broker_id, refused, Controller};
use crate::command::{Applied, Command};
use crate::replica_set::BrokerId;

pub(super) fn register(c: &Arc<Controller>, server: &mut RemotingServer) {
    route(
        c,
        server,
        RequestCode::ControllerAlterSyncStateSet,
        |c, req| async move { c.alter_sync_state_set(req).await },
    );
}

fn failed(remark: String) -> ProcessError {
    ProcessError::response(ResponseCode::ControllerAlterSyncStateSetFailed, remark)
}

impl Controller {
    async fn alter_sync_state_set(&self, req: RemotingCommand) -> ProcessResult {
        let h: AlterSyncStateSetRequestHeader = req.decode_header()?;
        let body = SyncStateSet::from_json_bytes(&req.body)?;
        let master = broker_id("masterBrokerId", h.master_broker_id)?;
        let new_set = body
            .sync_state_set
            .iter()
            .map(|id| broker_id("syncStateSet member", *id))
            .collect::<Result<BTreeSet<BrokerId>, _>>()?;
        let state = self.leader_state().await?;
        let Some(g) = state.group(&h.broker_name) else {
            return Err(failed(format!(
                "broker group {} is not registered with the controller",
                h.broker_name
            )));
        };
        if g.sync_state_set == new_set {
            return Err(failed(format!(
                "{:?} is already the SyncStateSet of {}: no need to update",
                new_set, h.broker_name
            )));
        }
        // Liveness is this controller's view, not replicated: checked here, not in the log.
        let now = Instant::now();
        let dead: Vec<BrokerId> = {
            let live = self.liveness.lock();
            new_set
                .iter()
                .filter(|id| {
                    g.replicas.contains_key(id) && !live.is_alive(now, &h.broker_name, **id)
                })
                .copied()
                .collect()
        };
        if g.master == Some(master) && !dead.is_empty() {
            return Err(ProcessError::response(
                ResponseCode::ControllerBrokerNotAlive,
                format!("broker ids {dead:?} of {} are not alive", h.broker_name),
            ));
        }
        let applied = self
            .propose(Command::AlterSyncStateSet {
                broker_name: h.broker_name.clone(),
                master,
                master_epoch: h.master_epoch,
                sync_state_set_epoch: body.sync_state_set_epoch,
                new_set,
            })
            .await?
            .map_err(refused)?;
        let Applied::SyncStateSetAltered {
            sync_state_set_epoch,
        } = applied
        else {
            return Err(ProcessError::response(
                ResponseCode::SystemError,
                format!("a SyncStateSet change applied as {applied:?}"),
            ));
        };
        let after = self.machine.read().state.group(&h.broker_name).cloned();
        let body = after.as_ref().map(sync_state_body).unwrap_or_default();
        Ok(Some(
            req.response_to(ResponseCode::Success)
                .with_header(&AlterSyncStateSetResponseHeader {
                    new_sync_state_set_epoch: Some(sync_state_set_epoch),
                })
                .with_body(body),
        ))
    }
}
