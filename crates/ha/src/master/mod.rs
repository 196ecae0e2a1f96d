//! The master side: accept slaves, stream the CommitLog to them, track their ACKs.

mod connection;
mod frames;
pub(crate) mod replicas;
pub(crate) mod server;
mod shared;
