//! The CommitLog: one append-only log of RocketMQ records for every topic.
//!
//! The put lock guards only what must be serial: the per-queue offset counters, the choice of
//! physical offset (including the end-of-file blank and the roll to the next, preallocated file),
//! the store timestamp, and the copy into the mapping. Records are encoded with their CRC before
//! the lock is taken and only patched under it; nothing under the lock allocates in the steady
//! state or touches the disk synchronously.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use rmq_common::record::{
    encode_blank, patch_record, store_timestamp_pos, BLANK_LEN, POS_SYS_FLAG,
};
use rmq_common::sysflag::message as sysflag;

use crate::mapped_file::MappedFile;
use crate::mapped_file_queue::MappedFileQueue;

/// Per topic, per queue id: the next queue offset.
pub(crate) type QueueOffsetTable = HashMap<String, HashMap<i32, i64>>;

struct PutState {
    current: Option<Arc<MappedFile>>,
    queue_offsets: QueueOffsetTable,
}

pub(crate) struct CommitLog {
    queue: MappedFileQueue,
    put: Mutex<PutState>,
    /// End of the published records (what dispatch may read up to under ASYNC_FLUSH).
    written: AtomicI64,
    /// Store timestamp of the last appended record (for the checkpoint).
    last_store_timestamp: AtomicI64,
    /// When the append holding the put lock took it (ms), 0 when nobody holds it: runtime
    /// info's `pageCacheLockTimeMills` (the PCWait column of `mqadmin clusterList`).
    lock_taken_at: AtomicI64,
}

/// Clears [`CommitLog::lock_taken_at`] when an append leaves the lock, on every path.
struct LockClock<'a>(&'a AtomicI64);

impl Drop for LockClock<'_> {
    fn drop(&mut self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

/// Records encoded back to back, all for one topic and queue.
pub(crate) struct EncodedBatch<'a> {
    pub buf: &'a mut [u8],
    pub lens: &'a [usize],
    pub topic: &'a str,
    pub queue_id: i32,
    pub sys_flag: i32,
}

/// Where each record of a batch went.
#[derive(Debug)]
pub(crate) struct Placed {
    pub first_queue_offset: i64,
    pub store_timestamp: i64,
    pub end_offset: i64,
}

impl CommitLog {
    pub fn new(queue: MappedFileQueue) -> Self {
        CommitLog {
            queue,
            put: Mutex::new(PutState {
                current: None,
                queue_offsets: HashMap::new(),
            }),
            written: AtomicI64::new(0),
            last_store_timestamp: AtomicI64::new(0),
            lock_taken_at: AtomicI64::new(0),
        }
    }

    pub fn queue(&self) -> &MappedFileQueue {
        &self.queue
    }
    pub fn queue_mut(&mut self) -> &mut MappedFileQueue {
        &mut self.queue
    }
    pub fn file_size(&self) -> usize {
        self.queue.file_size()
    }

    /// After recovery: adopt the recovered end and the rebuilt queue offsets.
    pub fn set_recovered(&mut self, end: i64, offsets: QueueOffsetTable, last_ts: i64) {
        self.queue.set_positions(end);
        let state = self.put.get_mut();
        state.current = self.queue.last();
        state.queue_offsets = offsets;
        *self.written.get_mut() = end;
        *self.last_store_timestamp.get_mut() = last_ts;
    }

    pub fn max_offset(&self) -> i64 {
        self.written.load(Ordering::Acquire)
    }
    pub fn min_offset(&self) -> i64 {
        self.queue.min_offset()
    }
    pub fn last_store_timestamp(&self) -> i64 {
        self.last_store_timestamp.load(Ordering::Acquire)
    }

    /// Appends a batch of encoded records, assigning consecutive queue offsets (none for
    /// PREPARED/ROLLBACK transaction records). `phys` receives each record's physical offset and
    /// must have capacity for all of them so nothing allocates under the lock.
    pub fn append(
        &self,
        batch: EncodedBatch<'_>,
        now: impl FnOnce() -> i64,
        phys: &mut Vec<i64>,
    ) -> io::Result<Placed> {
        let tx = sysflag::transaction_value(batch.sys_flag);
        let advances =
            tx == sysflag::TRANSACTION_NOT_TYPE || tx == sysflag::TRANSACTION_COMMIT_TYPE;
        let mut guard = self.put.lock();
        let state = &mut *guard;
        let store_timestamp = now();
        self.lock_taken_at.store(store_timestamp, Ordering::Relaxed);
        let _clock = LockClock(&self.lock_taken_at);
        let mut queue_offset = if advances {
            state
                .queue_offsets
                .get(batch.topic)
                .and_then(|q| q.get(&batch.queue_id))
                .copied()
                .unwrap_or(0)
        } else {
            0
        };
        let first_queue_offset = queue_offset;
        let mut at = 0;
        let mut end_offset = self.written.load(Ordering::Relaxed);
        let mut failure = None;
        for &len in batch.lens {
            let rec = &mut batch.buf[at..at + len];
            at += len;
            let file = match self.writable_file(state, len) {
                Ok(f) => f,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            };
            let phy = file.start() + file.wrote_pos() as i64;
            patch_record(rec, queue_offset, phy, store_timestamp);
            if let Err(e) = file.append(rec) {
                failure = Some(io::Error::other(format!(
                    "append to {}: {e:?}",
                    file.path().display()
                )));
                break;
            }
            phys.push(phy);
            end_offset = phy + len as i64;
            if advances {
                queue_offset += 1;
            }
        }
        if advances {
            match state.queue_offsets.get_mut(batch.topic) {
                Some(q) => {
                    q.insert(batch.queue_id, queue_offset);
                }
                None => {
                    let q = HashMap::from([(batch.queue_id, queue_offset)]);
                    state.queue_offsets.insert(batch.topic.to_owned(), q);
                }
            }
        }
        // Publish whatever was written, even if a later record of the batch failed: the records
        // are in the log and their queue offsets are taken.
        if !phys.is_empty() {
            self.written.fetch_max(end_offset, Ordering::AcqRel);
            self.last_store_timestamp
                .store(store_timestamp, Ordering::Release);
        }
        if let Some(e) = failure {
            return Err(e);
        }
        Ok(Placed {
            first_queue_offset,
            store_timestamp,
            end_offset,
        })
    }

    /// The current file if a record of `len` bytes fits (leaving room for a blank), else closes
    /// it with a blank and rolls to the next file.
    fn writable_file<'s>(
        &self,
        state: &'s mut PutState,
        len: usize,
    ) -> io::Result<&'s Arc<MappedFile>> {
        let needs_roll = match &state.current {
            None => true,
            Some(f) => len + BLANK_LEN > f.remaining(),
        };
        if needs_roll {
            let next_start = match &state.current {
                Some(f) => {
                    if !f.is_full() {
                        let mut blank = [0u8; BLANK_LEN];
                        encode_blank(f.remaining(), &mut blank);
                        f.append_with(&blank, f.remaining()).map_err(|e| {
                            io::Error::other(format!("blank in {}: {e:?}", f.path().display()))
                        })?;
                        self.written.store(f.end(), Ordering::Release);
                    }
                    f.end()
                }
                None => self.written.load(Ordering::Relaxed),
            };
            let start = next_start - next_start % self.file_size() as i64;
            state.current = Some(self.queue.roll(start)?);
        }
        state
            .current
            .as_ref()
            .ok_or_else(|| io::Error::other("no current commit log file"))
    }

    /// Slave side of replication: appends raw log bytes that must start exactly at the end.
    pub fn append_raw(&self, offset: i64, mut data: &[u8]) -> Result<(), crate::StoreError> {
        let mut guard = self.put.lock();
        let state = &mut *guard;
        let end = self.written.load(Ordering::Relaxed);
        let empty = self.queue.is_empty();
        if offset != end && !(empty && offset % self.file_size() as i64 == 0) {
            return Err(crate::StoreError::OffsetMismatch {
                offset,
                expected: end,
            });
        }
        let mut pos = offset;
        while !data.is_empty() {
            let file = match &state.current {
                Some(f) if !f.is_full() => Arc::clone(f),
                _ => {
                    let start = pos - pos % self.file_size() as i64;
                    let f = self
                        .queue
                        .roll(start)
                        .map_err(|e| crate::StoreError::io("create", self.queue.dir(), e))?;
                    state.current = Some(Arc::clone(&f));
                    f
                }
            };
            let n = data.len().min(file.remaining());
            file.append(&data[..n])
                .map_err(|e| crate::StoreError::Corrupt {
                    path: file.path().to_owned(),
                    reason: format!("raw append failed: {e:?}"),
                })?;
            pos += n as i64;
            data = &data[n..];
            self.written.store(pos, Ordering::Release);
        }
        Ok(())
    }

    /// Replica side: drops everything from `offset` on (see [`MappedFileQueue::cut_back`]).
    pub fn cut_back(&self, offset: i64) -> Result<(), crate::StoreError> {
        let mut state = self.put.lock();
        if offset >= self.written.load(Ordering::Acquire) {
            return Ok(());
        }
        self.queue.cut_back(offset)?;
        state.current = self.queue.last();
        self.written
            .store(offset.max(self.queue.min_offset()), Ordering::Release);
        Ok(())
    }

    /// Replaces the queue offset table (after recovery re-dispatched everything).
    pub fn set_queue_offsets(&self, table: QueueOffsetTable) {
        self.put.lock().queue_offsets = table;
    }

    /// Waits for any append in progress to finish.
    pub fn barrier(&self) {
        drop(self.put.lock());
    }

    pub fn remove_topic(&self, topic: &str) {
        self.put.lock().queue_offsets.remove(topic);
    }

    /// The record starting at `offset`, as a zero-copy slice of the mapping.
    pub fn read_record(&self, offset: i64) -> Option<Bytes> {
        let file = self.queue.find(offset)?;
        let pos = (offset - file.start()) as usize;
        let head = file.published(pos, 4)?;
        let size = i32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        if size <= 0 {
            return None;
        }
        file.bytes(pos, size as usize)
    }

    /// Store timestamp of the record at `offset`.
    pub fn store_timestamp_at(&self, offset: i64) -> Option<i64> {
        let file = self.queue.find(offset)?;
        let pos = (offset - file.start()) as usize;
        let sf = file.published(pos + POS_SYS_FLAG, 4)?;
        let sys_flag = i32::from_be_bytes([sf[0], sf[1], sf[2], sf[3]]);
        let ts = file.published(pos + store_timestamp_pos(sys_flag), 8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(ts);
        Some(i64::from_be_bytes(a))
    }

    /// How long the current append has held the put lock, in ms; 0 when none holds it.
    pub fn lock_held_ms(&self, now: i64) -> i64 {
        match self.lock_taken_at.load(Ordering::Relaxed) {
            0 => 0,
            t => (now - t).max(0),
        }
    }

    /// Up to `max` raw log bytes from `offset`, never crossing a file (HA transfer).
    pub fn read_raw(&self, offset: i64, max: usize) -> Option<Bytes> {
        let file = self.queue.find(offset)?;
        let pos = (offset - file.start()) as usize;
        let limit = (self.max_offset() - file.start()).clamp(0, file.size() as i64) as usize;
        let len = limit.saturating_sub(pos).min(max);
        if len == 0 {
            return None;
        }
        file.bytes(pos, len)
    }
}
