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

fn acl_of(acl: &Option<Arc<Acl>>) -> Result<&Acl, ProcessError> {
    acl.as_deref().ok_or_else(|| {
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

async fn update(acl: Option<Arc<Acl>>, req: RemotingCommand) -> ProcessResult {
    let h: CreateAccessConfigRequestHeader = req.decode_header()?;
    acl_of(&acl)?.update_account(&h).map_err(invalid)?;
    ok(&req)
}

async fn delete(acl: Option<Arc<Acl>>, req: RemotingCommand) -> ProcessResult {
    let h: DeleteAccessConfigRequestHeader = req.decode_header()?;
    let ak = h.access_key.unwrap_or_default();
    acl_of(&acl)?.delete_account(ak.trim()).map_err(invalid)?;
    ok(&req)
}

async fn white(acl: Option<Arc<Acl>>, req: RemotingCommand) -> ProcessResult {
    let h: UpdateGlobalWhiteAddrsConfigRequestHeader = req.decode_header()?;
    let patterns = h.global_white_addrs.unwrap_or_default();
    acl_of(&acl)?.set_global_white(&patterns).map_err(invalid)?;
    ok(&req)
}

async fn version(
    ctx: Arc<BrokerContext>,
    acl: Option<Arc<Acl>>,
    req: RemotingCommand,
) -> ProcessResult {
    let acl = acl_of(&acl)?;
    let version = acl.version_json();
    let h = GetBrokerAclConfigResponseHeader {
        all_acl_file_version: Some(
            serde_json::json!({ acl.path().display().to_string(): serde_json::from_str::<serde_json::Value>(&version).unwrap_or_default() })
                .to_string(),
        ),
        version: Some(version),
        broker_name: Some(ctx.broker_name().to_owned()),
        broker_addr: Some(ctx.broker_addr().to_owned()),
        cluster_name: Some(ctx.cluster_name().to_owned()),
    };
    Ok(Some(req.response_to(ResponseCode::Success).with_header(&h)))
}

async fn config(acl: Option<Arc<Acl>>, req: RemotingCommand) -> ProcessResult {
    let body = acl_of(&acl)?.config_body().to_json_bytes();
    Ok(Some(req.response_to(ResponseCode::Success).with_body(body)))
}

/// Routes the five codes; `acl` is the 1.0 rules when `aclEnable=true`.
pub(crate) fn register(
    server: &mut RemotingServer,
    ctx: &Arc<BrokerContext>,
    acl: Option<Arc<Acl>>,
) {
    let a = acl.clone();
    super::route(
        server,
        ctx,
        RequestCode::UpdateAndCreateAclConfig,
        move |_, _, req| update(a.clone(), req),
    );
    let a = acl.clone();
    super::route(
        server,
        ctx,
        RequestCode::DeleteAclConfig,
        move |_, _, req| delete(a.clone(), req),
    );
    let a = acl.clone();
    super::route(
        server,
        ctx,
        RequestCode::UpdateGlobalWhiteAddrsConfig,
        move |_, _, req| white(a.clone(), req),
    );
    let a = acl.clone();
    super::route(
        server,
        ctx,
        RequestCode::GetBrokerClusterAclInfo,
        move |ctx, _, req| version(ctx, a.clone(), req),
    );
    super::route(
        server,
        ctx,
        RequestCode::GetBrokerClusterAclConfig,
        move |_, _, req| config(acl.clone(), req),
    );
}
