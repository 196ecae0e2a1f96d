//! `MessageStoreConfig`: the store's keys from a broker's `.properties` file, with RocketMQ's names
//! and defaults (`[S] config/MessageStoreConfig.java`), so an operator's existing file works as is.
//!
//! Derived paths (`storePathCommitLog`, `storePathConsumeQueue`, ...) stay empty unless set and are
//! resolved against `storePathRootDir` by the accessor methods, like Java's getters do.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use rmq_common::config::{ConfigError, ConfigValue};
use rmq_common::delay::DelayLevels;
use rmq_common::{config_enum_value, config_fields};

/// When an append counts as durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlushDiskType {
    /// Flushed in the background; the put returns after the copy into the page cache.
    #[default]
    AsyncFlush,
    /// The put completes only once its bytes are flushed (group commit).
    SyncFlush,
}

impl FromStr for FlushDiskType {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "ASYNC_FLUSH" => Ok(FlushDiskType::AsyncFlush),
            "SYNC_FLUSH" => Ok(FlushDiskType::SyncFlush),
            _ => Err(()),
        }
    }
}

impl fmt::Display for FlushDiskType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FlushDiskType::AsyncFlush => "ASYNC_FLUSH",
            FlushDiskType::SyncFlush => "SYNC_FLUSH",
        })
    }
}
config_enum_value!(FlushDiskType, "flush type (ASYNC_FLUSH or SYNC_FLUSH)");

/// The broker's replication role. The store refuses puts on a SLAVE (data arrives through
/// [`crate::MessageStore::append_to_commit_log`] instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BrokerRole {
    #[default]
    AsyncMaster,
    SyncMaster,
    Slave,
}

impl FromStr for BrokerRole {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "ASYNC_MASTER" => Ok(BrokerRole::AsyncMaster),
            "SYNC_MASTER" => Ok(BrokerRole::SyncMaster),
            "SLAVE" => Ok(BrokerRole::Slave),
            _ => Err(()),
        }
    }
}

impl fmt::Display for BrokerRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BrokerRole::AsyncMaster => "ASYNC_MASTER",
            BrokerRole::SyncMaster => "SYNC_MASTER",
            BrokerRole::Slave => "SLAVE",
        })
    }
}
config_enum_value!(
    BrokerRole,
    "broker role (ASYNC_MASTER, SYNC_MASTER or SLAVE)"
);

/// The hours of the day at which expired files are deleted: `deleteWhen=04` or `04;16`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteWhen(pub Vec<u32>);

impl DeleteWhen {
    pub fn contains(&self, hour: u32) -> bool {
        self.0.contains(&hour)
    }
}

impl ConfigValue for DeleteWhen {
    fn parse_config(key: &str, value: &str) -> Result<Self, ConfigError> {
        let bad = || ConfigError::InvalidValue {
            key: key.to_owned(),
            value: value.to_owned(),
            expected: "list of hours 00-23 separated by ';' (e.g. 04;16)",
        };
        let mut hours = Vec::new();
        for part in value.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let h: u32 = part.parse().map_err(|_| bad())?;
            if h > 23 {
                return Err(bad());
            }
            hours.push(h);
        }
        if hours.is_empty() {
            return Err(bad());
        }
        Ok(DeleteWhen(hours))
    }
    fn to_config(&self) -> String {
        self.0
            .iter()
            .map(|h| format!("{h:02}"))
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// Store configuration. Field names follow the Java keys; see [`config_fields!`] below for the
/// key of each field.
#[derive(Debug, Clone)]
pub struct MessageStoreConfig {
    pub store_path_root_dir: PathBuf,
    pub store_path_commit_log: PathBuf,
    pub store_path_consume_queue: PathBuf,
    pub store_path_index: PathBuf,
    pub store_checkpoint: PathBuf,
    pub abort_file: PathBuf,
    pub mapped_file_size_commit_log: usize,
    pub mapped_file_size_consume_queue: usize,
    pub max_message_size: usize,
    pub flush_disk_type: FlushDiskType,
    pub flush_interval_commit_log: u64,
    pub flush_commit_log_least_pages: usize,
    pub flush_commit_log_thorough_interval: u64,
    pub flush_interval_consume_queue: u64,
    pub flush_consume_queue_least_pages: usize,
    pub flush_consume_queue_thorough_interval: u64,
    pub sync_flush_timeout: u64,
    pub file_reserved_time: u64,
    pub delete_when: DeleteWhen,
    pub disk_max_used_space_ratio: u32,
    pub disk_space_clean_forcibly_ratio: f64,
    pub disk_space_warning_level_ratio: f64,
    pub clean_resource_interval: u64,
    pub delete_commit_log_files_interval: u64,
    pub max_hash_slot_num: usize,
    pub max_index_num: usize,
    pub message_index_enable: bool,
    pub check_crc_on_recover: bool,
    pub max_transfer_bytes_on_message_in_memory: usize,
    pub max_transfer_count_on_message_in_memory: usize,
    pub broker_role: BrokerRole,
    pub message_delay_level: String,
    pub warm_mapped_file_enable: bool,
    pub default_query_max_num: usize,
    pub offset_check_in_slave: bool,
}

impl Default for MessageStoreConfig {
    fn default() -> Self {
        MessageStoreConfig {
            store_path_root_dir: PathBuf::from(rmq_common::config::expand_home("~/store")),
            store_path_commit_log: PathBuf::new(),
            store_path_consume_queue: PathBuf::new(),
            store_path_index: PathBuf::new(),
            store_checkpoint: PathBuf::new(),
            abort_file: PathBuf::new(),
            mapped_file_size_commit_log: 1024 * 1024 * 1024,
            mapped_file_size_consume_queue: 300_000 * crate::consume_queue::CQ_UNIT_SIZE,
            max_message_size: 4 * 1024 * 1024,
            flush_disk_type: FlushDiskType::AsyncFlush,
            flush_interval_commit_log: 500,
            flush_commit_log_least_pages: 4,
            flush_commit_log_thorough_interval: 10_000,
            flush_interval_consume_queue: 1000,
            flush_consume_queue_least_pages: 2,
            flush_consume_queue_thorough_interval: 60_000,
            sync_flush_timeout: 5000,
            file_reserved_time: 72,
            delete_when: DeleteWhen(vec![4]),
            disk_max_used_space_ratio: 75,
            disk_space_clean_forcibly_ratio: 0.85,
            disk_space_warning_level_ratio: 0.90,
            clean_resource_interval: 10_000,
            delete_commit_log_files_interval: 100,
            max_hash_slot_num: 5_000_000,
            max_index_num: 5_000_000 * 4,
            message_index_enable: true,
            check_crc_on_recover: true,
            max_transfer_bytes_on_message_in_memory: 256 * 1024,
            max_transfer_count_on_message_in_memory: 32,
            broker_role: BrokerRole::AsyncMaster,
            message_delay_level: rmq_common::delay::DEFAULT_DELAY_LEVELS.to_owned(),
            warm_mapped_file_enable: true,
            default_query_max_num: 32,
            offset_check_in_slave: false,
        }
    }
}

config_fields!(MessageStoreConfig {
    store_path_root_dir: "storePathRootDir",
    store_path_commit_log: "storePathCommitLog",
    store_path_consume_queue: "storePathConsumeQueue",
    store_path_index: "storePathIndex",
    store_checkpoint: "storeCheckpoint",
    abort_file: "abortFile",
    mapped_file_size_commit_log: "mappedFileSizeCommitLog" | "mapedFileSizeCommitLog",
    mapped_file_size_consume_queue: "mappedFileSizeConsumeQueue" | "mapedFileSizeConsumeQueue",
    max_message_size: "maxMessageSize",
    flush_disk_type: "flushDiskType",
    flush_interval_commit_log: "flushIntervalCommitLog",
    flush_commit_log_least_pages: "flushCommitLogLeastPages",
    flush_commit_log_thorough_interval: "flushCommitLogThoroughInterval",
    flush_interval_consume_queue: "flushIntervalConsumeQueue",
    flush_consume_queue_least_pages: "flushConsumeQueueLeastPages",
    flush_consume_queue_thorough_interval: "flushConsumeQueueThoroughInterval",
    sync_flush_timeout: "syncFlushTimeout",
    file_reserved_time: "fileReservedTime",
    delete_when: "deleteWhen",
    disk_max_used_space_ratio: "diskMaxUsedSpaceRatio",
    disk_space_clean_forcibly_ratio: "diskSpaceCleanForciblyRatio",
    disk_space_warning_level_ratio: "diskSpaceWarningLevelRatio",
    clean_resource_interval: "cleanResourceInterval",
    delete_commit_log_files_interval: "deleteCommitLogFilesInterval",
    max_hash_slot_num: "maxHashSlotNum",
    max_index_num: "maxIndexNum",
    message_index_enable: "messageIndexEnable",
    check_crc_on_recover: "checkCRCOnRecover",
    max_transfer_bytes_on_message_in_memory: "maxTransferBytesOnMessageInMemory",
    max_transfer_count_on_message_in_memory: "maxTransferCountOnMessageInMemory",
    broker_role: "brokerRole",
    message_delay_level: "messageDelayLevel",
    warm_mapped_file_enable: "warmMapedFileEnable" | "warmMappedFileEnable",
    default_query_max_num: "defaultQueryMaxNum",
    offset_check_in_slave: "offsetCheckInSlave",
});

impl MessageStoreConfig {
    /// A config rooted at `root` with every other value at its default.
    pub fn with_root(root: impl Into<PathBuf>) -> Self {
        MessageStoreConfig {
            store_path_root_dir: root.into(),
            ..Default::default()
        }
    }

    fn derived(&self, set: &Path, name: &str) -> PathBuf {
        if set.as_os_str().is_empty() {
            self.store_path_root_dir.join(name)
        } else {
            set.to_owned()
        }
    }

    pub fn commit_log_dir(&self) -> PathBuf {
        self.derived(&self.store_path_commit_log, "commitlog")
    }
    pub fn consume_queue_dir(&self) -> PathBuf {
        self.derived(&self.store_path_consume_queue, "consumequeue")
    }
    pub fn index_dir(&self) -> PathBuf {
        self.derived(&self.store_path_index, "index")
    }
    pub fn checkpoint_path(&self) -> PathBuf {
        self.derived(&self.store_checkpoint, "checkpoint")
    }
    pub fn abort_path(&self) -> PathBuf {
        self.derived(&self.abort_file, "abort")
    }
    pub fn lock_path(&self) -> PathBuf {
        self.store_path_root_dir.join("lock")
    }

    /// The consume-queue file size rounded up to whole 20-byte entries.
    pub fn consume_queue_file_size(&self) -> usize {
        let unit = crate::consume_queue::CQ_UNIT_SIZE;
        self.mapped_file_size_consume_queue.div_ceil(unit).max(1) * unit
    }

    pub fn sync_flush_timeout(&self) -> Duration {
        Duration::from_millis(self.sync_flush_timeout)
    }

    /// Parsed `messageDelayLevel`.
    pub fn delay_levels(&self) -> Result<DelayLevels, ConfigError> {
        DelayLevels::parse(&self.message_delay_level).map_err(|e| ConfigError::Invalid {
            key: "messageDelayLevel".into(),
            reason: e.to_string(),
        })
    }

    /// Checks values that would make the store misbehave, naming the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, reason: String| ConfigError::Invalid {
            key: key.to_owned(),
            reason,
        };
        if self.mapped_file_size_commit_log < 4096 {
            return Err(invalid(
                "mappedFileSizeCommitLog",
                format!(
                    "{} is below the minimum of 4096",
                    self.mapped_file_size_commit_log
                ),
            ));
        }
        if self.mapped_file_size_commit_log > i32::MAX as usize {
            return Err(invalid(
                "mappedFileSizeCommitLog",
                format!("{} exceeds 2 GiB - 1", self.mapped_file_size_commit_log),
            ));
        }
        if self.max_message_size == 0 {
            return Err(invalid("maxMessageSize", "must be positive".into()));
        }
        if self.max_hash_slot_num == 0 || self.max_index_num < 2 {
            return Err(invalid(
                "maxHashSlotNum",
                "maxHashSlotNum must be positive and maxIndexNum at least 2".into(),
            ));
        }
        self.delay_levels()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_common::config::{apply, parse_properties, ConfigFields};

    #[test]
    fn defaults_and_derived_paths() {
        let c = MessageStoreConfig::with_root("/data/store");
        assert_eq!(c.commit_log_dir(), PathBuf::from("/data/store/commitlog"));
        assert_eq!(
            c.consume_queue_dir(),
            PathBuf::from("/data/store/consumequeue")
        );
        assert_eq!(c.mapped_file_size_consume_queue, 6_000_000);
        assert_eq!(c.mapped_file_size_commit_log, 1 << 30);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn reads_java_keys_and_aliases() {
        let mut c = MessageStoreConfig::default();
        let pairs = parse_properties(
            "storePathRootDir=/x\nmapedFileSizeCommitLog=65536\nflushDiskType=SYNC_FLUSH\n\
             brokerRole=SLAVE\ndeleteWhen=04;16\nstorePathCommitLog=/y/cl\nfoo=bar\n",
        );
        let unknown = apply(&pairs, &mut [&mut c]).unwrap();
        assert_eq!(unknown, vec!["foo".to_string()]);
        assert_eq!(c.mapped_file_size_commit_log, 65536);
        assert_eq!(c.flush_disk_type, FlushDiskType::SyncFlush);
        assert_eq!(c.broker_role, BrokerRole::Slave);
        assert_eq!(c.delete_when, DeleteWhen(vec![4, 16]));
        assert_eq!(c.commit_log_dir(), PathBuf::from("/y/cl"));
        assert_eq!(c.index_dir(), PathBuf::from("/x/index"));
        let err = c
            .set_field("flushDiskType", "FAST")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("flushDiskType") && err.contains("FAST"),
            "{err}"
        );
        assert!(c.set_field("deleteWhen", "25").is_err());
    }
}
