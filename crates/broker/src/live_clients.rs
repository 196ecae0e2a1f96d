//! Which 5.x clients are connected now: a client counts while it keeps a Telemetry stream open.
//! POP's automatic renewal keeps a message invisible only while its receiver is connected, and
//! a connected consumer is listed with its group (`mqadmin consumerConnection`) like a remoting
//! one. A leaf: the gRPC front door updates it, the revive task and the admin processors read it.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use rmq_remoting::body::{Connection, SubscriptionData};

/// A connected 5.x consumer as the admin requests show it.
#[derive(Debug, Clone)]
pub struct GrpcConsumer {
    pub group: String,
    pub connection: Connection,
    pub subscriptions: Vec<SubscriptionData>,
}

#[derive(Default)]
struct Client {
    streams: usize,
    consumer: Option<GrpcConsumer>,
}

#[derive(Default)]
pub struct LiveClients {
    open: Mutex<HashMap<Arc<str>, Client>>,
}

/// One open stream of a client; the client stops counting when its last guard drops.
pub struct Connected {
    clients: Arc<LiveClients>,
    id: Arc<str>,
}

impl Drop for Connected {
    fn drop(&mut self) {
        let mut open = self.clients.open.lock();
        if let Some(c) = open.get_mut(&self.id) {
            c.streams -= 1;
            if c.streams == 0 {
                open.remove(&self.id);
            }
        }
    }
}

impl LiveClients {
    /// Counts `id` as connected until the guard drops.
    pub fn connect(self: &Arc<Self>, id: &str) -> Connected {
        let id: Arc<str> = Arc::from(id);
        self.open.lock().entry(id.clone()).or_default().streams += 1;
        Connected {
            clients: self.clone(),
            id,
        }
    }

    pub fn is_connected(&self, id: &str) -> bool {
        self.open.lock().contains_key(id)
    }

    /// Records what a connected client consumes (from its Settings).
    pub fn set_consumer(&self, id: &str, consumer: GrpcConsumer) {
        if let Some(c) = self.open.lock().get_mut(id) {
            c.consumer = Some(consumer);
        }
    }

    /// The connected consumers of `group`.
    pub fn consumers_of(&self, group: &str) -> Vec<GrpcConsumer> {
        self.open
            .lock()
            .values()
            .filter_map(|c| c.consumer.clone())
            .filter(|c| c.group == group)
            .collect()
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
        c.set_consumer(
            "x",
            GrpcConsumer {
                group: "g".into(),
                connection: Connection::default(),
                subscriptions: Vec::new(),
            },
        );
        drop(a);
        assert!(c.is_connected("x"));
        assert_eq!(c.consumers_of("g").len(), 1);
        drop(b);
        assert!(!c.is_connected("x"));
        assert!(c.consumers_of("g").is_empty());
    }
}
