//! AckMessage, ChangeInvisibleDuration and ForwardMessageToDeadLetterQueue: the receipt
//! handles of received messages, settled through `pop::settle`.

use rmq_proto::v2::{
    AckMessageRequest, AckMessageResponse, AckMessageResultEntry, ChangeInvisibleDurationRequest,
    ChangeInvisibleDurationResponse, Code, ForwardMessageToDeadLetterQueueRequest,
    ForwardMessageToDeadLetterQueueResponse, Resource, Status,
};

use super::metadata::Caller;
use super::status::{ok, status};
use crate::context::BrokerContext;
use crate::pop::handle::ReceiptHandle;
use crate::pop::settle::{self, SettleError};

fn settle_status(e: &SettleError) -> Status {
    let code = match e {
        SettleError::BadHandle(_)
        | SettleError::OtherBroker(_)
        | SettleError::NotInFlight { .. } => Code::InvalidReceiptHandle,
        SettleError::Store(_) => Code::InternalServerError,
    };
    status(code, e.to_string())
}

fn names(caller: &Caller, group: &Option<Resource>, topic: &Option<Resource>) -> (String, String) {
    let name = |r: &Option<Resource>| r.as_ref().map(|r| r.name.clone()).unwrap_or_default();
    (
        caller.namespaced(&name(group)),
        caller.namespaced(&name(topic)),
    )
}

pub async fn ack(
    ctx: &BrokerContext,
    caller: &Caller,
    req: AckMessageRequest,
) -> AckMessageResponse {
    let (group, topic) = names(caller, &req.group, &req.topic);
    let mut entries = Vec::with_capacity(req.entries.len());
    for e in req.entries {
        let st = match ReceiptHandle::decode(&e.receipt_handle) {
            Err(bad) => settle_status(&bad.into()),
            Ok(h) => match settle::ack(ctx, &group, &topic, &h).await {
                Ok(()) => ok(),
                Err(err) => settle_status(&err),
            },
        };
        entries.push(AckMessageResultEntry {
            message_id: e.message_id,
            receipt_handle: e.receipt_handle,
            status: Some(st),
        });
    }
    AckMessageResponse {
        status: Some(overall(&entries)),
        entries,
    }
}

/// OK when every entry is; the entry's own status when all share one; MULTIPLE_RESULTS else.
fn overall(entries: &[AckMessageResultEntry]) -> Status {
    let codes: Vec<i32> = entries
        .iter()
        .map(|e| e.status.as_ref().map_or(Code::Ok as i32, |s| s.code))
        .collect();
    match codes.first() {
        None => status(Code::BadRequest, "no entry to acknowledge"),
        Some(c) if codes.iter().all(|x| x == c) => entries[0].status.clone().unwrap_or_else(ok),
        Some(_) => status(
            Code::MultipleResults,
            "some entries were not acknowledged; see each entry",
        ),
    }
}

pub async fn change_invisible(
    ctx: &BrokerContext,
    caller: &Caller,
    req: ChangeInvisibleDurationRequest,
) -> ChangeInvisibleDurationResponse {
    let (group, topic) = names(caller, &req.group, &req.topic);
    let fail = |s: Status| ChangeInvisibleDurationResponse {
        status: Some(s),
        receipt_handle: String::new(),
    };
    let b = ctx.config().broker.clone();
    let ms = req.invisible_duration.as_ref().map_or(-1, |d| {
        d.seconds
            .saturating_mul(1000)
            .saturating_add(i64::from(d.nanos) / 1_000_000)
    });
    if ms < 0 || ms > b.max_invisible_time_mills as i64 {
        return fail(status(
            Code::IllegalInvisibleTime,
            format!(
                "the invisible duration {ms} ms is outside 0..={} ms",
                b.max_invisible_time_mills
            ),
        ));
    }
    let handle = match ReceiptHandle::decode(&req.receipt_handle) {
        Ok(h) => h,
        Err(bad) => return fail(settle_status(&bad.into())),
    };
    match settle::change_invisible(ctx, &group, &topic, &handle, ms).await {
        Ok(new) => ChangeInvisibleDurationResponse {
            status: Some(ok()),
            receipt_handle: new.encode(),
        },
        Err(e) => fail(settle_status(&e)),
    }
}

pub async fn forward_to_dlq(
    ctx: &BrokerContext,
    caller: &Caller,
    req: ForwardMessageToDeadLetterQueueRequest,
) -> ForwardMessageToDeadLetterQueueResponse {
    let (group, topic) = names(caller, &req.group, &req.topic);
    let st = match ReceiptHandle::decode(&req.receipt_handle) {
        Err(bad) => settle_status(&bad.into()),
        Ok(h) => match settle::forward_to_dlq(ctx, &group, &topic, &h).await {
            Ok(()) => ok(),
            Err(e) => settle_status(&e),
        },
    };
    ForwardMessageToDeadLetterQueueResponse { status: Some(st) }
}
