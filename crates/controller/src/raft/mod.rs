//! The controllers' shared log, replicated by openraft: the types that configure it, the log
//! storage on disk under `controllerStorePath`, and the state machine that applies
//! [`Command`](crate::Command)s to the [`ControllerState`](crate::ControllerState).

mod files;
pub mod log_store;
pub mod network;
pub mod node;
pub mod service;
pub mod state_machine;
pub mod types;

pub use log_store::LogStore;
pub use node::{RaftNode, RaftNodeError};
pub use state_machine::StateMachineStore;
pub use types::{Outcome, TypeConfig};
