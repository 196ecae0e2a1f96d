//! What brokers and `mqadmin` ask a controller, over the remoting protocol with Apache's codes,
//! headers and bodies (RocketMQ 5's controller mode): broker ids and registration
//! ([`replicas`]), heartbeats, elections and the leader's watch over masters ([`elect`]), the
//! SyncStateSet, and the operator's questions ([`admin`]).
//!
//! Requests that read or change the replicated state are answered by the Raft leader only;
//! another controller answers CONTROLLER_NOT_LEADER (2007) and the broker asks the leader
//! that GET_METADATA_INFO names. Heartbeats and GET_METADATA_INFO any controller answers: each
//! keeps its own view of who is alive, fed by brokers heartbeating every controller.

mod admin;
mod elect;
mod replicas;
mod sync_state;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::error::{ClientWriteError, RaftError};
use openraft::Raft;
use parking_lot::{Mutex, RwLock};
use rmq_remoting::transport::ProcessError;
use rmq_remoting::{ClientConfig, RemotingClient, RemotingServer, ResponseCode};

pub use elect::watch_masters;

use crate::command::{Applied, Command, Rejected};
use crate::config::{ControllerConfig, Peer};
use crate::liveness::Liveness;
use crate::raft::state_machine::Machine;
use crate::raft::{Outcome, TypeConfig};
use crate::state::ControllerState;

/// How long a request waits for its command to be committed and applied (Apache: 5 s).
const APPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// One controller as brokers see it.
pub struct Controller {
    me: u64,
    config: ControllerConfig,
    peers: BTreeMap<u64, Peer>,
    raft: Raft<TypeConfig>,
    machine: Arc<RwLock<Machine>>,
    liveness: Mutex<Liveness>,
    /// Tells brokers of a new master (NOTIFY_BROKER_ROLE_CHANGED).
    notifier: RemotingClient,
}

impl Controller {
    pub fn new(
        me: u64,
        config: ControllerConfig,
        peers: BTreeMap<u64, Peer>,
        raft: Raft<TypeConfig>,
        machine: Arc<RwLock<Machine>>,
    ) -> Self {
        Controller {
            me,
            config,
            peers,
            raft,
            machine,
            // A replica never heard from is declared dead after Apache's default broker
            // heartbeat timeout.
            liveness: Mutex::new(Liveness::new(Duration::from_secs(10), Instant::now())),
            notifier: RemotingClient::new(ClientConfig::default()),
        }
    }

    /// Registers the broker- and admin-facing request codes on `server`.
    pub fn register(self: &Arc<Self>, server: &mut RemotingServer) {
        replicas::register(self, server);
        elect::register(self, server);
        sync_state::register(self, server);
        admin::register(self, server);
    }

    /// Stops talking to brokers.
    pub async fn shutdown(&self) {
        self.notifier.shutdown().await;
    }

    fn is_leader(&self) -> bool {
        self.raft.metrics().borrow().current_leader == Some(self.me)
    }

    /// The applied state, once this controller is sure it leads and has applied everything
    /// committed before now (a read no older than the latest decision).
    async fn leader_state(&self) -> Result<ControllerState, ProcessError> {
        if let Err(e) = self.raft.ensure_linearizable().await {
            tracing::debug!(error = %e, "a read refused: not the leader");
            return Err(not_leader());
        }
        Ok(self.machine.read().state.clone())
    }

    /// Commits `cmd` through Raft and returns what applying it did.
    async fn propose(&self, cmd: Command) -> Result<Result<Applied, Rejected>, ProcessError> {
        let written = tokio::time::timeout(APPLY_TIMEOUT, self.raft.client_write(cmd)).await;
        match written {
            Err(_) => Err(ProcessError::response(
                ResponseCode::SystemError,
                format!(
                    "the controllers did not commit the change within {APPLY_TIMEOUT:?} (is a \
                     majority of controllerDLegerPeers up?)"
                ),
            )),
            Ok(Ok(resp)) => match resp.data {
                Outcome::Done(a) => Ok(Ok(a)),
                Outcome::Refused(r) => Ok(Err(r)),
                Outcome::Nothing => Err(ProcessError::response(
                    ResponseCode::SystemError,
                    "the controller's log applied nothing for the request",
                )),
            },
            Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_)))) => Err(not_leader()),
            Ok(Err(e)) => Err(ProcessError::response(
                ResponseCode::SystemError,
                format!("the controllers' Raft group failed the change: {e}"),
            )),
        }
    }
}

fn not_leader() -> ProcessError {
    ProcessError::response(
        ResponseCode::ControllerNotLeader,
        "The controller is not in leader state",
    )
}

/// A refused command as Apache's controller answers it.
fn refused(r: Rejected) -> ProcessError {
    let code = match &r {
        Rejected::UnknownGroup(_) => ResponseCode::ControllerBrokerMetadataNotExist,
        Rejected::WrongCluster { .. } => ResponseCode::ControllerInvalidRequest,
        Rejected::UnknownReplica { .. } => ResponseCode::ControllerInvalidReplicas,
        Rejected::BrokerIdTaken { .. } => ResponseCode::ControllerBrokerIdInvalid,
        Rejected::NotAlive { .. } => ResponseCode::ControllerBrokerNotAlive,
        Rejected::StaleMasterEpoch { .. } => ResponseCode::ControllerFencedMasterEpoch,
        Rejected::StaleSyncStateSetEpoch { .. } => ResponseCode::ControllerFencedSyncStateSetEpoch,
        Rejected::NotMaster { .. } => ResponseCode::ControllerInvalidMaster,
        Rejected::NotInSyncStateSet { .. } => ResponseCode::ControllerElectMasterFailed,
        Rejected::BadSyncStateSet { .. } => ResponseCode::ControllerAlterSyncStateSetFailed,
    };
    ProcessError::response(code, r.to_string())
}

/// Broker ids are `Long` on the wire and never negative here.
fn wire_id(id: crate::BrokerId) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

/// A broker id from the wire: positive, or the request is wrong.
fn broker_id(field: &str, v: i64) -> Result<crate::BrokerId, ProcessError> {
    u64::try_from(v).map_err(|_| {
        ProcessError::response(
            ResponseCode::ControllerInvalidRequest,
            format!("{field} {v} is not a broker id (1, 2, ...)"),
        )
    })
}
