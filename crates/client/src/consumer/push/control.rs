//! The push consumer's answers to an operator's requests relayed by a broker
//! ([`ConsumerControl`]): running info as `mqadmin consumerStatus` reads it, the offsets it
//! holds, an offset reset, and consuming one message on request.

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};
use std::time::Instant;

use futures::future::BoxFuture;
use futures::FutureExt;
use rmq_common::time::now_millis;
use rmq_common::{MessageExt, MessageQueue};
use rmq_remoting::body::{
    ConsumeMessageDirectlyResult, ConsumeResult, ConsumerRunningInfo, ProcessQueueInfo,
};

use super::inner::PushInner;
use super::{consume, rebalance};
use crate::consumer::context::ConsumeConcurrentlyContext;
use crate::consumer::listener::{ConsumeConcurrentlyStatus, ConsumeOrderlyStatus, Listener};
use crate::consumer_control::ConsumerControl;

/// Holds the consumer weakly: the consumer owns the client that holds this.
pub(crate) struct PushControl {
    inner: Weak<PushInner>,
    group: String,
    started_at: i64,
}

impl PushControl {
    pub fn new(inner: &Arc<PushInner>) -> Self {
        PushControl {
            inner: Arc::downgrade(inner),
            group: inner.config.group.clone(),
            started_at: now_millis(),
        }
    }
}

impl ConsumerControl for PushControl {
    fn group(&self) -> &str {
        &self.group
    }

    fn running_info(&self) -> ConsumerRunningInfo {
        let Some(inner) = self.inner.upgrade() else {
            return ConsumerRunningInfo::default();
        };
        let c = &inner.config;
        let mut properties = BTreeMap::new();
        let mut prop = |k: &str, v: String| {
            properties.insert(k.to_owned(), v);
        };
        // The keys Apache's admin tools read (ConsumerRunningInfo.PROP_*), then the settings.
        prop("PROP_CONSUME_TYPE", "CONSUME_PASSIVELY".into());
        prop("PROP_CONSUMEORDERLY", inner.is_orderly().to_string());
        prop("PROP_CONSUMER_START_TIMESTAMP", self.started_at.to_string());
        prop(
            "PROP_THREADPOOL_CORE_SIZE",
            c.consume_thread_nums.to_string(),
        );
        prop(
            "PROP_NAMESERVER_ADDR",
            inner.instance.options.name_servers.join(";"),
        );
        prop("PROP_CLIENT_VERSION", "rmq_client".into());
        prop("consumerGroup", c.group.clone());
        prop("messageModel", c.model.name().into());
        prop("consumeFromWhere", c.consume_from.wire().name().into());
        prop("consumeThreadMax", c.consume_thread_nums.to_string());
        prop(
            "consumeMessageBatchMaxSize",
            c.consume_batch_max_size.to_string(),
        );
        prop("pullBatchSize", c.pull_batch_size.to_string());
        prop(
            "pullThresholdForQueue",
            c.pull_threshold_for_queue.to_string(),
        );
        prop(
            "maxReconsumeTimes",
            c.max_reconsume_times.unwrap_or(-1).to_string(),
        );
        let mq_table = inner
            .queues
            .lock()
            .iter()
            .map(|(mq, h)| {
                let (count, min, max, bytes) = h.pq.held();
                let info = ProcessQueueInfo {
                    cached_msg_count: count as i32,
                    cached_msg_min_offset: min,
                    cached_msg_max_offset: max,
                    cached_msg_size_in_mib: (bytes / (1024 * 1024)) as i32,
                    commit_offset: inner.offsets.read_memory(mq).unwrap_or(-1),
                    locked: h.lock.is_valid(),
                    dropped: h.cancel.is_cancelled(),
                    ..ProcessQueueInfo::default()
                };
                (mq.clone(), info)
            })
            .collect();
        ConsumerRunningInfo {
            properties,
            subscription_set: inner.subscriptions.clone(),
            mq_table,
            ..ConsumerRunningInfo::default()
        }
    }

    fn held_offsets(&self, topic: &str) -> BTreeMap<MessageQueue, i64> {
        let Some(inner) = self.inner.upgrade() else {
            return BTreeMap::new();
        };
        let owned: Vec<MessageQueue> = inner
            .queues
            .lock()
            .keys()
            .filter(|q| q.topic == topic)
            .cloned()
            .collect();
        owned
            .into_iter()
            .filter_map(|q| inner.offsets.read_memory(&q).map(|o| (q, o)))
            .collect()
    }

    fn reset_offsets(&self, offsets: BTreeMap<MessageQueue, i64>) -> BoxFuture<'static, ()> {
        let inner = self.inner.clone();
        async move {
            if let Some(inner) = inner.upgrade() {
                reset(&inner, offsets).await;
            }
        }
        .boxed()
    }

    fn consume_directly(
        &self,
        message: MessageExt,
        broker_name: String,
    ) -> BoxFuture<'static, ConsumeMessageDirectlyResult> {
        let inner = self.inner.clone();
        async move {
            let started = Instant::now();
            let Some(inner) = inner.upgrade() else {
                return directly(
                    false,
                    ConsumeResult::CrThrowException,
                    started,
                    "consumer stopped",
                );
            };
            let mq = MessageQueue::new(&message.topic, broker_name, message.queue_id);
            match &inner.listener {
                Listener::Orderly(l) => {
                    let l = l.clone();
                    let r = tokio::task::spawn_blocking(move || {
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            l(std::slice::from_ref(&message))
                        }))
                    })
                    .await;
                    match r {
                        Ok(Ok(ConsumeOrderlyStatus::Success)) => {
                            directly(true, ConsumeResult::CrSuccess, started, "")
                        }
                        Ok(Ok(ConsumeOrderlyStatus::SuspendCurrentQueueAMoment)) => {
                            directly(true, ConsumeResult::CrLater, started, "")
                        }
                        _ => directly(
                            true,
                            ConsumeResult::CrThrowException,
                            started,
                            "the listener panicked",
                        ),
                    }
                }
                listener => {
                    let ctx = ConsumeConcurrentlyContext::new(mq);
                    match consume::call_listener(listener, vec![message], ctx).await {
                        Some((ConsumeConcurrentlyStatus::ConsumeSuccess, _, _)) => {
                            directly(false, ConsumeResult::CrSuccess, started, "")
                        }
                        Some((ConsumeConcurrentlyStatus::ReconsumeLater, _, _)) => {
                            directly(false, ConsumeResult::CrLater, started, "")
                        }
                        None => directly(
                            false,
                            ConsumeResult::CrThrowException,
                            started,
                            "the listener did not run",
                        ),
                    }
                }
            }
        }
        .boxed()
    }
}

fn directly(
    order: bool,
    consume_result: ConsumeResult,
    started: Instant,
    remark: &str,
) -> ConsumeMessageDirectlyResult {
    ConsumeMessageDirectlyResult {
        order,
        auto_commit: true,
        consume_result,
        remark: (!remark.is_empty()).then(|| remark.to_owned()),
        spent_time_mills: started.elapsed().as_millis() as i64,
    }
}

/// Moves the given queues: their work is stopped (what is held is dropped, and listener calls
/// still running for them commit nothing), the new offsets are stored and persisted, and the
/// rebalance starts them again from there.
async fn reset(inner: &Arc<PushInner>, offsets: BTreeMap<MessageQueue, i64>) {
    for (mq, offset) in &offsets {
        if let Some(h) = inner.queues.lock().remove(mq) {
            h.release();
        }
        inner.offsets.update(mq, *offset, false);
        tracing::info!(queue = %mq, offset, "offset reset");
    }
    let mqs: Vec<MessageQueue> = offsets.into_keys().collect();
    inner.offsets.persist(Some(&mqs)).await;
    let _ = rebalance::rebalance(inner).await;
}
