//! Raft messages between controllers over the remoting protocol: openraft's requests and
//! responses as JSON bodies of rmq's own request codes (1901-1903) on each controller's
//! listen port. The answer's body is `Result<response, RaftError>` as JSON.

use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::BasicNode;
use rmq_remoting::{RemotingClient, RemotingCommand, RemotingError, RequestCode, ResponseCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::types::TypeConfig;

/// Makes a connection handle per peer; all share one remoting client.
#[derive(Clone)]
pub struct Network {
    client: RemotingClient,
}

impl Network {
    pub fn new(client: RemotingClient) -> Self {
        Network { client }
    }
}

pub struct Peer {
    client: RemotingClient,
    target: u64,
    addr: String,
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Peer;

    async fn new_client(&mut self, target: u64, node: &BasicNode) -> Peer {
        Peer {
            client: self.client.clone(),
            target,
            addr: node.addr.clone(),
        }
    }
}

/// A failure to talk to a peer, before any answer from its Raft.
#[derive(Debug, thiserror::Error)]
#[error("controller {addr}: {what}")]
struct PeerError {
    addr: String,
    what: String,
}

impl Peer {
    async fn call<Req: Serialize, Resp: DeserializeOwned, E>(
        &self,
        code: RequestCode,
        req: &Req,
        option: &RPCOption,
    ) -> Result<Resp, RPCError<u64, BasicNode, RaftError<u64, E>>>
    where
        E: std::error::Error + DeserializeOwned,
    {
        let fail = |what: String| PeerError {
            addr: self.addr.clone(),
            what,
        };
        let body = serde_json::to_vec(req)
            .map_err(|e| RPCError::Network(NetworkError::new(&fail(e.to_string()))))?;
        let cmd = RemotingCommand::new_request(code).with_body(body);
        let resp = match self.client.invoke(&self.addr, cmd, option.hard_ttl()).await {
            Ok(r) => r,
            Err(e @ (RemotingError::Connect { .. } | RemotingError::ConnectTimeout { .. })) => {
                return Err(RPCError::Unreachable(Unreachable::new(&e)))
            }
            Err(e) => return Err(RPCError::Network(NetworkError::new(&e))),
        };
        if resp.response_code() != ResponseCode::Success {
            let what = format!(
                "answered {:?}: {}",
                resp.response_code(),
                resp.remark.unwrap_or_default()
            );
            return Err(RPCError::Network(NetworkError::new(&fail(what))));
        }
        let answer: Result<Resp, RaftError<u64, E>> = serde_json::from_slice(&resp.body)
            .map_err(|e| RPCError::Network(NetworkError::new(&fail(e.to_string()))))?;
        answer.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

impl RaftNetwork<TypeConfig> for Peer {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<u64>, RPCError<u64, BasicNode, RaftError<u64>>> {
        self.call(RequestCode::ControllerRaftAppendEntries, &rpc, &option)
            .await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<u64>,
        RPCError<u64, BasicNode, RaftError<u64, InstallSnapshotError>>,
    > {
        self.call(RequestCode::ControllerRaftInstallSnapshot, &rpc, &option)
            .await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<u64>,
        option: RPCOption,
    ) -> Result<VoteResponse<u64>, RPCError<u64, BasicNode, RaftError<u64>>> {
        self.call(RequestCode::ControllerRaftVote, &rpc, &option)
            .await
    }
}
