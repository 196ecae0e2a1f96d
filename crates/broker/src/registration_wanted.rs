//! The "register with the name servers now" signal: bumped when topic configs change so every
//! name server hears about a new topic at once, not at the next 30 s registration.
//!
//! Two strengths. [`RegistrationWanted::request`] lets a burst of admin changes share one
//! registration (the tasks wait a moment for more). [`RegistrationWanted::request_now`] is for a
//! topic the broker created itself while serving a client (auto-create on send, `%RETRY%`,
//! `%DLQ%`): the tasks register at once, and the caller can wait until every name server has
//! been tried ([`RegistrationWanted::announced`]), so a client that got SEND_OK finds the route,
//! as with Apache's broker, which registers before it answers such a send.
//!
//! A leaf of its own because processors, the slave's metadata copy and the transaction check
//! all raise it, and only the registration tasks listen.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// Cheap to clone; every clone raises the same signal.
#[derive(Clone)]
pub struct RegistrationWanted(Arc<Inner>);

struct Inner {
    /// The generation of the latest request.
    wanted: watch::Sender<u64>,
    /// The latest generation that asked to skip the debounce.
    urgent: AtomicU64,
    /// Per name server, the latest generation whose registration attempt has finished.
    attempted: watch::Sender<BTreeMap<String, u64>>,
}

impl Default for RegistrationWanted {
    fn default() -> Self {
        RegistrationWanted(Arc::new(Inner {
            wanted: watch::channel(0).0,
            urgent: AtomicU64::new(0),
            attempted: watch::channel(BTreeMap::new()).0,
        }))
    }
}

impl RegistrationWanted {
    /// Asks every registration task to register soon (bursts share one registration).
    pub fn request(&self) -> u64 {
        let mut generation = 0;
        self.0.wanted.send_modify(|v| {
            *v += 1;
            generation = *v;
        });
        generation
    }

    /// Asks every registration task to register at once; returns the generation to wait for.
    pub fn request_now(&self) -> u64 {
        let mut generation = 0;
        self.0.wanted.send_modify(|v| {
            *v += 1;
            generation = *v;
            self.0.urgent.fetch_max(*v, Ordering::AcqRel);
        });
        generation
    }

    /// Whether the request of `generation` (or a later one) asked to skip the debounce.
    pub fn is_urgent(&self, generation: u64) -> bool {
        self.0.urgent.load(Ordering::Acquire) >= generation
    }

    /// A receiver that sees every later request.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.wanted.subscribe()
    }

    /// A registration task for `namesrv` reports that its attempt for `generation` finished
    /// (whether or not the name server took it).
    pub fn attempted(&self, namesrv: &str, generation: u64) {
        self.0.attempted.send_modify(|m| {
            let slot = m.entry(namesrv.to_owned()).or_default();
            *slot = (*slot).max(generation);
        });
    }

    /// Waits until every name server's task has attempted `generation`, at most `limit`;
    /// `false` on timeout. With no registration task (no name server), returns at once.
    pub async fn announced(&self, generation: u64, limit: Duration) -> bool {
        let mut rx = self.0.attempted.subscribe();
        let done =
            tokio::time::timeout(limit, rx.wait_for(|m| m.values().all(|g| *g >= generation)))
                .await;
        matches!(done, Ok(Ok(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn announced_waits_for_every_name_server() {
        let w = RegistrationWanted::default();
        w.attempted("ns1", 0);
        w.attempted("ns2", 0);
        let g = w.request_now();
        assert!(w.is_urgent(g));
        let waiter = tokio::spawn({
            let w = w.clone();
            async move { w.announced(g, Duration::from_secs(3)).await }
        });
        w.attempted("ns1", g);
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "one name server still to go");
        w.attempted("ns2", g);
        assert!(waiter.await.unwrap());
        // A debounced request is not urgent; a name server that never answers times out.
        let g2 = w.request();
        assert!(!w.is_urgent(g2));
        w.attempted("ns1", g2);
        assert!(!w.announced(g2, Duration::from_secs(3)).await);
    }
}
