//! [`PushConsumer`]: joins a group, gets queues assigned by rebalance, long-polls each owned queue
//! and hands messages to the application's listener; offsets are committed back.
//!
//! Task layout (all owned by the consumer's client instance and stopped at shutdown):
//! route refresh and heartbeats (instance), rebalance (every 20 s and on
//! NOTIFY_CONSUMER_IDS_CHANGED), offset commit (every 5 s), queue lock renewal (orderly, every
//! 20 s), one pull loop per owned queue, plus one consume worker per queue for orderly
//! consumption. Listener calls run on blocking threads bounded by `consume_thread_nums`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), rmq_client::ClientError> {
//! use rmq_client::{ConsumeConcurrentlyStatus, PushConsumer};
//! let consumer = PushConsumer::builder()
//!     .group("G")
//!     .name_server("127.0.0.1:9876")
//!     .subscribe("TopicTest", "TagA || TagB")
//!     .listener_concurrently(|msgs| {
//!         for m in msgs { println!("{}", m.msg_id()); }
//!         ConsumeConcurrentlyStatus::ConsumeSuccess
//!     })
//!     .build()
//!     .await?;
//! # consumer.shutdown().await; Ok(()) }
//! ```

mod consume;
mod control;
mod inner;
mod orderly;
mod pull_loop;
mod queue_handle;
mod rebalance;
mod retry;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rmq_common::topic::{retry_topic, CLIENT_INNER_PRODUCER_GROUP};
use rmq_common::{MessageExt, MessageQueue};
use rmq_remoting::body::MessageModel;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use super::context::ConsumeConcurrentlyContext;
use super::listener::{
    erase_async, AsyncConcurrentListener, ConsumeConcurrentlyStatus, ConsumeFrom,
    ConsumeOrderlyStatus, Listener,
};
use super::subscription::{build_subscription, checked_subscriptions, MessageSelector};
use crate::error::{ClientError, Result};
use crate::instance::ClientInstance;
use crate::offset_store::{
    local::default_offset_dir, LocalOffsetStore, OffsetStore, RemoteOffsetStore,
};
use crate::options::{client_option_setters, ClientOptions};
use crate::producer::sender::{SendSettings, Sender};
use crate::stop_on_drop::StopOnDrop;
use inner::{PushConfig, PushInner};
use queue_handle::QueueHandle;

/// Builds a [`PushConsumer`].
#[derive(Default)]
pub struct PushConsumerBuilder {
    options: ClientOptions,
    config: PushConfig,
    subscriptions: Vec<(String, MessageSelector)>,
    listener: Option<Listener>,
}

impl std::fmt::Debug for PushConsumerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushConsumerBuilder")
            .field("config", &self.config)
            .field("subscriptions", &self.subscriptions)
            .finish()
    }
}

impl PushConsumerBuilder {
    client_option_setters!();

    /// Consumer group (`DEFAULT_CONSUMER`).
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.config.group = group.into();
        self
    }

    /// Subscribes to `topic` with `*` or `TagA || TagB`.
    pub fn subscribe(mut self, topic: impl Into<String>, expression: impl Into<String>) -> Self {
        self.subscriptions
            .push((topic.into(), MessageSelector::tag(expression)));
        self
    }

    /// Subscribes to `topic` with a tag or SQL92 selector: `subscribe_with("T",
    /// MessageSelector::sql("region = 'eu'"))`.
    pub fn subscribe_with(mut self, topic: impl Into<String>, selector: MessageSelector) -> Self {
        self.subscriptions.push((topic.into(), selector));
        self
    }

    /// CLUSTERING (each message to one member, the default) or BROADCASTING (to every member).
    pub fn message_model(mut self, model: MessageModel) -> Self {
        self.config.model = model;
        self
    }

    /// Where a group without a stored offset starts (the queue's end by default).
    pub fn consume_from(mut self, from: ConsumeFrom) -> Self {
        self.config.consume_from = from;
        self
    }

    /// Concurrent listener: called with up to `consume_batch_max_size` messages, many calls at
    /// once (up to `consume_thread_nums`).
    pub fn listener_concurrently<F>(mut self, f: F) -> Self
    where
        F: Fn(&[MessageExt]) -> ConsumeConcurrentlyStatus + Send + Sync + 'static,
    {
        self.listener = Some(Listener::Concurrent(Arc::new(move |msgs, _| f(msgs))));
        self
    }

    /// Concurrent listener that also gets a [`ConsumeConcurrentlyContext`], to ack part of a
    /// batch or choose the delay level of what it sends back.
    pub fn listener_concurrently_with_context<F>(mut self, f: F) -> Self
    where
        F: Fn(&[MessageExt], &mut ConsumeConcurrentlyContext) -> ConsumeConcurrentlyStatus
            + Send
            + Sync
            + 'static,
    {
        self.listener = Some(Listener::Concurrent(Arc::new(f)));
        self
    }

    /// Async concurrent listener, run as a task of the consumer rather than on a blocking
    /// thread (see [`AsyncConcurrentListener`]).
    pub fn listener_concurrently_async(mut self, listener: impl AsyncConcurrentListener) -> Self {
        self.listener = Some(Listener::ConcurrentAsync(erase_async(listener)));
        self
    }

    /// Orderly listener: each queue's messages in offset order, one call at a time per queue.
    pub fn listener_orderly<F>(mut self, f: F) -> Self
    where
        F: Fn(&[MessageExt]) -> ConsumeOrderlyStatus + Send + Sync + 'static,
    {
        self.listener = Some(Listener::Orderly(Arc::new(f)));
        self
    }

    /// Message trace (Java's `enableMsgTrace`): each message handed to the listener and the
    /// listener's outcome are recorded to `RMQ_SYS_TRACE_TOPIC` (see [`crate::trace`]).
    pub fn trace(mut self, on: bool) -> Self {
        self.config.trace_topic = on.then(|| crate::trace::DEFAULT_TRACE_TOPIC.to_owned());
        self
    }

    /// Message trace to `topic` instead of `RMQ_SYS_TRACE_TOPIC`.
    pub fn trace_topic(mut self, topic: impl Into<String>) -> Self {
        self.config.trace_topic = Some(topic.into());
        self
    }

    /// Concurrent listener calls at most (20).
    pub fn consume_thread_nums(mut self, n: usize) -> Self {
        self.config.consume_thread_nums = n.max(1);
        self
    }

    /// Messages per listener call (1).
    pub fn consume_message_batch_max_size(mut self, n: usize) -> Self {
        self.config.consume_batch_max_size = n.max(1);
        self
    }

    /// Messages per pull request (32).
    pub fn pull_batch_size(mut self, n: i32) -> Self {
        self.config.pull_batch_size = n.max(1);
        self
    }

    /// Cached messages per queue before pulling pauses (1000).
    pub fn pull_threshold_for_queue(mut self, n: usize) -> Self {
        self.config.pull_threshold_for_queue = n.max(1);
        self
    }

    /// Cached body bytes per queue before pulling pauses (100 MiB).
    pub fn pull_threshold_size_for_queue(mut self, bytes: usize) -> Self {
        self.config.pull_threshold_size_for_queue = bytes.max(1);
        self
    }

    /// Failed deliveries after which a message goes to `%DLQ%group`: 16 by default for a
    /// concurrent listener, unlimited for an orderly one (a negative value keeps the default).
    /// A message is delivered at most `n + 1` times.
    pub fn max_reconsume_times(mut self, n: i32) -> Self {
        self.config.max_reconsume_times = (n >= 0).then_some(n);
        self
    }

    /// Orderly: pause after a failed batch (1 s).
    pub fn suspend_current_queue_time(mut self, d: Duration) -> Self {
        self.config.suspend_current_queue_time = d;
        self
    }

    /// Rebalance period (20 s).
    pub fn rebalance_interval(mut self, d: Duration) -> Self {
        self.options.rebalance_interval = d;
        self
    }

    /// Offset commit period (5 s).
    pub fn persist_offset_interval(mut self, d: Duration) -> Self {
        self.options.persist_offset_interval = d;
        self
    }

    /// Wait after a failed pull (3 s).
    pub fn pull_error_delay(mut self, d: Duration) -> Self {
        self.config.pull_error_delay = d;
        self
    }

    /// Directory of broadcasting offset files (`~/.rocketmq_offsets`).
    pub fn offset_store_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.offset_dir = Some(dir.into());
        self
    }

    /// Builds and starts the consumer: when this returns it has fetched its routes, sent its
    /// heartbeats and run its first rebalance, so it is pulling the queues it owns. There is no
    /// separate `start`: a consumer that exists is running.
    pub async fn build(self) -> Result<PushConsumer> {
        let listener = self.listener.ok_or_else(|| {
            ClientError::Config(
                "a push consumer needs a listener (listener_concurrently or listener_orderly)"
                    .into(),
            )
        })?;
        if self.subscriptions.is_empty() {
            return Err(ClientError::Config(
                "a push consumer needs at least one subscription".into(),
            ));
        }
        let config = self.config;
        let mut options = self.options;
        if config.model == MessageModel::Clustering {
            options.unique_instance_name();
        }
        let instance = ClientInstance::new(options)?;
        let mut subscriptions =
            checked_subscriptions(&instance, &config.group, &self.subscriptions).await?;
        if config.model == MessageModel::Clustering {
            subscriptions.push(build_subscription(&retry_topic(&config.group), "*"));
        }
        let offsets = match config.model {
            MessageModel::Clustering => {
                OffsetStore::Remote(RemoteOffsetStore::new(instance.clone(), &config.group))
            }
            MessageModel::Broadcasting => {
                let dir = config.offset_dir.clone().unwrap_or_else(default_offset_dir);
                OffsetStore::Local(LocalOffsetStore::open(
                    &dir,
                    &instance.client_id,
                    &config.group,
                )?)
            }
        };
        let sender = Sender::new(
            instance.clone(),
            SendSettings {
                group: CLIENT_INNER_PRODUCER_GROUP.to_owned(),
                ..Default::default()
            },
        );
        let tracer = config.trace_topic.as_deref().map(|topic| {
            let carrier = Sender::new(
                instance.clone(),
                SendSettings {
                    group: crate::trace::trace_producer_group(topic),
                    ..Default::default()
                },
            );
            crate::trace::dispatcher::Tracer::start(carrier, topic)
        });
        let consumer = PushConsumer {
            _stop: StopOnDrop::new(&instance.cancel),
            inner: Arc::new(PushInner {
                permits: Arc::new(Semaphore::new(config.consume_thread_nums)),
                instance,
                config,
                subscriptions,
                listener,
                offsets,
                queues: Mutex::new(HashMap::new()),
                consume_tasks: TaskTracker::new(),
                sender,
                tracer,
                closing: AtomicBool::new(false),
                rebalancing: tokio::sync::Mutex::new(()),
            }),
        };
        consumer.start().await;
        Ok(consumer)
    }
}

/// A push consumer, started by [`PushConsumerBuilder::build`]. Clones share the same
/// consumer; dropping the last clone stops its tasks (its connections close and the brokers
/// drop it from the group). [`shutdown`](PushConsumer::shutdown) first commits offsets and
/// leaves the group cleanly.
#[derive(Clone)]
pub struct PushConsumer {
    inner: Arc<PushInner>,
    _stop: Arc<StopOnDrop>,
}

impl std::fmt::Debug for PushConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushConsumer")
            .field("group", &self.inner.config.group)
            .field("client_id", &self.inner.instance.client_id)
            .finish()
    }
}

impl PushConsumer {
    /// A builder; see [`PushConsumerBuilder::build`] and the module example.
    pub fn builder() -> PushConsumerBuilder {
        PushConsumerBuilder::default()
    }

    /// The client id (`ip@instance`) the group knows this member by.
    pub fn client_id(&self) -> &str {
        &self.inner.instance.client_id
    }

    /// Joins the group: fetches routes, heartbeats, rebalances and starts pulling.
    async fn start(&self) {
        let inner = &self.inner;
        let instance = &inner.instance;
        for s in &inner.subscriptions {
            if let Err(e) = instance.subscribe_route(&s.topic).await {
                tracing::warn!(topic = %s.topic, error = %e, "route not available yet");
            }
        }
        instance
            .server_requests
            .set_consumer(Arc::new(control::PushControl::new(inner)));
        instance.register_consumer(inner.consumer_data());
        instance.start();
        instance.heartbeat_all().await;
        rebalance::spawn_tasks(inner.clone());
        tracing::info!(group = %inner.config.group, client_id = %instance.client_id, "push consumer started");
    }

    /// Leaves the group: stops pulling, waits briefly for listener calls in progress, commits
    /// offsets, releases queue locks and unregisters from the brokers.
    pub async fn shutdown(&self) {
        let inner = &self.inner;
        if inner.instance.cancel.is_cancelled() || inner.closing.swap(true, Ordering::AcqRel) {
            return;
        }
        // A round under way finishes first; later ones see `closing` and do nothing.
        let handles: Vec<(MessageQueue, QueueHandle)> = {
            let _no_rounds = inner.rebalancing.lock().await;
            inner.queues.lock().drain().collect()
        };
        // Orderly: wait for batches in progress to finish and commit, and start no new ones.
        let mut guards = Vec::new();
        if inner.is_orderly() {
            for (_, h) in &handles {
                let lock = h.consume_lock.clone().lock_owned();
                if let Ok(g) = tokio::time::timeout(Duration::from_secs(5), lock).await {
                    guards.push(g);
                }
            }
        }
        // Stop pulling and starting listener calls; calls in progress finish and commit.
        for (_, h) in &handles {
            h.cancel.cancel();
        }
        inner.consume_tasks.close();
        if tokio::time::timeout(Duration::from_secs(5), inner.consume_tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "listener calls still running at shutdown; their offsets are not committed"
            );
        }
        inner.offsets.persist(None).await;
        if let Some(t) = &inner.tracer {
            t.flush().await;
        }
        if inner.is_orderly() && inner.is_clustering() {
            let mqs: Vec<MessageQueue> = handles.into_iter().map(|(q, _)| q).collect();
            rebalance::unlock_all(inner, &mqs).await;
        }
        inner
            .instance
            .unregister_consumer(&inner.config.group)
            .await;
        drop(guards);
        inner.instance.shutdown().await;
        tracing::info!(group = %inner.config.group, "push consumer shut down");
    }

    /// The queues this member currently owns, sorted.
    pub fn assigned_queues(&self) -> Vec<MessageQueue> {
        let mut v: Vec<MessageQueue> = self.inner.queues.lock().keys().cloned().collect();
        v.sort();
        v
    }

    /// Runs a rebalance now (normally periodic and on group changes).
    pub async fn rebalance_now(&self) {
        let _ = rebalance::rebalance(&self.inner).await;
    }
}
