//! Broker errors. Request-level problems become response codes in the processors; these are the
//! errors that stop the broker from starting or persisting its state.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
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
