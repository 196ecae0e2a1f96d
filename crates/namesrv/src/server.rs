//! Starting and stopping a name server: [`bind`], [`start`] / [`NamesrvHandle`], [`run`].
//!
//! A name server is a remoting server with the processors of `processor/`, a connection listener
//! that drops brokers whose connection closes, and one background task, the scan for silent
//! brokers. All of it is owned by a [`NamesrvHandle`]: `shutdown()` cancels and awaits everything,
//! so a test can start one in-process on port 0 and stop it without leaks, and the binary is just
//! [`run`] with a signal.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use rmq_common::time::now_millis;
use rmq_remoting::{RemotingServer, ServerConfig};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info};

use crate::kv_config::KvConfigStore;
use crate::processor;
use crate::state::{BrokerHousekeeping, NamesrvState};
use crate::{NamesrvConfig, NamesrvError};

/// Binds the configured `bindAddress:listenPort`.
pub async fn bind(config: &NamesrvConfig) -> Result<TcpListener, NamesrvError> {
    let addr = config.listen_addr();
    // A (host, port) pair also takes IPv6 literals such as `::`.
    TcpListener::bind((config.bind_address.as_str(), config.listen_port))
        .await
        .map_err(|source| NamesrvError::Bind {
            addr,
            port: config.listen_port,
            source,
        })
}

/// Starts a name server on `listener` (whose port wins over `listenPort`): loads the KV config,
/// starts serving and the expiry scan, and returns at once.
pub async fn start(
    config: NamesrvConfig,
    listener: TcpListener,
) -> Result<NamesrvHandle, NamesrvError> {
    let local_addr = listener.local_addr().map_err(NamesrvError::LocalAddr)?;
    let kv = KvConfigStore::load(&config.kv_config_path)?;
    let scan_interval = config.scan_interval();
    let tls = rmq_remoting::load_tls(&config.tls_settings(), &local_addr.ip().to_string())?;
    let server_config = ServerConfig {
        idle_timeout: config.idle_timeout(),
        tls: tls.remoting,
        ..ServerConfig::default()
    };
    let state = Arc::new(NamesrvState::new(config, kv));

    let mut server = RemotingServer::new(server_config);
    processor::register_all(&mut server, &state);
    server.set_connection_listener(BrokerHousekeeping(state.clone()));

    let shutdown = CancellationToken::new();
    let tracker = TaskTracker::new();
    if let Err(e) = crate::metrics_endpoint::start(&state, &tracker, &shutdown).await {
        shutdown.cancel();
        return Err(e);
    }
    tracker.spawn(server.run(listener, shutdown.clone()));
    tracker.spawn(scan_not_active_brokers(
        state.clone(),
        scan_interval,
        shutdown.clone(),
    ));
    info!(
        addr = %local_addr,
        kv_config = %state.kv.path().display(),
        scan_interval_ms = scan_interval.as_millis() as u64,
        "name server started"
    );
    Ok(NamesrvHandle {
        local_addr,
        shutdown,
        tracker,
        state,
    })
}

/// The daemon: binds the configured address, starts, prints Apache's boot line (start scripts
/// grep for it), serves until `shutdown` resolves, then stops everything and returns. The same
/// shape as `rmq_broker::run`.
pub async fn run(config: NamesrvConfig, shutdown: impl Future) -> Result<(), NamesrvError> {
    let listener = bind(&config).await?;
    let handle = start(config, listener).await?;
    println!("The Name Server boot success. serializeType=JSON");
    println!("listening on {}", handle.local_addr());
    shutdown.await;
    handle.shutdown().await;
    Ok(())
}

/// A running name server. Dropping it without [`shutdown`](Self::shutdown) still tells every
/// task to stop, but does not wait for them.
pub struct NamesrvHandle {
    local_addr: SocketAddr,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    state: Arc<NamesrvState>,
}

impl std::fmt::Debug for NamesrvHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamesrvHandle")
            .field("local_addr", &self.local_addr)
            .finish()
    }
}

impl NamesrvHandle {
    /// The address the server listens on (the real port when started on port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Number of registered broker addresses.
    pub fn broker_addr_count(&self) -> usize {
        self.state.routes.read().live_count()
    }

    /// Number of topics with routes.
    pub fn topic_count(&self) -> usize {
        self.state.routes.read().topic_count()
    }

    /// Stops accepting, lets in-flight requests finish, stops the expiry scan, and waits for
    /// all of it.
    pub async fn shutdown(self) {
        info!(addr = %self.local_addr, "name server shutting down");
        self.shutdown.cancel();
        self.tracker.close();
        self.tracker.wait().await;
        info!(addr = %self.local_addr, "name server stopped");
    }
}

impl Drop for NamesrvHandle {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Every `interval`, expires brokers silent past their heartbeat timeout.
async fn scan_not_active_brokers(
    state: Arc<NamesrvState>,
    interval: std::time::Duration,
    shutdown: CancellationToken,
) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {
                let removed = state.expire_silent_brokers(now_millis());
                if removed > 0 {
                    debug!(removed, "expiry scan removed silent brokers");
                }
            }
        }
    }
}
