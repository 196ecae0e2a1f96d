//! [`NamesrvError`]: why the name server could not start or keep its state. Request-level
//! failures are not here: they are error responses (`ProcessError`) sent to the requester.

use std::path::PathBuf;

use rmq_common::config::ConfigError;

#[derive(Debug, thiserror::Error)]
pub enum NamesrvError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Tls(#[from] rmq_remoting::TlsError),
    /// The listening socket could not be bound (typically: the port is in use).
    #[error("cannot listen on port {port} ({addr}): {source}")]
    Bind {
        addr: String,
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the KV config file {path}: {source}")]
    KvLoad {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the KV config file {path} is not valid JSON: {reason}")]
    KvCorrupt { path: PathBuf, reason: String },
    #[error("cannot write the KV config file {path}: {source}")]
    KvPersist {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the listening socket has no local address: {0}")]
    LocalAddr(#[source] std::io::Error),
}
