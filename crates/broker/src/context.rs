//! The broker's shared state as the request processors see it: one [`BrokerContext`] behind an
//! `Arc`. Each piece owns one concern (topics, groups, offsets, clients, locks, long polls) and
//! the context only holds them together with the settings they share.
//!
//! Its fields are private. Processors reach a piece through a method named for it, so a reader
//! can find every use of, say, the send permits by one name; background tasks are not handed
//! the context at all but the few handles they use, so a task's signature says
//! what it touches (`background.rs`).

use std::net::SocketAddr;
use std::sync::Arc;

use rmq_common::delay::DelayLevels;
use rmq_common::msg_id::UniqueIdGenerator;
use rmq_common::time::now_millis;
use rmq_store::{BrokerRole, MessageStore};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};
use tokio_util::task::TaskTracker;

use crate::clients::{ConsumerManager, ProducerManager};
use crate::config::BrokerStartupConfig;
use crate::delay_offsets::DelayOffsets;
use crate::groups::SubscriptionGroups;
use crate::ha::BrokerHa;
use crate::live_clients::LiveClients;
use crate::live_config::LiveConfig;
use crate::long_poll::ArrivalNotifier;
use crate::metrics::BrokerMetrics;
use crate::offsets::ConsumerOffsets;
use crate::op_log::OpLog;
use crate::parts::BrokerParts;
use crate::pop::Pop;
use crate::pull_offsets::PullOffsets;
use crate::queue_lock::{QueueLocks, DEFAULT_LOCK_MAX_LIVE};
use crate::registration_wanted::RegistrationWanted;
use crate::stats::BrokerStats;
use crate::topics::TopicConfigs;

/// Everything a request processor may use.
pub struct BrokerContext {
    config: Arc<LiveConfig>,
    /// Fixed at start (`brokerName`, `brokerClusterName`, `sendThreadPoolQueueCapacity`).
    broker_name: String,
    cluster_name: String,
    send_capacity: usize,
    store: Arc<MessageStore>,
    topics: Arc<TopicConfigs>,
    groups: Arc<SubscriptionGroups>,
    offsets: Arc<ConsumerOffsets>,
    pull_offsets: PullOffsets,
    consumers: Arc<ConsumerManager>,
    producers: Arc<ProducerManager>,
    outbound: rmq_remoting::RemotingClient,
    peer_grpc: crate::peer_grpc::PeerGrpcPorts,
    locks: QueueLocks,
    arrivals: Arc<ArrivalNotifier>,
    delay_levels: DelayLevels,
    op_log: Arc<OpLog>,
    delay_offsets: Arc<DelayOffsets>,
    pop: Arc<Pop>,
    live_clients: Arc<LiveClients>,
    /// `brokerIP1:listenPort`: what clients connect to and what offset msgIds embed.
    store_host: SocketAddr,
    /// `store_host` as text, as registered with the name servers.
    broker_addr: String,
    /// Generates UNIQ_KEYs for messages that arrive without one.
    unique_ids: UniqueIdGenerator,
    /// Sends being processed; when none is left a send is answered SYSTEM_BUSY at once.
    send_permits: Arc<Semaphore>,
    registration: RegistrationWanted,
    /// Cancelled when the broker shuts down: held pulls answer at once.
    shutdown: CancellationToken,
    metrics: Arc<BrokerMetrics>,
    stats: Arc<BrokerStats>,
    ha: Arc<BrokerHa>,
    /// Controller mode: wakes the broker to ask the controllers for its role.
    role_notice: Arc<tokio::sync::Notify>,
    /// Controller mode: the epoch file.
    epochs: Option<Arc<rmq_ha::EpochFile>>,
    /// When the broker started (ms), for runtime info.
    boot_timestamp: i64,
    /// Owner of the short tasks processors start (consumer notifications).
    tasks: TaskTracker,
}

impl BrokerContext {
    /// The processors' view of `p`.
    pub(crate) fn new(p: &BrokerParts) -> Self {
        let send_capacity = p.config.broker.send_thread_pool_queue_capacity.max(1);
        BrokerContext {
            broker_addr: p.store_host.to_string(),
            unique_ids: UniqueIdGenerator::new(p.store_host.ip()),
            send_permits: Arc::new(Semaphore::new(send_capacity)),
            send_capacity,
            broker_name: p.config.broker.broker_name.clone(),
            cluster_name: p.config.broker.broker_cluster_name.clone(),
            pull_offsets: PullOffsets::default(),
            locks: QueueLocks::new(DEFAULT_LOCK_MAX_LIVE),
            boot_timestamp: now_millis(),
            config: p.live.clone(),
            store: p.store.clone(),
            topics: p.topics.clone(),
            groups: p.groups.clone(),
            offsets: p.offsets.clone(),
            consumers: p.consumers.clone(),
            producers: p.producers.clone(),
            outbound: p.outbound.clone(),
            peer_grpc: crate::peer_grpc::PeerGrpcPorts::default(),
            arrivals: p.arrivals.clone(),
            delay_levels: p.delay_levels.clone(),
            op_log: p.op_log.clone(),
            delay_offsets: p.delay_offsets.clone(),
            pop: p.pop.clone(),
            live_clients: p.live_clients.clone(),
            store_host: p.store_host,
            registration: p.registration.clone(),
            shutdown: p.shutdown.clone(),
            metrics: p.metrics.clone(),
            stats: p.stats.clone(),
            ha: p.ha.clone(),
            role_notice: p.role_notice.clone(),
            epochs: p.epochs.clone(),
            tasks: p.tasks.clone(),
        }
    }

    /// Controller mode: the epoch file (`None` outside controller mode).
    pub(crate) fn epochs(&self) -> Option<&rmq_ha::EpochFile> {
        self.epochs.as_deref()
    }

    /// Controller mode: a controller said the group's master changed.
    pub(crate) fn role_changed(&self) {
        self.role_notice.notify_one();
    }

    /// The broker's client for calls to name servers and other brokers.
    pub(crate) fn outbound(&self) -> &rmq_remoting::RemotingClient {
        &self.outbound
    }

    /// Other brokers' gRPC ports, as learnt from them.
    pub(crate) fn peer_grpc(&self) -> &crate::peer_grpc::PeerGrpcPorts {
        &self.peer_grpc
    }

    /// The port the gRPC MessagingService listens on (0: not served).
    pub fn grpc_port(&self) -> u16 {
        self.config().broker.grpc_server_port
    }

    /// The effective configuration (broker and store keys) as of now: read it where it is
    /// used, so a runtime change (UPDATE_BROKER_CONFIG) applies to the next request.
    pub fn config(&self) -> Arc<BrokerStartupConfig> {
        self.config.get()
    }

    /// The configuration and the keys an operator may change while the broker runs.
    pub fn live_config(&self) -> &LiveConfig {
        &self.config
    }

    pub fn role(&self) -> BrokerRole {
        self.config.get().store.broker_role
    }

    pub fn is_slave(&self) -> bool {
        self.role() == BrokerRole::Slave
    }

    pub fn broker_name(&self) -> &str {
        &self.broker_name
    }

    pub fn cluster_name(&self) -> &str {
        &self.cluster_name
    }

    /// `brokerIP1:listenPort`, as registered with the name servers.
    pub fn broker_addr(&self) -> &str {
        &self.broker_addr
    }

    /// The address stored in records and offset message ids.
    pub(crate) fn store_host(&self) -> SocketAddr {
        self.store_host
    }

    pub(crate) fn store(&self) -> &Arc<MessageStore> {
        &self.store
    }

    pub(crate) fn topics(&self) -> &TopicConfigs {
        &self.topics
    }

    pub(crate) fn groups(&self) -> &SubscriptionGroups {
        &self.groups
    }

    /// Committed consumer offsets.
    pub(crate) fn offsets(&self) -> &ConsumerOffsets {
        &self.offsets
    }

    /// Next offsets handed out by pulls, reported beside the committed ones.
    pub(crate) fn pull_offsets(&self) -> &PullOffsets {
        &self.pull_offsets
    }

    pub(crate) fn consumers(&self) -> &ConsumerManager {
        &self.consumers
    }

    pub(crate) fn producers(&self) -> &ProducerManager {
        &self.producers
    }

    pub(crate) fn locks(&self) -> &QueueLocks {
        &self.locks
    }

    /// Wake-up points of held pulls.
    pub(crate) fn arrivals(&self) -> &ArrivalNotifier {
        &self.arrivals
    }

    pub(crate) fn delay_levels(&self) -> &DelayLevels {
        &self.delay_levels
    }

    /// Half messages already committed or rolled back.
    pub(crate) fn op_log(&self) -> &OpLog {
        &self.op_log
    }

    /// Progress of the delay-level queues.
    pub(crate) fn delay_offsets(&self) -> &DelayOffsets {
        &self.delay_offsets
    }

    /// POP consumption: messages in flight and the revive log.
    pub(crate) fn pop(&self) -> &Pop {
        &self.pop
    }

    /// 5.x clients connected now.
    pub(crate) fn live_clients(&self) -> &Arc<LiveClients> {
        &self.live_clients
    }

    /// Asks for registration with the name servers (new topics).
    pub(crate) fn registration(&self) -> &RegistrationWanted {
        &self.registration
    }

    /// A fresh UNIQ_KEY for a message that arrived without one.
    pub(crate) fn next_unique_id(&self) -> String {
        self.unique_ids.next_id()
    }

    /// A permit to process one send, or `None` when `sendThreadPoolQueueCapacity` sends are
    /// already in flight.
    pub(crate) fn try_send_permit(&self) -> Option<OwnedSemaphorePermit> {
        self.send_permits.clone().try_acquire_owned().ok()
    }

    /// Sends processed at once at most (`sendThreadPoolQueueCapacity`, at least 1).
    pub(crate) fn send_capacity(&self) -> usize {
        self.send_capacity
    }

    /// Sends being processed now.
    pub(crate) fn sends_in_flight(&self) -> usize {
        self.send_capacity
            .saturating_sub(self.send_permits.available_permits())
    }

    pub(crate) fn metrics(&self) -> &BrokerMetrics {
        &self.metrics
    }

    pub(crate) fn stats(&self) -> &Arc<BrokerStats> {
        &self.stats
    }

    /// Replication: the HA server on masters, the HA client on slaves.
    pub(crate) fn ha(&self) -> &BrokerHa {
        &self.ha
    }

    /// When the broker started (ms since the epoch).
    pub(crate) fn boot_timestamp(&self) -> i64 {
        self.boot_timestamp
    }

    /// Completes when the broker starts shutting down.
    pub(crate) fn shutting_down(&self) -> WaitForCancellationFuture<'_> {
        self.shutdown.cancelled()
    }

    /// Owner of short tasks processors start.
    pub(crate) fn tasks(&self) -> &TaskTracker {
        &self.tasks
    }

    /// `brokerIP2:haListenPort`, what slaves connect to.
    pub fn ha_addr(&self) -> String {
        ha_addr(&self.config.get(), self.store_host)
    }

    /// A topic the broker manages itself (`%RETRY%`, `%DLQ%`, system topics), created when
    /// missing and announced to the name servers at once.
    pub(crate) fn ensure_topic(
        &self,
        topic: &str,
        queues: i32,
        perm: i32,
    ) -> Result<rmq_common::TopicConfig, crate::BrokerError> {
        self.topics.ensure(topic, queues, perm, &self.registration)
    }

    /// Like [`ensure_topic`](Self::ensure_topic); when the topic is new, also waits until
    /// every name server has been told (see [`Self::announce_new_topic`]).
    pub(crate) async fn ensure_topic_announced(
        &self,
        topic: &str,
        queues: i32,
        perm: i32,
    ) -> Result<rmq_common::TopicConfig, crate::BrokerError> {
        match self.topics.get_or_create_simple(topic, queues, perm)? {
            crate::topics::TopicLookup::Created(c) => {
                tracing::info!(topic = %c.topic_name, queues = c.write_queue_nums, "created topic");
                self.topics.persisted().await?;
                self.announce_new_topic().await;
                Ok(c)
            }
            crate::topics::TopicLookup::Existing(c) => Ok(c),
        }
    }

    /// Registers a topic this broker just created for a client with every name server before
    /// the client is answered (at most [`ANNOUNCE_LIMIT`]), as Apache's broker does: a client
    /// that got SEND_OK, or a consumer of a fresh `%DLQ%` topic, then finds the route at once
    /// instead of after the next periodic registration.
    pub(crate) async fn announce_new_topic(&self) {
        let generation = self.registration.request_now();
        if !self
            .registration
            .announced(generation, ANNOUNCE_LIMIT)
            .await
        {
            tracing::warn!(
                "a name server did not take the new topic within {ANNOUNCE_LIMIT:?}; it learns it at the next registration"
            );
        }
    }

    /// Asks the registration tasks to register with every name server now.
    pub(crate) fn topics_changed(&self) {
        self.registration.request();
    }
}

/// Longest a client's request waits for a new topic to reach the name servers.
const ANNOUNCE_LIMIT: std::time::Duration = std::time::Duration::from_secs(3);

/// `brokerIP2:haListenPort` (brokerIP1's address when brokerIP2 is unset).
pub(crate) fn ha_addr(config: &BrokerStartupConfig, store_host: SocketAddr) -> String {
    let b = &config.broker;
    let ip = if b.broker_ip2.is_empty() {
        store_host.ip().to_string()
    } else {
        b.broker_ip2.clone()
    };
    format!("{ip}:{}", b.ha_listen_port)
}
