//! Cleanup: deletes expired CommitLog files and the ConsumeQueue/index files that only point
//! into them, and watches disk usage.
//!
//! Policy (Apache's `CleanCommitLogService`): a CommitLog file is deleted when it is older than
//! `fileReservedTime` hours and either the local hour is listed in `deleteWhen` or disk usage is
//! above `diskMaxUsedSpaceRatio`; above `diskSpaceCleanForciblyRatio` even unexpired files go,
//! oldest first. The last file is never deleted, nor one not yet dispatched. Above
//! `diskSpaceWarningLevelRatio` appends are refused with `StoreError::DiskFull` until usage
//! drops. Everything runs on the clean thread, because unlinking a large file costs milliseconds
//! of discards here. Clock and disk probe are injectable so tests can drive the policy.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use parking_lot::Mutex;

use crate::commit_log::CommitLog;
use crate::config::MessageStoreConfig;
use crate::cq_store::ConsumeQueueStore;
use crate::dispatch::Dispatcher;
use crate::error::StoreError;
use crate::index_service::IndexService;

/// Wall clock for cleanup decisions.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> i64;
    /// Local hour of day (0-23), matched against `deleteWhen`.
    fn local_hour(&self) -> u32 {
        crate::local_time::local_hour(self.now_millis())
    }
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        rmq_common::time::now_millis()
    }
}

/// How full the disk holding a path is (0.0 - 1.0).
pub trait DiskUsageProbe: Send + Sync {
    fn used_ratio(&self, path: &Path) -> io::Result<f64>;
}

/// `statvfs`: (blocks - free blocks) / blocks, as Java's `File.getFreeSpace` counts it.
#[derive(Debug, Default, Clone, Copy)]
pub struct StatvfsProbe;

impl DiskUsageProbe for StatvfsProbe {
    fn used_ratio(&self, path: &Path) -> io::Result<f64> {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        // SAFETY: `st` is plain old data; `statvfs` reads the NUL-terminated path and writes `st`,
        // both valid for the call.
        let (rc, st) = unsafe {
            let mut st: libc::statvfs = std::mem::zeroed();
            let rc = libc::statvfs(c.as_ptr(), &mut st);
            (rc, st)
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        let total = st.f_blocks as f64;
        if total <= 0.0 {
            return Ok(0.0);
        }
        Ok((total - st.f_bfree as f64) / total)
    }
}

/// Injectable environment of the cleanup policy.
#[derive(Clone)]
pub struct StoreHooks {
    pub clock: Arc<dyn Clock>,
    pub disk_probe: Arc<dyn DiskUsageProbe>,
}

impl Default for StoreHooks {
    fn default() -> Self {
        StoreHooks {
            clock: Arc::new(SystemClock),
            disk_probe: Arc::new(StatvfsProbe),
        }
    }
}

/// What one cleanup pass did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CleanReport {
    pub disk_used_ratio: f64,
    pub commit_log_files_deleted: usize,
    pub consume_queue_files_deleted: usize,
    pub index_files_deleted: usize,
    pub disk_full: bool,
}

pub(crate) struct Cleaner {
    pub commit_log: Arc<CommitLog>,
    pub cqs: Arc<ConsumeQueueStore>,
    pub index: Option<Arc<IndexService>>,
    pub dispatcher: Arc<Dispatcher>,
    pub hooks: StoreHooks,
    pub reserved_ms: i64,
    pub delete_when: crate::config::DeleteWhen,
    pub max_used_ratio: f64,
    pub forcibly_ratio: f64,
    pub warning_ratio: f64,
    pub probe_path: PathBuf,
    /// `deleteCommitLogFilesInterval`: pause between two CommitLog deletions in one pass, so a
    /// pass that frees many files does not unlink them in one burst of I/O.
    pub delete_files_interval: std::time::Duration,
    disk_full: AtomicBool,
    disk_full_detail: Mutex<f64>,
}

/// At most this many CommitLog files per pass, to bound one pass's discard work.
const MAX_DELETES_PER_PASS: usize = 10;

impl Cleaner {
    pub fn new(
        cfg: &MessageStoreConfig,
        commit_log: Arc<CommitLog>,
        cqs: Arc<ConsumeQueueStore>,
        index: Option<Arc<IndexService>>,
        dispatcher: Arc<Dispatcher>,
        hooks: StoreHooks,
    ) -> Self {
        Cleaner {
            commit_log,
            cqs,
            index,
            dispatcher,
            hooks,
            reserved_ms: (cfg.file_reserved_time as i64).saturating_mul(3_600_000),
            delete_when: cfg.delete_when.clone(),
            max_used_ratio: f64::from(cfg.disk_max_used_space_ratio) / 100.0,
            forcibly_ratio: cfg.disk_space_clean_forcibly_ratio,
            warning_ratio: cfg.disk_space_warning_level_ratio,
            probe_path: cfg.commit_log_dir(),
            delete_files_interval: std::time::Duration::from_millis(
                cfg.delete_commit_log_files_interval,
            ),
            disk_full: AtomicBool::new(false),
            disk_full_detail: Mutex::new(0.0),
        }
    }

    /// `Some(DiskFull)` while appends must be refused.
    pub fn disk_full_error(&self) -> Option<StoreError> {
        if !self.disk_full.load(Ordering::Acquire) {
            return None;
        }
        Some(StoreError::DiskFull {
            used_ratio: *self.disk_full_detail.lock(),
            limit: self.warning_ratio,
            path: self.probe_path.clone(),
        })
    }

    /// The used ratio of the CommitLog's disk, without touching the disk-full flag.
    pub fn disk_used_ratio(&self) -> Option<f64> {
        self.hooks.disk_probe.used_ratio(&self.probe_path).ok()
    }

    /// Probes the disk and updates the disk-full flag; returns the used ratio.
    pub fn check_disk(&self) -> f64 {
        let ratio = match self.hooks.disk_probe.used_ratio(&self.probe_path) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(path = %self.probe_path.display(), error = %e, "cannot read disk usage");
                return 0.0;
            }
        };
        let full = ratio > self.warning_ratio;
        let was = self.disk_full.swap(full, Ordering::AcqRel);
        *self.disk_full_detail.lock() = ratio;
        if full && !was {
            tracing::error!(path = %self.probe_path.display(), used = ratio, limit = self.warning_ratio,
                "disk almost full: refusing appends. Free space or lower fileReservedTime");
        } else if !full && was {
            tracing::info!(path = %self.probe_path.display(), used = ratio, "disk usage back below the limit; accepting appends");
        }
        ratio
    }

    /// One pass of the clean thread: expired CommitLog files at the `deleteWhen` hour or under
    /// disk pressure, then the consume-queue and index files behind the CommitLog.
    pub fn run_once(&self) -> CleanReport {
        self.run(false)
    }

    /// A pass asked for by an operator (DELETE_EXPIRED_COMMITLOG): expired files go now,
    /// whatever the hour, as Apache's `executeDeleteFilesManually`.
    pub fn run_manual(&self) -> CleanReport {
        self.run(true)
    }

    /// Deletes the consume-queue files whose entries all point before the CommitLog's first
    /// offset, and moves each queue's minimum past them; returns how many files went.
    pub fn clean_consume_queues(&self) -> usize {
        self.clean_consume_queues_below(self.commit_log.min_offset())
    }

    fn clean_consume_queues_below(&self, min: i64) -> usize {
        let mut deleted = 0;
        for q in self.cqs.all() {
            while let Some(f) = q.pop_expired_file(min) {
                if let Err(e) = f.delete_file() {
                    tracing::warn!(file = %f.path().display(), error = %e, "could not delete consume queue file");
                }
                deleted += 1;
            }
            q.correct_min_offset(min);
        }
        deleted
    }

    fn run(&self, manual: bool) -> CleanReport {
        let ratio = self.check_disk();
        let mut report = CleanReport {
            disk_used_ratio: ratio,
            disk_full: self.disk_full.load(Ordering::Acquire),
            ..Default::default()
        };
        let now = self.hooks.clock.now_millis();
        let time_hit = manual || self.delete_when.contains(self.hooks.clock.local_hour());
        let pressure = ratio > self.max_used_ratio;
        let forcibly = ratio > self.forcibly_ratio;
        if time_hit || pressure {
            if pressure {
                tracing::warn!(
                    used = ratio,
                    forcibly,
                    "disk usage above diskMaxUsedSpaceRatio; deleting old commit log files now"
                );
            }
            let dispatched = self.dispatcher.reput_offset();
            for _ in 0..MAX_DELETES_PER_PASS {
                let victim = self.commit_log.queue().pop_first_if(|f| {
                    f.end() <= dispatched && (forcibly || expired(f.path(), now, self.reserved_ms))
                });
                let Some(f) = victim else { break };
                if report.commit_log_files_deleted > 0 {
                    std::thread::sleep(self.delete_files_interval);
                }
                tracing::info!(file = %f.path().display(), "deleting expired commit log file");
                if let Err(e) = f.delete_file() {
                    tracing::warn!(file = %f.path().display(), error = %e, "could not delete commit log file");
                }
                report.commit_log_files_deleted += 1;
            }
        }
        let min = self.commit_log.min_offset();
        report.consume_queue_files_deleted = self.clean_consume_queues_below(min);
        if let Some(index) = &self.index {
            report.index_files_deleted = index.delete_expired(min);
        }
        if report.commit_log_files_deleted > 0 && report.disk_full {
            report.disk_full = self.check_disk() > self.warning_ratio;
        }
        report
    }
}

fn expired(path: &Path, now: i64, reserved_ms: i64) -> bool {
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64);
    modified.is_some_and(|m| m.saturating_add(reserved_ms) < now)
}
