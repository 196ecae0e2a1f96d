//! The revive task: the one owner of due in-flight messages. A due message received with
//! `auto_renew` whose client is still connected is kept invisible for another
//! `defaultInvisibleTimeMills`; any other is stored again in the group's retry topic (or its
//! `%DLQ%` once the group's attempts are used up) and settled; a FIFO group's message stays in
//! its queue for the next receive. The task also records how far a restart must replay the
//! revive log.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rmq_common::time::now_millis;
use rmq_common::topic::RETRY_GROUP_TOPIC_PREFIX;
use rmq_store::{AcceptAll, MessageStore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::handle::pop_retry_topic;
use super::inflight::{Entry, QueueKey};
use super::log::{Record, REVIVE_GROUP};
use super::requeue::{Requeue, Target};
use super::Pop;
use crate::groups::SubscriptionGroups;
use crate::live_clients::LiveClients;
use crate::offsets::ConsumerOffsets;
use crate::registration_wanted::RegistrationWanted;
use crate::topics::TopicConfigs;

/// Due messages handled per pass.
const BATCH: usize = 256;
/// Longest the task sleeps: how often the replay position is recorded when nothing is due.
const IDLE: Duration = Duration::from_secs(1);
/// A message whose requeue failed is tried again after this long.
const RETRY_FAILED: i64 = 1_000;

/// What the revive task uses.
pub struct Revive {
    pub pop: Arc<Pop>,
    pub store: Arc<MessageStore>,
    pub groups: Arc<SubscriptionGroups>,
    pub topics: Arc<TopicConfigs>,
    pub offsets: Arc<ConsumerOffsets>,
    pub registration: RegistrationWanted,
    pub clients: Arc<LiveClients>,
    pub store_host: SocketAddr,
    /// `defaultInvisibleTimeMills`: one automatic renewal.
    pub renew_ms: i64,
}

impl Revive {
    /// Starts the task (masters only), owned by `tasks`.
    pub fn start(self, tasks: &TaskTracker, shutdown: CancellationToken) {
        tasks.spawn(async move {
            loop {
                let due = self.pop.inflight.due(now_millis(), BATCH);
                for (key, offset, entry) in &due {
                    self.handle_due(key, *offset, entry).await;
                }
                self.save_position().await;
                if due.len() == BATCH {
                    continue;
                }
                let wait = self.pop.inflight.next_deadline().map_or(IDLE, |d| {
                    Duration::from_millis(
                        (d - now_millis()).clamp(0, IDLE.as_millis() as i64) as u64
                    )
                });
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = self.pop.inflight.changed() => {}
                    _ = shutdown.cancelled() => {
                        self.save_position().await;
                        return;
                    }
                }
            }
        });
    }

    /// Records the replay position as the offset of [`REVIVE_GROUP`] (persisted with the
    /// consumer offsets).
    async fn save_position(&self) {
        let _quiet = self.pop.appending.write().await;
        let end = self.store.max_offset_in_queue(&self.pop.revive_topic, 0);
        let pos = self.pop.replay_position(end);
        self.offsets
            .commit(REVIVE_GROUP, &self.pop.revive_topic, 0, pos);
    }

    async fn handle_due(&self, key: &QueueKey, offset: i64, entry: &Entry) {
        let group = self.groups.get(&key.group);
        let max_attempts = group
            .as_ref()
            .map_or(16, |g| g.retry_max_times)
            .saturating_add(1);
        if let Some(client) = &entry.renew_for {
            if self.clients.is_connected(client) {
                self.renew(key, offset, entry).await;
                return;
            }
        }
        if entry.fifo && entry.attempt < max_attempts {
            // Delivered again from its own queue by the next receive.
            self.pop.inflight.park(key, offset);
            return;
        }
        let got = self
            .store
            .get_message(&key.topic, key.queue_id, offset, 1, i32::MAX, &AcceptAll);
        let Some(record) = got.messages.into_iter().next() else {
            tracing::warn!(group = %key.group, topic = %key.topic, queue = key.queue_id, offset, "a message in flight is no longer in the store; settling it");
            self.settle(key, offset, entry.deadline).await;
            return;
        };
        let target = if entry.attempt >= max_attempts {
            Target::DeadLetter {
                group: key.group.clone(),
            }
        } else {
            let topic = if key.topic.starts_with(RETRY_GROUP_TOPIC_PREFIX) {
                key.topic.clone()
            } else {
                pop_retry_topic(&key.group, &key.topic)
            };
            Target::Retry {
                topic,
                queues: group.as_ref().map_or(1, |g| g.retry_queue_nums),
            }
        };
        let dead = matches!(target, Target::DeadLetter { .. });
        let requeue = Requeue {
            store: &self.store,
            topics: &self.topics,
            registration: &self.registration,
            store_host: self.store_host,
        };
        match requeue.put(&record, &key.topic, target).await {
            Ok(()) => {
                if dead {
                    tracing::info!(group = %key.group, topic = %key.topic, offset, attempts = entry.attempt, "message moved to the dead letter queue");
                }
                self.settle(key, offset, entry.deadline).await;
            }
            Err(e) => {
                tracing::error!(group = %key.group, topic = %key.topic, offset, error = %e, "could not store an unacknowledged message again; trying again");
                self.pop.inflight.renew(
                    key,
                    offset,
                    now_millis() + RETRY_FAILED,
                    entry.ck_pos,
                    true,
                );
            }
        }
    }

    /// Keeps a message its connected receiver still holds invisible for another period.
    async fn renew(&self, key: &QueueKey, offset: i64, entry: &Entry) {
        let deadline = now_millis().saturating_add(self.renew_ms);
        let record = Record::checkpoint(key, &[(offset, entry.attempt)], deadline, entry.fifo);
        let (deadline, ck_pos) = match record
            .append(&self.store, &self.pop.revive_topic, self.store_host)
            .await
        {
            Ok(p) => (deadline, p),
            Err(e) => {
                tracing::error!(error = %e, "could not renew a message in flight; trying again");
                (now_millis() + RETRY_FAILED, entry.ck_pos)
            }
        };
        self.pop.inflight.renew(key, offset, deadline, ck_pos, true);
    }

    /// Settles a message handled here and logs it, unless its consumer moved it meanwhile.
    async fn settle(&self, key: &QueueKey, offset: i64, deadline: i64) {
        if !self.pop.inflight.settle_if(key, offset, deadline) {
            return;
        }
        if let Err(e) = Record::ack(key, vec![offset])
            .append(&self.store, &self.pop.revive_topic, self.store_host)
            .await
        {
            tracing::warn!(error = %e, "revive not logged; a restart may deliver the message once more");
        }
    }
}
