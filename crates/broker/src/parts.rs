//! The shared pieces a running broker is made of, created once in `broker.rs`.
//!
//! The request processors see them through the narrow `BrokerContext` (`context.rs`);
//! `background.rs` hands each background task only the pieces it uses; the broker keeps this
//! set to persist and stop them at shutdown. A leaf file so those three need not import one
//! another.

use std::net::SocketAddr;
use std::sync::Arc;

use rmq_common::delay::DelayLevels;
use rmq_remoting::RemotingClient;
use rmq_store::MessageStore;
use tokio_util::sync::CancellationToken;
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
use crate::pop::Pop;
use crate::registration_wanted::RegistrationWanted;
use crate::stats::BrokerStats;
use crate::topics::TopicConfigs;

/// Every shared piece of a broker; cloning clones handles, not state.
#[derive(Clone)]
pub(crate) struct BrokerParts {
    /// The configuration the broker started with.
    pub config: Arc<BrokerStartupConfig>,
    /// The configuration as changed at runtime (UPDATE_BROKER_CONFIG); what processors read.
    pub live: Arc<LiveConfig>,
    pub store: Arc<MessageStore>,
    pub topics: Arc<TopicConfigs>,
    pub groups: Arc<SubscriptionGroups>,
    pub offsets: Arc<ConsumerOffsets>,
    pub consumers: Arc<ConsumerManager>,
    pub producers: Arc<ProducerManager>,
    pub arrivals: Arc<ArrivalNotifier>,
    pub delay_levels: DelayLevels,
    pub op_log: Arc<OpLog>,
    pub delay_offsets: Arc<DelayOffsets>,
    /// POP consumption state (messages in flight).
    pub pop: Arc<Pop>,
    /// 5.x clients with an open Telemetry stream.
    pub live_clients: Arc<LiveClients>,
    /// `brokerIP1:listenPort`.
    pub store_host: SocketAddr,
    pub registration: RegistrationWanted,
    pub metrics: Arc<BrokerMetrics>,
    pub stats: Arc<BrokerStats>,
    pub ha: Arc<BrokerHa>,
    /// Controller mode: which master epoch wrote which part of the CommitLog.
    pub epochs: Option<Arc<rmq_ha::EpochFile>>,
    /// Controller mode: woken by NOTIFY_BROKER_ROLE_CHANGED to ask the controllers now.
    pub role_notice: Arc<tokio::sync::Notify>,
    /// Talks to the name servers (and, for slaves, to the master).
    pub outbound: RemotingClient,
    /// Cancelled when the broker shuts down.
    pub shutdown: CancellationToken,
    /// Owner of every background task.
    pub tasks: TaskTracker,
}
