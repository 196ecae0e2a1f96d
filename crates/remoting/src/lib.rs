//! rmq-remoting: Apache RocketMQ's remoting protocol and its tokio transport.
//!
//! The crate is split the way the protocol is layered, so that a reader knows where to look and so
//! that the wire format (a compatibility surface) lives apart from the I/O:
//!
//! * [`protocol`] — the frame and the [`RemotingCommand`] with both header encodings (JSON and the
//!   ROCKETMQ binary form), request and response codes, and [`ExtFields`].
//! * [`header`] — typed request/response headers with Apache's exact `extFields` names, converted
//!   through the [`CommandHeader`] trait.
//! * [`body`] — the JSON bodies (route data, heartbeat, registration, admin statistics) with
//!   lenient decoding of what real clients send.
//! * [`json`] — fastjson compatibility: a normalizer that turns fastjson's non-standard output
//!   (bare numeric keys, object keys) into standard JSON, and a writer that produces it.
//! * [`transport`] — the frame codec, [`RemotingServer`] and [`RemotingClient`].
//!
//! Nothing here panics on input from the network: bad frames close their connection, bad headers
//! become [`HeaderError`]s that servers turn into error responses.

pub mod body;
pub mod header;
pub mod json;
pub mod protocol;
pub mod transport;

pub use header::{CommandHeader, HeaderError};
pub use protocol::signature::Credentials;
pub use protocol::{
    version_desc, ExtFields, LanguageCode, RemotingCommand, RequestCode, ResponseCode,
    SerializeType,
};
pub use transport::{
    load_certs, load_key, load_tls, self_signed, ClientAuth, ClientConfig, ClientTls,
    ConnectionHandle, ConnectionId, ConnectionListener, DaemonTls, Identity, ProcessError,
    ProcessResult, RemotingClient, RemotingError, RemotingServer, RequestContext, RequestGuard,
    RequestProcessor, ServerConfig, ServerTls, TlsError, TlsMode, TlsSettings,
};
