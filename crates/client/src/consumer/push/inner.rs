//! The push consumer's settings and the state its tasks share. A leaf module: the rebalance,
//! pull loops and consume services all take [`PushInner`], and none of them defines it for the
//! others (nor for the user-facing [`PushConsumer`](super::PushConsumer), which holds it).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rmq_common::{MessageExt, MessageQueue};
use rmq_remoting::body::{ConsumeType, ConsumerData, MessageModel, SubscriptionData};
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use super::queue_handle::QueueHandle;
use crate::consumer::listener::{ConsumeFrom, Listener};
use crate::instance::ClientInstance;
use crate::offset_store::OffsetStore;
use crate::producer::sender::Sender;

/// Push consumer settings (Apache defaults in brackets).
#[derive(Debug, Clone)]
pub(crate) struct PushConfig {
    pub group: String,
    pub model: MessageModel,
    pub consume_from: ConsumeFrom,
    /// Concurrent listener calls at most (20).
    pub consume_thread_nums: usize,
    /// Messages per listener call (1).
    pub consume_batch_max_size: usize,
    /// Messages per pull (32).
    pub pull_batch_size: i32,
    /// Pause pulling a queue with this many messages cached (1000).
    pub pull_threshold_for_queue: usize,
    /// ... or this many body bytes cached (100 MiB).
    pub pull_threshold_size_for_queue: usize,
    /// Failed deliveries before a message goes to the DLQ; `None` is Java's -1: 16 for
    /// concurrent consumption, unlimited (`i32::MAX`) for orderly.
    pub max_reconsume_times: Option<i32>,
    /// Orderly: pause after a failed batch (1 s).
    pub suspend_current_queue_time: Duration,
    /// Wait after a failed pull (3 s).
    pub pull_error_delay: Duration,
    /// Long-poll hold asked of the broker (15 s); the RPC timeout is this plus 15 s.
    pub long_poll_suspend: Duration,
    /// Broadcasting offsets directory (`~/.rocketmq_offsets`).
    pub offset_dir: Option<PathBuf>,
    /// The topic consumption is traced to, when message trace is on.
    pub trace_topic: Option<String>,
}

impl PushConfig {
    /// Java's `getMaxReconsumeTimes` of the concurrent service (-1 ⇒ 16).
    pub fn concurrent_max_reconsume_times(&self) -> i32 {
        self.max_reconsume_times.unwrap_or(16)
    }

    /// Java's `getMaxReconsumeTimes` of the orderly service (-1 ⇒ unlimited).
    pub fn orderly_max_reconsume_times(&self) -> i32 {
        self.max_reconsume_times.unwrap_or(i32::MAX)
    }
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            group: rmq_common::topic::DEFAULT_CONSUMER_GROUP.to_owned(),
            model: MessageModel::Clustering,
            consume_from: ConsumeFrom::LastOffset,
            consume_thread_nums: 20,
            consume_batch_max_size: 1,
            pull_batch_size: 32,
            pull_threshold_for_queue: 1000,
            pull_threshold_size_for_queue: 100 * 1024 * 1024,
            max_reconsume_times: None,
            trace_topic: None,
            suspend_current_queue_time: Duration::from_secs(1),
            pull_error_delay: Duration::from_secs(3),
            long_poll_suspend: Duration::from_secs(15),
            offset_dir: None,
        }
    }
}

/// State shared by the consumer's tasks.
pub(crate) struct PushInner {
    pub instance: Arc<ClientInstance>,
    pub config: PushConfig,
    pub subscriptions: Vec<SubscriptionData>,
    pub listener: Listener,
    pub offsets: OffsetStore,
    pub queues: Mutex<HashMap<MessageQueue, QueueHandle>>,
    /// Bounds concurrent listener calls.
    pub permits: Arc<Semaphore>,
    /// Listener calls in progress, awaited (briefly) at shutdown so their offsets get committed.
    pub consume_tasks: TaskTracker,
    /// Re-sends failed messages to `%RETRY%group` when CONSUMER_SEND_MSG_BACK fails.
    pub sender: Sender,
    /// Where consumption is traced (SubBefore and SubAfter), when message trace is on.
    pub tracer: Option<crate::trace::dispatcher::Tracer>,
    /// Set when shutdown begins: rebalance takes no new queue after that.
    pub closing: AtomicBool,
    /// Held by a rebalance round, and by shutdown while it takes the queues away: a round that
    /// was under way when shutdown began must not add a queue back (its start offset, read
    /// from the broker, would replace what was consumed since and be committed at shutdown).
    pub rebalancing: tokio::sync::Mutex<()>,
}

/// A listener call being traced: its request id and when it started.
pub(crate) struct Traced {
    request_id: String,
    started_ms: i64,
}

impl PushInner {
    /// Records SubBefore for each of `msgs` about to reach the listener (trace on).
    pub fn trace_before(&self, msgs: &[MessageExt]) -> Option<Traced> {
        let t = self.tracer.as_ref()?;
        let request_id = self.instance.ids.next_id();
        for m in msgs {
            t.record(crate::trace::hooks::before(
                &self.config.group,
                &request_id,
                m,
            ));
        }
        Some(Traced {
            request_id,
            started_ms: rmq_common::time::now_millis(),
        })
    }

    /// Records SubAfter for each of `msgs` once the listener returned.
    pub fn trace_after(&self, traced: Option<Traced>, msgs: &[MessageExt], success: bool) {
        let (Some(t), Some(c)) = (&self.tracer, traced) else {
            return;
        };
        for m in msgs {
            t.record(crate::trace::hooks::after(
                &self.config.group,
                &c.request_id,
                m,
                c.started_ms,
                success,
            ));
        }
    }
    pub fn is_orderly(&self) -> bool {
        matches!(self.listener, Listener::Orderly(_))
    }

    pub fn is_clustering(&self) -> bool {
        self.config.model == MessageModel::Clustering
    }

    pub fn consumer_data(&self) -> ConsumerData {
        ConsumerData {
            consume_from_where: self.config.consume_from.wire(),
            consume_type: ConsumeType::ConsumePassively,
            group_name: self.config.group.clone(),
            message_model: self.config.model,
            subscription_data_set: self.subscriptions.clone(),
            unit_mode: false,
        }
    }
}
