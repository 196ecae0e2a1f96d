//! Registration with the name servers (`registerBrokerAll`).
//!
//! One task per name server in `namesrvAddr`, so a dead or slow name server never delays the
//! others: each registers at start, every `registerNameServerPeriod` (clamped to 10-60 s as
//! Apache does) and whenever the topic configs change. On shutdown the broker unregisters from
//! every name server.
//!
//! The tasks share one [`Registration`]: the handles registration reads and writes, not the
//! broker context.

use std::sync::Arc;
use std::time::Duration;

use rmq_common::java::crc32_masked;
use rmq_common::perm;
use rmq_remoting::body::{RegisterBrokerBody, TopicConfigSerializeWrapper};
use rmq_remoting::header::{
    RegisterBrokerRequestHeader, RegisterBrokerResponseHeader, UnRegisterBrokerRequestHeader,
};
use rmq_remoting::json::JsonBody;
use rmq_remoting::{RemotingCommand, RequestCode, ResponseCode};

use rmq_remoting::RemotingClient;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::ha::BrokerHa;
use crate::known_master::{KnownMaster, MasterAddrs};
use crate::live_config::LiveConfig;
use crate::peer_error::PeerError;
use crate::registration_wanted::RegistrationWanted;
use crate::topics::TopicConfigs;

/// How long a topic change waits for more changes before it is registered.
const CHANGE_DEBOUNCE: Duration = Duration::from_millis(200);

/// What registering reads (topics, addresses) and writes (the master a slave learns).
pub struct Registration {
    /// Read at each registration: `brokerPermission` may change at runtime.
    pub config: Arc<LiveConfig>,
    pub topics: Arc<TopicConfigs>,
    pub outbound: RemotingClient,
    pub wanted: RegistrationWanted,
    pub master: KnownMaster,
    pub ha: Arc<BrokerHa>,
    /// `brokerIP1:listenPort`.
    pub broker_addr: String,
    /// `brokerIP2:haListenPort`.
    pub ha_addr: String,
}

/// Starts one registration task per name server, owned by `tasks`.
pub fn start(reg: &Arc<Registration>, tasks: &TaskTracker, shutdown: &CancellationToken) {
    for addr in reg.config.get().namesrv_addrs() {
        tasks.spawn(run_one(reg.clone(), addr, shutdown.clone()));
    }
}

fn period(reg: &Registration) -> Duration {
    Duration::from_millis(
        reg.config
            .get()
            .broker
            .register_name_server_period
            .clamp(10_000, 60_000),
    )
}

async fn run_one(ctx: Arc<Registration>, namesrv: String, shutdown: CancellationToken) {
    let mut changes = ctx.wanted.subscribe();
    let mut registered = false;
    ctx.wanted.attempted(&namesrv, 0);
    loop {
        let generation = *changes.borrow_and_update();
        let result = register_once(&ctx, &namesrv).await;
        ctx.wanted.attempted(&namesrv, generation);
        match result {
            Ok(()) => {
                if !registered {
                    tracing::info!(namesrv = %namesrv, broker = %ctx.broker_addr, "registered with name server");
                }
                registered = true;
            }
            Err(e) => {
                tracing::warn!(namesrv = %namesrv, error = %e, "registration with name server failed; retrying");
                registered = false;
            }
        }
        // Retry a failed registration sooner than the full period.
        let wait = if registered {
            period(&ctx)
        } else {
            Duration::from_secs(3).min(period(&ctx))
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            r = changes.changed() => {
                if r.is_err() {
                    return;
                }
                // Let a burst of topic changes (an admin creating thousands) share one
                // registration: each one carries every topic. A topic created for a client
                // waiting on it is registered at once.
                if !ctx.wanted.is_urgent(*changes.borrow()) {
                    tokio::select! {
                        _ = tokio::time::sleep(CHANGE_DEBOUNCE) => {}
                        _ = shutdown.cancelled() => return,
                    }
                }
            }
            _ = shutdown.cancelled() => return,
        }
    }
}

/// Registers with one name server now.
pub async fn register_once(ctx: &Registration, namesrv: &str) -> Result<(), PeerError> {
    let config = ctx.config.get();
    let b = &config.broker;
    let (data_version, mut topic_config_table) = ctx.topics.snapshot();
    // A broker that may not be written (or read) advertises its topics so, as Apache's
    // registerBrokerAll does: producers then route around it instead of being refused.
    let broker_perm = b.broker_permission;
    if !perm::is_writeable(broker_perm) || !perm::is_readable(broker_perm) {
        for c in topic_config_table.values_mut() {
            c.perm = broker_perm;
        }
    }
    let body = RegisterBrokerBody {
        filter_server_list: Vec::new(),
        topic_config_serialize_wrapper: TopicConfigSerializeWrapper {
            data_version,
            topic_config_table,
            ..Default::default()
        },
    }
    .to_json_bytes();
    let header = RegisterBrokerRequestHeader {
        broker_name: b.broker_name.clone(),
        broker_addr: ctx.broker_addr.clone(),
        cluster_name: b.broker_cluster_name.clone(),
        ha_server_addr: ctx.ha_addr.clone(),
        broker_id: b.broker_id,
        heartbeat_timeout_millis: Some(b.channel_expired_timeout as i64),
        enable_acting_master: Some(b.enable_acting_master),
        compressed: Some(false),
        body_crc32: Some(crc32_masked(&body) as i32),
        zone_name: None,
        rpc: Default::default(),
    };
    let cmd = RemotingCommand::request(RequestCode::RegisterBroker, &header).with_body(body);
    let timeout = Duration::from_millis(b.register_broker_timeout_mills);
    let resp = ctx.outbound.invoke(namesrv, cmd, timeout).await?;
    if resp.response_code() != ResponseCode::Success {
        return Err(PeerError::Refused {
            request: RequestCode::RegisterBroker,
            code: resp.code,
            remark: resp.remark.unwrap_or_default(),
        });
    }
    // In controller mode the controllers say who the master is; the name servers' answer
    // only gives its HA address, which `controller_mode` takes from `master`.
    let config = ctx.config.get();
    if config.store.broker_role == rmq_store::BrokerRole::Slave {
        let controlled = config.controller.enable_controller_mode;
        if let Ok(h) = resp.decode_header::<RegisterBrokerResponseHeader>() {
            if let (Some(master_addr), Some(ha_server_addr)) = (h.master_addr, h.ha_server_addr) {
                if !master_addr.is_empty() {
                    let new = MasterAddrs {
                        master_addr,
                        ha_server_addr,
                    };
                    if !controlled {
                        ctx.ha.set_master(
                            &new.ha_server_addr,
                            !config.broker.ha_master_address.is_empty(),
                        );
                    }
                    let (master, ha) = (new.master_addr.clone(), new.ha_server_addr.clone());
                    if ctx.master.update(new) {
                        tracing::info!(master = %master, ha = %ha, "learned master address from name server");
                    }
                }
            }
        }
    }
    Ok(())
}

/// Unregisters from every name server (at shutdown), each bounded by the register timeout.
pub async fn unregister_all(ctx: &Registration) {
    let config = ctx.config.get();
    let b = &config.broker;
    let header = UnRegisterBrokerRequestHeader {
        broker_name: b.broker_name.clone(),
        broker_addr: ctx.broker_addr.clone(),
        cluster_name: b.broker_cluster_name.clone(),
        broker_id: b.broker_id,
        rpc: Default::default(),
    };
    let timeout = Duration::from_millis(b.register_broker_timeout_mills.min(3_000));
    let calls = ctx.config.get().namesrv_addrs().into_iter().map(|addr| {
        let cmd = RemotingCommand::request(RequestCode::UnregisterBroker, &header);
        async move {
            match ctx.outbound.invoke(&addr, cmd, timeout).await {
                Ok(_) => tracing::info!(namesrv = %addr, "unregistered from name server"),
                Err(e) => tracing::warn!(namesrv = %addr, error = %e, "could not unregister from name server"),
            }
        }
    });
    futures::future::join_all(calls).await;
}
