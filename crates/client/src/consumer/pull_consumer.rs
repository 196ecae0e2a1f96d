//! [`PullConsumer`]: for applications that drive their own loop. Queues are either assigned by
//! the application ([`PullConsumer::assign`]) or shared with the group by rebalance
//! ([`PullConsumerBuilder::subscribe`]); [`PullConsumer::poll`] long-polls every owned queue at
//! once and returns the first messages that arrive. Polled messages count as consumed: their
//! offsets are committed by [`PullConsumer::commit`], periodically when auto-commit is on, and
//! at shutdown.
//!
//! Long polls survive between `poll` calls. Each owned queue has at most one PULL_MESSAGE in
//! flight, held by its broker for up to 15 s; `poll` starts a pull for every queue without one,
//! waits until one brings messages (or its timeout passes) and returns them with whatever else
//! already arrived. Pulls still held by brokers stay in flight, owned by the consumer handle,
//! and the next `poll` keeps waiting on them. Dropping them instead would lose nothing (the
//! queue's position only moves when messages are handed out) but would make the broker answer
//! a pull nobody waits for and the next `poll` ask again; keeping them avoids both. A pull whose
//! queue was re-assigned or moved by [`PullConsumer::seek`] while it was in flight is
//! discarded when it completes, so its messages are neither returned nor skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt;
use parking_lot::Mutex;
use rmq_common::sysflag::pull as pull_flag;
use rmq_common::{MessageExt, MessageQueue};
use rmq_remoting::body::{ConsumeType, ConsumerData, MessageModel, SubscriptionData};
use rmq_remoting::header::PullMessageRequestHeader;
use rmq_remoting::{RemotingCommand, RequestCode};
use tokio::time::Instant;

use super::allocate::allocate_averagely;
use super::listener::ConsumeFrom;
use super::pull_result::{process_pull_response, restore_retry_topic, PullStatus};
use super::rebalance_schedule::{self, RoundOutcome};
use super::start_offset::initial_offset;
use super::subscription::{build_subscription, checked_subscriptions, MessageSelector};
use crate::error::{ClientError, Result};
use crate::instance::ClientInstance;
use crate::offset_store::{OffsetStore, RemoteOffsetStore};
use crate::options::{client_option_setters, ClientOptions};
use crate::stop_on_drop::StopOnDrop;

/// Longest broker hold asked for one pull.
const MAX_SUSPEND: Duration = Duration::from_secs(15);

/// Builds a [`PullConsumer`].
#[derive(Debug, Default)]
pub struct PullConsumerBuilder {
    options: ClientOptions,
    group: Option<String>,
    subscriptions: Vec<(String, MessageSelector)>,
    consume_from: ConsumeFrom,
    pull_batch_size: Option<i32>,
    auto_commit: Option<bool>,
}

impl PullConsumerBuilder {
    client_option_setters!();

    /// Consumer group (required).
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// Shares `topic`'s queues with the group (rebalanced like a push consumer).
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

    /// Where a group without a stored offset starts (the queue's end by default).
    pub fn consume_from(mut self, from: ConsumeFrom) -> Self {
        self.consume_from = from;
        self
    }

    /// Messages per pull of one queue (32).
    pub fn pull_batch_size(mut self, n: i32) -> Self {
        self.pull_batch_size = Some(n.max(1));
        self
    }

    /// Commit polled offsets every `persist_offset_interval` (on by default).
    pub fn auto_commit(mut self, on: bool) -> Self {
        self.auto_commit = Some(on);
        self
    }

    /// Rebalance period for subscriptions (20 s).
    pub fn rebalance_interval(mut self, d: Duration) -> Self {
        self.options.rebalance_interval = d;
        self
    }

    /// Auto-commit period (5 s).
    pub fn persist_offset_interval(mut self, d: Duration) -> Self {
        self.options.persist_offset_interval = d;
        self
    }

    /// Builds and starts the consumer: routes fetched, heartbeats sent, and (with
    /// subscriptions) the rebalance running, so [`PullConsumer::poll`] may be called at once.
    pub async fn build(self) -> Result<PullConsumer> {
        let group = self
            .group
            .ok_or_else(|| ClientError::Config("a pull consumer needs a group".into()))?;
        let mut options = self.options;
        options.unique_instance_name();
        let instance = ClientInstance::new(options)?;
        let subscriptions = checked_subscriptions(&instance, &group, &self.subscriptions).await?;
        let consumer = PullConsumer {
            _stop: StopOnDrop::new(&instance.cancel),
            pulls: Arc::default(),
            inner: Arc::new(PullInner {
                offsets: OffsetStore::Remote(RemoteOffsetStore::new(instance.clone(), &group)),
                instance,
                group,
                subscriptions,
                consume_from: self.consume_from,
                pull_batch_size: self.pull_batch_size.unwrap_or(32),
                auto_commit: self.auto_commit.unwrap_or(true),
                queues: Mutex::new(BTreeMap::new()),
                paused: Mutex::new(BTreeSet::new()),
                pull_ids: AtomicU64::new(0),
            }),
        };
        consumer.start().await;
        Ok(consumer)
    }
}

#[derive(Debug, Clone)]
struct QueueState {
    sub: SubscriptionData,
    /// Where the next pull starts; computed on first use.
    next_offset: Option<i64>,
    /// The id of the pull in flight for this queue, if any.
    pulling: Option<u64>,
}

impl QueueState {
    fn new(sub: SubscriptionData) -> Self {
        QueueState {
            sub,
            next_offset: None,
            pulling: None,
        }
    }
}

/// A finished pull: the queue's position after it (if known) and its messages.
struct PullDone {
    mq: MessageQueue,
    id: u64,
    next_offset: Option<i64>,
    msgs: Vec<MessageExt>,
}

/// Pulls in flight across `poll` calls. Owned by the user handle, not by [`PullInner`]: each
/// pull holds the inner state, which must not hold it back.
type InFlight = FuturesUnordered<BoxFuture<'static, PullDone>>;

#[derive(Debug)]
struct PullInner {
    instance: Arc<ClientInstance>,
    group: String,
    subscriptions: Vec<SubscriptionData>,
    consume_from: ConsumeFrom,
    pull_batch_size: i32,
    auto_commit: bool,
    offsets: OffsetStore,
    queues: Mutex<BTreeMap<MessageQueue, QueueState>>,
    /// Queues the application paused: not pulled until resumed, whether assigned now or later
    /// (a rebalance that hands a paused queue back keeps it paused).
    paused: Mutex<BTreeSet<MessageQueue>>,
    pull_ids: AtomicU64,
}

/// A consumer the application polls, started by [`PullConsumerBuilder::build`]. Clones share
/// the consumer; dropping the last clone stops its tasks.
#[derive(Clone)]
pub struct PullConsumer {
    inner: Arc<PullInner>,
    pulls: Arc<tokio::sync::Mutex<InFlight>>,
    _stop: Arc<StopOnDrop>,
}

impl std::fmt::Debug for PullConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PullConsumer")
            .field("group", &self.inner.group)
            .field("client_id", &self.inner.instance.client_id)
            .finish()
    }
}

impl PullConsumer {
    /// A builder; see [`PullConsumerBuilder::build`].
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), rmq_client::ClientError> {
    /// use std::time::Duration;
    /// use rmq_client::PullConsumer;
    /// let consumer = PullConsumer::builder()
    ///     .group("G")
    ///     .name_server("127.0.0.1:9876")
    ///     .subscribe("TopicTest", "*")
    ///     .build()
    ///     .await?;
    /// for m in consumer.poll(Duration::from_secs(5)).await? {
    ///     println!("{}", m.msg_id());
    /// }
    /// consumer.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn builder() -> PullConsumerBuilder {
        PullConsumerBuilder::default()
    }

    async fn start(&self) {
        let inner = self.inner.clone();
        let instance = &inner.instance;
        instance.register_consumer(ConsumerData {
            consume_from_where: inner.consume_from.wire(),
            consume_type: ConsumeType::ConsumeActively,
            group_name: inner.group.clone(),
            message_model: MessageModel::Clustering,
            subscription_data_set: inner.subscriptions.clone(),
            unit_mode: false,
        });
        for s in &inner.subscriptions {
            if let Err(e) = instance.subscribe_route(&s.topic).await {
                tracing::warn!(topic = %s.topic, error = %e, "route not available yet");
            }
        }
        instance.start();
        instance.heartbeat_all().await;
        if !inner.subscriptions.is_empty() {
            let me = inner.clone();
            instance.spawn(async move {
                rebalance_schedule::run(&me.instance.clone(), || me.rebalance()).await;
            });
        }
        if inner.auto_commit {
            let me = inner.clone();
            instance.spawn_periodic(instance.options.persist_offset_interval, move || {
                let me = me.clone();
                async move { me.offsets.persist(None).await }
            });
        }
    }

    /// Commits offsets (if auto-commit is on), unregisters and stops every task.
    pub async fn shutdown(&self) {
        let inner = &self.inner;
        if inner.instance.cancel.is_cancelled() {
            return;
        }
        if inner.auto_commit {
            inner.offsets.persist(None).await;
        }
        inner.instance.unregister_consumer(&inner.group).await;
        inner.instance.shutdown().await;
    }

    /// Consumes exactly these queues (all tags). Replaces any earlier assignment.
    pub fn assign(&self, queues: impl IntoIterator<Item = MessageQueue>) {
        let mut map = self.inner.queues.lock();
        map.clear();
        for q in queues {
            let sub = build_subscription(&q.topic, "*");
            map.insert(q, QueueState::new(sub));
        }
    }

    /// The queues this consumer currently polls.
    pub fn assignment(&self) -> Vec<MessageQueue> {
        self.inner.queues.lock().keys().cloned().collect()
    }

    /// The readable queues of `topic`.
    pub async fn fetch_queues(&self, topic: &str) -> Result<Vec<MessageQueue>> {
        Ok(self
            .inner
            .instance
            .subscribe_route(topic)
            .await?
            .map(|r| r.subscribe_queues.clone())
            .unwrap_or_default())
    }

    /// Moves `mq`'s position to `offset`.
    pub fn seek(&self, mq: &MessageQueue, offset: i64) -> Result<()> {
        let mut map = self.inner.queues.lock();
        let state = map
            .get_mut(mq)
            .ok_or_else(|| ClientError::InvalidMessage(format!("{mq} is not assigned")))?;
        state.next_offset = Some(offset);
        state.pulling = None; // a pull in flight read the old position: discard its answer
        self.inner.offsets.update(mq, offset, false);
        Ok(())
    }

    /// Moves `mq` to the first offset its broker still holds (Java's `seekToBegin`).
    pub async fn seek_to_begin(&self, mq: &MessageQueue) -> Result<()> {
        let offset = self.inner.instance.min_offset(mq).await?;
        self.seek(mq, offset)
    }

    /// Moves `mq` past its last message: only messages stored from now on are polled (Java's
    /// `seekToEnd`).
    pub async fn seek_to_end(&self, mq: &MessageQueue) -> Result<()> {
        let offset = self.inner.instance.max_offset(mq).await?;
        self.seek(mq, offset)
    }

    /// The first offset of `mq` whose message was stored at or after `timestamp_ms` (Java's
    /// `offsetForTimestamp`); seek there to consume from that time.
    pub async fn offset_for_timestamp(&self, mq: &MessageQueue, timestamp_ms: i64) -> Result<i64> {
        self.inner.instance.search_offset(mq, timestamp_ms).await
    }

    /// Stops polling these queues until [`resume`](Self::resume): nothing more of them is
    /// returned, and their positions stay where they are (a pull in flight is discarded). A
    /// queue paused before it is assigned stays paused when it is.
    pub fn pause(&self, queues: &[MessageQueue]) {
        let mut map = self.inner.queues.lock();
        let mut paused = self.inner.paused.lock();
        for q in queues {
            paused.insert(q.clone());
            if let Some(st) = map.get_mut(q) {
                st.pulling = None;
            }
        }
    }

    /// Polls these queues again, from where they were paused.
    pub fn resume(&self, queues: &[MessageQueue]) {
        let mut paused = self.inner.paused.lock();
        for q in queues {
            paused.remove(q);
        }
    }

    /// Commits the current positions to the brokers.
    pub async fn commit(&self) -> Result<()> {
        self.inner.instance.check_running()?;
        self.inner.offsets.persist(None).await;
        Ok(())
    }

    /// Commits the positions of these queues only (Java 5.x's `commit(Set<MessageQueue>)`).
    pub async fn commit_queues(&self, queues: &[MessageQueue]) -> Result<()> {
        self.inner.instance.check_running()?;
        self.inner.offsets.persist(Some(queues)).await;
        Ok(())
    }

    /// Sets and commits the given offsets (Java's `commitSync(Map<MessageQueue, Long>, true)`):
    /// the next offset to consume of each queue. A queue this consumer polls also moves there.
    pub async fn commit_offsets(&self, offsets: &BTreeMap<MessageQueue, i64>) -> Result<()> {
        self.inner.instance.check_running()?;
        {
            let mut map = self.inner.queues.lock();
            for (q, offset) in offsets {
                if let Some(st) = map.get_mut(q) {
                    st.next_offset = Some(*offset);
                    st.pulling = None;
                }
                self.inner.offsets.update(q, *offset, false);
            }
        }
        let queues: Vec<MessageQueue> = offsets.keys().cloned().collect();
        self.inner.offsets.persist(Some(&queues)).await;
        Ok(())
    }

    /// [`commit`](Self::commit) in the background: returns at once; the consumer owns the
    /// task (shutdown commits again anyway when auto-commit is on).
    pub fn commit_async(&self) {
        let inner = self.inner.clone();
        self.inner.instance.spawn(async move {
            inner.offsets.persist(None).await;
        });
    }

    /// The offset the broker has for `mq`, if any.
    pub async fn committed(&self, mq: &MessageQueue) -> Result<Option<i64>> {
        self.inner
            .instance
            .query_consumer_offset(&self.inner.group, mq)
            .await
    }

    /// Waits up to `timeout` for messages from any owned queue; empty if none arrived. Pulls
    /// still held by brokers stay in flight for the next call (see the module doc). Calls on
    /// clones of one consumer take turns.
    pub async fn poll(&self, timeout: Duration) -> Result<Vec<MessageExt>> {
        let inner = &self.inner;
        inner.instance.check_running()?;
        let deadline = Instant::now() + timeout;
        let mut pulls = self.pulls.lock().await;
        loop {
            for (mq, st, id) in inner.idle_queues() {
                pulls.push(inner.clone().pull_once(mq, st, id).boxed());
            }
            if pulls.is_empty() {
                let left = deadline.saturating_duration_since(Instant::now());
                tokio::time::sleep(left.min(Duration::from_millis(200))).await;
                if Instant::now() >= deadline {
                    return Ok(Vec::new());
                }
                continue;
            }
            let Ok(Some(done)) = tokio::time::timeout_at(deadline, pulls.next()).await else {
                return Ok(Vec::new());
            };
            let mut out = inner.accept(done);
            // Take what else has already arrived; pulls still held stay in flight.
            while let Some(Some(done)) = pulls.next().now_or_never() {
                out.extend(inner.accept(done));
            }
            if !out.is_empty() || Instant::now() >= deadline {
                return Ok(out);
            }
        }
    }
}

impl PullInner {
    /// Owned queues without a pull in flight, each marked with the id of the pull about to
    /// start.
    fn idle_queues(&self) -> Vec<(MessageQueue, QueueState, u64)> {
        let mut map = self.queues.lock();
        let paused = self.paused.lock();
        map.iter_mut()
            .filter(|(q, st)| st.pulling.is_none() && !paused.contains(*q))
            .map(|(q, st)| {
                let id = self.pull_ids.fetch_add(1, Ordering::Relaxed);
                st.pulling = Some(id);
                (q.clone(), st.clone(), id)
            })
            .collect()
    }

    /// Applies a finished pull if it is still the queue's current one; its messages, or none
    /// if it was superseded (queue re-assigned, released or moved by `seek`).
    fn accept(&self, done: PullDone) -> Vec<MessageExt> {
        {
            let mut map = self.queues.lock();
            let Some(st) = map.get_mut(&done.mq) else {
                return Vec::new();
            };
            if st.pulling != Some(done.id) {
                return Vec::new();
            }
            st.pulling = None;
            let Some(offset) = done.next_offset else {
                return done.msgs;
            };
            st.next_offset = Some(offset);
        }
        if let Some(offset) = done.next_offset {
            self.offsets.update(&done.mq, offset, false);
        }
        done.msgs
    }

    /// Pulls one queue, holding at the broker up to [`MAX_SUSPEND`]. Changes nothing itself:
    /// [`accept`](Self::accept) applies the outcome.
    async fn pull_once(self: Arc<Self>, mq: MessageQueue, st: QueueState, id: u64) -> PullDone {
        let suspend = MAX_SUSPEND;
        let mut done = PullDone {
            mq,
            id,
            next_offset: st.next_offset,
            msgs: Vec::new(),
        };
        let mq = &done.mq;
        let offset = match st.next_offset {
            Some(o) => o,
            None => {
                match initial_offset(&self.instance, &self.offsets, mq, self.consume_from).await {
                    Ok(o) => {
                        done.next_offset = Some(o);
                        o
                    }
                    Err(e) => {
                        tracing::debug!(queue = %mq, error = %e, "cannot compute the start offset");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        return done;
                    }
                }
            }
        };
        let addr = match self
            .instance
            .subscribe_addr_for(&mq.broker_name, &mq.topic)
            .await
        {
            Ok((a, _)) => a,
            Err(_) => {
                tokio::time::sleep(Duration::from_secs(1)).await;
                return done;
            }
        };
        let header = PullMessageRequestHeader {
            consumer_group: self.group.clone(),
            topic: mq.topic.clone(),
            queue_id: mq.queue_id,
            queue_offset: offset,
            max_msg_nums: self.pull_batch_size,
            sys_flag: pull_flag::SUBSCRIPTION | pull_flag::SUSPEND,
            commit_offset: 0,
            suspend_timeout_millis: suspend.as_millis() as i64,
            subscription: Some(st.sub.sub_string.clone()),
            sub_version: st.sub.sub_version,
            expression_type: Some(st.sub.expression_type().to_owned()),
            ..Default::default()
        };
        let request = RemotingCommand::request(RequestCode::PullMessage, &header);
        let result = self
            .instance
            .pull(&addr, request, suspend + Duration::from_secs(5))
            .await
            .and_then(|resp| {
                process_pull_response(
                    &addr,
                    &resp,
                    &st.sub,
                    self.instance.options.max_inflated_body,
                )
            });
        match result {
            Ok(r) => {
                if r.status == PullStatus::OffsetIllegal {
                    tracing::warn!(queue = %mq, from = offset, to = r.next_begin_offset, "pull offset moved");
                }
                done.next_offset = Some(r.next_begin_offset);
                let mut msgs = r.messages;
                restore_retry_topic(&self.group, &mut msgs);
                done.msgs = msgs;
            }
            Err(e) => {
                tracing::debug!(queue = %mq, error = %e, "pull failed");
                self.instance.refresh_route_after_failure(&mq.topic).await;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        done
    }

    async fn rebalance(&self) -> RoundOutcome {
        let mut outcome = RoundOutcome::Settled;
        for sub in &self.subscriptions {
            let route = match self.instance.subscribe_route(&sub.topic).await {
                Ok(Some(r)) => r,
                _ => {
                    outcome = RoundOutcome::Unsettled;
                    continue;
                }
            };
            let cids = match self.instance.group_members(&self.group, &sub.topic).await {
                Ok(c) if c.contains(&self.instance.client_id) => c,
                Ok(_) => {
                    tracing::debug!(topic = %sub.topic, "the broker does not list this member yet");
                    outcome = RoundOutcome::Unsettled;
                    continue;
                }
                Err(e) => {
                    tracing::debug!(topic = %sub.topic, error = %e, "rebalance skipped topic");
                    outcome = RoundOutcome::Unsettled;
                    continue;
                }
            };
            let mine = allocate_averagely(&self.instance.client_id, &route.subscribe_queues, &cids);
            let removed: Vec<MessageQueue> = {
                let mut map = self.queues.lock();
                let removed: Vec<MessageQueue> = map
                    .keys()
                    .filter(|q| q.topic == sub.topic && !mine.contains(q))
                    .cloned()
                    .collect();
                for q in &removed {
                    map.remove(q);
                }
                for q in &mine {
                    map.entry(q.clone())
                        .or_insert_with(|| QueueState::new(sub.clone()));
                }
                removed
            };
            if !removed.is_empty() {
                self.offsets.persist(Some(&removed)).await;
                for q in &removed {
                    self.offsets.remove(q);
                }
            }
        }
        outcome
    }
}
