//! The configuration a running broker reads, and the keys an operator may change while it runs
//! (UPDATE_BROKER_CONFIG, `mqadmin updateBrokerConfig`).
//!
//! Processors read the settings at the moment they use them through [`LiveConfig::get`], so a
//! change applies to the next request. Only keys read that way can change at runtime; every
//! other key is built into a running part (the store, thread counts, ports) and is refused by
//! name with "set it in broker.properties and restart", rather than accepted and ignored as
//! Apache does. A change lasts until the broker restarts: like Apache, rmq does not rewrite the
//! operator's `-c` file.

use std::sync::Arc;

use parking_lot::RwLock;
use rmq_common::config::ConfigError;

use crate::config::BrokerStartupConfig;

/// The keys a running broker honours when changed, each read per request.
pub const RUNTIME_KEYS: &[&str] = &[
    "brokerPermission",
    "maxMessageSize",
    "autoCreateTopicEnable",
    "notifyConsumerIdsChangedEnable",
    "useServerSideResetOffset",
    "longPollingEnable",
    "enablePropertyFilter",
    "shortPollingTimeMills",
    "defaultQueryMaxNum",
];

/// Why an update was refused; nothing of it was applied.
#[derive(Debug, thiserror::Error)]
pub enum ConfigUpdateError {
    #[error("no key=value line in the request body")]
    Empty,
    #[error("unknown config key(s): {}", .0.join(", "))]
    Unknown(Vec<String>),
    #[error(
        "{} cannot change while the broker runs; set it in broker.properties and restart \
         (changeable at runtime: {})",
        .0.join(", "),
        RUNTIME_KEYS.join(", ")
    )]
    NotAtRuntime(Vec<String>),
    #[error(
        "brokerPermission={0} is not a permission; use 2 (write), 4 (read) or 6 (read and write)"
    )]
    BadPermission(i32),
    #[error(transparent)]
    Invalid(#[from] ConfigError),
}

/// The current configuration; replaced whole on each update.
pub struct LiveConfig {
    current: RwLock<Arc<BrokerStartupConfig>>,
}

impl LiveConfig {
    pub fn new(config: Arc<BrokerStartupConfig>) -> Self {
        LiveConfig {
            current: RwLock::new(config),
        }
    }

    /// The configuration as of now.
    pub fn get(&self) -> Arc<BrokerStartupConfig> {
        self.current.read().clone()
    }

    /// Controller mode: the role and broker id the controllers gave this broker (a master is
    /// id 0 to the name servers, as in Apache).
    pub fn set_role(&self, role: rmq_store::BrokerRole, broker_id: i64) {
        let mut guard = self.current.write();
        let mut next = BrokerStartupConfig::clone(&guard);
        next.store.broker_role = role;
        next.broker.broker_id = broker_id;
        *guard = Arc::new(next);
    }

    /// Applies `pairs` all or nothing; returns the keys whose value changed.
    pub fn update(&self, pairs: &[(String, String)]) -> Result<Vec<String>, ConfigUpdateError> {
        if pairs.is_empty() {
            return Err(ConfigUpdateError::Empty);
        }
        let mut guard = self.current.write();
        let mut next = BrokerStartupConfig::clone(&guard);
        let unknown = next.apply(pairs)?;
        if !unknown.is_empty() {
            return Err(ConfigUpdateError::Unknown(unknown));
        }
        let before = guard.render();
        let after = next.render();
        let changed: Vec<String> = after
            .lines()
            .zip(before.lines())
            .filter(|(a, b)| a != b)
            .filter_map(|(a, _)| a.split_once('=').map(|(k, _)| k.to_owned()))
            .collect();
        let fixed: Vec<String> = changed
            .iter()
            .filter(|k| !RUNTIME_KEYS.contains(&k.as_str()))
            .cloned()
            .collect();
        if !fixed.is_empty() {
            return Err(ConfigUpdateError::NotAtRuntime(fixed));
        }
        let p = next.broker.broker_permission;
        if !(0..=7).contains(&p) {
            return Err(ConfigUpdateError::BadPermission(p));
        }
        next.validate()?;
        next.store.validate()?;
        *guard = Arc::new(next);
        Ok(changed)
    }
}
