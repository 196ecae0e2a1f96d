//! Calls from this broker to the controllers and to its group's master, shared by the
//! replicas manager and the master's SyncStateSet task.

use std::time::Duration;

use rmq_remoting::header::{CommandHeader, GetMetaDataResponseHeader};
use rmq_remoting::{RemotingCommand, RequestCode, ResponseCode};

use crate::parts::BrokerParts;
use crate::peer_error::PeerError;

/// How long one controller call may take (Apache: 3 s).
pub(super) const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// Sends `req` to `addr`; anything but SUCCESS (or one of `also`) is an error.
pub(super) async fn call(
    p: &BrokerParts,
    addr: &str,
    req: RemotingCommand,
    also: &[ResponseCode],
) -> Result<RemotingCommand, PeerError> {
    let request = req.request_code();
    let resp = p.outbound.invoke(addr, req, CALL_TIMEOUT).await?;
    let code = resp.response_code();
    if code != ResponseCode::Success && !also.contains(&code) {
        return Err(PeerError::Refused {
            request,
            code: resp.code,
            remark: resp.remark.unwrap_or_default(),
        });
    }
    Ok(resp)
}

/// The controller leader, from the first controller that knows one.
pub(super) async fn leader(p: &BrokerParts, controllers: &[String]) -> Result<String, PeerError> {
    for c in controllers {
        let req = RemotingCommand::new_request(RequestCode::ControllerGetMetadataInfo);
        let Ok(resp) = call(p, c, req, &[]).await else {
            continue;
        };
        let h = header::<GetMetaDataResponseHeader>(RequestCode::ControllerGetMetadataInfo, &resp)?;
        if let Some(leader) = h.controller_leader_address.filter(|a| !a.is_empty()) {
            return Ok(leader);
        }
    }
    Err(PeerError::NoControllerLeader(controllers.join(";")))
}

/// The header of `resp`, the answer to `request`.
pub(super) fn header<H: CommandHeader>(
    request: RequestCode,
    resp: &RemotingCommand,
) -> Result<H, PeerError> {
    resp.decode_header()
        .map_err(|source| PeerError::Header { request, source })
}
