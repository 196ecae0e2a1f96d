//! An ordered run of equally sized [`MappedFile`]s forming one logical byte space: the CommitLog,
//! or one ConsumeQueue. Files are named by their start offset, so offset lookup is arithmetic.
//!
//! The file list sits behind an `RwLock` that readers hold only long enough to clone an `Arc`;
//! mutation (roll, cleanup, truncation) is rare. Truncation takes `&mut self` and needs every file
//! it cuts to be unshared, which is true during recovery, the only time it runs.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;

use crate::allocate::Allocator;
use crate::error::StoreError;
use crate::mapped_file::{file_name, parse_file_name, MappedFile};

pub(crate) struct MappedFileQueue {
    dir: PathBuf,
    file_size: usize,
    files: RwLock<Vec<Arc<MappedFile>>>,
    /// Background builder for the next file (CommitLog only).
    allocator: Option<Arc<Allocator>>,
    prealloc: bool,
}

impl MappedFileQueue {
    pub fn new(
        dir: PathBuf,
        file_size: usize,
        allocator: Option<Arc<Allocator>>,
        prealloc: bool,
    ) -> Self {
        MappedFileQueue {
            dir,
            file_size,
            files: RwLock::new(Vec::new()),
            allocator,
            prealloc,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn file_size(&self) -> usize {
        self.file_size
    }

    /// Maps every segment in the directory. Files must be contiguous and of the configured size.
    pub fn load(&mut self) -> Result<(), StoreError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::io("read directory", &self.dir, e)),
        };
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io("read directory", &self.dir, e))?;
            let name = entry.file_name();
            let Some(start) = name.to_str().and_then(parse_file_name) else {
                tracing::warn!(file = %entry.path().display(), "ignoring unexpected file in store directory");
                continue;
            };
            found.push((start, entry.path()));
        }
        found.sort();
        let mut files = Vec::with_capacity(found.len());
        let mut expect: Option<i64> = None;
        let count = found.len();
        for (i, (start, path)) in found.into_iter().enumerate() {
            if i + 1 == count {
                self.repair_short_last_file(&path)?;
            }
            if start % self.file_size as i64 != 0 || expect.is_some_and(|e| e != start) {
                return Err(StoreError::Corrupt {
                    path,
                    reason: format!(
                        "file start {start} does not follow the previous file (file size {}); \
                         move the stray file away or restore the missing one",
                        self.file_size
                    ),
                });
            }
            let f = MappedFile::open_existing(&path, start, self.file_size)
                .map_err(|e| StoreError::io("map", &path, e))?;
            expect = Some(start + self.file_size as i64);
            files.push(Arc::new(f));
        }
        *self.files.get_mut() = files;
        Ok(())
    }

    /// A crash between creating a file and sizing it leaves the newest file short; extend it with
    /// zeros (nothing after its real data was ever acknowledged). Older files must be whole.
    fn repair_short_last_file(&self, path: &Path) -> Result<(), StoreError> {
        let len = std::fs::metadata(path)
            .map_err(|e| StoreError::io("stat", path, e))?
            .len();
        if len < self.file_size as u64 {
            tracing::warn!(file = %path.display(), len, expected = self.file_size,
                "newest store file is short (interrupted creation or truncation); extending it with zeros");
            std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|f| f.set_len(self.file_size as u64))
                .map_err(|e| StoreError::io("extend", path, e))?;
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.files.read().is_empty()
    }
    pub fn files(&self) -> Vec<Arc<MappedFile>> {
        self.files.read().clone()
    }
    pub fn first(&self) -> Option<Arc<MappedFile>> {
        self.files.read().first().cloned()
    }
    pub fn last(&self) -> Option<Arc<MappedFile>> {
        self.files.read().last().cloned()
    }

    /// The file holding `offset`, if present.
    pub fn find(&self, offset: i64) -> Option<Arc<MappedFile>> {
        let files = self.files.read();
        let first = files.first()?;
        if offset < first.start() {
            return None;
        }
        let i = ((offset - first.start()) / self.file_size as i64) as usize;
        files
            .get(i)
            .filter(|f| f.start() <= offset && offset < f.end())
            .cloned()
    }

    /// Start of the first file (0 when empty).
    pub fn min_offset(&self) -> i64 {
        self.files.read().first().map_or(0, |f| f.start())
    }

    /// End of the published bytes of the last file.
    pub fn max_offset(&self) -> i64 {
        self.files
            .read()
            .last()
            .map_or(0, |f| f.start() + f.wrote_pos() as i64)
    }

    /// End of the flushed bytes: the first file that is not fully flushed decides.
    pub fn flushed_offset(&self) -> i64 {
        let files = self.files.read();
        for f in files.iter() {
            if f.flushed_pos() < f.wrote_pos() || f.wrote_pos() < f.size() {
                return f.start() + f.flushed_pos() as i64;
            }
        }
        files.last().map_or(0, |f| f.end())
    }

    /// Appends a new file starting at `start` and asks the allocator for the one after it.
    pub fn roll(&self, start: i64) -> io::Result<Arc<MappedFile>> {
        if self.is_empty() {
            std::fs::create_dir_all(&self.dir)?;
        }
        let path = self.dir.join(file_name(start));
        let file = match &self.allocator {
            Some(a) => a.obtain(path, start, self.file_size)?,
            None => MappedFile::create(&path, start, self.file_size, self.prealloc)?,
        };
        let file = Arc::new(file);
        self.files.write().push(Arc::clone(&file));
        self.request_next(start + self.file_size as i64);
        Ok(file)
    }

    /// Asks the allocator to build the file starting at `start` ahead of need.
    pub fn request_next(&self, start: i64) {
        if let Some(a) = &self.allocator {
            a.request(self.dir.join(file_name(start)), start, self.file_size);
        }
    }

    /// Creates the directory if needed.
    pub fn ensure_dir(&self) -> Result<(), StoreError> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| StoreError::io("create directory", &self.dir, e))
    }

    /// Flushes files in order until the flushed position reaches the written one (stopping at a
    /// file held back by `least_pages`). Returns the flushed offset.
    pub fn flush(&self, least_pages: usize) -> io::Result<i64> {
        let files = self.files();
        for f in &files {
            if f.flushed_pos() >= f.wrote_pos() {
                continue;
            }
            let pos = f.flush(least_pages)?;
            if pos < f.size() {
                return Ok(f.start() + pos as i64);
            }
        }
        Ok(self.flushed_offset())
    }

    /// Cuts the queue back to `offset`: later files are deleted, the file holding it is zeroed
    /// beyond it. Every affected file must be unshared (recovery only).
    pub fn truncate(&mut self, offset: i64) -> Result<(), StoreError> {
        let files = self.files.get_mut();
        while let Some(last) = files.last() {
            if last.start() < offset {
                break;
            }
            if let Some(f) = files.pop() {
                tracing::info!(file = %f.path().display(), "deleting file beyond the recovered end");
                f.delete_file()
                    .map_err(|e| StoreError::io("delete", f.path(), e))?;
            }
        }
        if let Some(last) = files.last_mut() {
            let pos = (offset - last.start()).clamp(0, self.file_size as i64) as usize;
            let path = last.path().to_owned();
            match Arc::get_mut(last) {
                Some(f) => f.truncate(pos),
                None => {
                    return Err(StoreError::Corrupt {
                        path,
                        reason: "cannot truncate a file that is being read".into(),
                    })
                }
            }
        }
        Ok(())
    }

    /// Cuts the queue back to `offset` while readers may hold its files (a replica dropping a
    /// tail its new master does not have): later files are unlinked, and the file holding
    /// `offset` is replaced by a copy of its bytes below it. Readers keep the old files' mappings
    /// alive and unchanged, so no published byte is ever rewritten. The caller keeps appenders
    /// out for the duration.
    pub fn cut_back(&self, offset: i64) -> Result<(), StoreError> {
        let mut files = self.files.write();
        while files.last().is_some_and(|f| f.start() >= offset) {
            if let Some(f) = files.pop() {
                tracing::info!(file = %f.path().display(), "deleting file beyond the cut");
                f.delete_file()
                    .map_err(|e| StoreError::io("delete", f.path(), e))?;
            }
        }
        if let Some(a) = &self.allocator {
            a.discard_after(files.last().map_or(-1, |f| f.start()));
        }
        let Some(last) = files.last_mut() else {
            return Ok(());
        };
        let pos = (offset - last.start()).clamp(0, self.file_size as i64) as usize;
        if pos >= last.wrote_pos() {
            return Ok(());
        }
        let prefix = last.published(0, pos).ok_or_else(|| StoreError::Corrupt {
            path: last.path().to_owned(),
            reason: format!("bytes below {pos} are not readable"),
        })?;
        let fresh = MappedFile::from_prefix(
            last.path(),
            last.start(),
            self.file_size,
            prefix,
            self.prealloc,
        )
        .map_err(|e| StoreError::io("rewrite", last.path(), e))?;
        *last = Arc::new(fresh);
        Ok(())
    }

    /// Deletes files that start at or after `offset` without touching the bytes of the file that
    /// holds it (clean restart: the bytes after the end are known to be zero).
    pub fn truncate_files_after(&mut self, offset: i64) -> Result<(), StoreError> {
        let files = self.files.get_mut();
        while files.last().is_some_and(|f| f.start() >= offset) {
            if let Some(f) = files.pop() {
                tracing::info!(file = %f.path().display(), "deleting file beyond the recovered end");
                f.delete_file()
                    .map_err(|e| StoreError::io("delete", f.path(), e))?;
            }
        }
        Ok(())
    }

    /// Marks every file but the last as completely written and flushed, and the last as written
    /// up to `offset` (used after recovery has found the end).
    pub fn set_positions(&mut self, offset: i64) {
        let size = self.file_size;
        for f in self.files.get_mut().iter_mut() {
            let pos = (offset - f.start()).clamp(0, size as i64) as usize;
            if let Some(f) = Arc::get_mut(f) {
                f.set_positions(pos);
            }
        }
    }

    /// Removes the first file from the queue if `pred` accepts it and it is not the last one;
    /// returns it so the caller can delete it from disk outside any lock.
    pub fn pop_first_if(&self, pred: impl Fn(&MappedFile) -> bool) -> Option<Arc<MappedFile>> {
        let mut files = self.files.write();
        if files.len() > 1 && pred(&files[0]) {
            Some(files.remove(0))
        } else {
            None
        }
    }

    /// Removes every file (topic deletion) and returns them.
    pub fn take_all(&self) -> Vec<Arc<MappedFile>> {
        std::mem::take(&mut *self.files.write())
    }
}
