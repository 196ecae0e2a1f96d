//! Orderly consumption (protocol.md 8.6): one worker per owned queue takes the queue's messages
//! in offset order, one batch at a time, and only while this member holds the queue's broker
//! lock. A failed batch is put back in front and retried after `suspend_current_queue_time`, so
//! order is never broken; offsets are committed after each successful batch.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use rmq_common::MessageQueue;

use super::rebalance::QueueHandle;
use super::PushInner;
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
        let joined = tokio::task::spawn_blocking(move || {
            std::panic::catch_unwind(AssertUnwindSafe(|| l(&msgs))).unwrap_or_else(|_| {
                tracing::error!("orderly listener panicked; suspending the queue");
                ConsumeOrderlyStatus::SuspendCurrentQueueAMoment
            })
        })
        .await;
        drop(permit);
        let Ok(status) = joined else { return };
        match status {
            ConsumeOrderlyStatus::Success => {
                if let Some(offset) = handle.pq.commit() {
                    if !handle.cancel.is_cancelled() {
                        inner.offsets.update(&mq, offset, false);
                    }
                }
                drop(guard);
            }
            ConsumeOrderlyStatus::SuspendCurrentQueueAMoment => {
                handle.pq.rollback();
                drop(guard);
                tracing::debug!(queue = %mq, "orderly consumption suspended");
                tokio::time::sleep(inner.config.suspend_current_queue_time).await;
            }
        }
    }
}
