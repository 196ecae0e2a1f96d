//! [`ControllerConfig`]: a controller's settings under Apache's key names
//! (`controller.properties`, Apache's `ControllerConfig`).
//!
//! The Raft group is listed the way Apache's DLedger controller lists it, and openraft takes it
//! as is: `controllerDLegerPeers=n0-10.0.0.1:9878;n1-10.0.0.2:9878;n2-10.0.0.3:9878` names each
//! member `n<k>` (Raft member id `k`) and its address, `controllerDLegerSelfId=n0` says which
//! one this is. A controller listens on its own address from that list, for its peers and for
//! brokers and `mqadmin` alike (brokers' `controllerAddr` lists the same addresses).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use rmq_common::config::UnappliedKeys;
use rmq_common::config::{self, ConfigError, ConfigFields};
use rmq_common::config_fields;

#[derive(Debug, Clone, PartialEq)]
pub struct ControllerConfig {
    /// `controllerDLegerGroup`: the group's name, shown by `getControllerMetaData`.
    pub group: String,
    /// `controllerDLegerPeers`: `n<k>-host:port` entries separated by `;`.
    pub peers: String,
    /// `controllerDLegerSelfId`: this controller's `n<k>`.
    pub self_id: String,
    /// `controllerStorePath`: the Raft log and snapshots (`~/DLedgerController`).
    pub store_path: String,
    /// `controllerType`: `DLedger` (rmq's Raft group); `jRaft` is refused.
    pub controller_type: String,
    /// `bindAddress`: what to bind the listening port on (`0.0.0.0`).
    pub bind_address: String,
    /// `scanInactiveMasterInterval`: how often the leader looks for groups whose master went
    /// silent, in milliseconds (rmq: 1000; Apache: 5000).
    pub scan_inactive_master_interval: u64,
    /// `electMasterMaxRetryCount` (also `electMaxRetryCount`): tries of one election.
    pub elect_master_max_retry_count: u32,
    /// `enableElectUncleanMaster`: a replica outside the SyncStateSet may become master.
    pub enable_elect_unclean_master: bool,
    /// `notifyBrokerRoleChanged`: tell the group's brokers of a new master at once.
    pub notify_broker_role_changed: bool,
    /// `controllerRaftHeartbeatIntervalMills` (rmq): the Raft leader's heartbeat (200).
    pub raft_heartbeat_interval: u64,
    /// `controllerRaftElectionTimeoutMills` (rmq): a follower that hears no leader this long
    /// (up to twice it) stands for election (1000).
    pub raft_election_timeout: u64,
    /// `logDir` (rmq): where `controller.log` goes.
    pub log_dir: String,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            group: "DefaultControllerGroup".into(),
            peers: String::new(),
            self_id: String::new(),
            store_path: String::new(),
            controller_type: "DLedger".into(),
            bind_address: "0.0.0.0".into(),
            scan_inactive_master_interval: 1_000,
            elect_master_max_retry_count: 3,
            enable_elect_unclean_master: false,
            notify_broker_role_changed: true,
            raft_heartbeat_interval: 200,
            raft_election_timeout: 1_000,
            log_dir: String::new(),
        }
    }
}

config_fields!(ControllerConfig {
    group: "controllerDLegerGroup",
    peers: "controllerDLegerPeers",
    self_id: "controllerDLegerSelfId",
    store_path: "controllerStorePath",
    controller_type: "controllerType",
    bind_address: "bindAddress",
    scan_inactive_master_interval: "scanInactiveMasterInterval",
    elect_master_max_retry_count: "electMasterMaxRetryCount" | "electMaxRetryCount",
    enable_elect_unclean_master: "enableElectUncleanMaster",
    notify_broker_role_changed: "notifyBrokerRoleChanged",
    raft_heartbeat_interval: "controllerRaftHeartbeatIntervalMills",
    raft_election_timeout: "controllerRaftElectionTimeoutMills",
    log_dir: "logDir",
});

/// Apache controller keys that tune Java thread pools, DLedger's files or features rmq does not
/// have: accepted, reported as having no effect.
pub const IGNORED_APACHE_KEYS: &[&str] = &[
    "rocketmqHome",
    "configStorePath",
    "configBlackList",
    "listenPort",
    "mappedFileSize",
    "controllerThreadPoolNums",
    "controllerRequestThreadPoolQueueCapacity",
    "scanNotActiveBrokerInterval",
    "processReadEvent",
    "isProcessReadEvent",
    "metricsExporterType",
    "metricsGrpcExporterTarget",
    "metricsGrpcExporterHeader",
    "metricGrpcExporterTimeOutInMills",
    "metricGrpcExporterIntervalInMills",
    "metricLoggingExporterIntervalInMills",
    "metricsPromExporterPort",
    "metricsPromExporterHost",
    "metricsLabel",
    "metricsInDelta",
];

/// One member of the Raft group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// `n<k>` as written.
    pub name: String,
    pub addr: String,
}

impl ControllerConfig {
    /// Applies `key=value` pairs over the current values and checks the result.
    pub fn apply_pairs(
        &mut self,
        pairs: &[(String, String)],
    ) -> Result<UnappliedKeys, ConfigError> {
        let rest = config::apply(pairs, &mut [self as &mut dyn ConfigFields])?;
        self.validate()?;
        Ok(UnappliedKeys::sort(rest, IGNORED_APACHE_KEYS))
    }

    /// Defaults overlaid with a `.properties` file.
    pub fn from_file(path: &Path) -> Result<(Self, UnappliedKeys), ConfigError> {
        let pairs = config::read_properties_file(path)?;
        let mut cfg = ControllerConfig::default();
        let keys = cfg.apply_pairs(&pairs)?;
        Ok((cfg, keys))
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !self.controller_type.eq_ignore_ascii_case("DLedger") {
            return Err(ConfigError::Invalid {
                key: "controllerType".into(),
                reason: format!(
                    "{:?} is not supported: rmq's controllers form one Raft group listed in \
                     controllerDLegerPeers (controllerType=DLedger)",
                    self.controller_type
                ),
            });
        }
        let peers = self.peer_map()?;
        let me = member_id("controllerDLegerSelfId", &self.self_id)?;
        if !peers.contains_key(&me) {
            return Err(ConfigError::Invalid {
                key: "controllerDLegerSelfId".into(),
                reason: format!(
                    "{} is not one of controllerDLegerPeers ({})",
                    self.self_id, self.peers
                ),
            });
        }
        for (key, v) in [
            (
                "scanInactiveMasterInterval",
                self.scan_inactive_master_interval,
            ),
            (
                "controllerRaftHeartbeatIntervalMills",
                self.raft_heartbeat_interval,
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
        if self.raft_election_timeout <= self.raft_heartbeat_interval {
            return Err(ConfigError::Invalid {
                key: "controllerRaftElectionTimeoutMills".into(),
                reason: format!(
                    "{} ms must be longer than controllerRaftHeartbeatIntervalMills ({} ms)",
                    self.raft_election_timeout, self.raft_heartbeat_interval
                ),
            });
        }
        Ok(())
    }

    /// The Raft members by id.
    pub fn peer_map(&self) -> Result<BTreeMap<u64, Peer>, ConfigError> {
        let bad = |reason: String| ConfigError::Invalid {
            key: "controllerDLegerPeers".into(),
            reason,
        };
        let mut out = BTreeMap::new();
        for entry in self
            .peers
            .split(';')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let (name, addr) = entry
                .split_once('-')
                .ok_or_else(|| bad(format!("{entry:?} is not n<k>-host:port")))?;
            let id = member_id("controllerDLegerPeers", name)?;
            if addr
                .rsplit_once(':')
                .and_then(|(_, p)| p.parse::<u16>().ok())
                .is_none()
            {
                return Err(bad(format!("{entry:?}: {addr:?} is not host:port")));
            }
            let peer = Peer {
                name: name.to_owned(),
                addr: addr.to_owned(),
            };
            if out.insert(id, peer).is_some() {
                return Err(bad(format!("{name} is listed twice")));
            }
        }
        if out.is_empty() {
            return Err(bad("no members: list n0-host:port;n1-host:port;...".into()));
        }
        Ok(out)
    }

    /// This controller's Raft member id.
    pub fn self_member(&self) -> Result<u64, ConfigError> {
        member_id("controllerDLegerSelfId", &self.self_id)
    }

    /// Where the Raft log and snapshots go.
    pub fn store_dir(&self) -> PathBuf {
        if self.store_path.is_empty() {
            PathBuf::from(config::expand_home("~/DLedgerController"))
        } else {
            PathBuf::from(config::expand_home(&self.store_path))
        }
    }

    pub fn scan_interval(&self) -> Duration {
        Duration::from_millis(self.scan_inactive_master_interval)
    }

    /// openraft's settings from the timing keys.
    pub fn raft(&self) -> openraft::Config {
        openraft::Config {
            cluster_name: self.group.clone(),
            heartbeat_interval: self.raft_heartbeat_interval,
            election_timeout_min: self.raft_election_timeout,
            election_timeout_max: self.raft_election_timeout * 2,
            ..Default::default()
        }
    }

    /// The effective settings as `key=value` lines (`mqcontroller -p`).
    pub fn render(&self) -> String {
        config::render_fields(&self.fields())
    }
}

/// `n<k>` (or plain `k`) to `k`.
fn member_id(key: &str, name: &str) -> Result<u64, ConfigError> {
    name.trim()
        .strip_prefix('n')
        .unwrap_or(name.trim())
        .parse()
        .map_err(|_| ConfigError::Invalid {
            key: key.into(),
            reason: format!("{name:?} is not a member name n<k> (n0, n1, ...)"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        config::parse_properties(text)
    }

    #[test]
    fn apache_standalone_config_is_read() {
        let mut c = ControllerConfig::default();
        let keys = c
            .apply_pairs(&pairs(
                "controllerDLegerGroup = group1\ncontrollerDLegerPeers = n0-127.0.0.1:9878;n1-127.0.0.1:9868\n\
                 controllerDLegerSelfId = n1\ncontrollerStorePath = /tmp/c\nelectMaxRetryCount=5\n\
                 mappedFileSize=1024\nnoSuchKey=1\n",
            ))
            .unwrap();
        assert_eq!(keys.ignored, ["mappedFileSize"]);
        assert_eq!(keys.unknown, ["noSuchKey"]);
        assert_eq!(c.self_member().unwrap(), 1);
        assert_eq!(c.peer_map().unwrap()[&0].addr, "127.0.0.1:9878");
        assert_eq!(c.elect_master_max_retry_count, 5);
        assert_eq!(c.store_dir(), PathBuf::from("/tmp/c"));
        assert!(c.render().contains("controllerDLegerSelfId=n1"));
    }

    #[test]
    fn shipped_controller_configs_load() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/conf/controller");
        for i in 0..3 {
            let (c, keys) =
                ControllerConfig::from_file(&dir.join(format!("controller-n{i}.properties")))
                    .unwrap();
            assert!(
                keys.unknown.is_empty() && keys.ignored.is_empty(),
                "{keys:?}"
            );
            assert_eq!(c.self_member().unwrap(), i);
            assert_eq!(c.peer_map().unwrap().len(), 3);
        }
    }

    #[test]
    fn bad_membership_is_refused_by_key() {
        for (text, key) in [
            ("controllerDLegerPeers=n0-127.0.0.1:9878\ncontrollerDLegerSelfId=n1", "controllerDLegerSelfId"),
            ("controllerDLegerPeers=n0:127.0.0.1:9878\ncontrollerDLegerSelfId=n0", "controllerDLegerPeers"),
            ("controllerDLegerPeers=nx-127.0.0.1:9878\ncontrollerDLegerSelfId=n0", "controllerDLegerPeers"),
            ("controllerDLegerPeers=n0-127.0.0.1:9878\ncontrollerDLegerSelfId=n0\ncontrollerType=jRaft", "controllerType"),
            ("controllerDLegerSelfId=n0", "controllerDLegerPeers"),
        ] {
            let err = ControllerConfig::default().apply_pairs(&pairs(text)).unwrap_err();
            assert!(err.to_string().contains(key), "{text}: {err}");
        }
    }
}
