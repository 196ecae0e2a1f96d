//! PullMessage: offset-based reading of one queue for clients that keep their own position
//! (the Node.js client's RPCs; Apache's proxy does not serve them). The stream is a Status,
//! the messages, then the offset to pull next:
//! - OK and the messages found from `offset` on (at most `batch_size`, 1..=1024);
//! - MESSAGE_NOT_FOUND when nothing new arrived within the long-polling timeout (0 answers at
//!   once), or every message in the range was filtered out; the next offset moves past those;
//! - ILLEGAL_OFFSET when `offset` is outside what the queue holds; the next offset is where
//!   to resume (the queue's first or next message).
//!
//! The pull is the remoting pull's read on the same store, with the same long polling (waits
//! on the queue's arrival notify, bounded by the held-pull permits).

use std::sync::Arc;
use std::time::Duration;

use rmq_common::perm;
use rmq_common::record::{peek_record, Peek};
use rmq_proto::v2::{
    pull_message_response::Content, Code, PullMessageRequest, PullMessageResponse, Status,
};
use rmq_store::{GetMessageResult, GetMessageStatus, MessageFilter};
use tokio::time::Instant;

use super::filter::message_filter;
use super::message_view::to_message;
use super::metadata::Caller;
use super::polling::{long_polling, millis};
use super::queue_ref::{group_name, QueueRef};
use super::status::{ok, status};
use crate::context::BrokerContext;

/// Most messages one pull returns.
const MAX_BATCH: i32 = 1024;

struct Pull {
    group: String,
    queue: QueueRef,
    offset: i64,
    batch: i32,
    filter: Box<dyn MessageFilter>,
    poll: Duration,
}

/// The frames of one PullMessage call.
pub async fn pull(
    ctx: Arc<BrokerContext>,
    caller: Caller,
    req: PullMessageRequest,
    call_deadline: Option<Duration>,
) -> Vec<PullMessageResponse> {
    let p = match prepare(&ctx, &caller, &req, call_deadline) {
        Ok(p) => p,
        Err(s) => return vec![frame(Content::Status(s))],
    };
    let result = wait_for_messages(&ctx, &p).await;
    answer(&ctx, &caller, &p, result)
}

fn frame(c: Content) -> PullMessageResponse {
    PullMessageResponse { content: Some(c) }
}

fn prepare(
    ctx: &BrokerContext,
    caller: &Caller,
    req: &PullMessageRequest,
    call_deadline: Option<Duration>,
) -> Result<Pull, Status> {
    let group = group_name(caller, req.group.as_ref())?;
    let queue = QueueRef::parse(ctx, caller, req.message_queue.as_ref())?;
    let b = &ctx.config().broker;
    if !perm::is_readable(b.broker_permission) || !perm::is_readable(queue.config.perm) {
        return Err(status(
            Code::Forbidden,
            format!(
                "reading topic {} on broker {} is forbidden (permission)",
                queue.topic,
                ctx.broker_name()
            ),
        ));
    }
    match ctx.groups().find_or_create(&group) {
        Ok(Some(g)) if g.consume_enable => {}
        Ok(Some(_)) => {
            return Err(status(
                Code::Forbidden,
                format!("consumer group {group} has consuming disabled"),
            ))
        }
        Ok(None) => {
            return Err(status(
                Code::ConsumerGroupNotFound,
                format!(
                    "consumer group {group} does not exist; create it with mqadmin updateSubGroup"
                ),
            ))
        }
        Err(e) => return Err(status(Code::InternalServerError, e.to_string())),
    }
    if req.offset < 0 {
        return Err(status(
            Code::IllegalOffset,
            format!("offset {} is negative", req.offset),
        ));
    }
    let filter = message_filter(
        req.filter_expression.as_ref(),
        ctx.config().broker.enable_property_filter,
    )?;
    // No timeout, or zero, answers at once; otherwise the same bounds as ReceiveMessage.
    let poll = match req.long_polling_timeout.as_ref().map(millis) {
        None | Some(..=0) => Duration::ZERO,
        Some(ms) => long_polling(b, Some(ms), call_deadline)?,
    };
    Ok(Pull {
        group,
        queue,
        offset: req.offset,
        batch: req.batch_size.clamp(1, MAX_BATCH),
        filter,
        poll,
    })
}

fn read(ctx: &BrokerContext, p: &Pull) -> GetMessageResult {
    ctx.store().get_message(
        &p.queue.topic,
        p.queue.queue_id,
        p.offset,
        p.batch,
        i32::MAX,
        p.filter.as_ref(),
    )
}

/// Nothing at `offset` yet (as opposed to an offset the queue does not hold).
fn nothing_yet(p: &Pull, r: &GetMessageResult) -> bool {
    match r.status {
        GetMessageStatus::OffsetOverflowOne | GetMessageStatus::OffsetFoundNull => true,
        GetMessageStatus::NoMessageInQueue | GetMessageStatus::NoMatchedLogicQueue => p.offset == 0,
        _ => false,
    }
}

/// Reads the queue, holding the call while nothing new is there, up to the polling time.
async fn wait_for_messages(ctx: &BrokerContext, p: &Pull) -> GetMessageResult {
    let first = read(ctx, p);
    if !nothing_yet(p, &first) || p.poll.is_zero() {
        return first;
    }
    let Some(_permit) = ctx.arrivals().try_hold() else {
        return first;
    };
    let deadline = Instant::now() + p.poll;
    loop {
        let notify = ctx.arrivals().queue(&p.queue.topic, p.queue.queue_id);
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        // Read again once armed: a message dispatched since the last read still wakes us.
        let r = read(ctx, p);
        if !nothing_yet(p, &r) || Instant::now() >= deadline {
            return r;
        }
        tokio::select! {
            _ = &mut notified => continue,
            _ = tokio::time::sleep_until(deadline) => return read(ctx, p),
            _ = ctx.shutting_down() => return r,
        }
    }
}

fn answer(
    ctx: &BrokerContext,
    caller: &Caller,
    p: &Pull,
    r: GetMessageResult,
) -> Vec<PullMessageResponse> {
    let next = r.next_begin_offset;
    let head = match r.status {
        GetMessageStatus::Found => ok(),
        GetMessageStatus::NoMatchedMessage => status(
            Code::MessageNotFound,
            "no message in the range matched the filter",
        ),
        _ if nothing_yet(p, &r) || r.status == GetMessageStatus::MessageWasRemoving => {
            status(Code::MessageNotFound, "no new message")
        }
        _ => status(
            Code::IllegalOffset,
            format!(
                "offset {} is outside queue {} of topic {} (it holds {}..{}); resume at {next}",
                p.offset, p.queue.queue_id, p.queue.topic, r.min_offset, r.max_offset
            ),
        ),
    };
    let mut frames = Vec::with_capacity(r.messages.len() + 2);
    frames.push(frame(Content::Status(head)));
    let mut bytes = 0u64;
    for record in &r.messages {
        let Ok(Peek::Record(v)) = peek_record(record, false) else {
            tracing::error!(topic = %p.queue.topic, queue = p.queue.queue_id, "unreadable record skipped by PullMessage");
            continue;
        };
        bytes += record.len() as u64;
        frames.push(frame(Content::Message(to_message(caller, &v, None))));
    }
    let count = r.messages.len() as u64;
    ctx.stats()
        .record_get(&p.queue.topic, &p.group, count, bytes);
    if count > 0 {
        ctx.metrics().record_out(&p.queue.topic, count, bytes);
        ctx.pull_offsets()
            .record(&p.group, &p.queue.topic, p.queue.queue_id, next);
    }
    frames.push(frame(Content::NextOffset(next)));
    frames
}
