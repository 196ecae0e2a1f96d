//! [`ClientInstance`]: what one producer or consumer owns besides its own logic — the remoting
//! client, name server failover, the route cache and its refresh task, heartbeats, and the
//! task tracker that every background task of the client is spawned on.
//!
//! Each `Producer`/`PushConsumer`/`PullConsumer`/`Admin` owns one instance (Java shares one per
//! client id; owning one keeps shutdown simple: cancel the token, wait for the tracker, close
//! the connections). Sync locks here are only held to copy data in or out, never across I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use rmq_common::msg_id::UniqueIdGenerator;
use rmq_common::topic::AUTO_CREATE_TOPIC_KEY;
use rmq_remoting::body::ClusterInfo;
use rmq_remoting::body::{
    ConsumerData, HeartbeatData, JsonBody, ProducerData, TopicRouteData, MASTER_ID,
};
use rmq_remoting::header::{GetRouteInfoRequestHeader, HeartbeatRequestHeader};
use rmq_remoting::{ClientConfig, RemotingClient, RemotingCommand, RequestCode, ResponseCode};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::client_id::{build_client_id, detect_local_ip};
use crate::error::{ClientError, Result};
use crate::options::ClientOptions;
use crate::producer::fault::FaultTolerance;
use crate::route::{same_route, TopicRoute};
use crate::server_requests::ServerRequests;

/// The shared core of one client.
pub(crate) struct ClientInstance {
    pub options: ClientOptions,
    pub client_id: String,
    pub remoting: RemotingClient,
    pub ids: UniqueIdGenerator,
    pub fault: FaultTolerance,
    /// Woken by NOTIFY_CONSUMER_IDS_CHANGED.
    pub rebalance_notify: Arc<Notify>,
    /// What broker-initiated requests reach (transaction checks are installed here).
    pub server_requests: ServerRequests,
    pub cancel: CancellationToken,
    pub tracker: TaskTracker,
    routes: RwLock<HashMap<String, Arc<TopicRoute>>>,
    /// Brokers learned from the name server's cluster info (transaction producers heartbeat
    /// every master, not only those of the topics they sent to).
    cluster_brokers: RwLock<BTreeMap<String, BTreeMap<i64, String>>>,
    namesrv_cursor: AtomicUsize,
    /// When each topic's route was last re-fetched after a failure (rate limit).
    route_refreshed_at: Mutex<HashMap<String, std::time::Instant>>,
    producers: Mutex<Vec<ProducerData>>,
    consumers: Mutex<Vec<ConsumerData>>,
    started: AtomicBool,
}

impl std::fmt::Debug for ClientInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientInstance")
            .field("client_id", &self.client_id)
            .finish()
    }
}

impl ClientInstance {
    pub fn new(options: ClientOptions) -> Result<Arc<Self>> {
        options.validate()?;
        let client_ip = options
            .client_ip
            .unwrap_or_else(|| detect_local_ip(options.name_servers.first().map(String::as_str)));
        let client_id = build_client_id(client_ip, &options.instance_name);
        let rebalance_notify = Arc::new(Notify::new());
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        let server_requests = ServerRequests::new(
            rebalance_notify.clone(),
            tracker.clone(),
            cancel.clone(),
            options.max_inflated_body,
        );
        let handler = {
            let requests = server_requests.clone();
            move |ctx: rmq_remoting::RequestContext, req: RemotingCommand| {
                requests.clone().handle(ctx, req)
            }
        };
        let tls = match options.use_tls {
            true => Some(
                rmq_remoting::ClientTls::trust_any()
                    .map_err(|e| ClientError::Config(e.to_string()))?,
            ),
            false => None,
        };
        let config = ClientConfig {
            credentials: options.credentials.clone(),
            tls,
            ..ClientConfig::default()
        };
        let remoting = RemotingClient::with_request_handler(config, handler);
        Ok(Arc::new(ClientInstance {
            client_id,
            remoting,
            ids: UniqueIdGenerator::new(client_ip),
            fault: FaultTolerance::default(),
            rebalance_notify,
            server_requests,
            cancel,
            tracker,
            routes: RwLock::new(HashMap::new()),
            cluster_brokers: RwLock::new(BTreeMap::new()),
            namesrv_cursor: AtomicUsize::new(0),
            route_refreshed_at: Mutex::new(HashMap::new()),
            producers: Mutex::new(Vec::new()),
            consumers: Mutex::new(Vec::new()),
            started: AtomicBool::new(false),
            options,
        }))
    }

    pub fn check_running(&self) -> Result<()> {
        if self.cancel.is_cancelled() {
            Err(ClientError::ShutDown)
        } else {
            Ok(())
        }
    }

    pub fn register_producer(&self, group: &str) {
        self.producers.lock().push(ProducerData {
            group_name: group.to_owned(),
        });
    }

    pub fn register_consumer(&self, data: ConsumerData) {
        self.consumers.lock().push(data);
    }

    /// Starts the route refresh and heartbeat tasks (once).
    pub fn start(self: &Arc<Self>) {
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let me = self.clone();
        self.spawn_periodic(self.options.route_poll_interval, move || {
            let me = me.clone();
            async move { me.refresh_routes().await }
        });
        let me = self.clone();
        self.spawn_periodic(self.options.heartbeat_interval, move || {
            let me = me.clone();
            async move { me.heartbeat_all().await }
        });
    }

    /// Cancels every task, waits for them and closes the connections.
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
        self.remoting.shutdown().await;
    }

    /// Spawns `f` on the client's tracker; it is dropped at its next await once the client
    /// shuts down.
    pub fn spawn<F>(&self, f: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let cancel = self.cancel.clone();
        self.tracker.spawn(async move {
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = f => {}
            }
        });
    }

    /// Runs `tick` every `period` (first after one period) until shutdown.
    pub fn spawn_periodic<F, Fut>(&self, period: Duration, tick: F)
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.spawn(async move {
            let mut interval =
                tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                tick().await;
            }
        });
    }

    // ---- RPC ----

    /// Sends a request to a broker and waits for its response (any code).
    pub async fn invoke(
        &self,
        addr: &str,
        request: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand> {
        Ok(self.remoting.invoke(addr, request, timeout).await?)
    }

    /// Like [`invoke`](Self::invoke) but a non-success code is an error.
    pub async fn invoke_ok(
        &self,
        addr: &str,
        request: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand> {
        let response = self.invoke(addr, request, timeout).await?;
        if response.is_success() {
            Ok(response)
        } else {
            Err(ClientError::from_response(addr, &response))
        }
    }

    pub fn name_server_list(&self) -> String {
        self.options.name_servers.join(";")
    }

    /// Sends a request to a name server, trying each in turn from the last one that answered.
    pub async fn invoke_namesrv(&self, request: RemotingCommand) -> Result<RemotingCommand> {
        let list = &self.options.name_servers;
        let start = self.namesrv_cursor.load(Ordering::Relaxed);
        let mut last_error = String::from("no name server configured");
        for i in 0..list.len() {
            let idx = (start + i) % list.len();
            let addr = &list[idx];
            match self
                .remoting
                .invoke(addr, request.clone(), self.options.rpc_timeout)
                .await
            {
                Ok(response) => {
                    self.namesrv_cursor.store(idx, Ordering::Relaxed);
                    return Ok(response);
                }
                Err(e) => {
                    tracing::debug!(addr = %addr, error = %e, "name server unavailable");
                    last_error = e.to_string();
                }
            }
        }
        Err(ClientError::NameServerUnavailable {
            name_servers: self.name_server_list(),
            last_error,
        })
    }

    // ---- routes ----

    /// GET_ROUTEINFO_BY_TOPIC; `None` if the name server says the topic does not exist.
    pub async fn fetch_route(&self, topic: &str) -> Result<Option<TopicRouteData>> {
        let header = GetRouteInfoRequestHeader {
            topic: topic.to_owned(),
            ..Default::default()
        };
        let response = self
            .invoke_namesrv(RemotingCommand::request(
                RequestCode::GetRouteinfoByTopic,
                &header,
            ))
            .await?;
        match ResponseCode::from(response.code) {
            ResponseCode::Success => TopicRouteData::from_json_bytes(&response.body)
                .map(Some)
                .map_err(|e| ClientError::BadResponse {
                    addr: self.name_server_list(),
                    reason: format!("route of {topic}: {e}"),
                }),
            ResponseCode::TopicNotExist => Ok(None),
            _ => Err(ClientError::from_response(
                &self.name_server_list(),
                &response,
            )),
        }
    }

    pub fn cached_route(&self, topic: &str) -> Option<Arc<TopicRoute>> {
        self.routes.read().get(topic).cloned()
    }

    /// Fetches `topic`'s route and caches it; `None` (and nothing cached) if it does not exist.
    pub async fn update_route(&self, topic: &str) -> Result<Option<Arc<TopicRoute>>> {
        let Some(data) = self.fetch_route(topic).await? else {
            let mut routes = self.routes.write();
            if routes.get(topic).is_some_and(|r| !r.auto_create) {
                routes.remove(topic);
            }
            return Ok(routes.get(topic).cloned());
        };
        let mut routes = self.routes.write();
        if let Some(old) = routes.get(topic) {
            if !old.auto_create && same_route(&old.data, &data) {
                return Ok(Some(old.clone()));
            }
        }
        let route = Arc::new(TopicRoute::new(topic, data));
        // A broker whose master (re)appeared is tried again at once, not after its isolation.
        for name in route.brokers.keys() {
            let now = route.master_addr(name);
            let before = routes.get(topic).and_then(|o| o.master_addr(name));
            if now.is_some() && now != before {
                self.fault.forget(name);
            }
        }
        routes.insert(topic.to_owned(), route.clone());
        Ok(Some(route))
    }

    /// The route to send `topic` on: cached, fetched, or — when the topic does not exist — the
    /// `TBW102` template so that the broker auto-creates it.
    pub async fn publish_route(&self, topic: &str) -> Result<Arc<TopicRoute>> {
        if let Some(r) = self.cached_route(topic) {
            if !r.publish_queues.is_empty() {
                return Ok(r);
            }
        }
        if let Some(r) = self.update_route(topic).await? {
            if !r.publish_queues.is_empty() {
                return Ok(r);
            }
        }
        if let Some(template) = self.fetch_route(AUTO_CREATE_TOPIC_KEY).await? {
            let route = Arc::new(TopicRoute::from_template(topic, template));
            if !route.publish_queues.is_empty() {
                tracing::info!(
                    topic,
                    "topic has no route; sending through TBW102 to auto-create it"
                );
                self.routes.write().insert(topic.to_owned(), route.clone());
                return Ok(route);
            }
        }
        Err(ClientError::NoRoute {
            topic: topic.to_owned(),
            name_servers: self.name_server_list(),
        })
    }

    /// The route to consume `topic` from: cached or fetched.
    pub async fn subscribe_route(&self, topic: &str) -> Result<Option<Arc<TopicRoute>>> {
        match self.cached_route(topic) {
            Some(r) if !r.auto_create => Ok(Some(r)),
            _ => self.update_route(topic).await,
        }
    }

    /// Re-fetches the route of every cached topic (the periodic route refresh).
    pub async fn refresh_routes(&self) {
        let topics: Vec<String> = self.routes.read().keys().cloned().collect();
        for topic in topics {
            if let Err(e) = self.update_route(&topic).await {
                tracing::debug!(topic, error = %e, "route refresh failed");
            }
        }
    }

    /// GET_BROKER_CLUSTER_INFO: remembers every broker of every cluster, so that heartbeats
    /// (and the producer group they register) reach brokers no route has shown yet.
    pub async fn refresh_cluster_brokers(&self) -> Result<()> {
        let resp = self
            .invoke_namesrv(RemotingCommand::new_request(
                RequestCode::GetBrokerClusterInfo,
            ))
            .await?;
        let ns = self.name_server_list();
        if !resp.is_success() {
            return Err(ClientError::from_response(&ns, &resp));
        }
        let info =
            ClusterInfo::from_json_bytes(&resp.body).map_err(|e| ClientError::BadResponse {
                addr: ns,
                reason: format!("cluster info: {e}"),
            })?;
        *self.cluster_brokers.write() = info
            .broker_addr_table
            .into_iter()
            .map(|(name, data)| (name, data.broker_addrs))
            .collect();
        Ok(())
    }

    /// Every broker name known from cached routes (and cluster info, if fetched), with its
    /// addresses.
    pub fn brokers(&self) -> BTreeMap<String, BTreeMap<i64, String>> {
        let mut out = self.cluster_brokers.read().clone();
        let routes = self.routes.read();
        for r in routes.values() {
            for (name, addrs) in &r.brokers {
                out.entry(name.clone())
                    .or_default()
                    .extend(addrs.iter().map(|(k, v)| (*k, v.clone())));
            }
        }
        out
    }

    /// The master address of a broker name, from any cached route.
    pub fn master_addr(&self, broker_name: &str) -> Option<String> {
        let routes = self.routes.read();
        routes
            .values()
            .find_map(|r| r.master_addr(broker_name).map(str::to_owned))
    }

    /// Where to read `broker_name` (its master, else a slave), fetching `topic`'s route if it is
    /// not known yet. The flag says whether it is the master.
    pub async fn subscribe_addr_for(
        &self,
        broker_name: &str,
        topic: &str,
    ) -> Result<(String, bool)> {
        let find = || {
            let routes = self.routes.read();
            let found = routes
                .get(topic)
                .and_then(|r| r.subscribe_addr(broker_name))
                .or_else(|| routes.values().find_map(|r| r.subscribe_addr(broker_name)));
            found.map(|(a, m)| (a.to_owned(), m))
        };
        if let Some(a) = find() {
            return Ok(a);
        }
        let _ = self.update_route(topic).await?;
        find().ok_or_else(|| ClientError::BrokerNotFound(broker_name.to_owned()))
    }

    /// After a failed request to a broker of `topic`: re-fetch the route now (at most once a
    /// second per topic) so a dead master is replaced by its slave for reads, and by the other
    /// brokers for writes, within moments rather than at the next periodic refresh.
    pub async fn refresh_route_after_failure(&self, topic: &str) {
        {
            let mut last = self.route_refreshed_at.lock();
            let now = std::time::Instant::now();
            if last
                .get(topic)
                .is_some_and(|t| now.duration_since(*t) < std::time::Duration::from_secs(1))
            {
                return;
            }
            last.insert(topic.to_owned(), now);
        }
        if let Err(e) = self.update_route(topic).await {
            tracing::debug!(topic, error = %e, "route refresh after a failure failed");
        }
    }

    /// The master address of `broker_name`, fetching `topic`'s route if it is not known yet.
    pub async fn master_addr_for(&self, broker_name: &str, topic: &str) -> Result<String> {
        if let Some(a) = self.master_addr(broker_name) {
            return Ok(a);
        }
        let _ = self.update_route(topic).await?;
        self.master_addr(broker_name)
            .ok_or_else(|| ClientError::BrokerNotFound(broker_name.to_owned()))
    }

    // ---- heartbeats ----

    fn heartbeat_data(&self) -> HeartbeatData {
        HeartbeatData {
            client_id: self.client_id.clone(),
            consumer_data_set: self.consumers.lock().clone(),
            heartbeat_fingerprint: 0,
            producer_data_set: self.producers.lock().clone(),
            without_sub: false,
        }
    }

    /// HEART_BEAT to every broker in the cached routes (only masters if this client only
    /// produces), as Java's `sendHeartbeatToAllBroker`.
    pub async fn heartbeat_all(&self) {
        let data = self.heartbeat_data();
        if data.consumer_data_set.is_empty() && data.producer_data_set.is_empty() {
            return;
        }
        let masters_only = data.consumer_data_set.is_empty();
        let addrs: BTreeSet<String> = self
            .brokers()
            .into_values()
            .flat_map(|a| {
                a.into_iter()
                    .filter(move |(id, _)| !masters_only || *id == MASTER_ID)
                    .map(|(_, addr)| addr)
            })
            .collect();
        let body = data.to_json_bytes();
        let timeout = self.options.rpc_timeout;
        let sends = addrs.iter().map(|addr| {
            let request = RemotingCommand::request(
                RequestCode::HeartBeat,
                &HeartbeatRequestHeader::default(),
            )
            .with_body(body.clone());
            async move {
                if let Err(e) = self.invoke_ok(addr, request, timeout).await {
                    tracing::debug!(addr = %addr, error = %e, "heartbeat failed");
                }
            }
        });
        futures::future::join_all(sends).await;
    }
}
