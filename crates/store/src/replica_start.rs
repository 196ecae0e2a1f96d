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
    /// start at `offset` (where the replicated data starts, a CommitLog file boundary) instead
    /// of 0. Returns whether it applied; a store that already holds CommitLog data, or an offset
    /// that is not a file boundary (the append would be refused anyway), is left alone.
    pub fn prepare_replica_start(&self, offset: i64) -> bool {
        let file_size = self.commit_log.file_size() as i64;
        let empty = self.commit_log.queue().is_empty() && self.commit_log.max_offset() == 0;
        if offset <= 0 || file_size <= 0 || offset % file_size != 0 || !empty {
            return false;
        }
        self.dispatcher.set_reput_offset(offset);
        true
    }
}
