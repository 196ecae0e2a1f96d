//! [`RouteTable`]: the name server's broker registry and topic routes, as pure state.
//!
//! This is Apache's `RouteInfoManager` without its lock, its channels and its clock: every method
//! takes `now` in milliseconds and a broker's connection is only an id. That keeps the rules of
//! protocol.md section 7 (who may create queue data, address conflicts, what an unregistration
//! removes, when a broker expires) testable in plain unit tests, and lets the server decide how the
//! state is shared (one `RwLock`, see `state.rs`).
//!
//! Maps are ordered (`BTreeMap`) where their order reaches the wire (queue data by broker name,
//! brokers by name, clusters by name) so answers are deterministic; the per-topic table and the
//! liveness table are hash maps because only lookups touch them.

mod query;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rmq_common::perm;
use rmq_common::TopicConfig;
use rmq_remoting::body::{BrokerData, DataVersion, QueueData, TopicConfigSerializeWrapper};
use rmq_remoting::ConnectionId;

/// Broker id of a master.
pub const MASTER_ID: i64 = 0;

/// How long a broker may stay silent before it is expired, unless its registration says otherwise
/// (`DEFAULT_BROKER_CHANNEL_EXPIRED_TIME`).
pub const DEFAULT_HEARTBEAT_TIMEOUT_MILLIS: i64 = 120_000;

/// A broker address within its cluster: the key of the liveness table (`BrokerAddrInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BrokerAddrKey {
    pub cluster: String,
    pub addr: String,
}

impl BrokerAddrKey {
    pub fn new(cluster: impl Into<String>, addr: impl Into<String>) -> Self {
        BrokerAddrKey {
            cluster: cluster.into(),
            addr: addr.into(),
        }
    }
}

/// What the name server remembers about a live broker address (`BrokerLiveInfo`).
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerLiveInfo {
    pub last_update_millis: i64,
    pub heartbeat_timeout_millis: i64,
    pub data_version: DataVersion,
    /// The connection it registered over; closing it unregisters the broker.
    pub connection: Option<ConnectionId>,
    pub ha_server_addr: String,
}

/// One REGISTER_BROKER request, decoded.
#[derive(Debug, Clone, Default)]
pub struct BrokerRegistration {
    pub cluster_name: String,
    pub broker_name: String,
    pub broker_addr: String,
    pub broker_id: i64,
    pub ha_server_addr: String,
    pub zone_name: Option<String>,
    /// `None` for brokers older than 5.x, which do not send the field.
    pub enable_acting_master: Option<bool>,
    pub heartbeat_timeout_millis: Option<i64>,
    pub topic_config: TopicConfigSerializeWrapper,
    pub filter_server_list: Vec<String>,
    pub connection: Option<ConnectionId>,
}

/// The answer to a registration the table accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterResult {
    /// For a slave whose master is registered and alive: the master's address.
    pub master_addr: Option<String>,
    /// ... and the master's HA address.
    pub ha_server_addr: Option<String>,
    /// Whether this registration was the first for its address.
    pub first_for_addr: bool,
    /// Whether anything a route or cluster query returns changed (most re-registrations change
    /// nothing, and encoded routes can then be kept).
    pub routes_changed: bool,
}

/// Why a registration was not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterRejection {
    /// Another address holds this broker id with a higher `stateVersion`; Apache answers SUCCESS
    /// with an empty header and ignores the registration.
    StaleStateVersion { holder_addr: String },
    /// A single-topic registration from a broker id not yet registered (Apache returns null,
    /// answered as SYSTEM_ERROR "register broker failed").
    SingleTopicBeforeFullRegistration,
}

/// One broker address to remove (UNREGISTER_BROKER, connection close, expiry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unregistration {
    pub cluster_name: String,
    pub broker_name: String,
    pub broker_addr: String,
    pub broker_id: i64,
}

/// What an unregistration did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnregisterResult {
    /// The address was known (in the liveness table or the broker's address map).
    pub found: bool,
    /// The broker name lost its last address and was removed with its queue data.
    pub broker_name_removed: bool,
}

/// Broker registry and topic routes (`RouteInfoManager`'s tables).
#[derive(Debug, Default)]
pub struct RouteTable {
    /// topic -> broker name -> queue data.
    topic_queues: HashMap<String, BTreeMap<String, QueueData>>,
    /// broker name -> addresses by id.
    brokers: BTreeMap<String, BrokerData>,
    /// cluster -> broker names.
    clusters: BTreeMap<String, BTreeSet<String>>,
    live: HashMap<BrokerAddrKey, BrokerLiveInfo>,
    filter_servers: HashMap<BrokerAddrKey, Vec<String>>,
    /// `deleteTopicWithBrokerRegistration`: a master's registration removes its topics it no
    /// longer lists.
    delete_topic_with_registration: bool,
}

impl RouteTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `deleteTopicWithBrokerRegistration`.
    pub fn with_delete_topic_with_registration(mut self, on: bool) -> Self {
        self.delete_topic_with_registration = on;
        self
    }

    /// Records a broker registration (`RouteInfoManager.registerBroker`).
    pub fn register(
        &mut self,
        reg: BrokerRegistration,
        now_millis: i64,
    ) -> Result<RegisterResult, RegisterRejection> {
        let key = BrokerAddrKey::new(&reg.cluster_name, &reg.broker_addr);
        let mut routes_changed = self
            .clusters
            .entry(reg.cluster_name.clone())
            .or_default()
            .insert(reg.broker_name.clone());
        let broker_before = self.brokers.get(&reg.broker_name).cloned();

        let mut register_first = false;
        let broker = self
            .brokers
            .entry(reg.broker_name.clone())
            .or_insert_with(|| {
                register_first = true;
                BrokerData {
                    broker_addrs: BTreeMap::new(),
                    broker_name: reg.broker_name.clone(),
                    cluster: reg.cluster_name.clone(),
                    enable_acting_master: false,
                    zone_name: None,
                }
            });
        let old_version_broker = reg.enable_acting_master.is_none();
        broker.enable_acting_master = reg.enable_acting_master.unwrap_or(false);
        broker.zone_name = reg.zone_name.clone();

        // Slave switched to master (or the reverse): one address has one id.
        broker
            .broker_addrs
            .retain(|id, addr| *addr != reg.broker_addr || *id == reg.broker_id);

        if let Some(holder) = broker.broker_addrs.get(&reg.broker_id) {
            if *holder != reg.broker_addr {
                let holder_key = BrokerAddrKey::new(&reg.cluster_name, holder);
                if let Some(info) = self.live.get(&holder_key) {
                    let new_state = reg.topic_config.data_version.state_version;
                    if info.data_version.state_version > new_state {
                        let holder_addr = holder.clone();
                        self.live.remove(&key);
                        return Err(RegisterRejection::StaleStateVersion { holder_addr });
                    }
                }
            }
        }

        if !broker.broker_addrs.contains_key(&reg.broker_id)
            && reg.topic_config.topic_config_table.len() == 1
        {
            return Err(RegisterRejection::SingleTopicBeforeFullRegistration);
        }

        let old_addr = broker
            .broker_addrs
            .insert(reg.broker_id, reg.broker_addr.clone());
        register_first |= old_addr.as_deref().is_none_or(str::is_empty);

        let is_master = reg.broker_id == MASTER_ID;
        let is_prime_slave = !old_version_broker
            && !is_master
            && broker.broker_addrs.keys().next() == Some(&reg.broker_id);
        let acting_master = broker.enable_acting_master;
        routes_changed |= broker_before.as_ref() != Some(&*broker);

        if is_master || is_prime_slave {
            let version_changed =
                self.is_broker_topic_config_changed(&key, &reg.topic_config.data_version);
            if self.delete_topic_with_registration
                && reg.topic_config.topic_queue_mapping_info_map.is_empty()
            {
                routes_changed |=
                    self.remove_topics_not_listed(&reg.broker_name, &reg.topic_config);
            }
            for tc in reg.topic_config.topic_config_table.values() {
                if register_first
                    || version_changed
                    || !self.topic_has_broker(&tc.topic_name, &reg.broker_name)
                {
                    let mut perm = tc.perm;
                    if is_prime_slave && acting_master {
                        perm &= !perm::WRITE;
                    }
                    routes_changed |= self.create_and_update_queue_data(&reg.broker_name, tc, perm);
                }
            }
        }

        let previous = self.live.insert(
            key.clone(),
            BrokerLiveInfo {
                last_update_millis: now_millis,
                heartbeat_timeout_millis: reg
                    .heartbeat_timeout_millis
                    .unwrap_or(DEFAULT_HEARTBEAT_TIMEOUT_MILLIS),
                data_version: reg.topic_config.data_version,
                connection: reg.connection,
                ha_server_addr: reg.ha_server_addr.clone(),
            },
        );
        let filter_servers_before = if reg.filter_server_list.is_empty() {
            self.filter_servers.remove(&key)
        } else {
            self.filter_servers
                .insert(key.clone(), reg.filter_server_list.clone())
        };
        routes_changed |= filter_servers_before.unwrap_or_default() != reg.filter_server_list;

        let mut result = RegisterResult {
            first_for_addr: previous.is_none(),
            routes_changed,
            ..Default::default()
        };
        if !is_master {
            let master = self
                .brokers
                .get(&reg.broker_name)
                .and_then(|b| b.broker_addrs.get(&MASTER_ID));
            if let Some(master_addr) = master {
                let master_key = BrokerAddrKey::new(&reg.cluster_name, master_addr);
                if let Some(info) = self.live.get(&master_key) {
                    result.master_addr = Some(master_addr.clone());
                    result.ha_server_addr = Some(info.ha_server_addr.clone());
                }
            }
        }
        Ok(result)
    }

    /// Whether `version` differs from what the address last registered with (or it never did).
    pub fn is_broker_topic_config_changed(
        &self,
        key: &BrokerAddrKey,
        version: &DataVersion,
    ) -> bool {
        self.live
            .get(key)
            .is_none_or(|info| info.data_version != *version)
    }

    /// The data version an address last registered with.
    pub fn broker_data_version(&self, key: &BrokerAddrKey) -> Option<DataVersion> {
        self.live.get(key).map(|info| info.data_version)
    }

    fn topic_has_broker(&self, topic: &str, broker_name: &str) -> bool {
        self.topic_queues
            .get(topic)
            .is_some_and(|m| m.contains_key(broker_name))
    }

    /// Returns whether the queue data changed.
    fn create_and_update_queue_data(
        &mut self,
        broker_name: &str,
        tc: &TopicConfig,
        perm: i32,
    ) -> bool {
        let qd = QueueData {
            broker_name: broker_name.to_owned(),
            perm,
            read_queue_nums: tc.read_queue_nums,
            topic_sys_flag: tc.topic_sys_flag,
            write_queue_nums: tc.write_queue_nums,
        };
        let queues = self.topic_queues.entry(tc.topic_name.clone()).or_default();
        if queues.get(broker_name) == Some(&qd) {
            return false;
        }
        queues.insert(broker_name.to_owned(), qd);
        true
    }

    fn remove_topics_not_listed(
        &mut self,
        broker_name: &str,
        wrapper: &TopicConfigSerializeWrapper,
    ) -> bool {
        let mut changed = false;
        self.topic_queues.retain(|topic, queues| {
            if !wrapper.topic_config_table.contains_key(topic) {
                changed |= queues.remove(broker_name).is_some();
            }
            !queues.is_empty()
        });
        changed
    }

    /// Refreshes an address's liveness (QUERY_DATA_VERSION, BROKER_HEARTBEAT). Returns whether
    /// the address is registered.
    pub fn refresh(&mut self, key: &BrokerAddrKey, now_millis: i64) -> bool {
        match self.live.get_mut(key) {
            Some(info) => {
                info.last_update_millis = now_millis;
                true
            }
            None => false,
        }
    }

    /// Overrides an address's heartbeat timeout (BROKER_HEARTBEAT may carry one).
    pub fn set_heartbeat_timeout(&mut self, key: &BrokerAddrKey, timeout_millis: i64) {
        if let Some(info) = self.live.get_mut(key) {
            info.heartbeat_timeout_millis = timeout_millis;
        }
    }

    pub fn live_info(&self, key: &BrokerAddrKey) -> Option<&BrokerLiveInfo> {
        self.live.get(key)
    }

    /// Removes one broker address (`RouteInfoManager.unRegisterBroker` plus
    /// `cleanTopicByUnRegisterRequests` for that address).
    pub fn unregister(&mut self, req: &Unregistration) -> UnregisterResult {
        let key = BrokerAddrKey::new(&req.cluster_name, &req.broker_addr);
        let mut result = UnregisterResult {
            found: self.live.remove(&key).is_some(),
            broker_name_removed: false,
        };
        self.filter_servers.remove(&key);

        let mut reduced = false;
        if let Some(broker) = self.brokers.get_mut(&req.broker_name) {
            let before = broker.broker_addrs.len();
            broker
                .broker_addrs
                .retain(|_, addr| *addr != req.broker_addr);
            result.found |= broker.broker_addrs.len() != before;
            if broker.broker_addrs.is_empty() {
                self.brokers.remove(&req.broker_name);
                result.broker_name_removed = true;
            } else {
                reduced = true;
            }
        }

        if result.broker_name_removed {
            if let Some(names) = self.clusters.get_mut(&req.cluster_name) {
                names.remove(&req.broker_name);
                if names.is_empty() {
                    self.clusters.remove(&req.cluster_name);
                }
            }
            self.topic_queues.retain(|_, queues| {
                queues.remove(&req.broker_name);
                !queues.is_empty()
            });
        } else if reduced {
            // A broker left without a master in acting-master mode is read-only.
            let masterless_acting = self.brokers.get(&req.broker_name).is_some_and(|b| {
                b.enable_acting_master && !b.broker_addrs.contains_key(&MASTER_ID)
            });
            if masterless_acting {
                for queues in self.topic_queues.values_mut() {
                    if let Some(qd) = queues.get_mut(&req.broker_name) {
                        qd.perm &= !perm::WRITE;
                    }
                }
            }
        }
        result
    }

    /// The registration an address belongs to, for unregistering it when its connection closes
    /// or it expires (`onChannelDestroy`): broker name and id are looked up by address.
    pub fn unregistration_for(&self, key: &BrokerAddrKey) -> Option<Unregistration> {
        let names = self.clusters.get(&key.cluster)?;
        names
            .iter()
            .find_map(|name| {
                let broker = self.brokers.get(name)?;
                broker
                    .broker_addrs
                    .iter()
                    .find(|(_, addr)| **addr == key.addr)
                    .map(|(id, _)| Unregistration {
                        cluster_name: key.cluster.clone(),
                        broker_name: name.clone(),
                        broker_addr: key.addr.clone(),
                        broker_id: *id,
                    })
            })
            .or_else(|| {
                // Known only to the liveness table (e.g. after a stale-version rejection).
                self.live.contains_key(key).then(|| Unregistration {
                    cluster_name: key.cluster.clone(),
                    broker_name: String::new(),
                    broker_addr: key.addr.clone(),
                    broker_id: -1,
                })
            })
    }

    /// The address that registered over `connection`, if any.
    pub fn addr_for_connection(&self, connection: ConnectionId) -> Option<BrokerAddrKey> {
        self.live
            .iter()
            .find(|(_, info)| info.connection == Some(connection))
            .map(|(key, _)| key.clone())
    }

    /// Addresses silent for longer than their heartbeat timeout at `now_millis`.
    pub fn expired(&self, now_millis: i64) -> Vec<(BrokerAddrKey, BrokerLiveInfo)> {
        let mut out: Vec<_> = self
            .live
            .iter()
            .filter(|(_, info)| {
                info.last_update_millis
                    .saturating_add(info.heartbeat_timeout_millis)
                    < now_millis
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Number of registered broker addresses.
    pub fn live_count(&self) -> usize {
        self.live.len()
    }
}
