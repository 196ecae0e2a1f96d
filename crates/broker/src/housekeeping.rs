//! Periodic broker chores, each a task owned by the broker: persisting consumer offsets
//! (`flushConsumerOffsetInterval`), expiring silent clients (every 10 s, `channelExpiredTimeout`)
//! and dropping long-poll wake-up points no pull waits on.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rmq_remoting::{ConnectionHandle, ConnectionId, ConnectionListener};

use crate::context::BrokerContext;
use crate::processor::notify_ids_changed;

pub fn start(ctx: &Arc<BrokerContext>) {
    let c = ctx.clone();
    ctx.tasks.spawn(async move {
        loop {
            tokio::select! {
                _ = c.topics.changed() => {}
                _ = c.shutdown.cancelled() => return,
            }
            // Let a burst of changes (thousands of topics created) share one write.
            tokio::time::sleep(crate::topics::PERSIST_DELAY).await;
            if let Err(e) = c.topics.persist_if_dirty() {
                tracing::error!(error = %e, "could not persist topic configs; check the disk");
            }
        }
    });
    let c = ctx.clone();
    ctx.tasks.spawn(async move {
        let every = Duration::from_millis(c.config.broker.flush_consumer_offset_interval.max(100));
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = c.shutdown.cancelled() => return,
            }
            if let Err(e) = c.offsets.persist() {
                tracing::error!(error = %e, "could not persist consumer offsets; check the disk");
            }
        }
    });
    let c = ctx.clone();
    ctx.tasks.spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(10));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = c.shutdown.cancelled() => return,
            }
            expire_clients(&c);
            c.arrivals.prune();
        }
    });
}

fn expire_clients(ctx: &Arc<BrokerContext>) {
    let timeout = Duration::from_millis(ctx.config.broker.channel_expired_timeout);
    let now = Instant::now();
    let mut changed = Vec::new();
    for (group, ch) in ctx.consumers.expire(now, timeout) {
        tracing::warn!(group = %group, client = %ch.client_id, addr = %ch.handle.peer_addr(), "consumer channel expired, closing it");
        ch.handle.close();
        changed.push(group);
    }
    for ch in ctx.producers.expire(now, timeout) {
        tracing::warn!(client = %ch.client_id, addr = %ch.handle.peer_addr(), "producer channel expired, closing it");
        ch.handle.close();
    }
    changed.sort();
    changed.dedup();
    for g in changed {
        notify_ids_changed(ctx, &g);
    }
}

/// Drops a closed connection from every group at once and tells the groups it left.
pub struct ClientConnections(pub Arc<BrokerContext>);

impl ConnectionListener for ClientConnections {
    fn on_connected(&self, _connection: &ConnectionHandle) {}

    fn on_closed(&self, id: ConnectionId, peer: SocketAddr) {
        let ctx = &self.0;
        ctx.producers.on_connection_closed(id);
        for group in ctx.consumers.on_connection_closed(id) {
            tracing::info!(group = %group, addr = %peer, "consumer connection closed");
            notify_ids_changed(ctx, &group);
        }
    }
}
