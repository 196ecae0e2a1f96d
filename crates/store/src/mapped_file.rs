//! One memory-mapped store file (a CommitLog or ConsumeQueue segment) with a single appender and
//! any number of concurrent readers.
//!
//! Why it is shaped this way:
//! - The file is preallocated with `fallocate` and, for the CommitLog, pre-faulted with
//!   `MADV_POPULATE_WRITE` before the writer reaches it: on this machine first-touch faults on a
//!   sparse mapping make appends more than 10x slower (see `shared/MACHINE.md`).
//! - Readers must be able to hold message bytes without copying (`bytes::Bytes` slices of the
//!   mapping). The mapping is therefore a raw mapping owned by an `Arc<MappedFile>`; a `Bytes`
//!   keeps that `Arc` alive, so a file deleted by cleanup stays mapped until its last reader drops.
//! - Soundness rests on two rules, both enforced here rather than by callers:
//!   1. bytes below `wrote` (published with `Release`) are never written again while the file is
//!      shared; the only way to rewrite them is [`MappedFile::truncate`], which takes `&mut self`
//!      (so the caller must prove uniqueness, e.g. with `Arc::get_mut`, during recovery);
//!   2. appends write only at and beyond `wrote`, and one appender at a time is guaranteed by an
//!      atomic flag (a second concurrent appender is refused, never allowed to race).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use memmap2::{Advice, MmapOptions, MmapRaw};

/// The page size RocketMQ assumes for flush accounting.
pub const OS_PAGE_SIZE: usize = 4096;

/// File name of a segment: its start offset, zero-padded to 20 digits.
pub fn file_name(offset: i64) -> String {
    format!("{offset:020}")
}

/// Parses a segment file name back into its start offset.
pub fn parse_file_name(name: &str) -> Option<i64> {
    if name.len() != 20 || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

pub(crate) struct MappedFile {
    path: PathBuf,
    start: i64,
    size: usize,
    /// The mapping alone: the file descriptor is closed once the file is mapped (the mapping
    /// stays valid and `msync` flushes it), so a broker with 50,000 queues does not hold
    /// 50,000 open files.
    map: MmapRaw,
    /// End of the published (readable) bytes.
    wrote: AtomicUsize,
    flushed: AtomicUsize,
    appending: AtomicBool,
}

impl std::fmt::Debug for MappedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappedFile")
            .field("path", &self.path)
            .field("wrote", &self.wrote_pos())
            .finish()
    }
}

/// Why an append did not happen.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AppendError {
    /// Not enough room left in the file.
    NoRoom,
    /// Another append is in progress (a caller bug: appends must be serialized).
    Busy,
}

impl MappedFile {
    /// Creates (or reuses, if a previous attempt left it) a file of `size` bytes, with its disk
    /// blocks reserved when `prealloc` (the CommitLog) or sparse otherwise (ConsumeQueues, where
    /// a fault every 204 entries costs nothing and thousands of queues must not reserve 6 MB
    /// each).
    pub fn create(path: &Path, start: i64, size: usize, prealloc: bool) -> io::Result<MappedFile> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let len = file.metadata()?.len();
        if len != size as u64 {
            if len > size as u64 || !prealloc {
                file.set_len(size as u64)?;
            }
            if prealloc {
                preallocate(&file, size)?;
            }
        }
        Self::map(path, file, start, size, 0)
    }

    /// A new file at `path` holding `prefix` and zeros after it, replacing whatever file is
    /// there (a replica cutting its log back at run time). The bytes go to `<path>.cut` first
    /// and are synced before the rename, so a crash leaves either the old file or the new one.
    /// Readers still holding the old file keep its (now unlinked) mapping, untouched.
    pub fn from_prefix(
        path: &Path,
        start: i64,
        size: usize,
        prefix: &[u8],
        prealloc: bool,
    ) -> io::Result<MappedFile> {
        use std::io::Write;
        let mut tmp_name = path.as_os_str().to_owned();
        tmp_name.push(".cut");
        let tmp = PathBuf::from(tmp_name);
        {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)?;
            f.write_all(prefix)?;
            f.set_len(size as u64)?;
            if prealloc {
                preallocate(&f, size)?;
            }
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        let pos = prefix.len().min(size);
        Self::map(path, file, start, size, pos)
    }

    /// Maps an existing file; every byte is readable until recovery truncates it.
    pub fn open_existing(path: &Path, start: i64, size: usize) -> io::Result<MappedFile> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        let len = file.metadata()?.len();
        if len != size as u64 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "file is {len} bytes, expected {size} (was the file size setting changed?)"
                ),
            ));
        }
        Self::map(path, file, start, size, size)
    }

    fn map(path: &Path, file: File, start: i64, size: usize, wrote: usize) -> io::Result<Self> {
        let map = MmapOptions::new().len(size).map_raw(&file)?;
        drop(file);
        Ok(MappedFile {
            path: path.to_owned(),
            start,
            size,
            map,
            wrote: AtomicUsize::new(wrote),
            flushed: AtomicUsize::new(wrote),
            appending: AtomicBool::new(false),
        })
    }

    /// Faults the unwritten part of the mapping in, writable, so the appender never takes a
    /// first-touch fault. Best effort: older kernels lack `MADV_POPULATE_WRITE`.
    pub fn warm(&self) {
        let from = self.wrote_pos() / OS_PAGE_SIZE * OS_PAGE_SIZE;
        if from >= self.size {
            return;
        }
        if let Err(e) = self
            .map
            .advise_range(Advice::PopulateWrite, from, self.size - from)
        {
            tracing::debug!(path = %self.path.display(), error = %e, "MADV_POPULATE_WRITE unavailable");
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn start(&self) -> i64 {
        self.start
    }
    pub fn size(&self) -> usize {
        self.size
    }
    pub fn end(&self) -> i64 {
        self.start + self.size as i64
    }
    pub fn wrote_pos(&self) -> usize {
        self.wrote.load(Ordering::Acquire)
    }
    pub fn flushed_pos(&self) -> usize {
        self.flushed.load(Ordering::Acquire)
    }
    pub fn is_full(&self) -> bool {
        self.wrote_pos() >= self.size
    }
    pub fn remaining(&self) -> usize {
        self.size - self.wrote_pos()
    }

    /// Appends `data` at the write position and publishes it; returns the position it was
    /// written at.
    pub fn append(&self, data: &[u8]) -> Result<usize, AppendError> {
        self.append_with(data, data.len())
    }

    /// Writes `data` at the write position and publishes `advance` bytes (`advance >=
    /// data.len()`); used for the end-of-file blank, which consumes the rest of the file.
    pub fn append_with(&self, data: &[u8], advance: usize) -> Result<usize, AppendError> {
        if self.appending.swap(true, Ordering::Acquire) {
            return Err(AppendError::Busy);
        }
        let pos = self.wrote.load(Ordering::Relaxed);
        let fits =
            advance >= data.len() && pos.checked_add(advance).is_some_and(|e| e <= self.size);
        if !fits {
            self.appending.store(false, Ordering::Release);
            return Err(AppendError::NoRoom);
        }
        // SAFETY: `pos + data.len() <= size`, so the destination lies inside the mapping, which
        // lives as long as `self`. Bytes at and beyond `wrote` are not published: no reader holds
        // a reference to them (rule 1 of the module doc), and the `appending` flag held here
        // excludes any other writer (rule 2). The source is a distinct Rust slice, so the ranges
        // do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(
                data.as_ptr(),
                self.map.as_mut_ptr().add(pos),
                data.len(),
            );
        }
        self.wrote.store(pos + advance, Ordering::Release);
        self.appending.store(false, Ordering::Release);
        Ok(pos)
    }

    /// The published bytes `[pos, pos + len)`, or `None` if not all of them are published.
    pub fn published(&self, pos: usize, len: usize) -> Option<&[u8]> {
        let end = pos.checked_add(len)?;
        if end > self.wrote_pos() {
            return None;
        }
        // SAFETY: `end <= wrote <= size`, so the range is inside the mapping, which lives as long
        // as the returned borrow of `self`. Published bytes are never written while `self` is
        // shared (truncate needs `&mut self`), so no mutable access aliases this slice.
        Some(unsafe { std::slice::from_raw_parts(self.map.as_ptr().add(pos), len) })
    }

    /// The published bytes from `pos` to the write position (empty if `pos` is past it).
    pub fn published_from(&self, pos: usize) -> &[u8] {
        let wrote = self.wrote_pos();
        self.published(pos, wrote.saturating_sub(pos))
            .unwrap_or(&[])
    }

    /// `[pos, pos + len)` as a `Bytes` that keeps this file mapped, without copying.
    pub fn bytes(self: &Arc<Self>, pos: usize, len: usize) -> Option<Bytes> {
        self.published(pos, len)?;
        Some(Bytes::from_owner(Region {
            file: Arc::clone(self),
            pos,
            len,
        }))
    }

    /// Flushes the unflushed published bytes if at least `least_pages` dirty pages have
    /// accumulated (or the file is full, or `least_pages` is 0). Returns the flushed position.
    pub fn flush(&self, least_pages: usize) -> io::Result<usize> {
        let wrote = self.wrote_pos();
        let flushed = self.flushed_pos();
        if wrote <= flushed {
            return Ok(flushed);
        }
        let pages = wrote / OS_PAGE_SIZE - flushed / OS_PAGE_SIZE;
        if least_pages > 0 && wrote < self.size && pages < least_pages {
            return Ok(flushed);
        }
        self.map.flush_range(flushed, wrote - flushed)?;
        self.flushed.fetch_max(wrote, Ordering::AcqRel);
        Ok(wrote)
    }

    /// Cuts the file back to `pos`: zeroes the bytes after it (up to the last non-zero byte, so
    /// a later recovery cannot mistake stale bytes for records) and resets the positions.
    /// `&mut self` proves no reader holds any of its bytes.
    pub fn truncate(&mut self, pos: usize) {
        let pos = pos.min(self.size);
        let dirty_end = self.last_nonzero_end(pos);
        if dirty_end > pos {
            // SAFETY: `pos < dirty_end <= size`, inside the mapping. `&mut self` guarantees no
            // published slice or `Bytes` of this file exists (the caller holds the only
            // reference), so nothing aliases the zeroed range.
            unsafe {
                std::ptr::write_bytes(self.map.as_mut_ptr().add(pos), 0, dirty_end - pos);
            }
        }
        *self.wrote.get_mut() = pos;
        *self.flushed.get_mut() = pos;
    }

    /// Sets both positions (used by recovery on files it trusts).
    pub fn set_positions(&mut self, pos: usize) {
        let pos = pos.min(self.size);
        *self.wrote.get_mut() = pos;
        *self.flushed.get_mut() = pos;
    }

    /// End of the last non-zero 4 KiB page at or after `from` (or `from` if all zero).
    fn last_nonzero_end(&self, from: usize) -> usize {
        // Temporarily view the whole file; `&self` here is only ever reached via `&mut self`.
        // SAFETY: the range `[0, size)` is the mapping; this is called from `truncate`, which
        // holds `&mut self`, so no writer runs concurrently and reading is race-free.
        let all = unsafe { std::slice::from_raw_parts(self.map.as_ptr(), self.size) };
        let mut end = self.size;
        while end > from {
            let page_start = ((end - 1) / OS_PAGE_SIZE * OS_PAGE_SIZE).max(from);
            if all[page_start..end].iter().any(|b| *b != 0) {
                return end;
            }
            end = page_start;
        }
        from
    }

    /// Removes the file from disk. The mapping stays valid until the last `Arc` is dropped.
    pub fn delete_file(&self) -> io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }
}

/// Owner of a zero-copy slice: keeps the file's mapping alive.
struct Region {
    file: Arc<MappedFile>,
    pos: usize,
    len: usize,
}

impl AsRef<[u8]> for Region {
    fn as_ref(&self) -> &[u8] {
        // Checked when the Region was made; published bytes never shrink while shared.
        self.file.published(self.pos, self.len).unwrap_or(&[])
    }
}

/// Reserves the disk blocks of a file so mapped writes do not allocate blocks on first touch
/// (on a full disk such a write is a SIGBUS, not an error).
pub(crate) fn preallocate(file: &File, size: usize) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain FFI call on a file descriptor owned by `file`, valid for the call.
        let rc = unsafe { libc::fallocate(file.as_raw_fd(), 0, 0, size as libc::off_t) };
        if rc == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EOPNOTSUPP) {
            return Err(err);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file.as_raw_fd();
    file.set_len(size as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(file_name(1 << 30), "00000000001073741824");
        assert_eq!(parse_file_name("00000000001073741824"), Some(1 << 30));
        assert_eq!(parse_file_name("123"), None);
        assert_eq!(parse_file_name("0000000000107374182x"), None);
    }

    #[test]
    fn append_publish_flush_truncate() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(file_name(4096));
        let mf = Arc::new(MappedFile::create(&p, 4096, 8192, true).unwrap());
        mf.warm();
        assert_eq!(mf.append(b"hello").unwrap(), 0);
        assert_eq!(mf.append(b" world").unwrap(), 5);
        assert_eq!(mf.published(0, 11).unwrap(), b"hello world");
        assert!(mf.published(0, 12).is_none());
        let b = mf.bytes(6, 5).unwrap();
        assert_eq!(&b[..], b"world");
        assert_eq!(mf.flush(4).unwrap(), 0, "below least pages");
        assert_eq!(mf.flush(0).unwrap(), 11);
        assert_eq!(mf.append(&[1u8; 8192]), Err(AppendError::NoRoom));
        drop(b);
        let mut mf = Arc::try_unwrap(mf).unwrap();
        mf.truncate(5);
        assert_eq!(mf.wrote_pos(), 5);
        drop(mf);
        let reopened = MappedFile::open_existing(&p, 4096, 8192).unwrap();
        assert_eq!(reopened.published(0, 12).unwrap(), b"hello\0\0\0\0\0\0\0");
        assert!(MappedFile::open_existing(&p, 4096, 4096).is_err());
    }
}
