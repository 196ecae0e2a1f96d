//! Concurrent consumption (protocol.md 5.4): pulled messages are split into listener batches and
//! run on blocking threads bounded by a semaphore. Success commits up to the smallest offset
//! still in flight; RECONSUME_LATER hands each message back for a later delivery (see
//! [`retry`](super::retry)) and — if that fails — keeps it and tries again 5 s later locally.
//! A message is never dropped.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use rmq_common::{MessageExt, MessageQueue};

use super::inner::PushInner;
use super::queue_handle::QueueHandle;
use super::retry::send_back;
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
    let Listener::Concurrent(listener) = inner.listener.clone() else {
        return;
    };
    loop {
        let permit = tokio::select! {
            p = inner.permits.clone().acquire_owned() => p,
            _ = handle.cancel.cancelled() => return,
        };
        let Ok(permit) = permit else { return };
        if handle.cancel.is_cancelled() {
            return;
        }
        let l = listener.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let status =
                std::panic::catch_unwind(AssertUnwindSafe(|| l(&msgs))).unwrap_or_else(|_| {
                    tracing::error!("message listener panicked; reconsuming later");
                    ConsumeConcurrentlyStatus::ReconsumeLater
                });
            (status, msgs)
        })
        .await;
        drop(permit);
        let Ok((status, back)) = joined else {
            return; // runtime shutting down
        };
        msgs = back;
        if handle.cancel.is_cancelled() {
            // The queue moved to another member, which re-delivers from the committed offset.
            return;
        }
        let mut done = Vec::with_capacity(msgs.len());
        let mut failed = Vec::new();
        match status {
            ConsumeConcurrentlyStatus::ConsumeSuccess => {
                done.extend(msgs.iter().map(|m| m.queue_offset))
            }
            ConsumeConcurrentlyStatus::ReconsumeLater if !inner.is_clustering() => {
                // Broadcasting has no retry topic: Java only logs the failure.
                tracing::warn!(queue = %mq, count = msgs.len(), "broadcast consumption failed; messages dropped");
                done.extend(msgs.iter().map(|m| m.queue_offset));
            }
            ConsumeConcurrentlyStatus::ReconsumeLater => {
                for m in msgs.drain(..) {
                    if send_back(&inner, &mq, &m).await {
                        done.push(m.queue_offset);
                    } else {
                        failed.push(m);
                    }
                }
            }
        }
        if let Some(offset) = handle.pq.remove(&done) {
            inner.offsets.update(&mq, offset, true);
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
