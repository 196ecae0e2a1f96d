//! [`OffsetTable`]: the in-memory offsets both stores keep. A leaf module, so that the stores
//! and the `OffsetStore` enum over them do not import each other.

use std::collections::HashMap;

use parking_lot::Mutex;
use rmq_common::MessageQueue;

/// The in-memory offset table both stores share.
#[derive(Debug, Default)]
pub(crate) struct OffsetTable {
    offsets: Mutex<HashMap<MessageQueue, i64>>,
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
}
