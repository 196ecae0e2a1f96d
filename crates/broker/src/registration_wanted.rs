//! The "register with the name servers now" signal: bumped when topic configs change so every
//! name server hears about a new topic at once, not at the next 30 s registration.
//!
//! A leaf of its own because processors, the slave's metadata copy and the transaction check
//! all raise it, and only the registration tasks listen.

use std::sync::Arc;

use tokio::sync::watch;

/// Cheap to clone; every clone raises the same signal.
#[derive(Clone)]
pub struct RegistrationWanted(Arc<watch::Sender<u64>>);

impl Default for RegistrationWanted {
    fn default() -> Self {
        RegistrationWanted(Arc::new(watch::channel(0).0))
    }
}

impl RegistrationWanted {
    /// Asks every registration task to register now.
    pub fn request(&self) {
        self.0.send_modify(|v| *v += 1);
    }

    /// A receiver that sees every later request.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }
}
