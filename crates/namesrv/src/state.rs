//! [`NamesrvState`]: what the processors, the connection listener and the expiry scan share.
//!
//! The route table sits behind one `parking_lot::RwLock`: route queries are reads that share it,
//! while writes (a registration every 30 s per broker, departures, admin edits) are rare and short.
//! No guard is ever held across an `.await`. Every write that can change a route is followed by a
//! route-cache invalidation (see `route_cache.rs` for why that order is enough).

use std::collections::HashMap;
use std::net::SocketAddr;

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use rmq_remoting::body::JsonBody;
use rmq_remoting::{ConnectionHandle, ConnectionId, ConnectionListener};
use tracing::{info, warn};

use crate::kv_config::KvConfigStore;
use crate::route_cache::{JsonForm, RouteCache};
use crate::route_table::{BrokerAddrKey, RouteTable, Unregistration};
use crate::NamesrvConfig;

/// The KV namespace holding order-topic configs (`NamesrvUtil.NAMESPACE_ORDER_TOPIC_CONFIG`).
pub const NAMESPACE_ORDER_TOPIC_CONFIG: &str = "ORDER_TOPIC_CONFIG";

/// Why a broker address is being removed, for the log.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RemovalCause {
    ConnectionClosed,
    Expired,
}

pub(crate) struct NamesrvState {
    pub config: NamesrvConfig,
    pub routes: RwLock<RouteTable>,
    pub route_cache: RouteCache,
    pub kv: KvConfigStore,
    pub metrics: crate::metrics::NamesrvMetrics,
    /// Connections brokers registered over, so an expired broker's connection can be closed.
    broker_connections: Mutex<HashMap<ConnectionId, ConnectionHandle>>,
}

impl NamesrvState {
    pub fn new(config: NamesrvConfig, kv: KvConfigStore) -> Self {
        let routes = RouteTable::new()
            .with_delete_topic_with_registration(config.delete_topic_with_broker_registration);
        NamesrvState {
            config,
            routes: RwLock::new(routes),
            route_cache: RouteCache::default(),
            kv,
            metrics: Default::default(),
            broker_connections: Mutex::new(HashMap::new()),
        }
    }

    /// Applies a change to the route table and invalidates encoded routes.
    pub fn change_routes<R>(&self, change: impl FnOnce(&mut RouteTable) -> R) -> R {
        let result = change(&mut self.routes.write());
        self.route_cache.invalidate();
        result
    }

    /// The encoded route of `topic` in `form`, from the cache or freshly encoded; `None` if the
    /// topic has no route.
    pub fn encoded_route(&self, topic: &str, form: JsonForm) -> Option<Bytes> {
        if let Some(bytes) = self.route_cache.get(topic, form) {
            return Some(bytes);
        }
        let generation = self.route_cache.generation();
        let mut route = self.routes.read().route(topic)?;
        if self.config.order_message_enable {
            route.order_topic_conf = self.kv.get(NAMESPACE_ORDER_TOPIC_CONFIG, topic);
        }
        let bytes = match form {
            JsonForm::Standard => route.to_json_bytes(),
            JsonForm::Fastjson => route.to_fastjson_bytes(),
        };
        self.route_cache
            .insert(generation, topic, form, bytes.clone());
        Some(bytes)
    }

    /// Remembers the connection a broker registered over.
    pub fn track_broker_connection(&self, connection: &ConnectionHandle) {
        self.broker_connections
            .lock()
            .insert(connection.id(), connection.clone());
        // Closed before we tracked it: the close event has already passed us by.
        if connection.is_closed() {
            self.on_connection_closed(connection.id());
        }
    }

    /// Unregisters whatever broker address registered over `connection`.
    pub fn on_connection_closed(&self, connection: ConnectionId) {
        self.broker_connections.lock().remove(&connection);
        let Some(key) = self.routes.read().addr_for_connection(connection) else {
            return;
        };
        self.remove_broker_addr(&key, RemovalCause::ConnectionClosed, |t| {
            t.addr_for_connection(connection).as_ref() == Some(&key)
        });
    }

    /// Expires broker addresses silent past their heartbeat timeout (`scanNotActiveBroker`).
    /// Returns how many were removed.
    pub fn expire_silent_brokers(&self, now_millis: i64) -> usize {
        let expired = self.routes.read().expired(now_millis);
        let mut removed = 0;
        for (key, info) in expired {
            let still_expired = |t: &RouteTable| {
                t.live_info(&key).is_some_and(|i| {
                    i.last_update_millis
                        .saturating_add(i.heartbeat_timeout_millis)
                        < now_millis
                })
            };
            if self.remove_broker_addr(&key, RemovalCause::Expired, still_expired) {
                removed += 1;
                if let Some(conn) = info.connection {
                    let handle = self.broker_connections.lock().remove(&conn);
                    if let Some(handle) = handle {
                        handle.close();
                    }
                }
            }
        }
        removed
    }

    /// Unregisters `key` if `still_applies` holds under the write lock (the state may have
    /// moved on since the caller looked). Returns whether it was removed.
    fn remove_broker_addr(
        &self,
        key: &BrokerAddrKey,
        cause: RemovalCause,
        still_applies: impl FnOnce(&RouteTable) -> bool,
    ) -> bool {
        let removed = self.change_routes(|t| {
            if !still_applies(t) {
                return None;
            }
            let unreg: Unregistration = t.unregistration_for(key)?;
            let timeout = t.live_info(key).map(|i| i.heartbeat_timeout_millis);
            let result = t.unregister(&unreg);
            Some((unreg, result, timeout))
        });
        let Some((unreg, result, timeout)) = removed else {
            return false;
        };
        match cause {
            RemovalCause::ConnectionClosed => warn!(
                cluster = %unreg.cluster_name,
                broker = %unreg.broker_name,
                broker_id = unreg.broker_id,
                addr = %unreg.broker_addr,
                broker_name_removed = result.broker_name_removed,
                "broker connection closed, broker address unregistered"
            ),
            RemovalCause::Expired => warn!(
                cluster = %unreg.cluster_name,
                broker = %unreg.broker_name,
                broker_id = unreg.broker_id,
                addr = %unreg.broker_addr,
                heartbeat_timeout_ms = timeout.unwrap_or_default(),
                broker_name_removed = result.broker_name_removed,
                "broker expired: no heartbeat within its timeout, broker address unregistered"
            ),
        }
        true
    }

    /// Removes a broker address as UNREGISTER_BROKER asks.
    pub fn unregister(&self, unreg: &Unregistration) {
        let result = self.change_routes(|t| t.unregister(unreg));
        info!(
            cluster = %unreg.cluster_name,
            broker = %unreg.broker_name,
            broker_id = unreg.broker_id,
            addr = %unreg.broker_addr,
            found = result.found,
            broker_name_removed = result.broker_name_removed,
            "broker unregistered"
        );
    }
}

/// Drops a broker the moment its connection closes (`BrokerHousekeepingService`).
pub(crate) struct BrokerHousekeeping(pub std::sync::Arc<NamesrvState>);

impl ConnectionListener for BrokerHousekeeping {
    fn on_closed(&self, id: ConnectionId, _peer: SocketAddr) {
        self.0.on_connection_closed(id);
    }
}
