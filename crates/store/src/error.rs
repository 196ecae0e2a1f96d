//! The store's error type and the put status the broker maps to response codes.
//!
//! Two shapes on purpose: [`StoreError`] is for operations that fail (open, recover, admin
//! calls); [`PutMessageStatus`] mirrors Apache's `PutMessageStatus` because a put can be "stored
//! but degraded" (FLUSH_DISK_TIMEOUT) and the broker needs the exact status, not just Ok/Err.

use std::io;
use std::path::PathBuf;

/// Something the store could not do, always naming what and where.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "store directory {dir} is locked by another process (pid {holder}); \
         stop that process or use a different storePathRootDir"
    )]
    Locked { dir: PathBuf, holder: String },
    #[error("invalid store config: {0}")]
    Config(#[from] rmq_common::config::ConfigError),
    #[error("corrupt store file {path}: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("message body of {size} bytes exceeds maxMessageSize {max}")]
    MessageTooLarge { size: usize, max: usize },
    #[error("message properties of {size} bytes exceed the limit of {max}")]
    PropertiesTooLarge { size: usize, max: usize },
    #[error("message is illegal: {0}")]
    IllegalMessage(String),
    #[error(
        "disk of {path} is {:.1}% full (limit {:.1}%): appends are refused until space is freed",
        used_ratio * 100.0, limit * 100.0
    )]
    DiskFull {
        used_ratio: f64,
        limit: f64,
        path: PathBuf,
    },
    #[error("the store is not running ({0})")]
    NotRunning(&'static str),
    #[error("flushing {path} failed: {reason}")]
    FlushFailed { path: PathBuf, reason: String },
    #[error(
        "the disk failed a write ({0}); appends are refused until the broker restarts on a \
         working disk (what was flushed before the failure is kept)"
    )]
    DiskFailed(String),
    #[error(
        "append at offset {offset} does not continue the commit log, which ends at {expected}"
    )]
    OffsetMismatch { offset: i64, expected: i64 },
}

impl StoreError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        StoreError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

/// Outcome of a put, named as Apache's `PutMessageStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutMessageStatus {
    PutOk,
    /// Stored, but not flushed within `syncFlushTimeout` (or the flush failed).
    FlushDiskTimeout,
    FlushSlaveTimeout,
    SlaveNotAvailable,
    /// Not running, a slave, or the disk is full.
    ServiceNotAvailable,
    CreateMappedFileFailed,
    MessageIllegal,
    PropertiesSizeExceeded,
    OsPageCacheBusy,
    UnknownError,
}

impl PutMessageStatus {
    /// Apache's enum constant name.
    pub fn as_str(self) -> &'static str {
        match self {
            PutMessageStatus::PutOk => "PUT_OK",
            PutMessageStatus::FlushDiskTimeout => "FLUSH_DISK_TIMEOUT",
            PutMessageStatus::FlushSlaveTimeout => "FLUSH_SLAVE_TIMEOUT",
            PutMessageStatus::SlaveNotAvailable => "SLAVE_NOT_AVAILABLE",
            PutMessageStatus::ServiceNotAvailable => "SERVICE_NOT_AVAILABLE",
            PutMessageStatus::CreateMappedFileFailed => "CREATE_MAPPED_FILE_FAILED",
            PutMessageStatus::MessageIllegal => "MESSAGE_ILLEGAL",
            PutMessageStatus::PropertiesSizeExceeded => "PROPERTIES_SIZE_EXCEEDED",
            PutMessageStatus::OsPageCacheBusy => "OS_PAGE_CACHE_BUSY",
            PutMessageStatus::UnknownError => "UNKNOWN_ERROR",
        }
    }

    /// Whether the message is in the commit log (possibly not yet durable).
    pub fn is_stored(self) -> bool {
        matches!(
            self,
            PutMessageStatus::PutOk
                | PutMessageStatus::FlushDiskTimeout
                | PutMessageStatus::FlushSlaveTimeout
                | PutMessageStatus::SlaveNotAvailable
        )
    }
}
