//! Which 5.x clients are connected now: a client counts while it keeps a Telemetry stream open.
//! POP's automatic renewal keeps a message invisible only while its receiver is connected.
//! A leaf: the gRPC front door updates it, the revive task reads it.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

#[derive(Default)]
pub struct LiveClients {
    open: Mutex<HashMap<Arc<str>, usize>>,
}

/// One open stream of a client; the client stops counting when its last guard drops.
pub struct Connected {
    clients: Arc<LiveClients>,
    id: Arc<str>,
}

impl Drop for Connected {
    fn drop(&mut self) {
        let mut open = self.clients.open.lock();
        if let Some(n) = open.get_mut(&self.id) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.id);
            }
        }
    }
}

impl LiveClients {
    /// Counts `id` as connected until the guard drops.
    pub fn connect(self: &Arc<Self>, id: &str) -> Connected {
        let id: Arc<str> = Arc::from(id);
        *self.open.lock().entry(id.clone()).or_default() += 1;
        Connected {
            clients: self.clone(),
            id,
        }
    }

    pub fn is_connected(&self, id: &str) -> bool {
        self.open.lock().contains_key(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connected_while_a_stream_is_open() {
        let c = Arc::new(LiveClients::default());
        let a = c.connect("x");
        let b = c.connect("x");
        drop(a);
        assert!(c.is_connected("x"));
        drop(b);
        assert!(!c.is_connected("x"));
    }
}
