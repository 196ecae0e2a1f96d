//! POP consumption: the broker hands messages out, each invisible to other receives for an
//! invisible time, and takes them back unless the consumer acks in time. What the 5.x clients'
//! ReceiveMessage stands on.
//!
//! - A receive (`receive.rs`) reads from the group's committed offset on each queue of the
//!   topic (and of `%RETRY%{group}_{topic}`), appends a checkpoint to the revive log
//!   (`log.rs`), records the messages in the in-flight table (`inflight.rs`), advances the
//!   offset and returns the messages with receipt handles (`handle.rs`).
//! - Ack, ChangeInvisibleDuration and the dead-letter forward (`settle.rs`) settle or move an
//!   entry and log it.
//! - The revive task (`revive.rs`) takes due entries: a message not acked in time is stored again
//!   in the retry topic with one more reconsume time, or in `%DLQ%{group}` once the group's
//!   attempts are used up. A FIFO group's messages stay in their queue, which delivers nothing
//!   else until they are acked or due again (then the same messages are delivered again).
//! - At start the table is rebuilt from the revive log ([`Pop::recover`]); the replay position
//!   persists as the offset of [`log::REVIVE_GROUP`], so nothing popped is lost over a restart
//!   and at most what was in flight is delivered again.

pub mod handle;
pub mod inflight;
pub mod log;
pub mod notify;
pub mod receive;
pub mod requeue;
pub mod revive;
pub mod settle;
pub mod waiting;

use std::sync::atomic::{AtomicU64, Ordering};

use rmq_store::MessageStore;

use crate::offsets::ConsumerOffsets;
use inflight::InFlight;
use waiting::WaitingReceives;

/// The broker's POP state: the in-flight table and where its log lives.
pub struct Pop {
    pub inflight: InFlight,
    /// `rmq_sys_REVIVE_LOG_{cluster}`.
    pub revive_topic: String,
    /// Held (shared) from a new checkpoint's append until its entries are in the table, and
    /// (exclusive) while the replay position is computed, so the position never passes a
    /// checkpoint the table does not show yet.
    pub appending: tokio::sync::RwLock<()>,
    /// Receives waiting for messages (POLLING_INFO).
    pub waiting: WaitingReceives,
    /// Rotates which queue a receive starts with, so every queue gets its turn.
    turn: AtomicU64,
}

impl Pop {
    pub fn new(cluster: &str) -> Self {
        Pop {
            inflight: InFlight::default(),
            revive_topic: log::revive_topic(cluster),
            appending: tokio::sync::RwLock::new(()),
            waiting: WaitingReceives::default(),
            turn: AtomicU64::new(0),
        }
    }

    /// A number that changes with every receive.
    pub(crate) fn next_turn(&self) -> u64 {
        self.turn.fetch_add(1, Ordering::Relaxed)
    }

    /// Rebuilds the in-flight table from the revive log (masters, at start).
    pub fn recover(&self, store: &MessageStore, offsets: &ConsumerOffsets) {
        let from = offsets
            .query(log::REVIVE_GROUP, &self.revive_topic, 0)
            .unwrap_or(0);
        let end = log::replay(store, &self.revive_topic, from, &self.inflight);
        if self.inflight.len() > 0 || end > from {
            tracing::info!(
                in_flight = self.inflight.len(),
                from,
                to = end,
                "popped messages in flight recovered from the revive log"
            );
        }
    }

    /// Where a restart must start replaying: the oldest checkpoint still needed, else `end`.
    pub fn replay_position(&self, end: i64) -> i64 {
        self.inflight.min_ck_pos().map_or(end, |p| p.min(end))
    }
}
