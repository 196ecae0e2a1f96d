//! Consumer offsets (protocol.md 8.5): kept in memory as consumption advances and persisted
//! periodically — to the broker for clustering ([`remote`]), to a local JSON file for
//! broadcasting ([`local`], since every member consumes everything and the broker keeps no
//! per-client offsets).
//!
//! An enum rather than a trait object: there are exactly two stores and their I/O is async.

pub(crate) mod local;
pub(crate) mod remote;
mod table;

use std::collections::HashMap;

use rmq_common::MessageQueue;

use crate::error::Result;
pub(crate) use local::LocalOffsetStore;
pub(crate) use remote::RemoteOffsetStore;
use table::OffsetTable;

/// Where a consumer group's offsets live.
#[derive(Debug)]
pub(crate) enum OffsetStore {
    Remote(RemoteOffsetStore),
    Local(LocalOffsetStore),
}

impl OffsetStore {
    fn table(&self) -> &OffsetTable {
        match self {
            OffsetStore::Remote(s) => &s.table,
            OffsetStore::Local(s) => &s.table,
        }
    }

    pub fn update(&self, mq: &MessageQueue, offset: i64, increase_only: bool) {
        self.table().update(mq, offset, increase_only);
    }

    /// The offset in memory, if any.
    pub fn read_memory(&self, mq: &MessageQueue) -> Option<i64> {
        self.table().get(mq)
    }

    /// The persisted offset (broker or file); `None` if there is none. Cached in memory.
    pub async fn read_store(&self, mq: &MessageQueue) -> Result<Option<i64>> {
        let found = match self {
            OffsetStore::Remote(s) => s.query(mq).await?,
            OffsetStore::Local(s) => s.stored(mq),
        };
        if let Some(o) = found {
            self.update(mq, o, false);
        }
        Ok(found)
    }

    /// Persists the offsets of `mqs` (all known queues when `None`), after any persist in
    /// progress and with the offsets as they are then.
    pub async fn persist(&self, mqs: Option<&[MessageQueue]>) {
        let _turn = self.table().persist_turn().await;
        let snapshot = self.table().snapshot();
        match self {
            OffsetStore::Remote(s) => {
                let selected: HashMap<MessageQueue, i64> = match mqs {
                    None => snapshot,
                    Some(mqs) => mqs
                        .iter()
                        .filter_map(|q| snapshot.get(q).map(|o| (q.clone(), *o)))
                        .collect(),
                };
                s.persist(selected).await
            }
            // The file holds every queue's offset.
            OffsetStore::Local(s) => {
                if let Err(e) = s.persist(&snapshot).await {
                    tracing::warn!(error = %e, "persisting local offsets failed");
                }
            }
        }
    }

    /// Forgets a queue this client no longer owns (after persisting it).
    pub fn remove(&self, mq: &MessageQueue) {
        if let OffsetStore::Remote(s) = self {
            s.table.remove(mq);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increase_only_never_moves_back() {
        let t = OffsetTable::default();
        let mq = MessageQueue::new("T", "b", 0);
        t.update(&mq, 10, true);
        t.update(&mq, 5, true);
        assert_eq!(t.get(&mq), Some(10));
        t.update(&mq, 5, false);
        assert_eq!(t.get(&mq), Some(5));
        assert_eq!(t.remove(&mq), Some(5));
        assert_eq!(t.get(&mq), None);
    }
}
