//! Where dispatch starts on a slave whose CommitLog begins mid-way.
//!
//! An empty slave asks the master for "the beginning of your last file", so its first
//! replicated byte can sit at offset 3 GiB while dispatch still points at 0, where no file
//! will ever exist. Apache's `ReputMessageService` moves `reputFromOffset` up to the
//! CommitLog's min offset for that reason; `rmq-ha` calls this before the first append instead,
//! while dispatch is idle (an empty store gives it nothing to read), so the two cannot race.

use crate::store::MessageStore;

impl MessageStore {
    /// Slave side, before the first replicated append into an **empty** store: dispatch will
    /// start at `offset` (where the replicated data starts) instead of 0. Returns whether it
    /// applied; a store that already holds CommitLog data is left alone.
    pub fn prepare_replica_start(&self, offset: i64) -> bool {
        if offset <= 0 || !self.commit_log.queue().is_empty() || self.commit_log.max_offset() != 0 {
            return false;
        }
        if self.dispatcher.reput_offset() < offset {
            self.dispatcher.set_reput_offset(offset);
        }
        true
    }
}
