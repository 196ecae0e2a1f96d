//! A ConsumeQueue: the logical index of one topic queue, 20-byte entries (commit-log offset i64,
//! size i32, tag code i64) addressed by logical offset × 20 across fixed-size files under
//! `consumequeue/<topic>/<queueId>/`.
//!
//! Only the dispatcher appends (one writer), readers go straight to the mapping. Appending is
//! idempotent by logical offset: an entry the queue already holds is skipped, which is what lets
//! recovery re-dispatch a stretch of the CommitLog without caring what was flushed.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use crate::error::StoreError;
use crate::mapped_file::MappedFile;
use crate::mapped_file_queue::MappedFileQueue;

pub const CQ_UNIT_SIZE: usize = 20;
/// Size of a pre-blank (hole) entry, as Apache's `fillPreBlank` writes it.
pub const HOLE_SIZE: i32 = i32::MAX;

/// A lower bound on a CommitLog record's length (its fixed fields alone take 97 bytes).
const MIN_RECORD_LEN: i64 = 64;

/// One consume-queue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CqEntry {
    pub phy_offset: i64,
    pub size: i32,
    pub tags_code: i64,
}

impl CqEntry {
    fn parse(b: &[u8]) -> CqEntry {
        let mut o = [0u8; 8];
        o.copy_from_slice(&b[0..8]);
        let mut t = [0u8; 8];
        t.copy_from_slice(&b[12..20]);
        CqEntry {
            phy_offset: i64::from_be_bytes(o),
            size: i32::from_be_bytes([b[8], b[9], b[10], b[11]]),
            tags_code: i64::from_be_bytes(t),
        }
    }

    fn encode(&self) -> [u8; CQ_UNIT_SIZE] {
        let mut b = [0u8; CQ_UNIT_SIZE];
        b[0..8].copy_from_slice(&self.phy_offset.to_be_bytes());
        b[8..12].copy_from_slice(&self.size.to_be_bytes());
        b[12..20].copy_from_slice(&self.tags_code.to_be_bytes());
        b
    }

    /// What recovery accepts as a written entry.
    pub fn is_valid(&self) -> bool {
        self.phy_offset >= 0 && self.size > 0
    }

    pub fn is_hole(&self) -> bool {
        self.size == HOLE_SIZE
    }
}

/// Consecutive entries inside one file, readable without further locking.
pub(crate) struct EntryRun {
    file: Arc<MappedFile>,
    pos: usize,
    pub count: usize,
}

impl EntryRun {
    pub fn get(&self, i: usize) -> Option<CqEntry> {
        let at = self.pos + i * CQ_UNIT_SIZE;
        self.file.published(at, CQ_UNIT_SIZE).map(CqEntry::parse)
    }
}

pub(crate) struct ConsumeQueue {
    topic: String,
    queue_id: i32,
    queue: MappedFileQueue,
    min_logic: AtomicI64,
    max_logic: AtomicI64,
}

impl ConsumeQueue {
    pub fn new(root: &Path, topic: &str, queue_id: i32, file_size: usize) -> Self {
        let dir = root.join(topic).join(queue_id.to_string());
        ConsumeQueue {
            topic: topic.to_owned(),
            queue_id,
            queue: MappedFileQueue::new(dir, file_size, None, false),
            min_logic: AtomicI64::new(0),
            max_logic: AtomicI64::new(0),
        }
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }
    pub fn queue_id(&self) -> i32 {
        self.queue_id
    }
    pub fn dir(&self) -> &Path {
        self.queue.dir()
    }
    pub fn min_offset(&self) -> i64 {
        self.min_logic.load(Ordering::Acquire)
    }
    /// Next logical offset to be written (exclusive end).
    pub fn max_offset(&self) -> i64 {
        self.max_logic.load(Ordering::Acquire)
    }

    /// Maps the queue's files and finds the last written entry (scanning the last three files,
    /// trusting earlier ones), cutting away anything after it.
    pub fn load_and_recover(&mut self) -> Result<(), StoreError> {
        self.queue.load()?;
        let files = self.queue.files();
        let Some(first) = files.first() else {
            return Ok(());
        };
        let first_start = first.start();
        let from = files.len().saturating_sub(3);
        let mut end = files[from].start();
        'files: for f in &files[from..] {
            let data = f.published_from(0);
            for (i, chunk) in data.chunks_exact(CQ_UNIT_SIZE).enumerate() {
                if !CqEntry::parse(chunk).is_valid() {
                    end = f.start() + (i * CQ_UNIT_SIZE) as i64;
                    break 'files;
                }
            }
            end = f.start() + (data.len() / CQ_UNIT_SIZE * CQ_UNIT_SIZE) as i64;
        }
        drop(files);
        self.queue.truncate(end)?;
        self.queue.set_positions(end);
        let unit = CQ_UNIT_SIZE as i64;
        *self.max_logic.get_mut() = end / unit;
        *self.min_logic.get_mut() = (first_start / unit).min(end / unit);
        Ok(())
    }

    /// Removes entries pointing at or beyond `phy_end` (the recovered end of the CommitLog).
    pub fn truncate_dirty(&mut self, phy_end: i64) -> Result<(), StoreError> {
        let keep = self.kept_below(phy_end);
        if keep < self.max_offset() {
            tracing::info!(topic = %self.topic, queue_id = self.queue_id, from = self.max_offset(), to = keep,
                "truncating consume queue entries beyond the commit log end");
            self.queue.truncate(keep * CQ_UNIT_SIZE as i64)?;
            *self.max_logic.get_mut() = keep;
            if self.queue.is_empty() {
                *self.min_logic.get_mut() = keep;
            }
        }
        Ok(())
    }

    /// The logical end once entries reaching `phy_end` or beyond are dropped.
    fn kept_below(&self, phy_end: i64) -> i64 {
        let mut keep = self.max_offset();
        let min = self.min_offset();
        while keep > min {
            match self.entry(keep - 1) {
                Some(e) if !e.is_hole() && e.phy_offset + e.size as i64 > phy_end => keep -= 1,
                _ => break,
            }
        }
        keep
    }

    /// [`Self::truncate_dirty`] while readers may hold the files (a replica cutting its log
    /// back at run time; dispatch is paused by the caller).
    pub fn cut_back(&self, phy_end: i64) -> Result<(), StoreError> {
        let keep = self.kept_below(phy_end);
        if keep < self.max_offset() {
            tracing::info!(topic = %self.topic, queue_id = self.queue_id, from = self.max_offset(), to = keep,
                "cutting consume queue entries beyond the new commit log end");
            self.queue.cut_back(keep * CQ_UNIT_SIZE as i64)?;
            self.max_logic.store(keep, Ordering::Release);
            if self.queue.is_empty() {
                self.min_logic.store(keep, Ordering::Release);
            }
        }
        Ok(())
    }

    /// Commit-log end of the last entry (0 if none): how far this queue has been dispatched.
    pub fn last_phy_end(&self) -> i64 {
        let max = self.max_offset();
        if max <= self.min_offset() {
            return 0;
        }
        match self.entry(max - 1) {
            Some(e) if !e.is_hole() => e.phy_offset + e.size as i64,
            _ => 0,
        }
    }

    /// The entry at a logical offset, if written.
    pub fn entry(&self, logic: i64) -> Option<CqEntry> {
        if logic < 0 {
            return None;
        }
        let at = logic * CQ_UNIT_SIZE as i64;
        let file = self.queue.find(at)?;
        file.published((at - file.start()) as usize, CQ_UNIT_SIZE)
            .map(CqEntry::parse)
    }

    /// The written entries from `logic` to the end of its file, up to `max` of them.
    pub fn entries_from(&self, logic: i64, max: usize) -> Option<EntryRun> {
        if logic < 0 {
            return None;
        }
        let at = logic * CQ_UNIT_SIZE as i64;
        let file = self.queue.find(at)?;
        let pos = (at - file.start()) as usize;
        let avail = file.wrote_pos().saturating_sub(pos) / CQ_UNIT_SIZE;
        let count = avail.min(max);
        (count > 0).then_some(EntryRun { file, pos, count })
    }

    /// First logical offset of the file after the one holding `logic` (for OFFSET_FOUND_NULL).
    pub fn roll_next_file(&self, logic: i64) -> i64 {
        let per_file = (self.queue.file_size() / CQ_UNIT_SIZE) as i64;
        logic + per_file - logic % per_file
    }

    /// Appends the entry for `queue_offset`. Returns `false` if the queue already holds it, or
    /// if `queue_offset` cannot be right (see the gap check).
    /// A gap (lost entries) is filled with holes so positions stay addressable.
    pub fn put(
        &self,
        phy_offset: i64,
        size: i32,
        tags_code: i64,
        queue_offset: i64,
    ) -> io::Result<bool> {
        let max = self.max_offset();
        if queue_offset < max {
            return Ok(false);
        }
        if self.queue.is_empty() && queue_offset > 0 {
            // First file of a queue that starts mid-way (e.g. after its files were lost).
            let Some(at) = queue_offset.checked_mul(CQ_UNIT_SIZE as i64) else {
                tracing::error!(topic = %self.topic, queue_id = self.queue_id, got = queue_offset,
                    phy_offset, "a CommitLog record's queue offset is too large for any consume \
                     queue (damaged record?); not added to the consume queue");
                return Ok(false);
            };
            let start = at - at % self.queue.file_size() as i64;
            self.queue.roll(start)?;
            let first = start / CQ_UNIT_SIZE as i64;
            self.min_logic.store(queue_offset, Ordering::Release);
            self.max_logic.store(first, Ordering::Release);
        } else if queue_offset > max {
            // A gap holds at most as many records as fit between the last entry and this one
            // in the CommitLog: more means the record's queue offset is damaged (the body CRC
            // does not cover it), and filling such a gap with holes would write without bound.
            let after_last = self
                .entry(max - 1)
                .filter(|e| !e.is_hole() && e.phy_offset <= phy_offset)
                .map_or(0, |e| e.phy_offset + i64::from(e.size));
            let room = (phy_offset - after_last).max(0) / MIN_RECORD_LEN + 1;
            if queue_offset - max > room {
                tracing::error!(topic = %self.topic, queue_id = self.queue_id, expected = max,
                    got = queue_offset, phy_offset,
                    "a CommitLog record's queue offset is past anything that can precede it \
                     (damaged record?); not added to the consume queue");
                return Ok(false);
            }
            tracing::warn!(topic = %self.topic, queue_id = self.queue_id, expected = max, got = queue_offset,
                "consume queue gap; filling it with holes");
        }
        let hole = CqEntry {
            phy_offset: 0,
            size: HOLE_SIZE,
            tags_code: 0,
        };
        while self.max_offset() < queue_offset {
            self.append_entry(&hole)?;
        }
        self.append_entry(&CqEntry {
            phy_offset,
            size,
            tags_code,
        })?;
        Ok(true)
    }

    fn append_entry(&self, e: &CqEntry) -> io::Result<()> {
        let file = match self.queue.last() {
            Some(f) if !f.is_full() => f,
            last => {
                let start = last.map_or(0, |f| f.end());
                self.queue.roll(start)?
            }
        };
        file.append(&e.encode())
            .map_err(|err| io::Error::other(format!("consume queue append: {err:?}")))?;
        self.max_logic.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    pub fn flush(&self, least_pages: usize) -> io::Result<()> {
        self.queue.flush(least_pages).map(|_| ())
    }

    /// Moves the minimum offset to the first entry whose record is still in the CommitLog.
    pub fn correct_min_offset(&self, commit_log_min: i64) {
        let mut lo = self.min_offset().max(
            self.queue
                .first()
                .map_or(0, |f| f.start() / CQ_UNIT_SIZE as i64),
        );
        let hi = self.max_offset();
        // Entries are in commit-log order, so binary search for the first one >= min.
        let (mut l, mut h) = (lo, hi);
        while l < h {
            let mid = l + (h - l) / 2;
            match self.entry(mid) {
                Some(e) if e.is_hole() || e.phy_offset < commit_log_min => l = mid + 1,
                _ => h = mid,
            }
        }
        lo = lo.max(l);
        self.min_logic.fetch_max(lo, Ordering::AcqRel);
    }

    /// Detaches the first file if every entry in it points below `commit_log_min`.
    pub fn pop_expired_file(&self, commit_log_min: i64) -> Option<Arc<MappedFile>> {
        self.queue.pop_first_if(|f| {
            let last = f.size() - CQ_UNIT_SIZE;
            f.published(last, CQ_UNIT_SIZE)
                .map(CqEntry::parse)
                .is_some_and(|e| e.is_hole() || e.phy_offset + e.size as i64 <= commit_log_min)
        })
    }

    /// Detaches every file (topic deletion).
    pub fn take_files(&self) -> Vec<Arc<MappedFile>> {
        self.queue.take_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the store_recovery fuzz target: a damaged queue offset in a CommitLog record
    /// (the body CRC does not cover it) made dispatch fill a gap of billions of holes, creating
    /// consume queue files until the disk was full.
    #[test]
    fn a_gap_larger_than_the_commit_log_allows_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let size = CQ_UNIT_SIZE * 4;
        let cq = ConsumeQueue::new(dir.path(), "T", 0, size);
        for i in 0..3 {
            assert!(cq.put(i * 100, 100, i, i).unwrap());
        }
        // Records of 100 bytes end at 300; at 400 at most (400 - 300) / 64 + 1 = 2 can follow.
        assert!(!cq.put(400, 100, 0, 1_000_000_000).unwrap());
        assert!(!cq.put(400, 100, 0, 6).unwrap());
        assert_eq!(cq.max_offset(), 3);
        assert_eq!(
            std::fs::read_dir(dir.path().join("T").join("0"))
                .unwrap()
                .count(),
            1
        );
        // A gap the CommitLog has room for is filled with holes, as before.
        assert!(cq.put(400, 100, 0, 5).unwrap());
        assert_eq!(cq.max_offset(), 6);
        assert!(cq.entry(3).unwrap().is_hole() && cq.entry(4).unwrap().is_hole());
        assert_eq!(cq.entry(5).unwrap().phy_offset, 400);
    }

    /// Found by the store_recovery fuzz target (CI, 2026-12-08): the first entry of an empty
    /// queue with a damaged queue offset near i64::MAX overflowed the file position and
    /// panicked the recovering store.
    #[test]
    fn a_first_queue_offset_past_any_file_position_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cq = ConsumeQueue::new(dir.path(), "T", 0, CQ_UNIT_SIZE * 4);
        assert!(!cq.put(0, 100, 0, i64::MAX / 3).unwrap());
        assert_eq!(cq.max_offset(), 0);
        assert!(
            cq.put(0, 100, 0, 0).unwrap(),
            "the queue still takes a sound entry"
        );
    }

    #[test]
    fn append_read_recover_truncate() {
        let dir = tempfile::tempdir().unwrap();
        let size = CQ_UNIT_SIZE * 4;
        let cq = ConsumeQueue::new(dir.path(), "T", 0, size);
        for i in 0..10 {
            assert!(cq.put(i * 100, 100, i, i).unwrap());
        }
        assert!(!cq.put(0, 100, 0, 3).unwrap(), "duplicate is skipped");
        assert_eq!(cq.max_offset(), 10);
        assert_eq!(cq.entry(7).unwrap().phy_offset, 700);
        let run = cq.entries_from(5, 10).unwrap();
        assert_eq!(run.count, 3, "stops at the file end");
        assert_eq!(cq.last_phy_end(), 1000);
        drop(run);
        drop(cq);

        let mut cq = ConsumeQueue::new(dir.path(), "T", 0, size);
        cq.load_and_recover().unwrap();
        assert_eq!(cq.max_offset(), 10);
        cq.truncate_dirty(650).unwrap();
        assert_eq!(cq.max_offset(), 6);
        cq.correct_min_offset(250);
        assert_eq!(cq.min_offset(), 3);
        assert!(cq.put(600, 50, 0, 6).unwrap());
        assert_eq!(cq.entry(6).unwrap().size, 50);
        let f = cq.pop_expired_file(400).unwrap();
        assert_eq!(f.start(), 0);
    }

    #[test]
    fn gap_fills_holes() {
        let dir = tempfile::tempdir().unwrap();
        let cq = ConsumeQueue::new(dir.path(), "T", 1, CQ_UNIT_SIZE * 4);
        cq.put(0, 10, 0, 5).unwrap();
        assert_eq!(cq.min_offset(), 5);
        assert_eq!(cq.max_offset(), 6);
        assert!(cq.entry(4).unwrap().is_hole());
        cq.put(1000, 100, 0, 8).unwrap();
        assert!(cq.entry(7).unwrap().is_hole());
        assert_eq!(cq.max_offset(), 9);
    }
}
