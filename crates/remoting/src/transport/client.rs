//! [`RemotingClient`]: request/response over one lazily opened connection per address.
//!
//! Many requests share a connection and are matched by opaque, so callers pipeline freely.
//! A connection that failed is replaced on next use; requests pending on it fail at once with
//! [`RemotingError::ConnectionClosed`] naming the address.
//!
//! Requests go out with language RUST and version 479 (`V5_3_3`) by default: RUST is honest (the
//! protocol has the code since 5.x, and Apache brokers only record it), and a current version makes
//! name servers send standard route JSON. Both are configurable in [`ClientConfig`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::connection::{establish, ConnectionConfig, Io};
use super::dispatch::{Dispatcher, RequestProcessor};
use super::tls::ClientTls;
use super::{ConnectionHandle, RemotingError, DEFAULT_MAX_FRAME_LEN};
use crate::protocol::signature::Credentials;
use crate::protocol::{LanguageCode, RemotingCommand, RMQ_VERSION};

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Longest wait for a TCP connect (3 s, Java's `connectTimeoutMillis`).
    pub connect_timeout: Duration,
    pub max_frame_len: usize,
    /// Close connections idle this long (120 s); `None` never.
    pub idle_timeout: Option<Duration>,
    /// Stamped on every request sent through the client.
    pub language: LanguageCode,
    /// Stamped on every request sent through the client (`MQVersion` ordinal).
    pub version: i32,
    /// Requests queued per connection before senders wait for the writer.
    pub write_queue: usize,
    /// How long shutdown waits for in-flight server-initiated requests.
    pub shutdown_grace: Duration,
    /// When set, every request is signed with these (Apache's ACL 1.0 `AclClientRPCHook`).
    pub credentials: Option<Credentials>,
    /// When set, every connection is TLS (Java's `useTLS` / `-Dtls.enable=true`).
    pub tls: Option<ClientTls>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            connect_timeout: Duration::from_secs(3),
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            idle_timeout: Some(Duration::from_secs(120)),
            language: LanguageCode::Rust,
            version: RMQ_VERSION,
            write_queue: 4_096,
            shutdown_grace: Duration::from_secs(3),
            credentials: None,
            tls: None,
        }
    }
}

#[derive(Default)]
struct Slot {
    handle: Option<ConnectionHandle>,
    connecting: Arc<tokio::sync::Mutex<()>>,
}

struct Inner {
    config: ClientConfig,
    dispatcher: Arc<Dispatcher>,
    slots: Mutex<HashMap<String, Slot>>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Connection tasks end on their own once told to; `shutdown()` also waits for them.
        self.shutdown.cancel();
    }
}

/// A remoting client. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct RemotingClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RemotingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemotingClient")
            .field("connections", &self.inner.slots.lock().len())
            .finish()
    }
}

impl RemotingClient {
    pub fn new(config: ClientConfig) -> Self {
        Self::build(config, Dispatcher::default())
    }

    /// A client that serves requests the server initiates (NOTIFY_CONSUMER_IDS_CHANGED,
    /// CHECK_TRANSACTION_STATE) with `handler`; it can reply by returning a response.
    pub fn with_request_handler(config: ClientConfig, handler: impl RequestProcessor) -> Self {
        let dispatcher = Dispatcher {
            default: Some(Arc::new(handler)),
            ..Default::default()
        };
        Self::build(config, dispatcher)
    }

    fn build(config: ClientConfig, dispatcher: Dispatcher) -> Self {
        RemotingClient {
            inner: Arc::new(Inner {
                config,
                dispatcher: Arc::new(dispatcher),
                slots: Mutex::new(HashMap::new()),
                tracker: TaskTracker::new(),
                shutdown: CancellationToken::new(),
            }),
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    fn live(&self, addr: &str) -> Option<ConnectionHandle> {
        let slots = self.inner.slots.lock();
        slots
            .get(addr)
            .and_then(|s| s.handle.as_ref())
            .filter(|h| !h.is_closed())
            .cloned()
    }

    /// The connection to `addr`, opened if there is none or the last one failed.
    pub async fn connection(&self, addr: &str) -> Result<ConnectionHandle, RemotingError> {
        self.connection_within(addr, self.inner.config.connect_timeout)
            .await
    }

    async fn connection_within(
        &self,
        addr: &str,
        limit: Duration,
    ) -> Result<ConnectionHandle, RemotingError> {
        if self.inner.shutdown.is_cancelled() {
            return Err(RemotingError::Shutdown { addr: addr.into() });
        }
        if let Some(h) = self.live(addr) {
            return Ok(h);
        }
        let lock = {
            let mut slots = self.inner.slots.lock();
            slots.entry(addr.to_owned()).or_default().connecting.clone()
        };
        let _connecting = lock.lock().await;
        if let Some(h) = self.live(addr) {
            return Ok(h);
        }
        let limit = limit.min(self.inner.config.connect_timeout);
        let stream = match tokio::time::timeout(limit, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(source)) => {
                return Err(RemotingError::Connect {
                    addr: addr.into(),
                    source,
                })
            }
            Err(_) => {
                return Err(RemotingError::ConnectTimeout {
                    addr: addr.into(),
                    millis: limit.as_millis() as u64,
                })
            }
        };
        let c = &self.inner.config;
        let io = match &c.tls {
            None => Io::tcp(stream),
            Some(tls) => match tokio::time::timeout(limit, tls.connect(stream, addr)).await {
                Ok(io) => io,
                Err(_) => {
                    return Err(RemotingError::ConnectTimeout {
                        addr: addr.into(),
                        millis: limit.as_millis() as u64,
                    })
                }
            },
        }
        .map_err(|source| RemotingError::Connect {
            addr: addr.into(),
            source,
        })?;
        let config = ConnectionConfig {
            max_frame_len: c.max_frame_len,
            idle_timeout: c.idle_timeout,
            max_in_flight: 65_536,
            write_queue: c.write_queue,
            shutdown_grace: c.shutdown_grace,
        };
        let (handle, driver) = establish(
            io,
            Some(addr.to_owned()),
            self.inner.dispatcher.clone(),
            config,
            self.inner.shutdown.child_token(),
        )
        .map_err(|source| RemotingError::Connect {
            addr: addr.into(),
            source,
        })?;
        self.inner.tracker.spawn(driver);
        if let Some(slot) = self.inner.slots.lock().get_mut(addr) {
            slot.handle = Some(handle.clone());
        }
        tracing::debug!(addr, conn = %handle.id(), "connected");
        Ok(handle)
    }

    fn stamp(&self, cmd: &mut RemotingCommand) {
        cmd.language = self.inner.config.language;
        cmd.version = self.inner.config.version;
        if let Some(credentials) = &self.inner.config.credentials {
            credentials.sign(cmd);
        }
    }

    /// Sends `request` to `addr` and waits for the response; `timeout` covers connecting too.
    pub async fn invoke(
        &self,
        addr: &str,
        mut request: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand, RemotingError> {
        let start = Instant::now();
        let conn = self.connection_within(addr, timeout).await?;
        self.stamp(&mut request);
        let left = timeout.saturating_sub(start.elapsed());
        match conn.invoke(request, left).await {
            Err(RemotingError::Timeout { addr, .. }) => Err(RemotingError::Timeout {
                addr,
                millis: timeout.as_millis() as u64,
            }),
            other => other,
        }
    }

    /// Sends a oneway request (no response expected). `timeout` bounds connecting and queueing.
    pub async fn invoke_oneway(
        &self,
        addr: &str,
        mut request: RemotingCommand,
        timeout: Duration,
    ) -> Result<(), RemotingError> {
        let start = Instant::now();
        let conn = self.connection_within(addr, timeout).await?;
        self.stamp(&mut request);
        let left = timeout.saturating_sub(start.elapsed());
        tokio::time::timeout(left, conn.send_oneway(request))
            .await
            .map_err(|_| RemotingError::Timeout {
                addr: addr.into(),
                millis: timeout.as_millis() as u64,
            })?
    }

    /// Closes the connection to `addr`, if any; the next request opens a new one.
    pub fn close_connection(&self, addr: &str) {
        let handle = self
            .inner
            .slots
            .lock()
            .get_mut(addr)
            .and_then(|s| s.handle.take());
        if let Some(h) = handle {
            h.close();
        }
    }

    /// Addresses with a live connection.
    pub fn connected_addrs(&self) -> Vec<String> {
        let slots = self.inner.slots.lock();
        slots
            .iter()
            .filter(|(_, s)| s.handle.as_ref().is_some_and(|h| !h.is_closed()))
            .map(|(a, _)| a.clone())
            .collect()
    }

    /// Closes every connection and waits for their tasks. Later requests fail with
    /// [`RemotingError::Shutdown`].
    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        self.inner.tracker.close();
        self.inner.tracker.wait().await;
        self.inner.slots.lock().clear();
    }
}
