//! SEND_REPLY_MESSAGE (324) and SEND_REPLY_MESSAGE_V2 (325): a responder's reply to a request
//! (request-reply, Apache's `ReplyMessageProcessor`).
//!
//! The reply names its requester in `REPLY_TO_CLIENT`; the broker finds that client among the
//! producers connected to it and pushes the reply there at once (PUSH_REPLY_MESSAGE_TO_CLIENT,
//! 326), then, with `storeReplyMessageEnable` (default true), stores it on the reply topic like any
//! send. The answer says whether the push reached the requester: SUCCESS when it did (with where
//! the reply was stored, if it was), SYSTEM_ERROR naming the client when it did not — the
//! requester then times out, as with Apache.

use std::sync::Arc;
use std::time::Duration;

use rmq_common::message::{decode_properties, encode_properties, keys};
use rmq_common::time::now_millis;
use rmq_remoting::header::{
    ReplyMessageRequestHeader, SendMessageRequestHeader, SendMessageResponseHeader,
};
use rmq_remoting::transport::ProcessResult;
use rmq_remoting::{RemotingCommand, RequestCode, RequestContext, ResponseCode};

use super::send;
use crate::context::BrokerContext;

/// How long the push waits for the requester (Apache's `callClient` waits 10 s).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn process(
    ctx: Arc<BrokerContext>,
    rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let header = SendMessageRequestHeader::from_command(&req)?;
    let pushed = push(&ctx, &rc, &header, &req).await;
    let stored = if ctx.config().broker.store_reply_message_enable {
        match send::send(&ctx, &header, req.body.clone(), rc.peer_addr(), false).await {
            Ok(s) if s.result.status.is_stored() => Some(s),
            Ok(s) => {
                tracing::warn!(topic = %header.topic, status = s.result.status.as_str(), "a reply was pushed but not stored");
                None
            }
            Err(e) => {
                tracing::warn!(topic = %header.topic, error = %e, "a reply was pushed but not stored");
                None
            }
        }
    } else {
        None
    };
    if let Err(remark) = pushed {
        tracing::warn!(%remark, "reply not delivered");
        return Ok(Some(
            req.response_to(ResponseCode::SystemError)
                .with_remark(remark),
        ));
    }
    let header = match stored {
        Some(s) => SendMessageResponseHeader {
            msg_id: s
                .result
                .append
                .as_ref()
                .map(|a| a.msg_id.clone())
                .unwrap_or_default(),
            queue_id: s.queue_id,
            queue_offset: s.result.append.as_ref().map_or(0, |a| a.logics_offset),
            ..Default::default()
        },
        // Apache's answer for a reply pushed but not stored: zeros the client can decode.
        None => SendMessageResponseHeader {
            msg_id: "0".into(),
            queue_id: header.queue_id.max(0),
            queue_offset: 0,
            ..Default::default()
        },
    };
    Ok(Some(
        req.response_to(ResponseCode::Success).with_header(&header),
    ))
}

/// Pushes the reply to its requester; `Err` says why it did not get there.
async fn push(
    ctx: &BrokerContext,
    rc: &RequestContext,
    h: &SendMessageRequestHeader,
    req: &RemotingCommand,
) -> Result<(), String> {
    let mut props = decode_properties(h.properties.as_deref().unwrap_or(""));
    let Some(client_id) = props.get(keys::REPLY_TO_CLIENT).cloned() else {
        return Err(format!(
            "reply message properties[{}] is null",
            keys::REPLY_TO_CLIENT
        ));
    };
    let Some(channel) = ctx.producers().channel_of_client(&client_id) else {
        return Err(format!(
            "push reply message fail, channel of <{client_id}> not found."
        ));
    };
    props.insert(keys::PUSH_REPLY_TIME.into(), now_millis().to_string());
    let push_header = ReplyMessageRequestHeader {
        producer_group: h.producer_group.clone(),
        topic: h.topic.clone(),
        default_topic: h.default_topic.clone(),
        default_topic_queue_nums: h.default_topic_queue_nums,
        queue_id: h.queue_id,
        sys_flag: h.sys_flag,
        born_timestamp: h.born_timestamp,
        flag: h.flag,
        properties: Some(encode_properties(&props)),
        reconsume_times: h.reconsume_times,
        unit_mode: h.unit_mode,
        born_host: rc.peer_addr().to_string(),
        store_host: ctx.store_host().to_string(),
        store_timestamp: now_millis(),
    };
    let push = RemotingCommand::request(RequestCode::PushReplyMessageToClient, &push_header)
        .with_body(req.body.clone());
    match channel.handle.invoke(push, CLIENT_TIMEOUT).await {
        Ok(r) if r.response_code() == ResponseCode::Success => Ok(()),
        Ok(r) => Err(format!(
            "push reply message to {client_id} fail: code {} {}",
            r.code,
            r.remark.unwrap_or_default()
        )),
        Err(e) => Err(format!("push reply message to {client_id} fail: {e}")),
    }
}
