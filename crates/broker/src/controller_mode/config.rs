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
        ] {
            if v == 0 {
                return Err(ConfigError::InvalidValue {
                    key: key.into(),
                    value: v.to_string(),
                    expected: "positive number of milliseconds",
                });
            }
        }
        Ok(())
    }
}
