//! One IndexFile in RocketMQ's layout: a 40-byte header, `maxHashSlotNum` 4-byte slots, then
//! `maxIndexNum` 20-byte entries chained newest-first through each slot (`[S] index/IndexFile.java`).
//!
//! Unlike the CommitLog, an index file is written at random places (the slots), so it is not an
//! append-only mapping: it lives behind an `RwLock` (the dispatcher writes, queries read). Nothing
//! here trusts the bytes on disk: counts are bounds-checked and chain walks are capped, so a
//! corrupt file yields fewer results, never a panic or an endless loop.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use memmap2::{MmapMut, MmapOptions};
use parking_lot::RwLock;

pub const INDEX_HEADER_SIZE: usize = 40;
pub const INDEX_ENTRY_SIZE: usize = 20;
const SLOT_SIZE: usize = 4;

/// The 40-byte header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexHeader {
    pub begin_timestamp: i64,
    pub end_timestamp: i64,
    pub begin_phy_offset: i64,
    pub end_phy_offset: i64,
    pub hash_slot_count: i32,
    pub index_count: i32,
}

/// `abs(String.hashCode(topic + "#" + key))`, 0 when `abs` overflows, without building the key.
pub fn key_hash(topic: &str, key: &str) -> i32 {
    let mut h: i32 = 0;
    for u in topic
        .encode_utf16()
        .chain("#".encode_utf16())
        .chain(key.encode_utf16())
    {
        h = h.wrapping_mul(31).wrapping_add(u as i32);
    }
    h.checked_abs().unwrap_or(0)
}

pub(crate) struct IndexFile {
    path: PathBuf,
    slot_num: usize,
    index_num: usize,
    map: RwLock<MmapMut>,
    _file: File,
    dirty: AtomicBool,
}

fn rd_i32(b: &[u8], at: usize) -> i32 {
    i32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn rd_i64(b: &[u8], at: usize) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    i64::from_be_bytes(a)
}
fn wr_i32(b: &mut [u8], at: usize, v: i32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}
fn wr_i64(b: &mut [u8], at: usize, v: i64) {
    b[at..at + 8].copy_from_slice(&v.to_be_bytes());
}

fn read_header(b: &[u8]) -> IndexHeader {
    IndexHeader {
        begin_timestamp: rd_i64(b, 0),
        end_timestamp: rd_i64(b, 8),
        begin_phy_offset: rd_i64(b, 16),
        end_phy_offset: rd_i64(b, 24),
        hash_slot_count: rd_i32(b, 32),
        index_count: rd_i32(b, 36),
    }
}

fn write_header(b: &mut [u8], h: &IndexHeader) {
    wr_i64(b, 0, h.begin_timestamp);
    wr_i64(b, 8, h.end_timestamp);
    wr_i64(b, 16, h.begin_phy_offset);
    wr_i64(b, 24, h.end_phy_offset);
    wr_i32(b, 32, h.hash_slot_count);
    wr_i32(b, 36, h.index_count);
}

/// One entry as stored.
#[derive(Debug, Clone, Copy)]
struct Entry {
    hash: i32,
    phy: i64,
    time_diff: i32,
    prev: i32,
}

impl IndexFile {
    pub fn file_size(slot_num: usize, index_num: usize) -> usize {
        INDEX_HEADER_SIZE + slot_num * SLOT_SIZE + index_num * INDEX_ENTRY_SIZE
    }

    /// Creates a new, empty index file (indexCount starts at 1: entry 0 is never used).
    pub fn create(path: &Path, slot_num: usize, index_num: usize) -> io::Result<IndexFile> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)?;
        // Reserved up front: a mapped write that has to allocate a block on a full disk is a
        // SIGBUS; a failed reservation is an error the caller can report.
        if let Err(e) = crate::mapped_file::preallocate(&file, Self::file_size(slot_num, index_num))
        {
            // No half-made file left behind: the next attempt creates it afresh.
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
        let mut f = Self::map(path, file, slot_num, index_num)?;
        write_header(
            &mut f.map.get_mut()[..],
            &IndexHeader {
                index_count: 1,
                ..Default::default()
            },
        );
        Ok(f)
    }

    /// Maps an existing index file, checking its size and header.
    pub fn open(path: &Path, slot_num: usize, index_num: usize) -> io::Result<IndexFile> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        let len = file.metadata()?.len();
        if len != Self::file_size(slot_num, index_num) as u64 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("index file is {len} bytes, expected {} for maxHashSlotNum {slot_num} and maxIndexNum {index_num}",
                    Self::file_size(slot_num, index_num)),
            ));
        }
        let f = Self::map(path, file, slot_num, index_num)?;
        let h = f.header();
        if h.index_count < 1 || h.index_count as usize > index_num {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("index header count {} out of range", h.index_count),
            ));
        }
        Ok(f)
    }

    fn map(path: &Path, file: File, slot_num: usize, index_num: usize) -> io::Result<IndexFile> {
        // SAFETY: the file is created or opened by this store, whose `lock` file keeps other rmq
        // processes out; nothing else truncates it while mapped. All access goes through the
        // RwLock, so Rust's aliasing rules hold for the `MmapMut`.
        let map = unsafe {
            MmapOptions::new()
                .len(Self::file_size(slot_num, index_num))
                .map_mut(&file)?
        };
        Ok(IndexFile {
            path: path.to_owned(),
            slot_num,
            index_num,
            map: RwLock::new(map),
            _file: file,
            dirty: AtomicBool::new(false),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn header(&self) -> IndexHeader {
        read_header(&self.map.read()[..])
    }

    pub fn is_full(&self) -> bool {
        self.header().index_count as usize >= self.index_num
    }

    fn slot_at(&self, hash: i32) -> usize {
        INDEX_HEADER_SIZE + (hash.unsigned_abs() as usize % self.slot_num) * SLOT_SIZE
    }

    fn entry_at(&self, i: usize) -> usize {
        INDEX_HEADER_SIZE + self.slot_num * SLOT_SIZE + i * INDEX_ENTRY_SIZE
    }

    fn read_entry(&self, b: &[u8], i: usize) -> Entry {
        let at = self.entry_at(i);
        Entry {
            hash: rd_i32(b, at),
            phy: rd_i64(b, at + 4),
            time_diff: rd_i32(b, at + 12),
            prev: rd_i32(b, at + 16),
        }
    }

    /// Adds one key. Returns `false` when the file is full.
    pub fn put_key(&self, hash: i32, phy: i64, store_timestamp: i64) -> bool {
        let mut map = self.map.write();
        let b = &mut map[..];
        let mut h = read_header(b);
        let count = h.index_count;
        if count < 1 || count as usize >= self.index_num {
            return false;
        }
        let slot = self.slot_at(hash);
        let mut prev = rd_i32(b, slot);
        if prev <= 0 || prev > count {
            prev = 0;
        }
        let diff = if h.begin_timestamp <= 0 {
            0
        } else {
            ((store_timestamp - h.begin_timestamp) / 1000).clamp(0, i32::MAX as i64) as i32
        };
        let at = self.entry_at(count as usize);
        wr_i32(b, at, hash);
        wr_i64(b, at + 4, phy);
        wr_i32(b, at + 12, diff);
        wr_i32(b, at + 16, prev);
        wr_i32(b, slot, count);
        if count <= 1 {
            h.begin_phy_offset = phy;
            h.begin_timestamp = store_timestamp;
        }
        if prev == 0 {
            h.hash_slot_count += 1;
        }
        h.index_count = count + 1;
        h.end_phy_offset = phy;
        h.end_timestamp = store_timestamp;
        write_header(b, &h);
        self.dirty.store(true, Ordering::Release);
        true
    }

    /// Physical offsets of entries with `hash` stored within `[begin, end]`, newest first.
    pub fn select(&self, hash: i32, max: usize, begin: i64, end: i64, out: &mut Vec<i64>) {
        let map = self.map.read();
        let b = &map[..];
        let h = read_header(b);
        if h.index_count <= 1 || h.begin_timestamp > end || h.end_timestamp < begin {
            return;
        }
        let count = h.index_count;
        let mut next = rd_i32(b, self.slot_at(hash));
        let mut steps = 0;
        while next > 0 && next < count && out.len() < max && steps < count {
            steps += 1;
            let e = self.read_entry(b, next as usize);
            if e.time_diff < 0 {
                break;
            }
            let time = h.begin_timestamp + e.time_diff as i64 * 1000;
            if e.hash == hash && time >= begin && time <= end {
                out.push(e.phy);
            }
            if e.prev <= 0 || e.prev >= next || time < begin {
                break;
            }
            next = e.prev;
        }
    }

    /// Removes entries for records at or beyond `phy_end` (newest first, undoing each insert).
    /// Returns `true` if the file is now empty.
    pub fn truncate(&self, phy_end: i64) -> bool {
        let mut map = self.map.write();
        let b = &mut map[..];
        let mut h = read_header(b);
        let mut count = h.index_count.clamp(1, self.index_num as i32);
        let mut changed = false;
        while count > 1 {
            let last = (count - 1) as usize;
            let e = self.read_entry(b, last);
            if e.phy < phy_end {
                break;
            }
            let slot = self.slot_at(e.hash);
            if rd_i32(b, slot) == last as i32 {
                let prev = if e.prev > 0 && (e.prev as usize) < last {
                    e.prev
                } else {
                    0
                };
                wr_i32(b, slot, prev);
                if prev == 0 {
                    h.hash_slot_count = (h.hash_slot_count - 1).max(0);
                }
            }
            let at = self.entry_at(last);
            b[at..at + INDEX_ENTRY_SIZE].fill(0);
            count -= 1;
            changed = true;
        }
        if changed {
            h.index_count = count;
            if count > 1 {
                let e = self.read_entry(b, (count - 1) as usize);
                h.end_phy_offset = e.phy;
                h.end_timestamp = h.begin_timestamp + e.time_diff.max(0) as i64 * 1000;
            } else {
                h = IndexHeader {
                    index_count: 1,
                    ..Default::default()
                };
            }
            write_header(b, &h);
            self.dirty.store(true, Ordering::Release);
        }
        count <= 1
    }

    pub fn flush(&self) -> io::Result<()> {
        if self.dirty.swap(false, Ordering::AcqRel) {
            let r = self.map.read().flush();
            if r.is_err() {
                self.dirty.store(true, Ordering::Release);
            }
            r?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_common::java::string_hash_code;

    #[test]
    fn key_hash_matches_java_on_the_joined_key() {
        for (t, k) in [("TopicTest", "key-0123456789"), ("T", ""), ("主题", "键")] {
            let joined = string_hash_code(&format!("{t}#{k}"));
            assert_eq!(key_hash(t, k), joined.checked_abs().unwrap_or(0));
        }
    }

    #[test]
    fn put_select_truncate_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("idx");
        let f = IndexFile::create(&p, 4, 8).unwrap();
        let base = 1_700_000_000_000;
        for i in 0..7 {
            assert!(f.put_key(
                key_hash("T", &format!("k{}", i % 2)),
                i * 100,
                base + i * 1000
            ));
        }
        assert!(!f.put_key(1, 0, base), "full after maxIndexNum - 1 entries");
        let mut out = vec![];
        f.select(key_hash("T", "k0"), 10, base, base + 10_000, &mut out);
        assert_eq!(out, vec![600, 400, 200, 0]);
        out.clear();
        f.select(key_hash("T", "k0"), 2, base, base + 10_000, &mut out);
        assert_eq!(out, vec![600, 400]);
        assert!(!f.truncate(450));
        out.clear();
        f.select(key_hash("T", "k0"), 10, 0, i64::MAX, &mut out);
        assert_eq!(out, vec![400, 200, 0]);
        assert_eq!(f.header().end_phy_offset, 400);
        f.flush().unwrap();
        drop(f);
        let f = IndexFile::open(&p, 4, 8).unwrap();
        assert_eq!(f.header().index_count, 6);
        assert!(IndexFile::open(&p, 5, 8).is_err());
    }
}
