//! What the slave's client task and its connection share: the store, the settings and what is
//! known about the master (connected, its offset, its address).
//!
//! A leaf file so `connection.rs` does not import `client.rs`, the file that spawns it.

use std::sync::atomic::{AtomicBool, AtomicI64};
use std::sync::Arc;

use parking_lot::Mutex;
use rmq_store::MessageStore;

use crate::config::HaConfig;

pub(crate) struct ClientState {
    pub store: Arc<MessageStore>,
    pub cfg: HaConfig,
    pub connected: AtomicBool,
    /// End of the last frame the master sent; -1 before any.
    pub master_offset: AtomicI64,
    pub master_addr: Mutex<Option<String>>,
    /// Controller mode: this broker's id, sent in a hello before the first report; -1: none.
    pub broker_id: AtomicI64,
    /// With credentials: proves the account on every new connection ([`crate::auth`]).
    pub prover: Option<Arc<dyn crate::HaProver>>,
}
