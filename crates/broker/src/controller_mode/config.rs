//! The broker's controller-mode keys (Apache's `BrokerConfig` names): whether the broker's
//! role and id come from controllers, where they are, and how often it talks to them.

use rmq_common::config::ConfigError;
use rmq_common::config_fields;

#[derive(Debug, Clone, PartialEq)]
pub struct ControllerModeConfig {
    /// `enableControllerMode`: role and broker id come from the controllers (`brokerRole`
    /// and `brokerId` are then ignored).
    pub enable_controller_mode: bool,
    /// `controllerAddr`: the controllers, `host:port;host:port`.
    pub controller_addr: String,
    /// `controllerHeartBeatTimeoutMills`: how long this broker may be silent before the
    /// controllers hold it dead, sent in every heartbeat (rmq: 3000; Apache: 10000).
    pub controller_heart_beat_timeout_mills: u64,
    /// `brokerHeartbeatInterval`: heartbeats to every controller (1000).
    pub broker_heartbeat_interval: u64,
    /// `syncBrokerMetadataPeriod`: how often the broker asks the leader for its group's
    /// master (5000); a new master is also told at once.
    pub sync_broker_metadata_period: u64,
    /// `brokerElectionPriority`: among equally caught-up replicas, the smaller is elected.
    pub broker_election_priority: i32,
    /// `allAckInSyncStateSet`: a send is acknowledged once every member of the SyncStateSet
    /// has it (false: `inSyncReplicas` members, the master included).
    pub all_ack_in_sync_state_set: bool,
    /// `inSyncReplicas`: how many replicas, the master included, must have a send before it
    /// is acknowledged when `allAckInSyncStateSet` is false (1: the master alone).
    pub in_sync_replicas: usize,
    /// `minInSyncReplicas`: with fewer members in the SyncStateSet, sends that wait for
    /// replicas are refused unstored (SYSTEM_ERROR, "in-sync replicas not enough").
    pub min_in_sync_replicas: usize,
    /// `haMaxTimeSlaveNotCatchup`: a slave that has not caught up with the master for this
    /// long (ms) is shrunk out of the SyncStateSet (Apache: 15000).
    pub ha_max_time_slave_not_catchup: u64,
}

impl Default for ControllerModeConfig {
    fn default() -> Self {
        ControllerModeConfig {
            enable_controller_mode: false,
            controller_addr: String::new(),
            controller_heart_beat_timeout_mills: 3_000,
            broker_heartbeat_interval: 1_000,
            sync_broker_metadata_period: 5_000,
            broker_election_priority: i32::MAX,
            all_ack_in_sync_state_set: false,
            in_sync_replicas: 1,
            min_in_sync_replicas: 1,
            ha_max_time_slave_not_catchup: 15_000,
        }
    }
}

config_fields!(ControllerModeConfig {
    enable_controller_mode: "enableControllerMode",
    controller_addr: "controllerAddr",
    controller_heart_beat_timeout_mills: "controllerHeartBeatTimeoutMills",
    broker_heartbeat_interval: "brokerHeartbeatInterval",
    sync_broker_metadata_period: "syncBrokerMetadataPeriod",
    broker_election_priority: "brokerElectionPriority",
    all_ack_in_sync_state_set: "allAckInSyncStateSet",
    in_sync_replicas: "inSyncReplicas",
    min_in_sync_replicas: "minInSyncReplicas",
    ha_max_time_slave_not_catchup: "haMaxTimeSlaveNotCatchup",
});

impl ControllerModeConfig {
    /// The controllers' addresses.
    pub fn controllers(&self) -> Vec<String> {
        self.controller_addr
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.enable_controller_mode {
            return Ok(());
        }
        let addrs = self.controllers();
        let bad = addrs.iter().any(|a| {
            a.rsplit_once(':')
                .and_then(|(_, p)| p.parse::<u16>().ok())
                .is_none()
        });
        if addrs.is_empty() || bad {
            return Err(ConfigError::InvalidValue {
                key: "controllerAddr".into(),
                value: self.controller_addr.clone(),
                expected: "semicolon-separated list of the controllers' host:port (enableControllerMode=true needs it)",
            });
        }
        for (key, v) in [
            (
                "controllerHeartBeatTimeoutMills",
                self.controller_heart_beat_timeout_mills,
            ),
            ("brokerHeartbeatInterval", self.broker_heartbeat_interval),
            ("syncBrokerMetadataPeriod", self.sync_broker_metadata_period),
            (
                "haMaxTimeSlaveNotCatchup",
                self.ha_max_time_slave_not_catchup,
            ),
        ] {
            if v == 0 {
                return Err(ConfigError::InvalidValue {
                    key: key.into(),
                    value: v.to_string(),
                    expected: "positive number of milliseconds",
                });
            }
        }
        if self.in_sync_replicas == 0 || self.min_in_sync_replicas == 0 {
            return Err(ConfigError::InvalidValue {
                key: if self.in_sync_replicas == 0 {
                    "inSyncReplicas"
                } else {
                    "minInSyncReplicas"
                }
                .into(),
                value: "0".into(),
                expected: "at least 1 (the master counts itself)",
            });
        }
        Ok(())
    }
}
