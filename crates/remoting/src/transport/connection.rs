//! One TCP connection: the reader and writer tasks, the pending-request table, and the
//! [`ConnectionHandle`] everybody else uses.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use futures::StreamExt;
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::dispatch::{Dispatcher, RequestContext};
use super::{RemotingCodec, RemotingError};
use crate::protocol::{RemotingCommand, FLAG_ONEWAY, FLAG_RESPONSE};

/// Process-wide request id, as Java's `RemotingCommand.requestId`.
static NEXT_OPAQUE: AtomicI32 = AtomicI32::new(0);
static NEXT_CONNECTION_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh opaque for a request.
pub(crate) fn next_opaque() -> i32 {
    NEXT_OPAQUE.fetch_add(1, Ordering::Relaxed)
}

/// Stop collecting queued frames into one write past this many bytes.
const MAX_COALESCED_BYTES: usize = 1024 * 1024;
/// A write buffer that grew past this (a huge body) is released after use.
const MAX_RETAINED_BUFFER: usize = 4 * 1024 * 1024;

/// Identifies a connection for its whole life (never reused within a process).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn-{}", self.0)
    }
}

/// Settings a connection runs with (from the server or client config).
#[derive(Debug, Clone)]
pub(crate) struct ConnectionConfig {
    pub max_frame_len: usize,
    pub idle_timeout: Option<Duration>,
    pub max_in_flight: usize,
    pub write_queue: usize,
    pub shutdown_grace: Duration,
}

struct Shared {
    id: ConnectionId,
    peer: SocketAddr,
    /// The address as callers named it ("host:port"), used in errors.
    label: String,
    tx: mpsc::Sender<RemotingCommand>,
    pending: Mutex<HashMap<i32, oneshot::Sender<RemotingCommand>>>,
    /// Cancelled to close the connection gracefully.
    shutdown: CancellationToken,
    /// Cancelled once the connection takes no more requests.
    closed: CancellationToken,
    epoch: Instant,
    last_activity_ms: AtomicU64,
}

impl Shared {
    fn touch(&self) {
        let ms = self.epoch.elapsed().as_millis() as u64;
        self.last_activity_ms.store(ms, Ordering::Relaxed);
    }

    fn idle_deadline(&self, idle: Duration) -> Instant {
        self.epoch + Duration::from_millis(self.last_activity_ms.load(Ordering::Relaxed)) + idle
    }

    fn fail_pending(&self) {
        let drained: Vec<_> = self.pending.lock().drain().collect();
        drop(drained); // dropping the senders wakes every waiter with "closed"
    }
}

/// A cheap, cloneable handle to a live (or closed) connection.
#[derive(Clone)]
pub struct ConnectionHandle {
    shared: Arc<Shared>,
}

impl fmt::Debug for ConnectionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionHandle")
            .field("id", &self.shared.id)
            .field("peer", &self.shared.peer)
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl PartialEq for ConnectionHandle {
    fn eq(&self, other: &Self) -> bool {
        self.shared.id == other.shared.id
    }
}
impl Eq for ConnectionHandle {}
impl std::hash::Hash for ConnectionHandle {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.shared.id.hash(state);
    }
}

/// Removes a pending entry when the waiting request finishes or is dropped.
struct PendingGuard<'a> {
    shared: &'a Shared,
    opaque: i32,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.shared.pending.lock().remove(&self.opaque);
    }
}

impl ConnectionHandle {
    pub fn id(&self) -> ConnectionId {
        self.shared.id
    }

    pub fn peer_addr(&self) -> SocketAddr {
        self.shared.peer
    }

    /// The address used in errors ("host:port" as the client was asked, or the peer address).
    pub fn addr(&self) -> &str {
        &self.shared.label
    }

    /// Whether the connection has stopped taking requests.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.is_cancelled()
    }

    /// Resolves when the connection stops taking requests (e.g. for a long-poll hold to give up).
    pub fn closed(&self) -> impl Future<Output = ()> + Send + 'static {
        self.shared.closed.clone().cancelled_owned()
    }

    /// Closes the connection gracefully: stop reading, finish in-flight requests, flush.
    pub fn close(&self) {
        self.shared.shutdown.cancel();
    }

    fn closed_error(&self) -> RemotingError {
        RemotingError::ConnectionClosed {
            addr: self.shared.label.clone(),
        }
    }

    /// Queues a command exactly as given (e.g. a late response with its request's opaque).
    pub async fn send(&self, cmd: RemotingCommand) -> Result<(), RemotingError> {
        if self.is_closed() && !cmd.is_response() {
            return Err(self.closed_error());
        }
        // Fails at once when the writer has gone; a stuck writer is bounded by the connection's
        // grace period (and callers' own timeouts).
        self.shared
            .tx
            .send(cmd)
            .await
            .map_err(|_| self.closed_error())
    }

    /// Sends a oneway request (a fresh opaque, the oneway bit set).
    pub async fn send_oneway(&self, mut cmd: RemotingCommand) -> Result<(), RemotingError> {
        cmd.opaque = next_opaque();
        cmd.flag = (cmd.flag | FLAG_ONEWAY) & !FLAG_RESPONSE;
        self.send(cmd).await
    }

    /// Sends a request and waits for its response, at most `timeout`.
    pub async fn invoke(
        &self,
        mut cmd: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand, RemotingError> {
        let opaque = next_opaque();
        cmd.opaque = opaque;
        cmd.flag &= !(FLAG_RESPONSE | FLAG_ONEWAY);
        let (tx, rx) = oneshot::channel();
        self.shared.pending.lock().insert(opaque, tx);
        let _guard = PendingGuard {
            shared: &self.shared,
            opaque,
        };
        // Checked after inserting: a close that drained the table before our insert has
        // already marked the connection closed.
        if self.is_closed() {
            return Err(self.closed_error());
        }
        let exchange = async {
            self.send(cmd).await?;
            rx.await.map_err(|_| self.closed_error())
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(RemotingError::Timeout {
                addr: self.shared.label.clone(),
                millis: timeout.as_millis() as u64,
            }),
        }
    }

    fn complete(&self, response: RemotingCommand) {
        let waiter = self.shared.pending.lock().remove(&response.opaque);
        match waiter {
            Some(tx) => {
                let _ = tx.send(response);
            }
            None => debug!(
                conn = %self.shared.id,
                opaque = response.opaque,
                "response for no pending request (timed out?)"
            ),
        }
    }
}

type Reader = Box<dyn AsyncRead + Send + Unpin>;
type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// A connection's bytes: plain TCP, or TLS over it.
pub(crate) struct Io {
    read: Reader,
    write: Writer,
    peer: SocketAddr,
}

impl Io {
    /// Plain TCP (its halves split without a lock).
    pub(crate) fn tcp(stream: TcpStream) -> std::io::Result<Io> {
        let peer = stream.peer_addr()?;
        stream.set_nodelay(true)?;
        let (read, write) = stream.into_split();
        Ok(Io {
            read: Box::new(read),
            write: Box::new(write),
            peer,
        })
    }

    pub(crate) fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Any other stream, e.g. TLS over the TCP connection to `peer`.
    pub(crate) fn wrapped<S>(stream: S, peer: SocketAddr) -> Io
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let (read, write) = tokio::io::split(stream);
        Io {
            read: Box::new(read),
            write: Box::new(write),
            peer,
        }
    }
}

/// Sets up a connection over `io`. Returns its handle and the future that drives it; the
/// caller spawns that future on a task it owns. `shutdown` closes the connection gracefully.
pub(crate) fn establish(
    io: Io,
    label: Option<String>,
    dispatcher: Arc<Dispatcher>,
    config: ConnectionConfig,
    shutdown: CancellationToken,
) -> std::io::Result<(ConnectionHandle, impl Future<Output = ()> + Send + 'static)> {
    let Io { read, write, peer } = io;
    let (tx, rx) = mpsc::channel(config.write_queue.max(1));
    let shared = Arc::new(Shared {
        id: ConnectionId(NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed)),
        peer,
        label: label.unwrap_or_else(|| peer.to_string()),
        tx,
        pending: Mutex::new(HashMap::new()),
        shutdown,
        closed: CancellationToken::new(),
        epoch: Instant::now(),
        last_activity_ms: AtomicU64::new(0),
    });
    let handle = ConnectionHandle { shared };
    if let Some(listener) = &dispatcher.listener {
        listener.on_connected(&handle);
    }
    let driver = drive(handle.clone(), read, write, rx, dispatcher, config);
    Ok((handle, driver))
}

async fn drive(
    handle: ConnectionHandle,
    read: Reader,
    write: Writer,
    rx: mpsc::Receiver<RemotingCommand>,
    dispatcher: Arc<Dispatcher>,
    config: ConnectionConfig,
) {
    let shared = handle.shared.clone();
    let stop_writer = CancellationToken::new();
    let mut writer = tokio::spawn(write_loop(write, rx, stop_writer.clone(), shared.clone()));
    let mut processors = JoinSet::new();
    let in_flight = Arc::new(Semaphore::new(config.max_in_flight.max(1)));
    let mut frames = FramedRead::new(read, RemotingCodec::new(config.max_frame_len));
    let idle = config.idle_timeout;
    debug!(conn = %shared.id, peer = %shared.peer, "connection open");

    let reason: &'static str = loop {
        let idle_deadline = idle.map(|d| shared.idle_deadline(d));
        tokio::select! {
            biased;
            _ = shared.shutdown.cancelled() => break "closed locally",
            _ = shared.closed.cancelled() => break "write failed",
            Some(joined) = processors.join_next(), if !processors.is_empty() => {
                if let Err(e) = joined {
                    if e.is_panic() {
                        warn!(conn = %shared.id, "request task panicked");
                    }
                }
            }
            _ = sleep_until_opt(idle_deadline), if idle_deadline.is_some() => {
                if idle.is_some_and(|d| shared.idle_deadline(d) <= Instant::now()) {
                    break "idle";
                }
            }
            frame = frames.next() => match frame {
                None => break "peer closed",
                Some(Err(e)) => {
                    warn!(conn = %shared.id, peer = %shared.peer, error = %e, "closing connection: bad frame");
                    break "bad frame";
                }
                Some(Ok(cmd)) => {
                    shared.touch();
                    if cmd.is_response() {
                        handle.complete(cmd);
                        continue;
                    }
                    let permit = tokio::select! {
                        p = in_flight.clone().acquire_owned() => match p {
                            Ok(p) => p,
                            Err(_) => break "closed locally",
                        },
                        _ = shared.shutdown.cancelled() => break "closed locally",
                    };
                    let ctx = RequestContext::new(handle.clone());
                    let dispatcher = dispatcher.clone();
                    let mut request = Box::pin(async move {
                        dispatcher.handle(ctx, cmd).await;
                        drop(permit);
                    });
                    // Most requests complete without waiting: run them here and save a task
                    // hand-off; only a request that actually waits gets its own task.
                    if futures::poll!(request.as_mut()).is_pending() {
                        processors.spawn(request);
                    }
                }
            },
        }
    };

    shared.closed.cancel();
    shared.fail_pending();
    debug!(conn = %shared.id, reason, in_flight = processors.len(), "connection closing");
    // Let in-flight requests finish and their responses go out, within the grace period.
    let drained = tokio::time::timeout(config.shutdown_grace, async {
        while processors.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        warn!(conn = %shared.id, left = processors.len(), "aborting requests still running after the grace period");
        processors.shutdown().await;
    }
    stop_writer.cancel();
    if tokio::time::timeout(config.shutdown_grace, &mut writer)
        .await
        .is_err()
    {
        writer.abort();
        let _ = writer.await;
    }
    if let Some(listener) = &dispatcher.listener {
        listener.on_closed(shared.id, shared.peer);
    }
    debug!(conn = %shared.id, "connection closed");
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Writes queued commands, coalescing everything queued into one buffer per write.
async fn write_loop(
    mut write: Writer,
    mut rx: mpsc::Receiver<RemotingCommand>,
    stop: CancellationToken,
    shared: Arc<Shared>,
) {
    // Grows with what is written: an idle or heartbeat-only connection (thousands of them on a
    // broker) keeps a few hundred bytes, not a preallocated write buffer.
    let mut buf = BytesMut::new();
    loop {
        let first = tokio::select! {
            biased;
            cmd = rx.recv() => cmd,
            _ = stop.cancelled() => None,
        };
        let Some(cmd) = first else { break };
        cmd.encode(&mut buf);
        while buf.len() < MAX_COALESCED_BYTES {
            match rx.try_recv() {
                Ok(cmd) => cmd.encode(&mut buf),
                Err(_) => break,
            }
        }
        if let Err(e) = write.write_all(&buf).await {
            debug!(conn = %shared.id, error = %e, "write failed");
            shared.closed.cancel();
            return;
        }
        shared.touch();
        buf.clear();
        if buf.capacity() > MAX_RETAINED_BUFFER {
            buf = BytesMut::new();
        }
    }
    // Stopping: flush what was queued before the stop, then close our side.
    while let Ok(cmd) = rx.try_recv() {
        cmd.encode(&mut buf);
    }
    if !buf.is_empty() {
        let _ = write.write_all(&buf).await;
    }
    let _ = write.shutdown().await;
}
