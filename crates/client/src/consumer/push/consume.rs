//! Concurrent consumption (protocol.md 5.4): pulled messages are split into listener batches and
//! run on blocking threads (or, for an async listener, on consume tasks) bounded by a
//! semaphore. Success commits up to the smallest offset still in flight; RECONSUME_LATER — or
//! the part of a batch past the context's ack count — hands each message back for a later
//! delivery at the context's delay level (see [`retry`](super::retry)) and, if that fails,
//! keeps it and tries again 5 s later locally. A message is never dropped.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use rmq_common::{MessageExt, MessageQueue};

use super::inner::PushInner;
use super::queue_handle::QueueHandle;
use super::retry::send_back;
use crate::consumer::context::ConsumeConcurrentlyContext;
use crate::consumer::listener::{ConsumeConcurrentlyStatus, Listener};

/// Local retry delay when a failed message could not be handed back to the broker.
const LOCAL_RETRY_DELAY: Duration = Duration::from_secs(5);

/// Hands freshly pulled messages to the consume service of the queue.
pub(crate) fn dispatch(
    inner: &Arc<PushInner>,
    mq: &MessageQueue,
    handle: &QueueHandle,
    msgs: Vec<MessageExt>,
) {
    if inner.is_orderly() {
        handle.pq.put_orderly(msgs);
        handle.wake.notify_one();
        return;
    }
    let fresh = handle.pq.put(msgs);
    let mut fresh = fresh.into_iter().peekable();
    while fresh.peek().is_some() {
        let batch: Vec<MessageExt> = fresh
            .by_ref()
            .take(inner.config.consume_batch_max_size)
            .collect();
        let task = consume_concurrently(inner.clone(), mq.clone(), handle.clone(), batch);
        inner.consume_tasks.spawn(task);
    }
}

async fn consume_concurrently(
    inner: Arc<PushInner>,
    mq: MessageQueue,
    handle: QueueHandle,
    mut msgs: Vec<MessageExt>,
) {
    loop {
        let permit = tokio::select! {
            p = inner.permits.clone().acquire_owned() => p,
            _ = handle.cancel.cancelled() => return,
        };
        let Ok(permit) = permit else { return };
        if handle.cancel.is_cancelled() {
            return;
        }
        let ctx = ConsumeConcurrentlyContext::new(mq.clone());
        let traced = inner.trace_before(&msgs);
        let Some((status, back, ctx)) = call_listener(&inner.listener, msgs, ctx).await else {
            return; // runtime shutting down
        };
        drop(permit);
        inner.trace_after(
            traced,
            &back,
            status == ConsumeConcurrentlyStatus::ConsumeSuccess,
        );
        msgs = back;
        if handle.released.is_cancelled() {
            // The queue moved to another member, which re-delivers from the committed offset.
            return;
        }
        let acked = ctx.acked(
            status == ConsumeConcurrentlyStatus::ConsumeSuccess,
            msgs.len(),
        );
        let rest = msgs.split_off(acked);
        let mut done: Vec<i64> = msgs.iter().map(|m| m.queue_offset).collect();
        let mut failed = Vec::new();
        if !inner.is_clustering() {
            // Broadcasting has no retry topic: Java only logs the failure.
            if !rest.is_empty() {
                tracing::warn!(queue = %mq, count = rest.len(), "broadcast consumption failed; messages dropped");
            }
            done.extend(rest.iter().map(|m| m.queue_offset));
        } else {
            let level = ctx.delay_level_when_next_consume();
            for m in rest {
                if send_back(&inner, &mq, &m, level).await {
                    done.push(m.queue_offset);
                } else {
                    failed.push(m);
                }
            }
        }
        if let Some(offset) = handle.pq.remove(&done) {
            // A queue released or reset meanwhile is not this call's to commit.
            if !handle.released.is_cancelled() {
                inner.offsets.update(&mq, offset, true);
            }
        }
        if failed.is_empty() {
            return;
        }
        for m in &mut failed {
            m.reconsume_times += 1;
        }
        tracing::warn!(queue = %mq, count = failed.len(), "could not hand failed messages back; consuming them again locally");
        tokio::select! {
            _ = tokio::time::sleep(LOCAL_RETRY_DELAY) => {}
            _ = handle.cancel.cancelled() => return,
        }
        msgs = failed;
    }
}

/// One listener call: a blocking listener on a blocking thread, an async one on this task. A
/// panic counts as `ReconsumeLater` for the whole batch. `None` if the runtime is shutting
/// down.
pub(super) async fn call_listener(
    listener: &Listener,
    msgs: Vec<MessageExt>,
    ctx: ConsumeConcurrentlyContext,
) -> Option<(
    ConsumeConcurrentlyStatus,
    Vec<MessageExt>,
    ConsumeConcurrentlyContext,
)> {
    match listener {
        Listener::Concurrent(l) => {
            let l = l.clone();
            tokio::task::spawn_blocking(move || {
                let mut ctx = ctx;
                let status = std::panic::catch_unwind(AssertUnwindSafe(|| l(&msgs, &mut ctx)))
                    .unwrap_or_else(|_| {
                        tracing::error!("message listener panicked; reconsuming later");
                        ConsumeConcurrentlyStatus::ReconsumeLater
                    });
                (status, msgs, ctx)
            })
            .await
            .ok()
        }
        Listener::ConcurrentAsync(l) => {
            // The call owns the messages; keep a copy to send back if it panics.
            let keep = msgs.clone();
            let fresh = ConsumeConcurrentlyContext::new(ctx.message_queue().clone());
            match AssertUnwindSafe(l(msgs, ctx)).catch_unwind().await {
                Ok(r) => Some(r),
                Err(_) => {
                    tracing::error!("async message listener panicked; reconsuming later");
                    Some((ConsumeConcurrentlyStatus::ReconsumeLater, keep, fresh))
                }
            }
        }
        Listener::Orderly(_) => None,
    }
}
