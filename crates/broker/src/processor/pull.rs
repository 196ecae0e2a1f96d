//! PULL_MESSAGE (11) with long polling.
//!
//! A pull that finds nothing new and allows suspension is held inside its own request task: it
//! waits on the queue's arrival notify (woken by the store's dispatcher), the hold deadline
//! (`suspendTimeoutMillis`), the broker's shutdown or the connection's close, then answers. The
//! waiter is armed before the store is read, so a message dispatched in between is not missed.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use rmq_common::perm;
use rmq_common::sysflag::pull as pull_flag;
use rmq_remoting::header::{PullMessageRequestHeader, PullMessageResponseHeader};
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RequestContext, ResponseCode};
use rmq_store::{GetMessageResult, GetMessageStatus, MessageFilter};
use tokio::time::Instant;

use super::subscription::{filter_for_expression, filter_for_subscription};
use crate::context::BrokerContext;

pub async fn process(
    ctx: Arc<BrokerContext>,
    rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: PullMessageRequestHeader = req.decode_header()?;
    let working = ctx.stats().pull_started();
    let filter = check(&ctx, &h)?;
    if let Some(moved) = reset_by_operator(&ctx, &req, &h) {
        return Ok(Some(moved));
    }
    if pull_flag::has_commit_offset(h.sys_flag) && !ctx.is_slave() && h.commit_offset >= 0 {
        ctx.offsets()
            .commit(&h.consumer_group, &h.topic, h.queue_id, h.commit_offset);
    }
    let max_bytes = h.max_msg_bytes.filter(|b| *b > 0).unwrap_or(i32::MAX);
    let get = || {
        ctx.store().get_message(
            &h.topic,
            h.queue_id,
            h.queue_offset,
            h.max_msg_nums.max(1),
            max_bytes,
            filter.as_ref(),
        )
    };
    let may_suspend = pull_flag::has_suspend(h.sys_flag);
    let hold = if ctx.config().broker.long_polling_enable {
        Duration::from_millis(h.suspend_timeout_millis.max(0) as u64)
    } else {
        Duration::from_millis(ctx.config().broker.short_polling_time_mills)
    };
    let deadline = Instant::now() + hold;
    // Most pulls find messages or may not wait: answer them without touching the wake-up table.
    let result = get();
    let code = response_code(&ctx, &h, &result);
    if code != ResponseCode::PullNotFound || !may_suspend || hold.is_zero() {
        return Ok(Some(respond(&ctx, &req, &h, code, result)));
    }
    let Some(_permit) = ctx.arrivals().try_hold() else {
        return Ok(Some(respond(&ctx, &req, &h, code, result)));
    };
    // A held pull waits for a message, not for the broker: it no longer counts as in progress.
    drop(working);
    loop {
        let notify = ctx.arrivals().queue(&h.topic, h.queue_id);
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        // Read again once armed: a message dispatched since the last read still wakes us.
        let result = get();
        let code = response_code(&ctx, &h, &result);
        if code != ResponseCode::PullNotFound || Instant::now() >= deadline {
            return Ok(Some(respond(&ctx, &req, &h, code, result)));
        }
        tokio::select! {
            _ = &mut notified => {
                if let Some(moved) = reset_by_operator(&ctx, &req, &h) {
                    return Ok(Some(moved));
                }
                continue;
            }
            _ = tokio::time::sleep_until(deadline) => {
                let result = get();
                let code = response_code(&ctx, &h, &result);
                return Ok(Some(respond(&ctx, &req, &h, code, result)));
            }
            _ = ctx.shutting_down() => {
                return Ok(Some(respond(&ctx, &req, &h, code, result)));
            }
            _ = rc.connection().closed() => return Ok(None),
        }
    }
}

/// PULL_OFFSET_MOVED to where an operator reset the group's offset, if they did since the
/// consumer last pulled the queue: it drops what it holds of the queue and resumes there,
/// whatever position it reports.
fn reset_by_operator(
    ctx: &BrokerContext,
    req: &RemotingCommand,
    h: &PullMessageRequestHeader,
) -> Option<RemotingCommand> {
    let reset = ctx
        .offsets()
        .take_reset(&h.consumer_group, &h.topic, h.queue_id)?;
    let store = ctx.store();
    let moved = GetMessageResult {
        next_begin_offset: reset,
        min_offset: store.min_offset_in_queue(&h.topic, h.queue_id),
        max_offset: store.max_offset_in_queue(&h.topic, h.queue_id),
        status: GetMessageStatus::OffsetOverflowBadly,
        messages: Vec::new(),
        queue_offsets: Vec::new(),
        buffer_total_size: 0,
    };
    Some(respond(ctx, req, h, ResponseCode::PullOffsetMoved, moved))
}

/// Permission, group, topic and subscription checks; returns the filter to pull with.
fn check(
    ctx: &BrokerContext,
    h: &PullMessageRequestHeader,
) -> Result<Box<dyn MessageFilter>, ProcessError> {
    if !perm::is_readable(ctx.config().broker.broker_permission) {
        return Err(ProcessError::response(
            ResponseCode::NoPermission,
            format!(
                "the broker[{}] pulling message is forbidden",
                ctx.broker_addr()
            ),
        ));
    }
    let group = ctx
        .groups()
        .find_or_create(&h.consumer_group)?
        .ok_or_else(|| {
            ProcessError::response(
                ResponseCode::SubscriptionGroupNotExist,
                format!("subscription group [{}] does not exist", h.consumer_group),
            )
        })?;
    if !group.consume_enable {
        return Err(ProcessError::response(
            ResponseCode::NoPermission,
            format!("subscription group no permission, {}", h.consumer_group),
        ));
    }
    let topic = ctx.topics().get(&h.topic).ok_or_else(|| {
        ProcessError::response(
            ResponseCode::TopicNotExist,
            format!("topic[{}] not exist, apply first please!", h.topic),
        )
    })?;
    if !perm::is_readable(topic.perm) {
        return Err(ProcessError::response(
            ResponseCode::NoPermission,
            format!("the topic[{}] pulling message is forbidden", h.topic),
        ));
    }
    if h.queue_id < 0 || h.queue_id >= topic.read_queue_nums {
        return Err(ProcessError::response(
            ResponseCode::InvalidParameter,
            format!(
                "queueId[{}] is illegal, topic:[{}] topicConfig.readQueueNums:[{}] consumer:[{}]",
                h.queue_id, h.topic, topic.read_queue_nums, h.consumer_group
            ),
        ));
    }
    let parse_failed = |e: super::subscription::UnsupportedExpression| {
        ProcessError::response(e.response_code(), e.message())
    };
    let property_filter = ctx.config().broker.enable_property_filter;
    if pull_flag::has_subscription(h.sys_flag) {
        return filter_for_expression(
            h.expression_type.as_deref(),
            h.subscription.as_deref().unwrap_or("*"),
            property_filter,
        )
        .map_err(parse_failed);
    }
    if !ctx.consumers().has_group(&h.consumer_group) {
        return Err(ProcessError::response(
            ResponseCode::SubscriptionNotExist,
            format!(
                "the consumer's group info not exist, group {}; send a heartbeat first",
                h.consumer_group
            ),
        ));
    }
    let sub = ctx
        .consumers()
        .subscription(&h.consumer_group, &h.topic)
        .ok_or_else(|| {
            ProcessError::response(
                ResponseCode::SubscriptionNotExist,
                format!(
                    "the consumer's subscription not exist, group {} topic {}",
                    h.consumer_group, h.topic
                ),
            )
        })?;
    if sub.sub_version < h.sub_version {
        return Err(ProcessError::response(
            ResponseCode::SubscriptionNotLatest,
            format!(
                "the consumer's subscription not latest, group {}",
                h.consumer_group
            ),
        ));
    }
    filter_for_subscription(&sub, property_filter).map_err(parse_failed)
}

/// Apache's mapping from the store's status to the pull response code.
fn response_code(
    ctx: &BrokerContext,
    h: &PullMessageRequestHeader,
    r: &GetMessageResult,
) -> ResponseCode {
    let code = match r.status {
        GetMessageStatus::Found => ResponseCode::Success,
        GetMessageStatus::NoMatchedMessage | GetMessageStatus::MessageWasRemoving => {
            ResponseCode::PullRetryImmediately
        }
        GetMessageStatus::NoMessageInQueue | GetMessageStatus::NoMatchedLogicQueue => {
            if h.queue_offset != 0 {
                ResponseCode::PullOffsetMoved
            } else {
                ResponseCode::PullNotFound
            }
        }
        GetMessageStatus::OffsetOverflowOne | GetMessageStatus::OffsetFoundNull => {
            ResponseCode::PullNotFound
        }
        GetMessageStatus::OffsetOverflowBadly | GetMessageStatus::OffsetTooSmall => {
            ResponseCode::PullOffsetMoved
        }
    };
    // A slave does not correct offsets (no offsetCheckInSlave): the client retries instead.
    if code == ResponseCode::PullOffsetMoved && ctx.is_slave() {
        return ResponseCode::PullRetryImmediately;
    }
    code
}

fn respond(
    ctx: &BrokerContext,
    req: &RemotingCommand,
    h: &PullMessageRequestHeader,
    code: ResponseCode,
    r: GetMessageResult,
) -> RemotingCommand {
    let next = if ctx.is_slave()
        && code == ResponseCode::PullRetryImmediately
        && r.status != GetMessageStatus::NoMatchedMessage
    {
        h.queue_offset
    } else {
        r.next_begin_offset
    };
    let header = PullMessageResponseHeader {
        suggest_which_broker_id: 0,
        next_begin_offset: next,
        min_offset: r.min_offset,
        max_offset: r.max_offset,
        offset_delta: None,
        topic_sys_flag: None,
        group_sys_flag: None,
        forbidden_type: None,
    };
    let mut resp = req
        .response_to(code)
        .with_header(&header)
        .with_remark(r.status.as_str());
    if code == ResponseCode::Success {
        let mut body = BytesMut::with_capacity(r.buffer_total_size);
        for m in &r.messages {
            body.extend_from_slice(m);
        }
        ctx.metrics()
            .record_out(&h.topic, r.messages.len() as u64, body.len() as u64);
        ctx.stats().record_get(
            &h.topic,
            &h.consumer_group,
            r.messages.len() as u64,
            body.len() as u64,
        );
        ctx.pull_offsets()
            .record(&h.consumer_group, &h.topic, h.queue_id, next);
        resp = resp.with_body(body.freeze());
    } else {
        ctx.stats().record_get(&h.topic, &h.consumer_group, 0, 0);
    }
    resp
}
