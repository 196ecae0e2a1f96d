//! The KV config commands: PUT_KV_CONFIG (100), GET_KV_CONFIG (101), DELETE_KV_CONFIG (102) and
//! GET_KVLIST_BY_NAMESPACE (219). A change is answered once it is on disk; a failed write is a
//! SYSTEM_ERROR naming the file (the change stays in memory and is written with the next one).

use std::sync::Arc;

use rmq_remoting::body::JsonBody;
use rmq_remoting::header::{
    DeleteKVConfigRequestHeader, GetKVConfigRequestHeader, GetKVConfigResponseHeader,
    GetKVListByNamespaceRequestHeader, PutKVConfigRequestHeader,
};
use rmq_remoting::{ProcessError, ProcessResult, RemotingCommand, RequestContext, ResponseCode};
use tracing::{error, info};

use crate::state::NamesrvState;
use crate::NamesrvError;

fn persist_failed(e: NamesrvError) -> ProcessError {
    error!(error = %e, "KV config change not persisted");
    ProcessError::response(ResponseCode::SystemError, e.to_string())
}

pub(super) async fn put_kv_config(state: Arc<NamesrvState>, req: RemotingCommand) -> ProcessResult {
    let h: PutKVConfigRequestHeader = req.decode_header()?;
    let result = state.kv.put(&h.namespace, &h.key, &h.value).await;
    // orderTopicConf in routes comes from here.
    state.route_cache.invalidate();
    result.map_err(persist_failed)?;
    info!(namespace = %h.namespace, key = %h.key, value = %h.value, "KV config put");
    Ok(Some(req.response_to(ResponseCode::Success)))
}

pub(super) async fn delete_kv_config(
    state: Arc<NamesrvState>,
    req: RemotingCommand,
) -> ProcessResult {
    let h: DeleteKVConfigRequestHeader = req.decode_header()?;
    let result = state.kv.delete(&h.namespace, &h.key).await;
    state.route_cache.invalidate();
    result.map_err(persist_failed)?;
    info!(namespace = %h.namespace, key = %h.key, "KV config deleted");
    Ok(Some(req.response_to(ResponseCode::Success)))
}

pub(super) fn get_kv_config(state: &NamesrvState, req: &RemotingCommand) -> ProcessResult {
    let h: GetKVConfigRequestHeader = req.decode_header()?;
    match state.kv.get(&h.namespace, &h.key) {
        Some(value) => Ok(Some(
            req.response_to(ResponseCode::Success)
                .with_header(&GetKVConfigResponseHeader { value: Some(value) }),
        )),
        None => Err(ProcessError::response(
            ResponseCode::QueryNotFound,
            format!("No config item, Namespace: {} Key: {}", h.namespace, h.key),
        )),
    }
}

pub(super) fn get_kv_list(
    state: &NamesrvState,
    _ctx: &RequestContext,
    req: &RemotingCommand,
) -> ProcessResult {
    let h: GetKVListByNamespaceRequestHeader = req.decode_header()?;
    match state.kv.namespace(&h.namespace) {
        Some(table) => Ok(Some(
            req.response_to(ResponseCode::Success)
                .with_body(table.to_json_bytes()),
        )),
        None => Err(ProcessError::response(
            ResponseCode::QueryNotFound,
            format!("No config item, Namespace: {}", h.namespace),
        )),
    }
}
