//! POP over remoting, as 5.x remoting clients use it: POP_MESSAGE (200050), ACK_MESSAGE
//! (200051), BATCH_ACK_MESSAGE (200151), CHANGE_MESSAGE_INVISIBLETIME (200053), NOTIFICATION
//! (200054) and POLLING_INFO (200055), on the same POP state as gRPC's ReceiveMessage.
//!
//! A POP answer carries the popped records and, in its header, what the client builds each
//! message's receipt handle (`extraInfo`) from: the pop time, the invisible time, and per queue
//! the batch's start offset and the offsets popped.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use rmq_remoting::body::{BatchAckMessageRequestBody, JsonBody};
use rmq_remoting::header::{
    AckMessageRequestHeader, ChangeInvisibleTimeRequestHeader, ChangeInvisibleTimeResponseHeader,
    NotificationRequestHeader, NotificationResponseHeader, PollingInfoRequestHeader,
    PollingInfoResponseHeader, PopMessageRequestHeader, PopMessageResponseHeader,
};
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RequestContext, ResponseCode};

use super::subscription::filter_for_expression;
use crate::context::BrokerContext;
use crate::pop::handle::{pop_retry_topic, ReceiptHandle};
use crate::pop::inflight::QueueKey;
use crate::pop::notify;
use crate::pop::receive::{check, pop, PopRequest};
use crate::pop::settle::{self, SettleError};

/// Most messages one pop returns.
const MAX_BATCH: i32 = 32;
/// Longest a pop waits for messages (Apache's proxy bound for gRPC receives).
const MAX_POLL: Duration = Duration::from_secs(20);
/// `ConsumeInitMode.MIN`.
const INIT_MODE_MIN: i32 = 1;

pub async fn pop_message(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: PopMessageRequestHeader = req.decode_header()?;
    if h.invisible_time <= 0 {
        return Err(ProcessError::response(
            ResponseCode::InvalidParameter,
            format!("invisibleTime {} must be positive", h.invisible_time),
        ));
    }
    let filter = filter_for_expression(
        h.exp_type.as_deref(),
        h.exp.as_deref().unwrap_or("*"),
        ctx.config().broker.enable_property_filter,
    )
    .map_err(|e| ProcessError::response(e.response_code(), e.message()))?;
    let pop_req = PopRequest {
        group: h.consumer_group.clone(),
        topic: h.topic.clone(),
        queue_id: (h.queue_id >= 0).then_some(h.queue_id),
        filter,
        max: h.max_msg_nums.clamp(1, MAX_BATCH) as usize,
        invisible_ms: h.invisible_time,
        poll: Duration::from_millis(h.poll_time.max(0) as u64).min(MAX_POLL),
        renew_for: None,
        from_min: h.init_mode == INIT_MODE_MIN,
    };
    // Its own task: a client that hangs up must not stop it between the checkpoint and the
    // in-flight table.
    let task_ctx = ctx.clone();
    let popped = ctx
        .tasks()
        .spawn(async move { pop(&task_ctx, &pop_req).await })
        .await
        .map_err(|e| ProcessError::response(ResponseCode::SystemError, e.to_string()))??;
    let pop_time = popped
        .first()
        .map_or_else(rmq_common::time::now_millis, |p| p.handle.retrieve_time);
    let mut start_info = String::new();
    let mut offsets_info = String::new();
    let mut order_info = String::new();
    let mut per_queue: BTreeMap<(bool, i32), (i64, Vec<i64>)> = BTreeMap::new();
    let mut body = BytesMut::new();
    for p in &popped {
        body.extend_from_slice(&p.record);
        let q = per_queue
            .entry((p.handle.retry, p.handle.queue_id))
            .or_insert((p.handle.start_offset, Vec::new()));
        q.1.push(p.handle.offset);
        if h.order == Some(true) {
            append(
                &mut order_info,
                format!(
                    "{} qo{}%{} {}",
                    flag(p.handle.retry),
                    p.handle.queue_id,
                    p.handle.offset,
                    p.attempt - 1
                ),
            );
        }
    }
    for ((retry, queue_id), (start, offsets)) in &per_queue {
        append(
            &mut start_info,
            format!("{} {queue_id} {start}", flag(*retry)),
        );
        let list: Vec<String> = offsets.iter().map(i64::to_string).collect();
        append(
            &mut offsets_info,
            format!("{} {queue_id} {}", flag(*retry), list.join(",")),
        );
    }
    let header = PopMessageResponseHeader {
        pop_time,
        invisible_time: h.invisible_time,
        revive_qid: 0,
        rest_num: rest(&ctx, &h.consumer_group, &h.topic),
        start_offset_info: (!start_info.is_empty()).then_some(start_info),
        msg_offset_info: (!offsets_info.is_empty()).then_some(offsets_info),
        order_count_info: (!order_info.is_empty()).then_some(order_info),
    };
    if popped.is_empty() {
        return Ok(Some(
            req.response_to(ResponseCode::PollingTimeout)
                .with_header(&header)
                .with_remark("no new message"),
        ));
    }
    ctx.metrics()
        .record_out(&h.topic, popped.len() as u64, body.len() as u64);
    Ok(Some(
        req.response_to(ResponseCode::Success)
            .with_header(&header)
            .with_body(body.freeze()),
    ))
}

fn flag(retry: bool) -> &'static str {
    if retry {
        crate::pop::handle::RETRY_TOPIC
    } else {
        crate::pop::handle::NORMAL_TOPIC
    }
}

fn append(list: &mut String, item: String) {
    if !list.is_empty() {
        list.push(';');
    }
    list.push_str(&item);
}

/// Messages of `topic` the group has not popped yet, over this broker's queues.
fn rest(ctx: &BrokerContext, group: &str, topic: &str) -> i64 {
    let queues = ctx.topics().get(topic).map_or(0, |c| c.read_queue_nums);
    (0..queues)
        .map(|q| {
            let max = ctx.store().max_offset_in_queue(topic, q);
            let at = ctx.offsets().query(group, topic, q).unwrap_or(max);
            (max - at).max(0)
        })
        .sum()
}

/// The handle the client sent, with the queue and offset of the header.
fn handle(extra_info: &str, queue_id: i32, offset: i64) -> Result<ReceiptHandle, ProcessError> {
    let mut h = ReceiptHandle::decode(extra_info)
        .map_err(|e| ProcessError::response(ResponseCode::InvalidParameter, e.to_string()))?;
    h.queue_id = queue_id;
    h.offset = offset;
    Ok(h)
}

fn refused(e: SettleError) -> ProcessError {
    let code = match e {
        SettleError::Store(_) => ResponseCode::SystemError,
        _ => ResponseCode::InvalidParameter,
    };
    ProcessError::response(code, e.to_string())
}

pub async fn ack_message(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: AckMessageRequestHeader = req.decode_header()?;
    let rh = handle(&h.extra_info, h.queue_id, h.offset)?;
    match settle::ack(&ctx, &h.consumer_group, &h.topic, &rh).await {
        Ok(()) => Ok(Some(req.response_to(ResponseCode::Success))),
        // As Apache: an ack that comes after the message came back is answered SUCCESS.
        Err(e @ SettleError::NotInFlight { .. }) => Ok(Some(
            req.response_to(ResponseCode::Success)
                .with_remark(e.to_string()),
        )),
        Err(e) => Err(refused(e)),
    }
}

pub async fn change_invisible_time(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: ChangeInvisibleTimeRequestHeader = req.decode_header()?;
    let rh = handle(&h.extra_info, h.queue_id, h.offset)?;
    let max = ctx.config().broker.max_invisible_time_mills as i64;
    if h.invisible_time < 0 || h.invisible_time > max {
        return Err(ProcessError::response(
            ResponseCode::InvalidParameter,
            format!("invisibleTime {} is outside 0..={max} ms", h.invisible_time),
        ));
    }
    let new = settle::change_invisible(&ctx, &h.consumer_group, &h.topic, &rh, h.invisible_time)
        .await
        .map_err(refused)?;
    Ok(Some(req.response_to(ResponseCode::Success).with_header(
        &ChangeInvisibleTimeResponseHeader {
            pop_time: new.retrieve_time,
            invisible_time: new.invisible_time,
            revive_qid: 0,
        },
    )))
}

/// BATCH_ACK_MESSAGE: the acks of several popped messages, grouped by the pop they came from.
/// As Apache: SUCCESS even for messages no longer in flight (they came back, or were acked);
/// the remark counts them.
pub async fn batch_ack_message(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let body = BatchAckMessageRequestBody::from_json_bytes(&req.body).map_err(|e| {
        ProcessError::response(
            ResponseCode::InvalidParameter,
            format!("the BATCH_ACK_MESSAGE body is not a BatchAckMessageRequestBody: {e}"),
        )
    })?;
    if !body.broker_name.is_empty() && body.broker_name != ctx.broker_name() {
        return Err(ProcessError::response(
            ResponseCode::InvalidParameter,
            format!(
                "the acks are for broker {}, this is broker {}; send them there",
                body.broker_name,
                ctx.broker_name()
            ),
        ));
    }
    let (mut asked, mut acked) = (0usize, 0usize);
    for a in &body.acks {
        let key = QueueKey {
            group: a.consumer_group.clone(),
            topic: if a.is_retry() {
                pop_retry_topic(&a.consumer_group, &a.topic)
            } else {
                a.topic.clone()
            },
            queue_id: a.queue_id,
        };
        let offsets: Vec<i64> = a.offsets().collect();
        asked += offsets.len();
        acked += settle::ack_offsets(&ctx, &key, &offsets).await;
    }
    let mut resp = req.response_to(ResponseCode::Success);
    if acked < asked {
        resp = resp.with_remark(format!(
            "acked {acked} of {asked}; the others were no longer in flight (acked already, or delivered again)"
        ));
    }
    Ok(Some(resp))
}

/// NOTIFICATION: whether the group has messages to pop, waiting up to `pollTime`.
pub async fn notification(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: NotificationRequestHeader = req.decode_header()?;
    let poll = Duration::from_millis(h.poll_time.max(0) as u64).min(MAX_POLL);
    let queue_id = (h.queue_id >= 0).then_some(h.queue_id);
    let n = notify::notification(&ctx, &h.consumer_group, &h.topic, queue_id, poll).await?;
    Ok(Some(req.response_to(ResponseCode::Success).with_header(
        &NotificationResponseHeader {
            has_msg: n.has_msg,
            polling_full: n.polling_full,
        },
    )))
}

/// POLLING_INFO: how many receives of the group wait on the queue now.
pub async fn polling_info(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: PollingInfoRequestHeader = req.decode_header()?;
    check(&ctx, &h.consumer_group, &h.topic, Some(h.queue_id))?;
    let n = ctx
        .pop()
        .waiting
        .count(&h.consumer_group, &h.topic, h.queue_id);
    Ok(Some(req.response_to(ResponseCode::Success).with_header(
        &PollingInfoResponseHeader {
            polling_num: i32::try_from(n).unwrap_or(i32::MAX),
        },
    )))
}
