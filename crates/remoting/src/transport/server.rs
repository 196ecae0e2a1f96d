//! [`RemotingServer`]: accept connections and dispatch requests to processors by code.
//!
//! Shaped like mini-redis's server: `run(listener, shutdown)` is embeddable in a test on port 0,
//! accepts under a connection semaphore with backoff on accept errors, and returns only after
//! every connection task it spawned has finished.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

use super::connection::{establish, ConnectionConfig, Io};
use super::dispatch::{ConnectionListener, Dispatcher, RequestGuard, RequestProcessor};
use super::tls::{ServerTls, TlsMode};
use super::DEFAULT_MAX_FRAME_LEN;

/// Server settings. Defaults follow Apache's `NettyServerConfig` where it has one.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest frame accepted (16 MiB).
    pub max_frame_len: usize,
    /// Close connections with no reads or writes for this long (120 s); `None` never.
    pub idle_timeout: Option<Duration>,
    /// Connections served at once; further accepts wait (65,536). The open-file limit bounds
    /// them too: an accept that fails with EMFILE is retried with a back-off and logged.
    pub max_connections: usize,
    /// Requests processed at once per connection; the reader pauses beyond it (65,536).
    pub max_in_flight_per_connection: usize,
    /// Responses queued per connection before processors wait for the writer (4,096).
    pub write_queue: usize,
    /// How long shutdown waits for in-flight requests before aborting them (10 s).
    pub shutdown_grace: Duration,
    /// TLS (`tls.server.mode`); plain only by default.
    pub tls: ServerTls,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            idle_timeout: Some(Duration::from_secs(120)),
            max_connections: 65_536,
            max_in_flight_per_connection: 65_536,
            write_queue: 4_096,
            shutdown_grace: Duration::from_secs(10),
            tls: ServerTls::disabled(),
        }
    }
}

impl ServerConfig {
    pub(crate) fn connection_config(&self) -> ConnectionConfig {
        ConnectionConfig {
            max_frame_len: self.max_frame_len,
            idle_timeout: self.idle_timeout,
            max_in_flight: self.max_in_flight_per_connection,
            write_queue: self.write_queue,
            shutdown_grace: self.shutdown_grace,
        }
    }
}

/// A remoting server: processors by request code, an optional default processor, and an optional
/// connection listener. Unknown codes get REQUEST_CODE_NOT_SUPPORTED (3) with remark
/// `" request type <code> not supported"`.
pub struct RemotingServer {
    config: ServerConfig,
    dispatcher: Dispatcher,
}

impl RemotingServer {
    pub fn new(config: ServerConfig) -> Self {
        RemotingServer {
            config,
            dispatcher: Dispatcher::default(),
        }
    }

    /// Routes requests with `code` to `processor` (replacing an earlier registration).
    pub fn register(
        &mut self,
        code: impl Into<i32>,
        processor: impl RequestProcessor,
    ) -> &mut Self {
        self.register_shared(code, Arc::new(processor))
    }

    /// Routes `code` to a processor shared with other codes.
    pub fn register_shared(
        &mut self,
        code: impl Into<i32>,
        processor: Arc<dyn RequestProcessor>,
    ) -> &mut Self {
        self.dispatcher.processors.insert(code.into(), processor);
        self
    }

    /// Handles every code without its own processor.
    pub fn register_default(&mut self, processor: impl RequestProcessor) -> &mut Self {
        self.dispatcher.default = Some(Arc::new(processor));
        self
    }

    /// Receives connection open/close events.
    /// Checks every request before its processor (see [`RequestGuard`]).
    pub fn set_request_guard(&mut self, guard: impl RequestGuard) -> &mut Self {
        self.dispatcher.guard = Some(Arc::new(guard));
        self
    }

    pub fn set_connection_listener(&mut self, listener: impl ConnectionListener) -> &mut Self {
        self.dispatcher.listener = Some(Arc::new(listener));
        self
    }

    /// Serves `listener` until `shutdown` is cancelled, then stops accepting, lets in-flight
    /// requests finish (bounded by `shutdown_grace`), closes every connection and returns.
    pub async fn run(self, listener: TcpListener, shutdown: CancellationToken) {
        self.run_all(vec![listener], shutdown).await;
    }

    /// Serves every listener with the same processors, under one connection limit (a broker's
    /// main port and its VIP channel); returns once all of them stopped and every connection
    /// task finished.
    pub async fn run_all(self, listeners: Vec<TcpListener>, shutdown: CancellationToken) {
        let shared = Accepting {
            dispatcher: Arc::new(self.dispatcher),
            limit: Arc::new(Semaphore::new(self.config.max_connections.max(1))),
            tracker: TaskTracker::new(),
            connection: self.config.connection_config(),
            tls: self.config.tls.clone(),
        };
        futures::future::join_all(
            listeners
                .into_iter()
                .map(|l| shared.accept_loop(l, shutdown.clone())),
        )
        .await;
        let tracker = shared.tracker;
        tracker.close();
        debug!(
            connections = tracker.len(),
            "remoting server draining connections"
        );
        tracker.wait().await;
    }
}

/// What the accept loops of one server share.
#[derive(Clone)]
struct Accepting {
    dispatcher: Arc<Dispatcher>,
    limit: Arc<Semaphore>,
    tracker: TaskTracker,
    connection: ConnectionConfig,
    tls: ServerTls,
}

impl Accepting {
    /// Runs a connection over `io` on the tracker, holding its connection `permit`.
    fn serve(&self, io: Io, permit: OwnedSemaphorePermit, shutdown: &CancellationToken) {
        let peer = io.peer();
        match establish(
            io,
            None,
            self.dispatcher.clone(),
            self.connection.clone(),
            shutdown.child_token(),
        ) {
            Ok((_handle, driver)) => {
                self.tracker.spawn(async move {
                    driver.await;
                    drop(permit);
                });
            }
            Err(e) => debug!(%peer, error = %e, "could not set up accepted connection"),
        }
    }

    async fn accept_loop(&self, listener: TcpListener, shutdown: CancellationToken) {
        let local = listener.local_addr().ok();
        info!(addr = ?local, "remoting server listening");
        let mut backoff = Duration::from_millis(1);
        loop {
            let permit = tokio::select! {
                _ = shutdown.cancelled() => break,
                p = self.limit.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            let accepted = tokio::select! {
                _ = shutdown.cancelled() => break,
                a = listener.accept() => a,
            };
            let (stream, peer): (_, SocketAddr) = match accepted {
                Ok(a) => {
                    backoff = Duration::from_millis(1);
                    a
                }
                Err(e) => {
                    // e.g. EMFILE: wait and retry rather than spin or give up.
                    warn!(error = %e, backoff_ms = backoff.as_millis() as u64, "accept failed");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            };
            if self.tls.mode() == TlsMode::Disabled {
                match Io::tcp(stream) {
                    Ok(io) => self.serve(io, permit, &shutdown),
                    Err(e) => debug!(%peer, error = %e, "could not set up accepted connection"),
                }
                continue;
            }
            // The first byte and a TLS handshake are waited for on the connection's own task,
            // so a slow client delays nobody.
            let (tls, me, shutdown) = (self.tls.clone(), self.clone(), shutdown.clone());
            self.tracker.spawn(async move {
                match tls.accept(stream, peer).await {
                    Ok(io) => me.serve(io, permit, &shutdown),
                    Err(e) => debug!(%peer, error = %e, "connection refused at TLS"),
                }
            });
        }
        drop(listener);
        info!(addr = ?local, "remoting server stopped");
    }
}
