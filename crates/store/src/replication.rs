//! What HA (master/slave replication, `rmq-ha`) needs from the store: raw CommitLog bytes to
//! ship, an exact-offset append on the slave (dispatched like any append), and the offsets that
//! decide where a transfer starts and what a SYNC_MASTER may acknowledge.

use std::sync::atomic::Ordering;

use bytes::Bytes;

use crate::error::StoreError;
use crate::store::MessageStore;

impl MessageStore {
    /// End of the CommitLog (next physical offset to be written).
    pub fn commit_log_max_offset(&self) -> i64 {
        self.commit_log.max_offset()
    }

    /// Start of the oldest CommitLog file still present.
    pub fn commit_log_min_offset(&self) -> i64 {
        self.commit_log.min_offset()
    }

    pub fn commit_log_file_size(&self) -> usize {
        self.commit_log.file_size()
    }

    /// How long the append in progress has held the put lock (ms); 0 when none does.
    pub fn page_cache_lock_time_ms(&self) -> i64 {
        self.commit_log.lock_held_ms(rmq_common::time::now_millis())
    }

    /// Flushed end of the CommitLog.
    pub fn flushed_offset(&self) -> i64 {
        self.progress.flushed()
    }

    /// What consumers may see: the flushed offset under SYNC_FLUSH, else the written end, and
    /// never beyond what the in-sync replicas have ([`MessageStore::set_replica_confirm`]).
    pub fn confirm_offset(&self) -> i64 {
        let written = if self.cfg.flush_disk_type == crate::FlushDiskType::SyncFlush {
            self.progress.flushed().min(self.commit_log.max_offset())
        } else {
            self.commit_log.max_offset()
        };
        written.min(self.replica_confirm())
    }

    /// How far dispatch has built consume queues and index.
    pub fn dispatched_offset(&self) -> i64 {
        self.dispatcher.reput_offset()
    }

    /// Up to `max_bytes` raw CommitLog bytes from `offset`, never crossing a file boundary (the
    /// master side of an HA transfer). `None` when nothing is there yet.
    pub fn get_commit_log_data(&self, offset: i64, max_bytes: usize) -> Option<Bytes> {
        self.commit_log.read_raw(offset, max_bytes)
    }

    /// Slave side: appends replicated bytes that must start exactly at the local end (or, on an
    /// empty store, at a file boundary). They are flushed and dispatched like local appends.
    pub fn append_to_commit_log(&self, offset: i64, data: &[u8]) -> Result<(), StoreError> {
        if self.role() != crate::BrokerRole::Slave {
            return Err(StoreError::NotRunning(
                "this store is a master now; it takes no replicated data",
            ));
        }
        self.commit_log.append_raw(offset, data)?;
        self.wake_after_append();
        Ok(())
    }

    /// Replica side (controller mode): drops the CommitLog from `offset` on, with the consume
    /// queue and index entries pointing there, because the master this store now follows does
    /// not have those bytes (they were written under an older epoch and never replicated). Only
    /// a slave's store is cut, and the caller stops its replication first so nothing appends
    /// meanwhile. Returns the new end.
    pub fn cut_back_replica(&self, offset: i64) -> Result<i64, StoreError> {
        if self.role() != crate::BrokerRole::Slave {
            return Err(StoreError::NotRunning(
                "only a slave's CommitLog is cut back; this store is a master",
            ));
        }
        let before = self.commit_log.max_offset();
        if offset >= before {
            return Ok(before);
        }
        self.dispatcher.rewind_with(offset, || {
            self.commit_log.cut_back(offset)?;
            for cq in self.cqs.all() {
                cq.cut_back(offset)?;
            }
            if let Some(index) = &self.index {
                index.truncate(offset);
            }
            Ok::<(), StoreError>(())
        })?;
        self.progress.rewind(offset);
        let end = self.commit_log.max_offset();
        tracing::warn!(
            from = before,
            to = end,
            "CommitLog cut back to the last point shared with the master"
        );
        Ok(end)
    }

    /// The master's flushed offset as reported to a slave (kept in the checkpoint).
    pub fn set_master_flushed_offset(&self, offset: i64) {
        self.checkpoint
            .master_flushed_offset
            .store(offset, Ordering::Release);
    }

    pub fn master_flushed_offset(&self) -> i64 {
        self.checkpoint
            .master_flushed_offset
            .load(Ordering::Acquire)
    }
}
