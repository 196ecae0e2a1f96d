//! The `checkpoint` file: 4096 bytes of which the first 40 hold five big-endian i64s
//! (`[S] StoreCheckpoint.java`). Values live in atomics and are written with `pwrite` + `fdatasync`
//! by the flush service after the data they describe is flushed, so a crash can only make them
//! older than the truth, never newer.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};

use parking_lot::Mutex;

use crate::error::StoreError;

const FILE_SIZE: u64 = 4096;

pub(crate) struct Checkpoint {
    path: PathBuf,
    file: Mutex<File>,
    pub physic_msg_timestamp: AtomicI64,
    pub logics_msg_timestamp: AtomicI64,
    pub index_msg_timestamp: AtomicI64,
    pub master_flushed_offset: AtomicI64,
    pub confirm_phy_offset: AtomicI64,
}

impl Checkpoint {
    pub fn open(path: &Path) -> Result<Checkpoint, StoreError> {
        let io_err = |op, e| StoreError::io(op, path, e);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| io_err("open", e))?;
        let len = file.metadata().map_err(|e| io_err("stat", e))?.len();
        let mut buf = [0u8; 40];
        if len >= 40 {
            file.read_exact_at(&mut buf, 0)
                .map_err(|e| io_err("read", e))?;
        }
        if len != FILE_SIZE {
            file.set_len(FILE_SIZE).map_err(|e| io_err("resize", e))?;
        }
        let v = |i: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&buf[i * 8..i * 8 + 8]);
            // Negative values can only come from corruption; treat them as "unknown" (0).
            AtomicI64::new(i64::from_be_bytes(a).max(0))
        };
        Ok(Checkpoint {
            path: path.to_owned(),
            file: Mutex::new(file),
            physic_msg_timestamp: v(0),
            logics_msg_timestamp: v(1),
            index_msg_timestamp: v(2),
            master_flushed_offset: v(3),
            confirm_phy_offset: v(4),
        })
    }

    /// The time from which an abnormal recovery must re-scan: min(physic, logics[, index]) - 3 s.
    pub fn min_timestamp(&self, with_index: bool) -> i64 {
        let mut m = self
            .physic_msg_timestamp
            .load(Ordering::Acquire)
            .min(self.logics_msg_timestamp.load(Ordering::Acquire));
        if with_index {
            m = m.min(self.index_msg_timestamp.load(Ordering::Acquire));
        }
        (m - 3000).max(0)
    }

    pub fn flush(&self) -> Result<(), StoreError> {
        let mut buf = [0u8; 40];
        for (i, v) in [
            &self.physic_msg_timestamp,
            &self.logics_msg_timestamp,
            &self.index_msg_timestamp,
            &self.master_flushed_offset,
            &self.confirm_phy_offset,
        ]
        .iter()
        .enumerate()
        {
            buf[i * 8..i * 8 + 8].copy_from_slice(&v.load(Ordering::Acquire).to_be_bytes());
        }
        let file = self.file.lock();
        file.write_all_at(&buf, 0)
            .and_then(|_| file.sync_data())
            .map_err(|e| StoreError::io("write checkpoint", &self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("checkpoint");
        let c = Checkpoint::open(&p).unwrap();
        c.physic_msg_timestamp.store(10_000, Ordering::Release);
        c.logics_msg_timestamp.store(8_000, Ordering::Release);
        c.index_msg_timestamp.store(4_000, Ordering::Release);
        c.confirm_phy_offset.store(77, Ordering::Release);
        c.flush().unwrap();
        drop(c);
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 4096);
        let c = Checkpoint::open(&p).unwrap();
        assert_eq!(c.min_timestamp(false), 5_000);
        assert_eq!(c.min_timestamp(true), 1_000);
        assert_eq!(c.confirm_phy_offset.load(Ordering::Acquire), 77);
    }
}
