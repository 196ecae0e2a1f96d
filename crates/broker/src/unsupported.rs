//! Keys rmq accepts from a RocketMQ `broker.properties` but does not act on yet.
//!
//! An operator's existing file must load unchanged, so these keys parse like any other; but a
//! setting that silently does nothing is a lie (an operator who writes `slaveReadEnable=true`
//! believes consumers read from slaves). So every such key that is set away from its default is
//! named in a warning at start, "accepted but not supported yet"; a key whose absence would be
//! a security hole would be logged as an error. Every other key of [`crate::config`] and of
//! `rmq_store::config` is honoured; a key added there must either be read or be listed here.

use rmq_common::config::ConfigFields;

use crate::config::{BrokerConfig, BrokerStartupConfig};

/// How loudly to report a setting that has no effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Tuning that rmq does differently; the broker works as documented without it.
    Warn,
    /// A setting whose absence weakens what the operator believes (security).
    Error,
}

/// One key set away from its default that rmq does not act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedSetting {
    pub key: &'static str,
    pub value: String,
    /// Why it has no effect, or what rmq does instead.
    pub note: &'static str,
    pub severity: Severity,
}

impl std::fmt::Display for UnsupportedSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}={} is accepted but not supported yet: {}",
            self.key, self.value, self.note
        )
    }
}

/// The broker keys rmq parses but does not act on, with what rmq does instead.
const NOT_SUPPORTED: &[(&str, Severity, &str)] = &[
    (
        "sendMessageThreadPoolNums",
        Severity::Warn,
        "requests run on the async runtime, not on per-family thread pools",
    ),
    (
        "pullMessageThreadPoolNums",
        Severity::Warn,
        "requests run on the async runtime, not on per-family thread pools",
    ),
    (
        "queryMessageThreadPoolNums",
        Severity::Warn,
        "requests run on the async runtime, not on per-family thread pools",
    ),
    (
        "adminBrokerThreadPoolNums",
        Severity::Warn,
        "requests run on the async runtime, not on per-family thread pools",
    ),
    (
        "clientManageThreadPoolNums",
        Severity::Warn,
        "requests run on the async runtime, not on per-family thread pools",
    ),
    (
        "consumerManageThreadPoolNums",
        Severity::Warn,
        "requests run on the async runtime, not on per-family thread pools",
    ),
    (
        "heartbeatThreadPoolNums",
        Severity::Warn,
        "requests run on the async runtime, not on per-family thread pools",
    ),
    (
        "endTransactionThreadPoolNums",
        Severity::Warn,
        "requests run on the async runtime, not on per-family thread pools",
    ),
    (
        "serverWorkerThreads",
        Severity::Warn,
        "connections are served by the async runtime's workers",
    ),
    (
        "pullThreadPoolQueueCapacity",
        Severity::Warn,
        "held pulls are bounded by a fixed limit of 16384; other pulls are never queued",
    ),
    (
        "transferMsgByHeap",
        Severity::Warn,
        "pull answers are always built from the mapped CommitLog",
    ),
    (
        "forceRegister",
        Severity::Warn,
        "every registration carries every topic",
    ),
    (
        "slaveReadEnable",
        Severity::Warn,
        "pull answers never suggest reading from a slave",
    ),
    (
        "brokerFastFailureEnable",
        Severity::Warn,
        "sends beyond sendThreadPoolQueueCapacity are answered SYSTEM_BUSY at once",
    ),
    (
        "waitTimeMillsInSendQueue",
        Severity::Warn,
        "sends are never queued, so they never expire in a queue",
    ),
    (
        "waitTimeMillsInPullQueue",
        Severity::Warn,
        "pulls are never queued, so they never expire in a queue",
    ),
    (
        "enableSlaveActingMaster",
        Severity::Warn,
        "passed to the name servers, but a slave does not take over its master's delayed and \
         transactional work",
    ),
    (
        "authenticationProvider",
        Severity::Error,
        "only the built-in ACL 2.0 authentication (users and passwords of this broker) exists",
    ),
    (
        "authorizationProvider",
        Severity::Error,
        "only the built-in ACL 2.0 authorization (ACLs of this broker) exists",
    ),
    (
        "authenticationMetadataProvider",
        Severity::Warn,
        "users are kept in <storePathRootDir>/config/users.json",
    ),
    (
        "authorizationMetadataProvider",
        Severity::Warn,
        "ACLs are kept in <storePathRootDir>/config/acls.json",
    ),
    (
        "migrateAuthFromV1Enabled",
        Severity::Warn,
        "plain_acl.yml accounts are not copied into ACL 2.0 users; create them with mqadmin \
         createUser/createAcl",
    ),
    (
        "accessMessageInMemoryMaxRatio",
        Severity::Warn,
        "pull limits do not depend on whether the data is in memory",
    ),
];

/// The keys of `cfg` that are set away from their defaults but have no effect in rmq.
pub fn unsupported_settings(cfg: &BrokerStartupConfig) -> Vec<UnsupportedSetting> {
    let defaults = BrokerConfig::default().fields();
    let current = cfg.broker.fields();
    NOT_SUPPORTED
        .iter()
        .filter_map(|&(key, severity, note)| {
            let value = current.iter().find(|(k, _)| *k == key)?.1.clone();
            let default = defaults.iter().find(|(k, _)| *k == key)?.1.as_str();
            (value != default).then_some(UnsupportedSetting {
                key,
                value,
                note,
                severity,
            })
        })
        .collect()
}

/// Logs one line per key of [`unsupported_settings`], naming the key.
pub fn warn_unsupported(cfg: &BrokerStartupConfig) {
    for s in unsupported_settings(cfg) {
        match s.severity {
            Severity::Error => tracing::error!(key = s.key, "{s}"),
            Severity::Warn => tracing::warn!(key = s.key, "{s}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_raise_no_warning() {
        assert_eq!(
            unsupported_settings(&BrokerStartupConfig::default()),
            vec![]
        );
    }

    #[test]
    fn an_unsupported_key_is_named() {
        let mut cfg = BrokerStartupConfig::default();
        cfg.apply(&[("slaveReadEnable".into(), "true".into())])
            .unwrap();
        let found = unsupported_settings(&cfg);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].key, "slaveReadEnable");
        let text = found[0].to_string();
        assert!(
            text.contains("slaveReadEnable=true")
                && text.contains("accepted but not supported yet"),
            "{text}"
        );
    }

    #[test]
    fn every_listed_key_is_a_broker_key() {
        let keys: Vec<&str> = BrokerConfig::default()
            .fields()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        for (key, _, _) in NOT_SUPPORTED {
            assert!(keys.contains(key), "{key} is not a broker key");
        }
    }

    #[test]
    fn honoured_keys_are_not_reported() {
        let mut cfg = BrokerStartupConfig::default();
        cfg.apply(&[
            ("slaveTimeout".into(), "1234".into()),
            ("deleteCommitLogFilesInterval".into(), "50".into()),
            ("slaveReadEnable".into(), "true".into()),
        ])
        .unwrap();
        let keys: Vec<&str> = unsupported_settings(&cfg).iter().map(|s| s.key).collect();
        assert_eq!(keys, vec!["slaveReadEnable"]);
    }
}
