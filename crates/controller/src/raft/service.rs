//! The receiving side of [`network`](super::network): the three Raft request codes handed to
//! this controller's openraft instance.

use openraft::Raft;
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RemotingServer, RequestCode, ResponseCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::types::TypeConfig;

fn decode<T: DeserializeOwned>(req: &RemotingCommand) -> Result<T, ProcessError> {
    serde_json::from_slice(&req.body).map_err(|e| {
        ProcessError::response(
            ResponseCode::SystemError,
            format!("not a Raft message this controller reads: {e}"),
        )
    })
}

fn encode<T: Serialize>(req: &RemotingCommand, answer: &T) -> ProcessResult {
    let body = serde_json::to_vec(answer)
        .map_err(|e| ProcessError::response(ResponseCode::SystemError, e.to_string()))?;
    Ok(Some(req.response_to(ResponseCode::Success).with_body(body)))
}

/// Registers the Raft request codes on `server`, answered by `raft`.
pub fn register(server: &mut RemotingServer, raft: &Raft<TypeConfig>) {
    let r = raft.clone();
    server.register(
        RequestCode::ControllerRaftAppendEntries,
        move |_rc, req: RemotingCommand| {
            let r = r.clone();
            async move {
                let answer = r.append_entries(decode(&req)?).await;
                encode(&req, &answer)
            }
        },
    );
    let r = raft.clone();
    server.register(
        RequestCode::ControllerRaftVote,
        move |_rc, req: RemotingCommand| {
            let r = r.clone();
            async move {
                let answer = r.vote(decode(&req)?).await;
                encode(&req, &answer)
            }
        },
    );
    let r = raft.clone();
    server.register(
        RequestCode::ControllerRaftInstallSnapshot,
        move |_rc, req: RemotingCommand| {
            let r = r.clone();
            async move {
                let answer = r.install_snapshot(decode(&req)?).await;
                encode(&req, &answer)
            }
        },
    );
}
