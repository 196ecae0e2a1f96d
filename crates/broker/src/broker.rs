//! Starting and stopping a broker.
//!
//! [`Broker::start`] opens the store (recovering it if needed), loads the config files under
//! `<storePathRootDir>/config/`, serves the remoting port, and starts the owned background tasks
//! (`background.rs`). [`Broker::shutdown`] undoes it
//! in order: stop accepting and answer in-flight requests (held pulls answer at once), unregister
//! from the name servers, persist offsets and configs, then shut the store down (flush,
//! checkpoint, remove the abort file).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rmq_common::delay::DelayLevels;
use rmq_remoting::{ClientConfig, RemotingClient, RemotingServer, ServerConfig};
use rmq_store::MessageStore;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::BrokerStartupConfig;
use crate::context::BrokerContext;
use crate::delay_offsets::DelayOffsets;
use crate::groups::SubscriptionGroups;
use crate::housekeeping::ClientConnections;
use crate::long_poll::ArrivalNotifier;
use crate::metrics::BrokerMetrics;
use crate::offsets::ConsumerOffsets;
use crate::parts::BrokerParts;
use crate::registration::{self, Registration};
use crate::registration_wanted::RegistrationWanted;
use crate::stats::BrokerStats;
use crate::topics::{TopicConfigs, TopicDefaults};
use crate::BrokerError;

/// Held pulls allowed at once; past it pulls are answered "no new message" at once (clients
/// pull again). Each held pull is a parked request task holding its request (a few KiB), so
/// this bounds their memory to tens of MiB however many consumers connect.
const MAX_HELD_PULLS: usize = 16_384;

/// The daemon: binds `0.0.0.0:listenPort`, starts, prints Apache's boot line (start scripts grep
/// for it), serves until `shutdown` resolves, then stops cleanly. The same shape as
/// `rmq_namesrv::run`.
pub async fn run(
    config: BrokerStartupConfig,
    shutdown: impl std::future::Future,
) -> Result<(), BrokerError> {
    let broker = Broker::bind_and_start(config).await?;
    println!(
        "The broker[{}, {}] boot success. serializeType=JSON and name server is {}",
        broker.ctx.broker_name(),
        broker.broker_addr(),
        broker.ctx.config().broker.namesrv_addr
    );
    shutdown.await;
    broker.shutdown().await;
    Ok(())
}

/// A running broker.
pub struct Broker {
    ctx: Arc<BrokerContext>,
    /// What the broker persists and stops at shutdown.
    parts: BrokerParts,
    registration: Arc<Registration>,
    local_addr: SocketAddr,
    grpc_addr: Option<SocketAddr>,
    server_stop: CancellationToken,
    server: tokio::task::JoinHandle<()>,
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
        // A listener on a port chosen by the OS (tests) has no fixed neighbour to claim.
        let vip = if dynamic_port {
            None
        } else {
            bind_vip_channel(local_addr).await?
        };
        let grpc = bind_grpc(&mut config, local_addr, dynamic_port).await?;
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

        let epochs = match config.controller.enable_controller_mode {
            true => {
                let path = config.store.store_path_root_dir.join("epochFileCheckpoint");
                Some(Arc::new(rmq_ha::EpochFile::open(&path)?))
            }
            false => None,
        };
        let auth_store = Arc::new(crate::acl::v2::AuthStore::load(&config_dir)?);
        let gate = crate::acl::gate_for(&config.broker, &auth_store)?;
        let config_credentials = config
            .broker
            .inner_credentials()
            .map_err(BrokerError::Auth)?;
        let ha_guard = gate
            .clone()
            .map(|g| Arc::new(crate::acl::ReplicationGuard(g)) as Arc<dyn rmq_ha::HaGuard>);
        let ha_prover = config_credentials
            .clone()
            .map(|c| Arc::new(crate::acl::ReplicationProver(c)) as Arc<dyn rmq_ha::HaProver>);
        let ha = crate::ha::BrokerHa::start(&mut config, &store, dynamic_port, ha_guard, ha_prover)
            .await?;
        let outbound_tls = match config.broker.tls_enable {
            true => Some(rmq_remoting::ClientTls::trust_any()?),
            false => None,
        };
        let tls =
            rmq_remoting::load_tls(&config.broker.tls_settings(), &store_host.ip().to_string())?;
        if tls.mode != rmq_remoting::TlsMode::Disabled {
            tracing::info!(mode = ?tls.mode, "TLS on the remoting and gRPC ports (tls.server.mode)");
        }
        let config = Arc::new(config);
        let pop = Arc::new(crate::pop::Pop::new(&config.broker.broker_cluster_name));
        let parts = BrokerParts {
            live: Arc::new(crate::live_config::LiveConfig::new(config.clone())),
            config,
            store,
            topics: Arc::new(topics),
            groups: Arc::new(groups),
            offsets: Arc::new(offsets),
            consumers: Arc::default(),
            producers: Arc::default(),
            arrivals,
            delay_levels,
            op_log: Arc::default(),
            delay_offsets: Arc::new(delay_offsets),
            pop,
            live_clients: Arc::default(),
            store_host,
            registration: RegistrationWanted::default(),
            metrics: Arc::new(BrokerMetrics::new()),
            stats: Arc::new(BrokerStats::new()),
            ha: Arc::new(ha),
            epochs,
            role_notice: Arc::default(),
            outbound: RemotingClient::new(ClientConfig {
                credentials: config_credentials,
                tls: outbound_tls,
                ..ClientConfig::default()
            }),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
        };
        if parts.config.store.broker_role != rmq_store::BrokerRole::Slave {
            parts.pop.recover(&parts.store, &parts.offsets);
        }
        let ctx = Arc::new(BrokerContext::new(&parts));
        let clients = ClientConnections {
            consumers: parts.consumers.clone(),
            producers: parts.producers.clone(),
            tasks: parts.tasks.clone(),
        };

        let mut server = RemotingServer::new(ServerConfig {
            idle_timeout: Some(Duration::from_secs(
                parts
                    .config
                    .broker
                    .server_channel_max_idle_time_seconds
                    .max(1),
            )),
            tls: tls.remoting,
            ..ServerConfig::default()
        });
        crate::processor::register_all(&mut server, &ctx);
        crate::acl::v2::register(&mut server, &ctx, auth_store);
        let plain = match &gate {
            Some(crate::acl::Gate::V1(acl)) => Some(acl.clone()),
            _ => None,
        };
        crate::processor::plain_acl::register(&mut server, &ctx, plain);
        if let Some(gate) = gate.clone() {
            if let crate::acl::Gate::V1(acl) = &gate {
                crate::acl::start_reload(acl.clone(), &parts.tasks, parts.shutdown.clone());
            }
            server.set_request_guard(crate::acl::Guard(gate));
        }
        server.set_connection_listener(clients.clone());
        let server_stop = CancellationToken::new();
        let listeners = std::iter::once(listener).chain(vip).collect();
        let server = tokio::spawn(server.run_all(listeners, server_stop.clone()));

        let grpc_addr = grpc.as_ref().and_then(|l| l.local_addr().ok());
        if let Some(listener) = grpc {
            parts.tasks.spawn(crate::grpc::serve(
                listener,
                ctx.clone(),
                gate,
                (tls.mode, tls.identity),
                parts.shutdown.clone(),
            ));
        }
        let registration = crate::background::start(&parts, clients).await?;
        let b = &parts.config.broker;
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
            parts,
            registration,
            local_addr,
            grpc_addr,
            server_stop,
            server,
        })
    }

    /// The address the broker listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where the gRPC MessagingService listens, when it is served.
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.grpc_addr
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
        let o = self.parts;
        o.shutdown.cancel();
        self.server_stop.cancel();
        if let Err(e) = self.server.await {
            tracing::warn!(error = %e, "remoting server task ended abnormally");
        }
        registration::unregister_all(&self.registration).await;
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

/// Apache's VIP ("fast") channel: the same protocol on listenPort - 2, where Apache's slaves
/// sync topics, offsets and groups from their master and where clients with
/// `vipChannelEnabled` send. None when listenPort is below 3 (Apache opens none either).
async fn bind_vip_channel(main: SocketAddr) -> Result<Option<TcpListener>, BrokerError> {
    let Some(port) = main.port().checked_sub(2).filter(|p| *p > 0) else {
        return Ok(None);
    };
    let addr = SocketAddr::new(main.ip(), port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| BrokerError::VipBind {
            addr: addr.to_string(),
            source,
        })?;
    Ok(Some(listener))
}

/// The gRPC listener on `grpcServerPort` (none for 0). A broker on an OS-chosen remoting port
/// (tests) gets an OS-chosen gRPC port too; the port bound is written back to the config, which
/// QueryRoute's endpoints read.
async fn bind_grpc(
    config: &mut BrokerStartupConfig,
    main: SocketAddr,
    dynamic_port: bool,
) -> Result<Option<TcpListener>, BrokerError> {
    let port = config.broker.grpc_server_port;
    if port == 0 {
        return Ok(None);
    }
    let addr = SocketAddr::new(main.ip(), if dynamic_port { 0 } else { port });
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| BrokerError::GrpcBind {
            addr: addr.to_string(),
            source,
        })?;
    config.broker.grpc_server_port = listener.local_addr()?.port();
    Ok(Some(listener))
}
