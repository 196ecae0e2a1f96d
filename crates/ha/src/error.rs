//! What can go wrong in replication. Every variant ends one connection (the slave reconnects);
//! none of them stops the master from taking writes.

use std::io;

use rmq_store::StoreError;

/// A replication failure, naming the peer or the offsets involved.
#[derive(Debug, thiserror::Error)]
pub enum HaError {
    #[error("{op} {peer}: {source}")]
    Io {
        op: &'static str,
        peer: String,
        #[source]
        source: io::Error,
    },
    #[error("connecting to master {peer} timed out")]
    ConnectTimeout { peer: String },
    #[error("peer {peer} closed the connection")]
    Closed { peer: String },
    #[error("nothing read from {peer} for {silent_ms} ms (haHousekeepingInterval); closing")]
    Silent { peer: String, silent_ms: u128 },
    #[error("HA connection from {peer} refused: {reason}")]
    Refused { peer: String, reason: String },
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error("appending replicated data at offset {offset}: {source}")]
    Append {
        offset: i64,
        #[source]
        source: StoreError,
    },
    #[error("the HA client replicates into SLAVE stores only; this store's brokerRole is {role}")]
    NotSlave { role: rmq_store::BrokerRole },
    #[error(
        "slave asks for offset {requested} but the master's CommitLog starts at {min}; \
         the slave needs a fresh store"
    )]
    OffsetGone { requested: i64, min: i64 },
}

/// The peer broke the wire protocol (protocol.md 6.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error(
        "master sent data for offset {master_offset} but this slave's CommitLog ends at \
         {slave_offset}"
    )]
    OffsetMismatch {
        master_offset: i64,
        slave_offset: i64,
    },
    #[error("transfer header with negative offset {0}")]
    NegativeOffset(i64),
    #[error("transfer header with invalid body size {0}")]
    BadBodySize(i32),
    #[error("transfer header at offset {offset} with {size} bytes ends past the largest offset")]
    EndsPastMax { offset: i64, size: usize },
    #[error("slave reported negative offset {0}")]
    NegativeReport(i64),
}
