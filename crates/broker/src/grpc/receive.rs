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
    receive_message_response::Content, Code, FilterType, ReceiveMessageRequest,
    ReceiveMessageResponse, Status,
};

use super::message_view::{timestamp, to_message, Delivery};
use super::metadata::Caller;
use super::status::{from_process_error, ok, status};
use crate::context::BrokerContext;
use crate::pop::receive::{pop, PopRequest, Popped};
use crate::processor::subscription::filter_for_expression;

/// Most messages one receive returns (Apache's POP limit).
const MAX_BATCH: i32 = 32;
/// Kept from the call's deadline for the answer to travel back.
const DEADLINE_RESERVE: Duration = Duration::from_millis(200);

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

fn millis(d: &prost_types::Duration) -> i64 {
    d.seconds
        .saturating_mul(1000)
        .saturating_add(i64::from(d.nanos) / 1_000_000)
}

/// Validates the request into a POP receive.
fn prepare(
    ctx: &BrokerContext,
    caller: &Caller,
    req: &ReceiveMessageRequest,
    call_deadline: Option<Duration>,
) -> Result<PopRequest, Status> {
    let b = ctx.config().broker.clone();
    let group = req
        .group
        .as_ref()
        .map(|g| g.name.as_str())
        .unwrap_or_default();
    if group.is_empty() {
        return Err(status(
            Code::IllegalConsumerGroup,
            "the consumer group is empty",
        ));
    }
    let mq = req.message_queue.as_ref();
    let topic = mq
        .and_then(|m| m.topic.as_ref())
        .map(|t| t.name.as_str())
        .unwrap_or_default();
    if topic.is_empty() {
        return Err(status(Code::IllegalTopic, "the topic is empty"));
    }
    let min_poll = b.grpc_client_consumer_min_long_polling_timeout_millis;
    let max_poll = b
        .grpc_client_consumer_max_long_polling_timeout_millis
        .max(min_poll);
    let mut poll = req
        .long_polling_timeout
        .as_ref()
        .map_or(max_poll, |d| millis(d).max(0) as u64)
        .clamp(min_poll, max_poll);
    if let Some(remaining) = call_deadline.map(|d| d.saturating_sub(DEADLINE_RESERVE)) {
        let remaining = remaining.as_millis() as u64;
        if poll > remaining {
            if remaining < min_poll {
                return Err(status(
                    Code::IllegalPollingTime,
                    format!(
                        "the call's deadline leaves {remaining} ms, less than the shortest long polling ({min_poll} ms); give the call more time"
                    ),
                ));
            }
            poll = remaining;
        }
    }
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
    let filter = match &req.filter_expression {
        None => filter_for_expression(None, "*"),
        Some(f) => match FilterType::try_from(f.r#type) {
            Ok(FilterType::Sql) => filter_for_expression(Some("SQL92"), &f.expression),
            _ => filter_for_expression(None, &f.expression),
        },
    }
    .map_err(|e| status(Code::IllegalFilterExpression, e.0))?;
    // As Apache's proxy: a receive takes from every queue of this broker, whatever queue the
    // client named (the Python client names each queue of the route in turn).
    let queue_id = None;
    Ok(PopRequest {
        group: caller.namespaced(group),
        topic: caller.namespaced(topic),
        queue_id,
        filter,
        max: req.batch_size.clamp(1, MAX_BATCH) as usize,
        invisible_ms,
        poll: Duration::from_millis(poll),
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

/// The time left before the call's `grpc-timeout` (`<digits><unit>`, unit one of H M S m u n).
pub fn call_deadline(md: &tonic::metadata::MetadataMap) -> Option<Duration> {
    let v = md.get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = v.split_at(v.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}
