//! The tokio transport: frame codec, connections, server and client.
//!
//! One type owns the framing: a connection (see [`ConnectionHandle`]) has one reader task and one
//! writer task. The writer drains every queued frame into one buffer before each write, so many
//! responses cost one syscall. The reader spawns each request into its own task (tracked and
//! bounded per connection), so a long-polling processor that answers 15 s later never blocks the
//! next request. Server and client share this connection code: both sides can send requests,
//! match responses by opaque, and serve requests the peer initiates (the broker's
//! NOTIFY_CONSUMER_IDS_CHANGED and CHECK_TRANSACTION_STATE go server to client).
//!
//! Ownership: the server's `run` and the client's `shutdown` cancel and await every task they
//! spawned; connections finish in-flight requests (bounded by a grace period) before closing.

mod client;
mod codec;
mod connection;
mod dispatch;
mod error;
mod server;
mod tls;
mod tls_settings;

pub use client::{ClientConfig, RemotingClient};
pub use codec::{CodecError, RemotingCodec, DEFAULT_MAX_FRAME_LEN};
pub use connection::{ConnectionHandle, ConnectionId};
pub use dispatch::{
    ConnectionListener, ProcessError, ProcessResult, RequestContext, RequestGuard, RequestProcessor,
};
pub use error::RemotingError;
pub use server::{RemotingServer, ServerConfig};
pub use tls::{load_certs, load_key, ClientAuth, ClientTls, ServerTls, TlsError, TlsMode};
pub use tls_settings::{load as load_tls, self_signed, DaemonTls, Identity, TlsSettings};
