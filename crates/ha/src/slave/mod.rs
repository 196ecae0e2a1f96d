//! The slave side: follow the master's address, replicate into the local store.

pub(crate) mod client;
mod connection;
mod state;
