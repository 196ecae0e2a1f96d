//! The set of IndexFiles under `index/`, named by creation time (`yyyyMMddHHmmssSSS`, local
//! time), newest last. Building is idempotent by physical offset (a record at or below the last
//! file's end offset is already indexed), so recovery can re-dispatch freely.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::RwLock;

use crate::dispatch_request::DispatchRequest;
use crate::error::StoreError;
use crate::index_file::{key_hash, IndexFile};
use crate::local_time::local_time_name;

pub(crate) struct IndexService {
    dir: PathBuf,
    slot_num: usize,
    index_num: usize,
    files: RwLock<Vec<Arc<IndexFile>>>,
}

/// Keys found through the index, with what a QUERY_MESSAGE response header needs.
#[derive(Debug, Default)]
pub(crate) struct IndexQuery {
    pub phy_offsets: Vec<i64>,
    pub last_update_timestamp: i64,
    pub last_update_phy_offset: i64,
}

impl IndexService {
    pub fn new(dir: PathBuf, slot_num: usize, index_num: usize) -> Self {
        IndexService {
            dir,
            slot_num,
            index_num,
            files: RwLock::new(Vec::new()),
        }
    }

    /// Maps existing files; a file that fails its checks is set aside (renamed `.corrupt`) with
    /// a warning, because the index can always be rebuilt from the CommitLog.
    pub fn load(&mut self) -> Result<(), StoreError> {
        let mut names = Vec::new();
        match std::fs::read_dir(&self.dir) {
            Ok(rd) => {
                for e in rd {
                    let e = e.map_err(|e| StoreError::io("read directory", &self.dir, e))?;
                    let name = e.file_name().to_string_lossy().into_owned();
                    if name.len() == 17 && name.bytes().all(|b| b.is_ascii_digit()) {
                        names.push(name);
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io("read directory", &self.dir, e)),
        }
        names.sort();
        let files = self.files.get_mut();
        for name in names {
            let path = self.dir.join(&name);
            match IndexFile::open(&path, self.slot_num, self.index_num) {
                Ok(f) => files.push(Arc::new(f)),
                Err(e) => {
                    let aside = path.with_extension("corrupt");
                    tracing::warn!(file = %path.display(), error = %e, moved_to = %aside.display(),
                        "index file unusable; setting it aside, keys it held are rebuilt only from what recovery re-dispatches");
                    let _ = std::fs::rename(&path, &aside);
                }
            }
        }
        Ok(())
    }

    /// Adds the request's keys (UNIQ_KEY and each KEYS element) as `topic#key`.
    pub fn build(&self, req: &DispatchRequest<'_>) -> io::Result<()> {
        if req.index_keys().next().is_none() {
            return Ok(());
        }
        let mut file = self.writable_file()?;
        let h = file.header();
        if h.index_count > 1 && req.phy_offset <= h.end_phy_offset {
            return Ok(());
        }
        for key in req.index_keys() {
            let hash = key_hash(req.topic, key);
            if !file.put_key(hash, req.phy_offset, req.store_timestamp) {
                file = self.writable_file()?;
                if !file.put_key(hash, req.phy_offset, req.store_timestamp) {
                    return Err(io::Error::other("new index file refused a key"));
                }
            }
        }
        Ok(())
    }

    fn writable_file(&self) -> io::Result<Arc<IndexFile>> {
        if let Some(f) = self.files.read().last() {
            if !f.is_full() {
                return Ok(Arc::clone(f));
            }
        }
        std::fs::create_dir_all(&self.dir)?;
        let mut files = self.files.write();
        let mut millis = rmq_common::time::now_millis();
        loop {
            let path = self.dir.join(local_time_name(millis));
            if !path.exists() {
                let f = Arc::new(IndexFile::create(&path, self.slot_num, self.index_num)?);
                tracing::info!(file = %path.display(), "created index file");
                if let Some(prev) = files.last() {
                    if let Err(e) = prev.flush() {
                        tracing::warn!(file = %prev.path().display(), error = %e, "flushing full index file failed");
                    }
                }
                files.push(Arc::clone(&f));
                return Ok(f);
            }
            millis += 1;
        }
    }

    /// Offsets of records whose `topic#key` hashes like the key, stored within `[begin, end]`.
    pub fn query(&self, topic: &str, key: &str, max: usize, begin: i64, end: i64) -> IndexQuery {
        let hash = key_hash(topic, key);
        let files = self.files.read().clone();
        let mut q = IndexQuery::default();
        if let Some(last) = files.last() {
            let h = last.header();
            q.last_update_timestamp = h.end_timestamp;
            q.last_update_phy_offset = h.end_phy_offset;
        }
        for f in files.iter().rev() {
            if q.phy_offsets.len() >= max {
                break;
            }
            f.select(hash, max, begin, end, &mut q.phy_offsets);
        }
        q
    }

    /// Removes entries at or beyond `phy_end` (recovery), deleting files left empty.
    pub fn truncate(&self, phy_end: i64) {
        let mut files = self.files.write();
        while let Some(last) = files.last() {
            if !last.truncate(phy_end) {
                break;
            }
            if files.len() == 1 {
                break;
            }
            if let Some(f) = files.pop() {
                delete_index_file(&f);
            }
        }
    }

    /// Deletes files (never the last) whose every key points below the CommitLog's minimum.
    pub fn delete_expired(&self, commit_log_min: i64) -> usize {
        let mut n = 0;
        loop {
            let victim = {
                let mut files = self.files.write();
                if files.len() > 1 && files[0].header().end_phy_offset < commit_log_min {
                    Some(files.remove(0))
                } else {
                    None
                }
            };
            match victim {
                Some(f) => {
                    delete_index_file(&f);
                    n += 1;
                }
                None => return n,
            }
        }
    }

    pub fn flush(&self) -> io::Result<()> {
        let files = self.files.read().clone();
        for f in files.iter().rev().take(2) {
            f.flush()?;
        }
        Ok(())
    }
}

fn delete_index_file(f: &IndexFile) {
    tracing::info!(file = %f.path().display(), "deleting index file");
    if let Err(e) = std::fs::remove_file(f.path()) {
        tracing::warn!(file = %f.path().display(), error = %e, "could not delete index file");
    }
}
