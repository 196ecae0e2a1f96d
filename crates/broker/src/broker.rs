//! Starting and stopping a broker.
//!
//! [`Broker::start`] opens the store (recovering it if needed), loads the config files under
//! `<storePathRootDir>/config/`, serves the remoting port, and starts the owned background tasks
//! (name server registration, offset persistence, client expiry). [`Broker::shutdown`] undoes it
//! in order: stop accepting and answer in-flight requests (held pulls answer at once), unregister
//! from the name servers, persist offsets and configs, then shut the store down (flush,
//! checkpoint, remove the abort file).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rmq_common::delay::DelayLevels;
use rmq_common::time::now_millis;
use rmq_remoting::{ClientConfig, RemotingClient, RemotingServer, ServerConfig};
use rmq_store::MessageStore;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clients::{ConsumerManager, ProducerManager};
use crate::config::BrokerStartupConfig;
use crate::context::{BrokerContext, ContextParts};
use crate::delay_offsets::DelayOffsets;
use crate::groups::SubscriptionGroups;
use crate::ha::BrokerHa;
use crate::housekeeping::{ClientConnections, Housekeeping};
use crate::known_master::KnownMaster;
use crate::long_poll::ArrivalNotifier;
use crate::metrics::BrokerMetrics;
use crate::metrics_endpoint::{self, MetricsSources};
use crate::offsets::ConsumerOffsets;
use crate::op_log::OpLog;
use crate::queue_lock::{QueueLocks, DEFAULT_LOCK_MAX_LIVE};
use crate::registration::{self, Registration};
use crate::registration_wanted::RegistrationWanted;
use crate::schedule::DelayDelivery;
use crate::slave_sync::{self, SlaveSync};
use crate::stats::BrokerStats;
use crate::topics::{TopicConfigs, TopicDefaults};
use crate::transaction_check::TransactionCheck;
use crate::BrokerError;

/// Held pulls allowed at once; past it pulls are answered "no new message" at once (clients
/// pull again). Each held pull is a parked request task holding its request (a few KiB), so
/// this bounds their memory to tens of MiB however many consumers connect.
const MAX_HELD_PULLS: usize = 16_384;

/// A running broker.
pub struct Broker {
    ctx: Arc<BrokerContext>,
    owned: Owned,
    local_addr: SocketAddr,
    server_stop: CancellationToken,
    server: tokio::task::JoinHandle<()>,
}

/// What the broker itself stops and persists at shutdown, beside what processors see.
struct Owned {
    store: Arc<MessageStore>,
    topics: Arc<TopicConfigs>,
    groups: Arc<SubscriptionGroups>,
    offsets: Arc<ConsumerOffsets>,
    delay_offsets: Arc<DelayOffsets>,
    ha: Arc<BrokerHa>,
    outbound: RemotingClient,
    registration: Arc<Registration>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl Broker {
    /// Binds `0.0.0.0:listenPort` and starts.
    pub async fn bind_and_start(config: BrokerStartupConfig) -> Result<Broker, BrokerError> {
        let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), config.broker.listen_port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| BrokerError::Bind {
                addr: addr.to_string(),
                source,
            })?;
        Self::start(config, listener).await
    }

    /// Starts on an already bound listener (tests bind 127.0.0.1:0). The listener's port becomes
    /// the broker's `listenPort`.
    pub async fn start(
        mut config: BrokerStartupConfig,
        listener: TcpListener,
    ) -> Result<Broker, BrokerError> {
        crate::unsupported::warn_unsupported(&config);
        let local_addr = listener.local_addr()?;
        let dynamic_port = config.broker.listen_port != local_addr.port();
        if dynamic_port || config.broker.ha_listen_port == 0 {
            config.broker.ha_listen_port = local_addr.port().wrapping_add(1);
        }
        config.broker.listen_port = local_addr.port();
        let ip: IpAddr = if config.broker.broker_ip1.is_empty() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            config.broker.broker_ip1.parse().map_err(|_| {
                rmq_common::config::ConfigError::InvalidValue {
                    key: "brokerIP1".into(),
                    value: config.broker.broker_ip1.clone(),
                    expected: "IP address",
                }
            })?
        };
        let store_host = SocketAddr::new(ip, local_addr.port());
        let delay_levels = DelayLevels::parse(&config.store.message_delay_level).map_err(|e| {
            rmq_common::config::ConfigError::Invalid {
                key: "messageDelayLevel".into(),
                reason: e.to_string(),
            }
        })?;

        let store_cfg = config.store.clone();
        let store = tokio::task::spawn_blocking(move || MessageStore::open(store_cfg))
            .await
            .map_err(|e| BrokerError::Io(std::io::Error::other(e)))??;
        if !store.last_exit_ok() {
            tracing::warn!(
                "the previous broker process did not shut down cleanly; the store was recovered"
            );
        }
        let config_dir = config.store.store_path_root_dir.join("config");
        let b = &config.broker;
        let topics = TopicConfigs::load(
            config_dir.join("topics.json"),
            &TopicDefaults {
                default_topic_queue_nums: b.default_topic_queue_nums,
                auto_create_topic_enable: b.auto_create_topic_enable,
                cluster_name: b.broker_cluster_name.clone(),
                broker_name: b.broker_name.clone(),
                cluster_topic_enable: b.cluster_topic_enable,
                broker_topic_enable: b.broker_topic_enable,
                delay_levels: delay_levels.max_level(),
                trace_topic: b.trace_topic_enable.then(|| b.msg_trace_topic_name.clone()),
            },
        )?;
        let groups = SubscriptionGroups::load(
            config_dir.join("subscriptionGroup.json"),
            b.auto_create_subscription_group,
        )?;
        let offsets = ConsumerOffsets::load(config_dir.join("consumerOffset.json"))?;
        let delay_offsets = DelayOffsets::load(config_dir.join("delayOffset.json"))?;
        let arrivals = Arc::new(ArrivalNotifier::new(MAX_HELD_PULLS));
        {
            let a = arrivals.clone();
            store.set_arrival_listener(Arc::new(
                move |topic: &str, queue_id: i32, _max: i64, _tag: i64| {
                    a.on_arrival(topic, queue_id)
                },
            ));
        }
        store.start()?;
        let ha = crate::ha::BrokerHa::start(&mut config, &store, dynamic_port).await?;

        let config = Arc::new(config);
        let store_host_text = store_host.to_string();
        let ha = Arc::new(ha);
        let topics = Arc::new(topics);
        let groups = Arc::new(groups);
        let offsets = Arc::new(offsets);
        let delay_offsets = Arc::new(delay_offsets);
        let consumers = Arc::new(ConsumerManager::default());
        let producers = Arc::new(ProducerManager::default());
        let metrics = Arc::new(BrokerMetrics::new());
        let stats = Arc::new(BrokerStats::new());
        let op_log = Arc::new(OpLog::default());
        let registration = RegistrationWanted::default();
        let shutdown = CancellationToken::new();
        let tasks = TaskTracker::new();
        let outbound = RemotingClient::new(ClientConfig::default());

        let ctx = Arc::new(BrokerContext::new(ContextParts {
            config: config.clone(),
            store: store.clone(),
            topics: topics.clone(),
            groups: groups.clone(),
            offsets: offsets.clone(),
            consumers: consumers.clone(),
            producers: producers.clone(),
            locks: QueueLocks::new(DEFAULT_LOCK_MAX_LIVE),
            arrivals: arrivals.clone(),
            delay_levels: delay_levels.clone(),
            op_log: op_log.clone(),
            delay_offsets: delay_offsets.clone(),
            store_host,
            registration: registration.clone(),
            shutdown: shutdown.clone(),
            metrics: metrics.clone(),
            stats: stats.clone(),
            ha: ha.clone(),
            boot_timestamp: now_millis(),
            tasks: tasks.clone(),
        }));
        let clients = ClientConnections {
            consumers: consumers.clone(),
            producers: producers.clone(),
            tasks: tasks.clone(),
        };

        let mut server = RemotingServer::new(ServerConfig {
            idle_timeout: Some(std::time::Duration::from_secs(
                config.broker.server_channel_max_idle_time_seconds.max(1),
            )),
            ..ServerConfig::default()
        });
        crate::processor::register_all(&mut server, &ctx);
        server.set_connection_listener(clients.clone());
        let server_stop = CancellationToken::new();
        let server = tokio::spawn(server.run(listener, server_stop.clone()));

        metrics_endpoint::start(
            &config.broker,
            MetricsSources {
                metrics,
                store: store.clone(),
                consumers,
                offsets: offsets.clone(),
            },
            &tasks,
            shutdown.clone(),
        )
        .await?;
        stats.start_sampler(&tasks, shutdown.clone());
        let registration_service = Arc::new(Registration {
            config: config.clone(),
            topics: topics.clone(),
            outbound: outbound.clone(),
            wanted: registration.clone(),
            master: KnownMaster::default(),
            ha: ha.clone(),
            broker_addr: store_host_text,
            ha_addr: crate::context::ha_addr(&config, store_host),
        });
        registration::start(&registration_service, &tasks, &shutdown);
        Housekeeping {
            topics: topics.clone(),
            offsets: offsets.clone(),
            clients,
            arrivals: arrivals.clone(),
            flush_offsets_every: Duration::from_millis(
                config.broker.flush_consumer_offset_interval,
            ),
            channel_expired_timeout: Duration::from_millis(config.broker.channel_expired_timeout),
        }
        .start(&tasks, &shutdown);
        let b = &config.broker;
        if ctx.is_slave() {
            slave_sync::start(
                SlaveSync {
                    outbound: outbound.clone(),
                    master: registration_service.master.clone(),
                    topics: topics.clone(),
                    offsets: offsets.clone(),
                    delay_offsets: delay_offsets.clone(),
                    groups: groups.clone(),
                    registration: registration.clone(),
                },
                &tasks,
                shutdown.clone(),
            );
        } else {
            DelayDelivery {
                store: store.clone(),
                levels: delay_levels,
                offsets: delay_offsets.clone(),
                arrivals,
                store_host,
            }
            .start(&tasks, &shutdown);
            TransactionCheck {
                store: store.clone(),
                op_log,
                offsets: offsets.clone(),
                producers,
                topics: topics.clone(),
                registration,
                store_host,
                broker_name: b.broker_name.clone(),
                timeout_ms: b.transaction_time_out as i64,
                check_max: b.transaction_check_max,
                interval: Duration::from_millis(b.transaction_check_interval.max(100)),
            }
            .start(&tasks, shutdown.clone());
        }
        tracing::info!(
            broker = %ctx.broker_name(),
            cluster = %ctx.cluster_name(),
            id = b.broker_id,
            role = %ctx.role(),
            addr = %ctx.broker_addr(),
            namesrv = %b.namesrv_addr,
            "broker started"
        );
        Ok(Broker {
            ctx,
            owned: Owned {
                store,
                topics,
                groups,
                offsets,
                delay_offsets,
                ha,
                outbound,
                registration: registration_service,
                shutdown,
                tasks,
            },
            local_addr,
            server_stop,
            server,
        })
    }

    /// The address the broker listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `brokerIP1:listenPort`, as registered with the name servers.
    pub fn broker_addr(&self) -> &str {
        self.ctx.broker_addr()
    }

    pub fn context(&self) -> &Arc<BrokerContext> {
        &self.ctx
    }

    /// Stops the broker cleanly (see the module docs for the order).
    pub async fn shutdown(self) {
        tracing::info!("broker shutting down");
        let o = self.owned;
        o.shutdown.cancel();
        self.server_stop.cancel();
        if let Err(e) = self.server.await {
            tracing::warn!(error = %e, "remoting server task ended abnormally");
        }
        registration::unregister_all(&o.registration).await;
        o.tasks.close();
        o.tasks.wait().await;
        o.outbound.shutdown().await;
        o.ha.shutdown().await;
        for r in [
            o.offsets.persist(),
            o.topics.persist(),
            o.groups.persist(),
            o.delay_offsets.persist(),
        ] {
            if let Err(e) = r {
                tracing::error!(error = %e, "could not persist broker state at shutdown");
            }
        }
        let store = o.store;
        let _ = tokio::task::spawn_blocking(move || store.shutdown()).await;
        tracing::info!("broker stopped");
    }
}
