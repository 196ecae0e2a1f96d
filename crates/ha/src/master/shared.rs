//! What the master's accept loop and each slave connection share: the store, the settings, the
//! replica table and the wake-up for new data.
//!
//! A leaf file so `connection.rs` does not import `server.rs`, the file that spawns it.

use std::sync::Arc;

use rmq_store::MessageStore;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::HaGuard;
use crate::config::HaConfig;
use crate::master::replicas::Replicas;

pub(crate) struct Shared {
    pub store: Arc<MessageStore>,
    pub cfg: HaConfig,
    pub replicas: Arc<Replicas>,
    /// Rung when the CommitLog grew, to wake idle writers at once.
    pub data_ready: Notify,
    pub cancel: CancellationToken,
    pub tracker: TaskTracker,
    /// With ACL on: who may replicate ([`crate::auth`]).
    pub guard: Option<Arc<dyn HaGuard>>,
}
