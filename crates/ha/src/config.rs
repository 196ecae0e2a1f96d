//! HA settings, named after Apache RocketMQ's `MessageStoreConfig` keys.
//!
//! The broker parses the `.properties` keys into its own config and builds this plain struct;
//! keeping it free of parsing lets tests shorten every interval without touching a file.

use std::time::Duration;

/// Replication settings. [`Default`] gives Apache RocketMQ's values (protocol.md, Appendix A).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaConfig {
    /// `haSendHeartbeatInterval`: the longest a side stays quiet on a healthy connection (the
    /// master sends a header-only heartbeat, the slave repeats its offset report).
    pub send_heartbeat_interval: Duration,
    /// `haHousekeepingInterval`: a side closes the connection after this long without reading
    /// anything from its peer.
    pub housekeeping_interval: Duration,
    /// `haTransferBatchSize`: most CommitLog bytes per transfer frame.
    pub transfer_batch_size: usize,
    /// `haMaxGapNotInSync` (4.x: `haSlaveFallbehindMax`): a SYNC_MASTER answers
    /// SLAVE_NOT_AVAILABLE instead of waiting when the best slave is this many bytes behind.
    pub max_gap_not_in_sync: i64,
    /// How long the slave waits before reconnecting after a failed or closed connection.
    pub reconnect_interval: Duration,
    /// How long the slave waits for a TCP connect to the master.
    pub connect_timeout: Duration,
}

impl Default for HaConfig {
    fn default() -> Self {
        HaConfig {
            send_heartbeat_interval: Duration::from_secs(5),
            housekeeping_interval: Duration::from_secs(20),
            transfer_batch_size: 32 * 1024,
            max_gap_not_in_sync: 256 * 1024 * 1024,
            reconnect_interval: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(3),
        }
    }
}

impl HaConfig {
    /// The batch size actually used: at least one byte, so a zero in a config file cannot stall
    /// replication.
    pub(crate) fn batch_size(&self) -> usize {
        self.transfer_batch_size.max(1)
    }
}
