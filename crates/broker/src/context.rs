//! The broker's shared state: one [`BrokerContext`] behind an `Arc`, read by every processor and
//! background task. Each piece owns one concern (topics, groups, offsets, clients, locks, long
//! polls); the context only holds them together with the settings they share.

use std::net::SocketAddr;
use std::sync::Arc;

use parking_lot::RwLock;
use rmq_common::delay::DelayLevels;
use rmq_remoting::RemotingClient;
use rmq_store::{BrokerRole, MessageStore};
use tokio::sync::{watch, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clients::{ConsumerManager, ProducerManager};
use crate::config::BrokerStartupConfig;
use crate::groups::SubscriptionGroups;
use crate::long_poll::ArrivalNotifier;
use crate::offsets::ConsumerOffsets;
use crate::queue_lock::QueueLocks;
use crate::topics::TopicConfigs;

pub struct BrokerContext {
    pub config: BrokerStartupConfig,
    pub store: Arc<MessageStore>,
    pub topics: TopicConfigs,
    pub groups: SubscriptionGroups,
    pub offsets: ConsumerOffsets,
    /// Next offsets handed out by pulls, reported beside the committed ones.
    pub pull_offsets: crate::pull_offsets::PullOffsets,
    pub consumers: ConsumerManager,
    pub producers: ProducerManager,
    pub locks: QueueLocks,
    pub arrivals: Arc<ArrivalNotifier>,
    pub delay_levels: DelayLevels,
    /// Half messages already committed or rolled back.
    pub op_log: crate::transaction::OpLog,
    /// Progress of the delay-level queues.
    pub delay_offsets: crate::schedule::DelayOffsets,
    /// `brokerIP1:listenPort`: what clients connect to and what offset msgIds embed.
    pub store_host: SocketAddr,
    /// `store_host` as text, as registered with the name servers.
    pub broker_addr: String,
    /// Generates UNIQ_KEYs for messages that arrive without one.
    pub store_unique_ids: rmq_common::msg_id::UniqueIdGenerator,
    /// Sends being processed; when none is left a send is answered SYSTEM_BUSY at once.
    pub send_permits: Arc<Semaphore>,
    /// Bumped when topic configs change so every name server hears about it now, not in 30 s.
    pub registration_wanted: watch::Sender<u64>,
    /// For a slave: the master's address and HA address, as the name servers report them.
    pub master: RwLock<Option<MasterAddrs>>,
    /// Talks to the name servers (and, for slaves, to the master).
    pub outbound: RemotingClient,
    /// Cancelled when the broker shuts down: held pulls answer at once.
    pub shutdown: CancellationToken,
    pub metrics: crate::metrics::BrokerMetrics,
    pub stats: Arc<crate::stats::BrokerStats>,
    /// Replication: the HA server on masters, the HA client on slaves.
    pub ha: crate::ha::BrokerHa,
    /// When the broker started (ms), for runtime info.
    pub boot_timestamp: i64,
    /// Owner of every background task.
    pub tasks: TaskTracker,
}

impl BrokerContext {
    pub fn role(&self) -> BrokerRole {
        self.config.store.broker_role
    }

    pub fn is_slave(&self) -> bool {
        self.role() == BrokerRole::Slave
    }

    pub fn broker_name(&self) -> &str {
        &self.config.broker.broker_name
    }

    pub fn cluster_name(&self) -> &str {
        &self.config.broker.broker_cluster_name
    }

    /// `brokerIP2:haListenPort`, what slaves connect to.
    pub fn ha_addr(&self) -> String {
        let b = &self.config.broker;
        let ip = if b.broker_ip2.is_empty() {
            self.store_host.ip().to_string()
        } else {
            b.broker_ip2.clone()
        };
        format!("{ip}:{}", b.ha_listen_port)
    }

    /// A topic the broker manages itself (`%RETRY%`, `%DLQ%`, system topics), created when
    /// missing; a creation is announced to the name servers at once, so consumers find it.
    pub fn ensure_topic(
        &self,
        topic: &str,
        queues: i32,
        perm: i32,
    ) -> Result<rmq_common::TopicConfig, crate::BrokerError> {
        match self.topics.get_or_create_simple(topic, queues, perm)? {
            crate::topics::TopicLookup::Created(c) => {
                tracing::info!(topic = %c.topic_name, queues = c.write_queue_nums, "created topic");
                self.topics_changed();
                Ok(c)
            }
            crate::topics::TopicLookup::Existing(c) => Ok(c),
        }
    }

    /// Asks the registration tasks to register with every name server now.
    pub fn topics_changed(&self) {
        self.registration_wanted.send_modify(|v| *v += 1);
    }
}

/// Where a slave's master is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterAddrs {
    pub master_addr: String,
    pub ha_server_addr: String,
}
