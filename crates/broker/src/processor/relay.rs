//! Requests the broker relays to one connected consumer and answers with the consumer's reply
//! (`callConsumer` in Apache): GET_CONSUMER_RUNNING_INFO (307), CONSUME_MESSAGE_DIRECTLY (309);
//! and INVOKE_BROKER_TO_GET_CONSUMER_STATUS (223), which asks every member of a group for the
//! offsets it holds (GET_CONSUMER_STATUS_FROM_CLIENT, 221). A consumer connected over gRPC is
//! asked over its Telemetry stream instead (relay_grpc.rs).

use std::sync::Arc;
use std::time::Duration;

use rmq_common::msg_id::decode_offset_msg_id;
use rmq_remoting::body::{GetConsumerStatusBody, JsonBody, QueueOffsets};
use rmq_remoting::header::{
    ConsumeMessageDirectlyResultRequestHeader, GetConsumerRunningInfoRequestHeader,
    GetConsumerStatusRequestHeader,
};
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RequestCode, RequestContext, ResponseCode};

use super::relay_grpc;
use crate::clients::ClientChannel;
use crate::context::BrokerContext;

/// How long a relayed request waits for the consumer (Apache's `callClient` waits 10 s).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// `MQVersion.Version.V3_1_8_SNAPSHOT`: older clients cannot answer relayed requests.
const MIN_CLIENT_VERSION: i32 = 115;

pub async fn running_info(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: GetConsumerRunningInfoRequestHeader = req.decode_header()?;
    if let Some(c) = grpc_consumer(&ctx, &h.consumer_group, &h.client_id) {
        let jstack = h.jstack_enable.unwrap_or(false);
        return relay_grpc::running_info(&ctx, &req, c, jstack, CLIENT_TIMEOUT).await;
    }
    call_consumer(
        &ctx,
        RequestCode::GetConsumerRunningInfo,
        &req,
        &h.consumer_group,
        &h.client_id,
    )
    .await
}

pub async fn consume_directly(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    mut req: RemotingCommand,
) -> ProcessResult {
    let h: ConsumeMessageDirectlyResultRequestHeader = req.decode_header()?;
    let Some(client_id) = h.client_id.clone() else {
        return Err(ProcessError::response(
            ResponseCode::InvalidParameter,
            "clientId is required: which consumer of the group should consume the message",
        ));
    };
    let (_, offset) = decode_offset_msg_id(&h.msg_id).ok_or_else(|| {
        ProcessError::response(
            ResponseCode::InvalidParameter,
            format!("msgId {} is not an offset message id", h.msg_id),
        )
    })?;
    let record = ctx.store().look_message_by_offset(offset).ok_or_else(|| {
        ProcessError::response(
            ResponseCode::SystemError,
            format!("no message at the offset of msgId {}", h.msg_id),
        )
    })?;
    if let Some(c) = grpc_consumer(&ctx, &h.consumer_group, &client_id) {
        return relay_grpc::consume_directly(&ctx, &req, c, record, CLIENT_TIMEOUT).await;
    }
    req.ext_fields.insert("brokerName", ctx.broker_name());
    if let Some(t) = h.topic.as_deref().and_then(|t| ctx.topics().get(t)) {
        req.ext_fields
            .insert("topicSysFlag", t.topic_sys_flag.to_string());
    }
    req.body = record;
    call_consumer(
        &ctx,
        RequestCode::ConsumeMessageDirectly,
        &req,
        &h.consumer_group,
        &client_id,
    )
    .await
}

/// `client_id` of `group` when it is connected over gRPC rather than remoting.
fn grpc_consumer(
    ctx: &BrokerContext,
    group: &str,
    client_id: &str,
) -> Option<crate::live_clients::GrpcConsumer> {
    if ctx.consumers().channel(group, client_id).is_some() {
        return None;
    }
    ctx.live_clients().consumer(group, client_id)
}

/// Relays `req` as `code` to `client_id` of `group` and answers with its reply.
async fn call_consumer(
    ctx: &BrokerContext,
    code: RequestCode,
    req: &RemotingCommand,
    group: &str,
    client_id: &str,
) -> ProcessResult {
    let channel = ctx.consumers().channel(group, client_id).ok_or_else(|| {
        ProcessError::response(
            ResponseCode::SystemError,
            format!("The Consumer <{group}> <{client_id}> not online"),
        )
    })?;
    if channel.version < MIN_CLIENT_VERSION {
        return Err(ProcessError::response(
            ResponseCode::SystemError,
            format!(
                "The Consumer <{client_id}> version {} is too old to answer {}",
                channel.version,
                code.name()
            ),
        ));
    }
    let mut relayed = RemotingCommand::new_request(code);
    relayed.ext_fields = req.ext_fields.clone();
    relayed.body = req.body.clone();
    match channel.handle.invoke(relayed, CLIENT_TIMEOUT).await {
        Ok(reply) => {
            let mut resp = req.response_to(reply.code);
            resp.remark = reply.remark;
            resp.ext_fields = reply.ext_fields;
            resp.body = reply.body;
            Ok(Some(resp))
        }
        Err(rmq_remoting::RemotingError::Timeout { .. }) => Err(ProcessError::response(
            ResponseCode::ConsumeMsgTimeout,
            format!("consumer <{group}> <{client_id}> did not answer within {CLIENT_TIMEOUT:?}"),
        )),
        Err(e) => Err(ProcessError::response(
            ResponseCode::SystemError,
            format!("invoke consumer <{group}> <{client_id}>: {e}"),
        )),
    }
}

pub async fn consumer_status(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: GetConsumerStatusRequestHeader = req.decode_header()?;
    let members: Vec<ClientChannel> = ctx
        .consumers()
        .group(&h.group)
        .map(|g| g.channels.into_values().collect())
        .unwrap_or_default();
    if members.is_empty() {
        return Err(ProcessError::response(
            ResponseCode::ConsumerNotOnline,
            format!("no consumer of group {} is online", h.group),
        ));
    }
    let ask = RemotingCommand::request(
        RequestCode::GetConsumerStatusFromClient,
        &GetConsumerStatusRequestHeader {
            topic: h.topic.clone(),
            group: h.group.clone(),
            client_addr: None,
            rpc: Default::default(),
        },
    );
    let mut body = GetConsumerStatusBody::default();
    for m in members {
        let addr = m.handle.peer_addr().to_string();
        if h.client_addr.as_deref().is_some_and(|a| a != addr) {
            continue;
        }
        let reply = m
            .handle
            .invoke(ask.clone(), CLIENT_TIMEOUT)
            .await
            .map_err(|e| {
                ProcessError::response(
                    ResponseCode::SystemError,
                    format!(
                        "asking consumer {} of group {} for its offsets: {e}",
                        m.client_id, h.group
                    ),
                )
            })?;
        if reply.code != i32::from(ResponseCode::Success) {
            return Err(ProcessError::response(
                ResponseCode::SystemError,
                format!(
                    "consumer {} of group {} answered {}: {}",
                    m.client_id,
                    h.group,
                    reply.code,
                    reply.remark.unwrap_or_default()
                ),
            ));
        }
        let offsets = GetConsumerStatusBody::from_json_bytes(&reply.body).map_err(|e| {
            ProcessError::response(
                ResponseCode::SystemError,
                format!("consumer {} sent unreadable offsets: {e}", m.client_id),
            )
        })?;
        body.consumer_table.insert(
            m.client_id.clone(),
            QueueOffsets(offsets.message_queue_table),
        );
    }
    Ok(Some(
        req.response_to(ResponseCode::Success)
            .with_body(body.to_fastjson_bytes()),
    ))
}
