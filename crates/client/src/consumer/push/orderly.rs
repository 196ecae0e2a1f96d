//! Orderly consumption (protocol.md 8.6, 5.4 step 4): one worker per owned queue takes the
//! queue's messages in offset order, one batch at a time, and only while this member holds the
//! queue's broker lock. A failed batch (or a panicking listener) is put back in front and
//! retried after `suspend_current_queue_time`, so order is never broken; offsets are committed
//! after each successful batch. A batch that fails once more after `max_reconsume_times`
//! retries (unlimited by default) goes to `%DLQ%group` and the queue moves on past it.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use rmq_common::{MessageExt, MessageQueue};

use super::inner::PushInner;
use super::queue_handle::QueueHandle;
use super::retry::send_to_dead_letter;
use crate::consumer::listener::{ConsumeOrderlyStatus, Listener};

/// How often a worker without a valid lock checks again.
const LOCK_WAIT: Duration = Duration::from_millis(100);

pub(crate) async fn worker(inner: Arc<PushInner>, mq: MessageQueue, handle: QueueHandle) {
    let Listener::Orderly(listener) = inner.listener.clone() else {
        return;
    };
    let needs_lock = inner.is_clustering();
    loop {
        if !handle.pq.has_pending() {
            handle.wake.notified().await;
            continue;
        }
        if needs_lock && !handle.lock.is_valid() {
            tokio::time::sleep(LOCK_WAIT).await;
            continue;
        }
        let guard = handle.consume_lock.clone().lock_owned().await;
        let msgs = handle.pq.take(inner.config.consume_batch_max_size);
        if msgs.is_empty() {
            continue;
        }
        let Ok(permit) = inner.permits.clone().acquire_owned().await else {
            return;
        };
        let l = listener.clone();
        let traced = inner.trace_before(&msgs);
        let joined = tokio::task::spawn_blocking(move || {
            let status =
                std::panic::catch_unwind(AssertUnwindSafe(|| l(&msgs))).unwrap_or_else(|_| {
                    tracing::error!("orderly listener panicked; treated as a failure");
                    ConsumeOrderlyStatus::SuspendCurrentQueueAMoment
                });
            (status, msgs)
        })
        .await;
        drop(permit);
        let Ok((status, msgs)) = joined else { return };
        inner.trace_after(traced, &msgs, status == ConsumeOrderlyStatus::Success);
        let done = match status {
            ConsumeOrderlyStatus::Success => true,
            ConsumeOrderlyStatus::SuspendCurrentQueueAMoment => {
                dead_letter_if_exhausted(&inner, &mq, &msgs).await
            }
        };
        if done {
            if let Some(offset) = handle.pq.commit() {
                if !handle.released.is_cancelled() {
                    inner.offsets.update(&mq, offset, false);
                }
            }
            drop(guard);
        } else {
            handle.pq.rollback();
            drop(guard);
            tracing::debug!(queue = %mq, "orderly consumption suspended");
            tokio::time::sleep(inner.config.suspend_current_queue_time).await;
        }
    }
}

/// After a failed batch: if every message of it has used up its retries, sends them to the DLQ
/// and returns true (the batch is done); false means "retry locally".
async fn dead_letter_if_exhausted(
    inner: &PushInner,
    mq: &MessageQueue,
    msgs: &[MessageExt],
) -> bool {
    let max = inner.config.orderly_max_reconsume_times();
    if msgs.is_empty() || msgs.iter().any(|m| m.reconsume_times < max) {
        return false;
    }
    for m in msgs {
        if !send_to_dead_letter(inner, mq, m, max).await {
            return false;
        }
    }
    true
}
