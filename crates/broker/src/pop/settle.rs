//! Settling popped messages: ack, ChangeInvisibleDuration and the consumer's own forward to the
//! dead letter queue. Each names the message by its receipt handle; the handle from before and
//! after a ChangeInvisibleDuration name the same message.

use rmq_common::time::now_millis;
use rmq_store::AcceptAll;

use super::handle::{BadHandle, ReceiptHandle};
use super::inflight::{Entry, QueueKey};
use super::log::Record;
use super::requeue::{Requeue, Target};
use crate::context::BrokerContext;

/// Why a settle was refused.
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    #[error(transparent)]
    BadHandle(#[from] BadHandle),
    #[error("the receipt handle was issued by broker {0}; settle it there")]
    OtherBroker(String),
    #[error(
        "offset {offset} of {topic} queue {queue_id} is not in flight for group {group}: it was \
         acked already, or its invisible time ran out and it was delivered again"
    )]
    NotInFlight {
        group: String,
        topic: String,
        queue_id: i32,
        offset: i64,
    },
    #[error("could not settle the message: {0}")]
    Store(String),
}

/// The in-flight key of the message `handle` names, for a consumer of `topic` in `group`.
fn key_of(
    ctx: &BrokerContext,
    group: &str,
    topic: &str,
    handle: &ReceiptHandle,
) -> Result<QueueKey, SettleError> {
    if handle.broker_name != ctx.broker_name() {
        return Err(SettleError::OtherBroker(handle.broker_name.clone()));
    }
    Ok(QueueKey {
        group: group.to_owned(),
        topic: handle.popped_topic(group, topic),
        queue_id: handle.queue_id,
    })
}

/// The message `handle` names and its entry, when it is in flight.
fn in_flight(
    ctx: &BrokerContext,
    group: &str,
    topic: &str,
    handle: &ReceiptHandle,
) -> Result<(QueueKey, Entry), SettleError> {
    let key = key_of(ctx, group, topic, handle)?;
    match ctx.pop().inflight.get(&key, handle.offset) {
        Some(entry) => Ok((key, entry)),
        None => Err(not_in_flight(&key, handle.offset)),
    }
}

fn not_in_flight(key: &QueueKey, offset: i64) -> SettleError {
    SettleError::NotInFlight {
        group: key.group.clone(),
        topic: key.topic.clone(),
        queue_id: key.queue_id,
        offset,
    }
}

/// Acknowledges the message: it is consumed and never comes back.
pub async fn ack(
    ctx: &BrokerContext,
    group: &str,
    topic: &str,
    handle: &ReceiptHandle,
) -> Result<(), SettleError> {
    let key = key_of(ctx, group, topic, handle)?;
    match ack_offsets(ctx, &key, &[handle.offset]).await {
        0 => Err(not_in_flight(&key, handle.offset)),
        _ => Ok(()),
    }
}

/// Acknowledges the messages at `offsets` of one queue that are in flight, with one log
/// record; returns how many were.
pub async fn ack_offsets(ctx: &BrokerContext, key: &QueueKey, offsets: &[i64]) -> usize {
    let pop = ctx.pop();
    let mut acked = Vec::with_capacity(offsets.len());
    let mut fifo = false;
    for &offset in offsets {
        if let Some(entry) = pop.inflight.settle(key, offset) {
            fifo |= entry.fifo;
            acked.push(offset);
        }
    }
    if acked.is_empty() {
        return 0;
    }
    let n = acked.len();
    if let Err(e) = Record::ack(key, acked)
        .append(ctx.store(), &pop.revive_topic, ctx.store_host())
        .await
    {
        // Settled in memory; a restart before the next checkpoint may deliver them once more.
        tracing::warn!(error = %e, group = %key.group, topic = %key.topic, "ack not logged");
    }
    if fifo {
        // The queue may be free now: wake receives waiting on it.
        ctx.arrivals().on_arrival(&key.topic, key.queue_id);
    }
    n
}

/// Makes the message invisible for `invisible_ms` from now; returns its new handle.
pub async fn change_invisible(
    ctx: &BrokerContext,
    group: &str,
    topic: &str,
    handle: &ReceiptHandle,
    invisible_ms: i64,
) -> Result<ReceiptHandle, SettleError> {
    let (key, entry) = in_flight(ctx, group, topic, handle)?;
    let pop = ctx.pop();
    let now = now_millis();
    let deadline = now.saturating_add(invisible_ms);
    let ck_pos = Record::checkpoint(
        &key,
        &[(handle.offset, entry.attempt)],
        deadline,
        entry.fifo,
    )
    .append(ctx.store(), &pop.revive_topic, ctx.store_host())
    .await
    .map_err(|e| SettleError::Store(e.to_string()))?;
    if !pop
        .inflight
        .renew(&key, handle.offset, deadline, ck_pos, false)
    {
        return Err(not_in_flight(&key, handle.offset));
    }
    Ok(ReceiptHandle {
        retrieve_time: now,
        invisible_time: invisible_ms,
        ..handle.clone()
    })
}

/// Stores the message in `%DLQ%{group}` and settles it (the consumer gave up on it).
pub async fn forward_to_dlq(
    ctx: &BrokerContext,
    group: &str,
    topic: &str,
    handle: &ReceiptHandle,
) -> Result<(), SettleError> {
    let (key, _) = in_flight(ctx, group, topic, handle)?;
    let got = ctx.store().get_message(
        &key.topic,
        key.queue_id,
        handle.offset,
        1,
        i32::MAX,
        &AcceptAll,
    );
    let record = got.messages.into_iter().next().ok_or_else(|| {
        SettleError::Store(format!(
            "offset {} of {} queue {} is no longer in the store",
            handle.offset, key.topic, key.queue_id
        ))
    })?;
    Requeue {
        store: ctx.store(),
        topics: ctx.topics(),
        registration: ctx.registration(),
        store_host: ctx.store_host(),
    }
    .put(
        &record,
        &key.topic,
        Target::DeadLetter {
            group: group.to_owned(),
        },
    )
    .await
    .map_err(SettleError::Store)?;
    tracing::info!(group, topic = %key.topic, offset = handle.offset, "message moved to the dead letter queue by its consumer");
    ack(ctx, group, topic, handle).await
}
