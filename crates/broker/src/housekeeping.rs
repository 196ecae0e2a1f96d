//! Periodic broker chores, each a task owned by the broker: persisting topic configs after a
//! change, persisting consumer offsets (`flushConsumerOffsetInterval`), expiring silent clients
//! (every 10 s, `channelExpiredTimeout`) and dropping long-poll wake-up points no pull waits on.
//!
//! The chores get the handles they touch ([`Housekeeping`]), not the broker context.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rmq_remoting::{ConnectionHandle, ConnectionId, ConnectionListener};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clients::{ConsumerManager, ProducerManager};
use crate::group_commit;
use crate::groups::SubscriptionGroups;
use crate::long_poll::ArrivalNotifier;
use crate::offsets::ConsumerOffsets;
use crate::processor::notify_ids_changed;
use crate::topics::TopicConfigs;

/// What the chores touch.
pub struct Housekeeping {
    pub topics: Arc<TopicConfigs>,
    pub groups: Arc<SubscriptionGroups>,
    pub offsets: Arc<ConsumerOffsets>,
    pub clients: ClientConnections,
    pub arrivals: Arc<ArrivalNotifier>,
    /// `flushConsumerOffsetInterval`.
    pub flush_offsets_every: Duration,
    /// `channelExpiredTimeout`.
    pub channel_expired_timeout: Duration,
}

impl Housekeeping {
    /// Starts every chore, owned by `tasks`.
    pub fn start(self, tasks: &TaskTracker, shutdown: &CancellationToken) {
        tasks.spawn(group_commit::persister(
            self.topics.clone(),
            shutdown.clone(),
        ));
        tasks.spawn(group_commit::persister(
            self.groups.clone(),
            shutdown.clone(),
        ));
        let offsets = self.offsets.clone();
        let every = self.flush_offsets_every.max(Duration::from_millis(100));
        let stop = shutdown.clone();
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.cancelled() => return,
                }
                // Off the async workers: a slow disk must not hold the request path.
                let o = offsets.clone();
                match tokio::task::spawn_blocking(move || o.persist()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::error!(error = %e, "could not persist consumer offsets; check the disk"),
                    Err(e) => tracing::error!(error = %e, "writing consumer offsets panicked"),
                }
            }
        });
        let stop = shutdown.clone();
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(10));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.cancelled() => return,
                }
                self.clients.expire(self.channel_expired_timeout);
                self.arrivals.prune();
            }
        });
    }
}

/// The broker's clients as connections see them: drops a closed connection from every group
/// at once and tells the groups it left; expires clients that went silent.
#[derive(Clone)]
pub struct ClientConnections {
    pub consumers: Arc<ConsumerManager>,
    pub producers: Arc<ProducerManager>,
    /// Owner of the notification tasks.
    pub tasks: TaskTracker,
}

impl ClientConnections {
    fn expire(&self, timeout: Duration) {
        let now = Instant::now();
        let mut changed = Vec::new();
        for (group, ch) in self.consumers.expire(now, timeout) {
            tracing::warn!(group = %group, client = %ch.client_id, addr = %ch.handle.peer_addr(), "consumer channel expired, closing it");
            ch.handle.close();
            changed.push(group);
        }
        for ch in self.producers.expire(now, timeout) {
            tracing::warn!(client = %ch.client_id, addr = %ch.handle.peer_addr(), "producer channel expired, closing it");
            ch.handle.close();
        }
        changed.sort();
        changed.dedup();
        for g in changed {
            notify_ids_changed(&self.consumers, &self.tasks, &g);
        }
    }
}

impl ConnectionListener for ClientConnections {
    fn on_connected(&self, _connection: &ConnectionHandle) {}

    fn on_closed(&self, id: ConnectionId, peer: SocketAddr) {
        self.producers.on_connection_closed(id);
        for group in self.consumers.on_connection_closed(id) {
            tracing::info!(group = %group, addr = %peer, "consumer connection closed");
            notify_ids_changed(&self.consumers, &self.tasks, &group);
        }
    }
}
