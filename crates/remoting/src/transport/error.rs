//! [`RemotingError`]: what can go wrong talking to a peer. Every variant names the address.

use super::CodecError;

#[derive(Debug, thiserror::Error)]
pub enum RemotingError {
    #[error("connecting to {addr} failed: {source}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("connecting to {addr} timed out after {millis} ms")]
    ConnectTimeout { addr: String, millis: u64 },
    #[error("request to {addr} timed out after {millis} ms")]
    Timeout { addr: String, millis: u64 },
    #[error("the connection to {addr} is closed")]
    ConnectionClosed { addr: String },
    #[error("frame error on the connection to {addr}: {source}")]
    Codec {
        addr: String,
        #[source]
        source: CodecError,
    },
    #[error("the remoting client is shut down (request to {addr})")]
    Shutdown { addr: String },
}

impl RemotingError {
    /// The peer address this error is about.
    pub fn addr(&self) -> &str {
        match self {
            RemotingError::Connect { addr, .. }
            | RemotingError::ConnectTimeout { addr, .. }
            | RemotingError::Timeout { addr, .. }
            | RemotingError::ConnectionClosed { addr }
            | RemotingError::Codec { addr, .. }
            | RemotingError::Shutdown { addr } => addr,
        }
    }

    /// Whether the request may not have reached the peer (safe to retry elsewhere).
    pub fn is_connect_failure(&self) -> bool {
        matches!(
            self,
            RemotingError::Connect { .. } | RemotingError::ConnectTimeout { .. }
        )
    }
}
