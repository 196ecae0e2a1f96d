//! What clients and admin tools ask: GET_ROUTEINFO_BY_TOPIC (105), GET_BROKER_CLUSTER_INFO
//! (106), GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206), GET_TOPICS_BY_CLUSTER (224), and the admin
//! edits DELETE_TOPIC_IN_NAMESRV (216), WIPE_WRITE_PERM_OF_BROKER (205) and
//! ADD_WRITE_PERM_OF_BROKER (327) (Apache `ClientRequestProcessor`, `DefaultRequestProcessor`).
//!
//! The route query is the hot path: it reads its two header fields straight from `extFields`
//! (no header struct to allocate) and answers with cached encoded bytes.

use rmq_remoting::body::{JsonBody, STANDARD_JSON_MIN_VERSION};
use rmq_remoting::header::{
    AddWritePermOfBrokerRequestHeader, AddWritePermOfBrokerResponseHeader,
    DeleteTopicFromNamesrvRequestHeader, GetTopicsByClusterRequestHeader, HeaderValue,
    WipeWritePermOfBrokerRequestHeader, WipeWritePermOfBrokerResponseHeader,
};
use rmq_remoting::{
    HeaderError, ProcessError, ProcessResult, RemotingCommand, RequestContext, ResponseCode,
};
use tracing::info;

use crate::route_cache::JsonForm;
use crate::state::NamesrvState;

/// Apache's `FAQUrl.suggestTodo(FAQUrl.APPLY_TOPIC_URL)`, appended to TOPIC_NOT_EXIST remarks.
const APPLY_TOPIC_FAQ: &str =
    "\nSee https://rocketmq.apache.org/docs/bestPractice/06FAQ for further details.";

pub(super) fn get_route_info(
    state: &NamesrvState,
    _ctx: &RequestContext,
    req: &RemotingCommand,
) -> ProcessResult {
    let topic = req.ext_fields.get("topic").ok_or(HeaderError::Missing {
        header: "GetRouteInfoRequestHeader",
        field: "topic",
    })?;
    let standard_only = req
        .ext_fields
        .get("acceptStandardJsonOnly")
        .and_then(bool::from_header_str)
        .unwrap_or(false);
    let form = if standard_only || req.version >= STANDARD_JSON_MIN_VERSION {
        JsonForm::Standard
    } else {
        JsonForm::Fastjson
    };
    match state.encoded_route(topic, form) {
        Some(body) => Ok(Some(req.response_to(ResponseCode::Success).with_body(body))),
        None => Err(ProcessError::response(
            ResponseCode::TopicNotExist,
            format!("No topic route info in name server for the topic: {topic}{APPLY_TOPIC_FAQ}"),
        )),
    }
}

/// Always the fastjson form (bare numeric `brokerAddrs` keys), as Apache sends it.
pub(super) fn get_cluster_info(
    state: &NamesrvState,
    _ctx: &RequestContext,
    req: &RemotingCommand,
) -> ProcessResult {
    let info = state.routes.read().cluster_info();
    Ok(Some(
        req.response_to(ResponseCode::Success)
            .with_body(info.to_fastjson_bytes()),
    ))
}

fn disabled() -> ProcessError {
    ProcessError::response(ResponseCode::SystemError, "disable")
}

pub(super) fn get_all_topics(
    state: &NamesrvState,
    _ctx: &RequestContext,
    req: &RemotingCommand,
) -> ProcessResult {
    if !state.config.enable_all_topic_list {
        return Err(disabled());
    }
    let list = state.routes.read().all_topics();
    Ok(Some(
        req.response_to(ResponseCode::Success)
            .with_body(list.to_json_bytes()),
    ))
}

pub(super) fn get_topics_by_cluster(
    state: &NamesrvState,
    _ctx: &RequestContext,
    req: &RemotingCommand,
) -> ProcessResult {
    if !state.config.enable_topic_list {
        return Err(disabled());
    }
    let h: GetTopicsByClusterRequestHeader = req.decode_header()?;
    let list = state.routes.read().topics_by_cluster(&h.cluster);
    Ok(Some(
        req.response_to(ResponseCode::Success)
            .with_body(list.to_json_bytes()),
    ))
}

pub(super) fn delete_topic(
    state: &NamesrvState,
    _ctx: &RequestContext,
    req: &RemotingCommand,
) -> ProcessResult {
    let h: DeleteTopicFromNamesrvRequestHeader = req.decode_header()?;
    let removed = state.change_routes(|t| t.delete_topic(&h.topic, h.cluster_name.as_deref()));
    info!(topic = %h.topic, cluster = %h.cluster_name.as_deref().unwrap_or(""), removed, "topic deleted from routes");
    Ok(Some(req.response_to(ResponseCode::Success)))
}

pub(super) fn wipe_write_perm(
    state: &NamesrvState,
    _ctx: &RequestContext,
    req: &RemotingCommand,
) -> ProcessResult {
    let h: WipeWritePermOfBrokerRequestHeader = req.decode_header()?;
    let count = state.change_routes(|t| t.set_write_perm(&h.broker_name, true));
    info!(broker = %h.broker_name, topics = count, "write permission wiped");
    Ok(Some(req.response_to(ResponseCode::Success).with_header(
        &WipeWritePermOfBrokerResponseHeader {
            wipe_topic_count: count,
        },
    )))
}

pub(super) fn add_write_perm(
    state: &NamesrvState,
    _ctx: &RequestContext,
    req: &RemotingCommand,
) -> ProcessResult {
    let h: AddWritePermOfBrokerRequestHeader = req.decode_header()?;
    let count = state.change_routes(|t| t.set_write_perm(&h.broker_name, false));
    info!(broker = %h.broker_name, topics = count, "write permission added");
    Ok(Some(req.response_to(ResponseCode::Success).with_header(
        &AddWritePermOfBrokerResponseHeader {
            add_topic_count: count,
        },
    )))
}
