//! [`OffsetTable`]: the in-memory offsets both stores keep. A leaf module, so that the stores
//! and the `OffsetStore` enum over them do not import each other.

use std::collections::HashMap;

use parking_lot::Mutex;
use rmq_common::MessageQueue;

/// The in-memory offset table both stores share, and the turn persists take.
#[derive(Debug, Default)]
pub(crate) struct OffsetTable {
    offsets: Mutex<HashMap<MessageQueue, i64>>,
    /// One persist at a time, each sending a snapshot taken in its turn: two persists in flight
    /// at once could land out of order (Apache's broker runs offset updates on a thread pool),
    /// an older offset overwriting a newer one, and a consumer restarted after that would be
    /// given messages it had consumed.
    persist_turn: tokio::sync::Mutex<()>,
}

impl OffsetTable {
    /// Sets `mq`'s offset; with `increase_only` a smaller value is ignored (a late
    /// acknowledgement must not move the offset back).
    pub fn update(&self, mq: &MessageQueue, offset: i64, increase_only: bool) {
        let mut t = self.offsets.lock();
        match t.get_mut(mq) {
            Some(cur) if increase_only => *cur = (*cur).max(offset),
            Some(cur) => *cur = offset,
            None => {
                t.insert(mq.clone(), offset);
            }
        }
    }

    pub fn get(&self, mq: &MessageQueue) -> Option<i64> {
        self.offsets.lock().get(mq).copied()
    }

    pub fn remove(&self, mq: &MessageQueue) -> Option<i64> {
        self.offsets.lock().remove(mq)
    }

    pub fn snapshot(&self) -> HashMap<MessageQueue, i64> {
        self.offsets.lock().clone()
    }

    /// Waits for the persist in progress, if any; the caller persists while holding the guard.
    pub async fn persist_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.persist_turn.lock().await
    }
}
