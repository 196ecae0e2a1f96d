//! ACL 1.0's admin codes: UPDATE_AND_CREATE_ACL_CONFIG (50), DELETE_ACL_CONFIG (51),
//! GET_BROKER_CLUSTER_ACL_INFO (52), UPDATE_GLOBAL_WHITE_ADDRS_CONFIG (53) and
//! GET_BROKER_CLUSTER_ACL_CONFIG (54), answered from `plain_acl.yml` (`acl/edit.rs`). A broker
//! without `aclEnable=true` says so.

use std::sync::Arc;

use rmq_remoting::body::JsonBody;
use rmq_remoting::header::{
    CreateAccessConfigRequestHeader, DeleteAccessConfigRequestHeader,
    GetBrokerAclConfigResponseHeader, UpdateGlobalWhiteAddrsConfigRequestHeader,
};
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RemotingServer, RequestCode, ResponseCode};

use crate::acl::Acl;
use crate::context::BrokerContext;

fn acl_of(acl: Option<&Acl>) -> Result<&Acl, ProcessError> {
    acl.ok_or_else(|| {
        ProcessError::response(
            ResponseCode::SystemError,
            "ACL 1.0 is not enabled on this broker (aclEnable=false); with ACL 2.0 manage \
             users with mqadmin createUser/createAcl",
        )
    })
}

fn invalid(e: String) -> ProcessError {
    ProcessError::response(ResponseCode::InvalidParameter, e)
}

fn ok(req: &RemotingCommand) -> ProcessResult {
    Ok(Some(req.response_to(ResponseCode::Success)))
}

fn update(_: &BrokerContext, acl: Option<&Acl>, req: RemotingCommand) -> ProcessResult {
    let h: CreateAccessConfigRequestHeader = req.decode_header()?;
    acl_of(acl)?.update_account(&h).map_err(invalid)?;
    ok(&req)
}

fn delete(_: &BrokerContext, acl: Option<&Acl>, req: RemotingCommand) -> ProcessResult {
    let h: DeleteAccessConfigRequestHeader = req.decode_header()?;
    let ak = h.access_key.unwrap_or_default();
    acl_of(acl)?.delete_account(ak.trim()).map_err(invalid)?;
    ok(&req)
}

fn white(_: &BrokerContext, acl: Option<&Acl>, req: RemotingCommand) -> ProcessResult {
    let h: UpdateGlobalWhiteAddrsConfigRequestHeader = req.decode_header()?;
    let patterns = h.global_white_addrs.unwrap_or_default();
    acl_of(acl)?.set_global_white(&patterns).map_err(invalid)?;
    ok(&req)
}

fn version(ctx: &BrokerContext, acl: Option<&Acl>, req: RemotingCommand) -> ProcessResult {
    let acl = acl_of(acl)?;
    let version = acl.version();
    let h = GetBrokerAclConfigResponseHeader {
        all_acl_file_version: Some(
            serde_json::json!({ acl.path().display().to_string(): version }).to_string(),
        ),
        version: serde_json::to_string(&version).ok(),
        broker_name: Some(ctx.broker_name().to_owned()),
        broker_addr: Some(ctx.broker_addr().to_owned()),
        cluster_name: Some(ctx.cluster_name().to_owned()),
    };
    Ok(Some(req.response_to(ResponseCode::Success).with_header(&h)))
}

fn config(_: &BrokerContext, acl: Option<&Acl>, req: RemotingCommand) -> ProcessResult {
    let body = acl_of(acl)?.config_body().to_json_bytes();
    Ok(Some(req.response_to(ResponseCode::Success).with_body(body)))
}

/// Routes the five codes; `acl` is the 1.0 rules when `aclEnable=true`.
pub(crate) fn register(
    server: &mut RemotingServer,
    ctx: &Arc<BrokerContext>,
    acl: Option<Arc<Acl>>,
) {
    type Handler = fn(&BrokerContext, Option<&Acl>, RemotingCommand) -> ProcessResult;
    let table: [(RequestCode, Handler); 5] = [
        (RequestCode::UpdateAndCreateAclConfig, update),
        (RequestCode::DeleteAclConfig, delete),
        (RequestCode::UpdateGlobalWhiteAddrsConfig, white),
        (RequestCode::GetBrokerClusterAclInfo, version),
        (RequestCode::GetBrokerClusterAclConfig, config),
    ];
    for (code, handler) in table {
        let acl = acl.clone();
        super::route(server, ctx, code, move |ctx, _, req| {
            let out = handler(&ctx, acl.as_deref(), req);
            async move { out }
        });
    }
}
