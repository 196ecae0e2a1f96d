//! Asking a producer that is not a remoting connection (a 5.x gRPC client) about a transaction
//! the check service found unresolved: the check service hands an [`OrphanCheck`] to a
//! [`CheckBack`] that the front door registered for the producer group.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::RwLock;
use rmq_common::message::Properties;

/// A half message to ask about, as the producer knows it.
#[derive(Debug, Clone)]
pub struct OrphanCheck {
    pub real_topic: String,
    pub queue_id: i32,
    /// The UNIQ_KEY.
    pub message_id: String,
    /// Where the (re-appended) half message is: what END_TRANSACTION names.
    pub commit_log_offset: i64,
    pub queue_offset: i64,
    pub properties: Properties,
    pub body: Bytes,
    /// The body is stored compressed (the message's COMPRESSED flag).
    pub compressed: bool,
    pub born_timestamp: i64,
    pub born_host: SocketAddr,
    pub store_timestamp: i64,
}

/// Hands a check to one producer; false when it could not (its stream is gone or full).
pub type CheckBack = Arc<dyn Fn(&OrphanCheck) -> bool + Send + Sync>;

/// Check-backs by producer group and client id.
#[derive(Default)]
pub struct CheckBacks {
    groups: RwLock<HashMap<String, HashMap<String, CheckBack>>>,
}

impl CheckBacks {
    pub fn register(&self, group: &str, client_id: &str, check: CheckBack) {
        self.groups
            .write()
            .entry(group.to_owned())
            .or_default()
            .insert(client_id.to_owned(), check);
    }

    pub fn unregister(&self, group: &str, client_id: &str) {
        let mut groups = self.groups.write();
        if let Some(g) = groups.get_mut(group) {
            g.remove(client_id);
            if g.is_empty() {
                groups.remove(group);
            }
        }
    }

    /// Asks producers of `group` in turn until one takes the check; false when none did.
    pub fn ask(&self, group: &str, check: &OrphanCheck) -> bool {
        let candidates: Vec<CheckBack> = self
            .groups
            .read()
            .get(group)
            .map(|g| g.values().cloned().collect())
            .unwrap_or_default();
        candidates.iter().any(|cb| cb(check))
    }
}
