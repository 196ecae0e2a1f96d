//! rmq-ha: classic master/slave CommitLog replication, wire-compatible with Apache RocketMQ's
//! `DefaultHAService` (protocol.md 6.2), so an rmq master can feed an rmq or Apache 4.x slave
//! and the other way round.
//!
//! # Shape
//!
//! The protocol rules live in two state machines without I/O, unit-tested deterministically
//! (time is an argument): [`MasterSession`] decides what the master sends to one slave (where
//! to start, chunks of at most `haTransferBatchSize` that never cross a CommitLog file,
//! heartbeats), [`SlaveSession`] cuts the received stream into frames, checks each header
//! against the slave's CommitLog end and decides when to report. [`wire`] holds the byte
//! layout. The services around them only move bytes:
//!
//! * [`HaServer`] (master): accepts slaves on `haListenPort`, runs a reader and a writer task
//!   per slave, tracks ACKs, and answers SYNC_MASTER puts through
//!   [`HaServer::wait_for_replica`], which wakes on the covering ACK.
//! * [`HaClient`] (slave): follows the master's HA address, appends what arrives with
//!   `MessageStore::append_to_commit_log` (dispatch then builds consume queues and index as
//!   for local appends) and reconnects after failures, always resuming from its own end.
//!
//! Both own their tasks (`CancellationToken` + `TaskTracker`) and stop them in `shutdown`.
//!
//! # Wiring in the broker
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<rmq_store::MessageStore>) -> Result<(), rmq_ha::HaError> {
//! use std::time::Duration;
//! use rmq_ha::{HaClient, HaConfig, HaServer};
//! // Master: listen on haListenPort (listenPort + 1 by default).
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:10912").await.map_err(|source| {
//!     rmq_ha::HaError::Io { op: "bind", peer: "0.0.0.0:10912".into(), source }
//! })?;
//! let ha = HaServer::start(listener, store.clone(), HaConfig::default())?;
//! // After each put on a SYNC_MASTER with WAIT=true:
//! let put = store.put_message(rmq_store::PutMessage::new("T", 0, &b"x"[..])).await;
//! if let Some(a) = &put.append {
//!     let status = ha
//!         .wait_for_replica(a.end_offset, Duration::from_secs(5))
//!         .await
//!         .apply_to(put.status);
//!     # let _ = status;
//! }
//! ha.shutdown().await;
//!
//! // Slave: follow the master's HA address as the name server reports it.
//! let (addr_tx, addr_rx) = tokio::sync::watch::channel(Some("10.0.0.1:10912".to_owned()));
//! let client = HaClient::start(store, addr_rx, HaConfig::default())?;
//! addr_tx.send_replace(Some("10.0.0.2:10912".to_owned()));
//! client.shutdown().await;
//! # Ok(()) }
//! ```

mod auth;
mod clock;
mod config;
pub mod epoch_file;
mod error;
mod master;
mod master_session;
#[cfg(test)]
mod simulation;
mod slave;
mod slave_session;
pub mod wire;

pub use auth::{HaGuard, HaProver, AUTH_MAGIC, CHALLENGE_SIZE};
pub use config::HaConfig;
pub use epoch_file::{EpochEntry, EpochFile, EpochFileError};
pub use error::{HaError, ProtocolError};
pub use master::replicas::{InSyncNeed, ReplicaResult, SlaveStatus};
pub use master::server::HaServer;
pub use master_session::{start_offset, MasterAction, MasterSession};
pub use slave::client::HaClient;
pub use slave_session::{Frame, SlaveSession, SlaveTimer};
