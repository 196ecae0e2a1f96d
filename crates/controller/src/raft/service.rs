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
    route(
        server,
        raft,
        RequestCode::ControllerRaftAppendEntries,
        |r, m| async move { r.append_entries(m).await },
    );
    route(
        server,
        raft,
        RequestCode::ControllerRaftVote,
        |r, m| async move { r.vote(m).await },
    );
    route(
        server,
        raft,
        RequestCode::ControllerRaftInstallSnapshot,
        |r, m| async move { r.install_snapshot(m).await },
    );
}

/// Answers `code` by decoding the body, handing it to `call` and encoding what it returns.
fn route<Req, Resp, F, Fut>(
    server: &mut RemotingServer,
    raft: &Raft<TypeConfig>,
    code: RequestCode,
    call: F,
) where
    Req: DeserializeOwned + Send + 'static,
    Resp: Serialize + Send + 'static,
    F: Fn(Raft<TypeConfig>, Req) -> Fut + Copy + Send + Sync + 'static,
    Fut: std::future::Future<Output = Resp> + Send + 'static,
{
    let raft = raft.clone();
    server.register(code, move |_rc, req: RemotingCommand| {
        let raft = raft.clone();
        async move {
            let answer = call(raft, decode(&req)?).await;
            encode(&req, &answer)
        }
    });
}
