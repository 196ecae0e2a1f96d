//! rmq-controller: automatic master failover for broker groups (Apache RocketMQ 5's
//! "controller mode"), shaped as DESIGN.md decision 7 asks: the decisions are a pure state
//! machine, tested in simulation; replicating its log across three or five controllers is
//! openraft's job ([`raft`]: storage on disk, Raft messages over the remoting port, one
//! [`raft::RaftNode`] per controller). [`service`] answers brokers and `mqadmin` with Apache's
//! controller-mode codes; [`daemon::run`] is `mqcontroller`.
//!
//! # Shape
//!
//! - [`ControllerState`] holds, per broker name, a [`ReplicaSet`]: the registered replicas and
//!   their broker ids, the master and its epoch, the SyncStateSet and its epoch. It changes only
//!   by [`ControllerState::apply`] of a [`Command`]; every command that depends on what the
//!   proposer saw carries the epochs it saw, and is rejected when they moved since. So two
//!   controllers (or one controller twice) deciding on the same stale view cannot both win:
//!   the log orders them and the second is refused.
//! - [`election::elect`] picks a master from what the controller leader knows of the replicas'
//!   liveness and progress: the old master while it is alive; else the most caught-up live
//!   member of the SyncStateSet (epoch, then max offset, then `brokerElectionPriority`); a
//!   replica outside the set only when unclean election is enabled.
//! - [`sync_state::check_alter`] holds the rules for a master's request to shrink or expand its
//!   SyncStateSet.

pub mod command;
pub mod config;
pub mod daemon;
pub mod election;
pub mod liveness;
pub mod raft;
pub mod replica_set;
pub mod service;
pub mod state;
pub mod sync_state;

#[cfg(test)]
mod simulation;

pub use command::{Applied, Command, Rejected};
pub use replica_set::{BrokerId, ReplicaSet};
pub use state::ControllerState;

/// The first broker id the controller hands out (Apache's `FIRST_BROKER_CONTROLLER_ID`).
pub const FIRST_BROKER_ID: BrokerId = 1;
