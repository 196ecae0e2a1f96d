//! Rebalance (protocol.md 8.3): which queues this member owns, and starting/stopping the work
//! for queues that come and go. Also the consumer's periodic tasks: rebalance, offset commit and
//! (orderly) lock renewal.
//!
//! A topic whose route or member list cannot be read this round keeps its current queues:
//! dropping them on a transient error would stall consumption for a whole period.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use rmq_common::MessageQueue;
use rmq_remoting::body::SubscriptionData;
use tokio::sync::Notify;

use super::inner::PushInner;
use super::queue_handle::{LockState, QueueHandle};
use super::{orderly, pull_loop};
use crate::consumer::allocate::allocate_averagely;
use crate::consumer::process_queue::ProcessQueue;
use crate::consumer::rebalance_schedule::{self, RoundOutcome};
use crate::consumer::start_offset::initial_offset;

/// Broker queue locks are renewed this often (Java `rocketmq.client.rebalance.lockInterval`).
const LOCK_RENEW_INTERVAL: Duration = Duration::from_secs(20);
/// Starts the rebalance, offset-commit and lock-renewal tasks.
pub(crate) fn spawn_tasks(inner: Arc<PushInner>) {
    let instance = inner.instance.clone();
    let me = inner.clone();
    instance.spawn(async move {
        rebalance_schedule::run(&me.instance.clone(), || rebalance(&me)).await;
    });
    let me = inner.clone();
    instance.spawn_periodic(instance.options.persist_offset_interval, move || {
        let me = me.clone();
        async move { me.offsets.persist(None).await }
    });
    if inner.is_orderly() && inner.is_clustering() {
        let me = inner;
        instance.spawn_periodic(LOCK_RENEW_INTERVAL, move || {
            let me = me.clone();
            async move { renew_locks(&me).await }
        });
    }
}

/// One rebalance round over every subscription.
pub(crate) async fn rebalance(inner: &Arc<PushInner>) -> RoundOutcome {
    let _round = inner.rebalancing.lock().await;
    if inner.closing.load(Ordering::Acquire) {
        return RoundOutcome::Settled;
    }
    let mut outcome = RoundOutcome::Settled;
    let mut wanted: HashMap<MessageQueue, SubscriptionData> = HashMap::new();
    let mut settled: BTreeSet<String> = BTreeSet::new();
    for sub in &inner.subscriptions {
        match allocation(inner, sub).await {
            Ok(mqs) => {
                settled.insert(sub.topic.clone());
                wanted.extend(mqs.into_iter().map(|q| (q, sub.clone())));
            }
            Err(e) => {
                tracing::debug!(topic = %sub.topic, error = %e, "rebalance skipped topic");
                outcome = RoundOutcome::Unsettled;
            }
        }
    }
    let current: Vec<MessageQueue> = inner.queues.lock().keys().cloned().collect();
    for mq in current {
        if settled.contains(&mq.topic) && !wanted.contains_key(&mq) {
            remove_queue(inner, &mq).await;
        }
    }
    let mut added: Vec<(MessageQueue, SubscriptionData)> = wanted
        .into_iter()
        .filter(|(q, _)| !inner.queues.lock().contains_key(q))
        .collect();
    added.sort_by(|a, b| a.0.cmp(&b.0));
    if added.is_empty() {
        return outcome;
    }
    let locked = if inner.is_orderly() && inner.is_clustering() {
        lock_queues(inner, added.iter().map(|(q, _)| q.clone())).await
    } else {
        added.iter().map(|(q, _)| q.clone()).collect()
    };
    for (mq, sub) in added {
        if !locked.contains(&mq) {
            tracing::debug!(queue = %mq, "queue still locked by another member; retrying soon");
            outcome = RoundOutcome::Unsettled;
            continue;
        }
        if !add_queue(inner, mq, sub).await {
            outcome = RoundOutcome::Unsettled;
        }
    }
    outcome
}

/// The queues of `sub`'s topic this member should own.
async fn allocation(inner: &PushInner, sub: &SubscriptionData) -> crate::Result<Vec<MessageQueue>> {
    let instance = &inner.instance;
    let route =
        instance
            .subscribe_route(&sub.topic)
            .await?
            .ok_or_else(|| crate::ClientError::NoRoute {
                topic: sub.topic.clone(),
                name_servers: instance.name_server_list(),
            })?;
    if !inner.is_clustering() {
        return Ok(route.subscribe_queues.clone());
    }
    let cids = instance
        .group_members(&inner.config.group, &sub.topic)
        .await?;
    if !cids.contains(&instance.client_id) {
        return Err(crate::ClientError::NotAMember {
            group: inner.config.group.clone(),
            topic: sub.topic.clone(),
            client_id: instance.client_id.clone(),
        });
    }
    Ok(allocate_averagely(
        &instance.client_id,
        &route.subscribe_queues,
        &cids,
    ))
}

/// Starts the work for a newly owned queue; `false` if it could not start yet.
async fn add_queue(inner: &Arc<PushInner>, mq: MessageQueue, sub: SubscriptionData) -> bool {
    let offset = match initial_offset(
        &inner.instance,
        &inner.offsets,
        &mq,
        inner.config.consume_from,
    )
    .await
    {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!(queue = %mq, error = %e, "cannot compute the start offset; retrying soon");
            return false;
        }
    };
    let handle = QueueHandle {
        pq: Arc::new(ProcessQueue::default()),
        cancel: inner.instance.cancel.child_token(),
        released: tokio_util::sync::CancellationToken::new(),
        lock: Arc::new(LockState::default()),
        wake: Arc::new(Notify::new()),
        consume_lock: Arc::new(tokio::sync::Mutex::new(())),
    };
    if inner.is_orderly() && inner.is_clustering() {
        handle.lock.set(true);
    }
    {
        let mut queues = inner.queues.lock();
        if queues.contains_key(&mq) || inner.closing.load(Ordering::Acquire) {
            return true;
        }
        queues.insert(mq.clone(), handle.clone());
    }
    tracing::info!(queue = %mq, offset, "queue assigned");
    let cancel = handle.cancel.clone();
    let run = pull_loop::run(inner.clone(), mq.clone(), handle.clone(), sub, offset);
    inner.instance.tracker.spawn(async move {
        tokio::select! {
            _ = cancel.cancelled() => {}
            _ = run => {}
        }
    });
    if inner.is_orderly() {
        let cancel = handle.cancel.clone();
        let run = orderly::worker(inner.clone(), mq, handle);
        inner.instance.tracker.spawn(async move {
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = run => {}
            }
        });
    }
    true
}

async fn remove_queue(inner: &Arc<PushInner>, mq: &MessageQueue) {
    let Some(handle) = inner.queues.lock().remove(mq) else {
        return;
    };
    // Orderly: let a listener call in progress finish (and commit) before another member
    // takes the queue; holding the consume lock also keeps the worker from starting another.
    let guard = if inner.is_orderly() {
        tokio::time::timeout(
            Duration::from_secs(1),
            handle.consume_lock.clone().lock_owned(),
        )
        .await
        .ok()
    } else {
        None
    };
    handle.release();
    inner.offsets.persist(Some(std::slice::from_ref(mq))).await;
    inner.offsets.remove(mq);
    if inner.is_orderly() && inner.is_clustering() {
        unlock_all(inner, std::slice::from_ref(mq)).await;
    }
    drop(guard);
    tracing::info!(queue = %mq, "queue released");
}

fn by_broker(
    mqs: impl IntoIterator<Item = MessageQueue>,
) -> BTreeMap<(String, String), BTreeSet<MessageQueue>> {
    let mut out: BTreeMap<(String, String), BTreeSet<MessageQueue>> = BTreeMap::new();
    for q in mqs {
        out.entry((q.broker_name.clone(), q.topic.clone()))
            .or_default()
            .insert(q);
    }
    out
}

/// LOCK_BATCH_MQ for `mqs`, grouped by broker; returns those now held.
async fn lock_queues(
    inner: &PushInner,
    mqs: impl IntoIterator<Item = MessageQueue>,
) -> BTreeSet<MessageQueue> {
    let mut held = BTreeSet::new();
    for ((broker, topic), set) in by_broker(mqs) {
        match inner
            .instance
            .lock_batch(&inner.config.group, &broker, &topic, set)
            .await
        {
            Ok(ok) => held.extend(ok),
            Err(e) => tracing::debug!(broker = %broker, error = %e, "locking queues failed"),
        }
    }
    held
}

/// UNLOCK_BATCH_MQ for `mqs`.
pub(crate) async fn unlock_all(inner: &PushInner, mqs: &[MessageQueue]) {
    for ((broker, topic), set) in by_broker(mqs.iter().cloned()) {
        if let Err(e) = inner
            .instance
            .unlock_batch(&inner.config.group, &broker, &topic, set)
            .await
        {
            tracing::debug!(broker = %broker, error = %e, "unlocking queues failed");
        }
    }
}

/// Re-locks every owned queue; queues the broker no longer grants stop consuming.
async fn renew_locks(inner: &PushInner) {
    let owned: Vec<(MessageQueue, Arc<LockState>)> = inner
        .queues
        .lock()
        .iter()
        .map(|(q, h)| (q.clone(), h.lock.clone()))
        .collect();
    let held = lock_queues(inner, owned.iter().map(|(q, _)| q.clone())).await;
    for (q, lock) in owned {
        let ok = held.contains(&q);
        if !ok {
            tracing::warn!(queue = %q, "lost the queue lock");
        }
        lock.set(ok);
    }
}
