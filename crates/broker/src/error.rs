//! Broker errors: what stops the broker from starting or from persisting its state. Errors from
//! the store and from replication keep their type (a caller can still match on them); a request
//! that hits one is answered through the single mapping in [`BrokerError::response_code`], so
//! every processor reports the same failure the same way.

use std::path::PathBuf;

use rmq_remoting::transport::ProcessError;
use rmq_remoting::ResponseCode;

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error(transparent)]
    Acl(#[from] crate::acl::AclError),
    #[error(transparent)]
    Tls(#[from] rmq_remoting::TlsError),
    #[error("ACL 2.0: {0}")]
    Auth(String),
    #[error(transparent)]
    Config(#[from] rmq_common::config::ConfigError),
    #[error("cannot open the message store: {0}")]
    Store(#[from] rmq_store::StoreError),
    #[error("config file {path}: {reason}")]
    ConfigFile { path: PathBuf, reason: String },
    #[error("cannot listen on {addr}: {source}; is another broker running on this port?")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "cannot listen on {addr} for the VIP channel: {source}; Apache's brokers serve their \
         protocol on listenPort - 2 as well (Apache's slaves and VIP-channel clients connect \
         there) and another process holds that port; choose another listenPort"
    )]
    VipBind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "cannot listen on {addr} for gRPC (5.x clients): {source}; another process holds the \
         port: set grpcServerPort to a free port, or 0 to serve no gRPC"
    )]
    GrpcBind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("replication: {0}")]
    Ha(#[from] rmq_ha::HaError),
    #[error(transparent)]
    EpochFile(#[from] rmq_ha::EpochFileError),
    #[error(
        "cannot listen on {addr} for master/slave replication: {source}; port {port} is the HA \
         port (haListenPort, by default listenPort + 1) and another process holds it; set \
         haListenPort or choose another listenPort"
    )]
    HaBind {
        addr: String,
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl BrokerError {
    /// The response code of a request that failed with this error. Every variant is the broker's
    /// own trouble (a disk, a config file, replication), never the client's, so Apache's
    /// SYSTEM_ERROR it is; the remark carries the detail.
    pub fn response_code(&self) -> ResponseCode {
        match self {
            BrokerError::Config(_)
            | BrokerError::Acl(_)
            | BrokerError::Auth(_)
            | BrokerError::Tls(_)
            | BrokerError::Store(_)
            | BrokerError::ConfigFile { .. }
            | BrokerError::Bind { .. }
            | BrokerError::HaBind { .. }
            | BrokerError::VipBind { .. }
            | BrokerError::GrpcBind { .. }
            | BrokerError::Ha(_)
            | BrokerError::EpochFile(_)
            | BrokerError::Io(_) => ResponseCode::SystemError,
        }
    }
}

/// Lets processors use `?` on broker state operations; logged, as the operator must act.
impl From<BrokerError> for ProcessError {
    fn from(e: BrokerError) -> Self {
        tracing::error!(error = %e, "request failed on broker state");
        ProcessError::response(e.response_code(), e.to_string())
    }
}
