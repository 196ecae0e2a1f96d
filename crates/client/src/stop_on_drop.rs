//! [`StopOnDrop`]: what makes dropping a client stop it.
//!
//! Every user-facing client (`Producer`, `PushConsumer`, ...) holds an `Arc<StopOnDrop>` next to
//! its inner state; clones share it. Background tasks hold only the inner state, never this
//! handle, so they cannot keep a client alive: when the application drops its last handle the
//! guard cancels the client's token, every task ends at its next await, the last reference to
//! the inner state goes, and with it the remoting client, which closes the connections (the
//! brokers then drop this client from its groups). `shutdown().await` remains the graceful
//! path: it commits offsets and unregisters before stopping.

use std::sync::Arc;

use tokio_util::sync::{CancellationToken, DropGuard};

/// Cancels a client's token when the last user handle is dropped.
#[derive(Debug)]
pub(crate) struct StopOnDrop {
    _guard: DropGuard,
}

impl StopOnDrop {
    pub fn new(token: &CancellationToken) -> Arc<Self> {
        Arc::new(StopOnDrop {
            _guard: token.clone().drop_guard(),
        })
    }
}
