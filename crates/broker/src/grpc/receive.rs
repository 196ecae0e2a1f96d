//! ReceiveMessage: a POP receive (`pop::receive`) answered as a server stream — a Status first,
//! then the messages, then the delivery timestamp — the way Apache's proxy writes it. Long
//! polling is clamped to `grpcClientConsumer{Min,Max}LongPollingTimeoutMillis` and to the
//! call's deadline; the invisible time to `{min}InvisibleTimeMillsForRecv`..`maxInvisibleTimeMills`;
//! `auto_renew` keeps messages invisible (`defaultInvisibleTimeMills` at a time) while the
//! client stays connected.

use std::sync::Arc;
use std::time::Duration;

use rmq_common::record::{peek_record, Peek};
use rmq_common::time::now_millis;
use rmq_proto::v2::{
    receive_message_response::Content, Code, ReceiveMessageRequest, ReceiveMessageResponse, Status,
};

use super::filter::message_filter;
use super::message_view::{timestamp, to_message, Delivery};
use super::metadata::Caller;
use super::polling::{long_polling, millis};
use super::queue_ref::group_name;
use super::status::{from_process_error, ok, status};
use crate::context::BrokerContext;
use crate::pop::receive::{pop, PopRequest, Popped};

/// Most messages one receive returns (Apache's POP limit).
const MAX_BATCH: i32 = 32;

/// The frames of one ReceiveMessage call.
pub async fn receive(
    ctx: Arc<BrokerContext>,
    caller: Caller,
    req: ReceiveMessageRequest,
    call_deadline: Option<Duration>,
) -> Vec<ReceiveMessageResponse> {
    let mut frames = match prepare(&ctx, &caller, &req, call_deadline) {
        Err(s) => vec![frame_status(s)],
        Ok(pop_req) => {
            // The pop runs as its own task: a client that hangs up mid-receive must not stop
            // it between logging a checkpoint and recording the messages in flight.
            let task_ctx = ctx.clone();
            let popped = ctx
                .tasks()
                .spawn(async move { pop(&task_ctx, &pop_req).await.map(|p| (p, pop_req)) })
                .await;
            match popped {
                Ok(Ok((messages, pop_req))) => answer(&caller, messages, &pop_req),
                Ok(Err(e)) => vec![frame_status(from_process_error(&e))],
                Err(e) => vec![frame_status(status(Code::InternalError, e.to_string()))],
            }
        }
    };
    frames.push(ReceiveMessageResponse {
        content: Some(Content::DeliveryTimestamp(timestamp(now_millis()))),
    });
    frames
}

fn frame_status(s: Status) -> ReceiveMessageResponse {
    ReceiveMessageResponse {
        content: Some(Content::Status(s)),
    }
}

/// Validates the request into a POP receive.
fn prepare(
    ctx: &BrokerContext,
    caller: &Caller,
    req: &ReceiveMessageRequest,
    call_deadline: Option<Duration>,
) -> Result<PopRequest, Status> {
    let b = ctx.config().broker.clone();
    let group = group_name(caller, req.group.as_ref())?;
    let mq = req.message_queue.as_ref();
    let topic = mq
        .and_then(|m| m.topic.as_ref())
        .map(|t| t.name.as_str())
        .unwrap_or_default();
    if topic.is_empty() {
        return Err(status(Code::IllegalTopic, "the topic is empty"));
    }
    let poll = long_polling(
        &b,
        req.long_polling_timeout.as_ref().map(millis),
        call_deadline,
    )?;
    let (invisible_ms, renew_for) = if req.auto_renew {
        (
            b.default_invisible_time_mills as i64,
            Some(Arc::from(caller.client_id.as_str())),
        )
    } else {
        let ms = req.invisible_duration.as_ref().map_or(-1, millis);
        let (lo, hi) = (
            b.min_invisible_time_mills_for_recv as i64,
            b.max_invisible_time_mills as i64,
        );
        if ms < lo || ms > hi {
            return Err(status(
                Code::IllegalInvisibleTime,
                format!("the invisible duration {ms} ms is outside {lo}..={hi} ms"),
            ));
        }
        (ms, None)
    };
    let filter = message_filter(
        req.filter_expression.as_ref(),
        ctx.config().broker.enable_property_filter,
    )?;
    // As Apache's proxy: a receive takes from every queue of this broker, whatever queue the
    // client named (the Python client names each queue of the route in turn).
    let queue_id = None;
    Ok(PopRequest {
        group,
        topic: caller.namespaced(topic),
        queue_id,
        filter,
        max: req.batch_size.clamp(1, MAX_BATCH) as usize,
        invisible_ms,
        poll,
        renew_for,
        from_min: false,
    })
}

/// Status OK and the messages, or MESSAGE_NOT_FOUND when none arrived in time.
fn answer(caller: &Caller, messages: Vec<Popped>, req: &PopRequest) -> Vec<ReceiveMessageResponse> {
    if messages.is_empty() {
        return vec![frame_status(status(
            Code::MessageNotFound,
            "no new message",
        ))];
    }
    let mut frames = Vec::with_capacity(messages.len() + 2);
    frames.push(frame_status(ok()));
    for m in &messages {
        let Ok(Peek::Record(v)) = peek_record(&m.record, false) else {
            tracing::error!(topic = %req.topic, offset = m.handle.offset, "unreadable record popped; it comes back after its invisible time");
            continue;
        };
        let handle = m.handle.encode();
        frames.push(ReceiveMessageResponse {
            content: Some(Content::Message(to_message(
                caller,
                &v,
                Some(Delivery {
                    receipt_handle: &handle,
                    attempt: m.attempt,
                    invisible_ms: req.invisible_ms,
                }),
            ))),
        });
    }
    frames
}
