//! [`RouteCache`]: encoded GET_ROUTEINFO_BY_TOPIC bodies, per topic and JSON form.
//!
//! Every producer and consumer asks for its topics' routes every 30 s, while routes change only
//! when a broker registers a new data version, leaves, or an admin edits a topic. So the answer is
//! encoded once and served as shared `Bytes` until the next change; a query then costs a hash
//! lookup under a read lock that readers share.
//!
//! Consistency without holding two locks: a change mutates the route table first and then
//! [`invalidate`](RouteCache::invalidate)s (bumping a generation and clearing). A reader notes the
//! generation *before* it reads the table and stores its encoding only if the generation is still
//! the same, so a route read from the old table can never be stored after the clear.
//! Only topics that exist are cached, so the cache is bounded by the route table.

use std::collections::HashMap;

use bytes::Bytes;
use parking_lot::RwLock;

/// Which JSON a requester gets (protocol.md 2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonForm {
    /// Quoted numeric keys: requesters with version >= 401 or `acceptStandardJsonOnly`.
    Standard,
    /// fastjson's bare numeric `brokerAddrs` keys: older requesters.
    Fastjson,
}

#[derive(Debug, Default, Clone)]
struct Encoded {
    standard: Option<Bytes>,
    fastjson: Option<Bytes>,
}

impl Encoded {
    fn slot(&mut self, form: JsonForm) -> &mut Option<Bytes> {
        match form {
            JsonForm::Standard => &mut self.standard,
            JsonForm::Fastjson => &mut self.fastjson,
        }
    }

    fn get(&self, form: JsonForm) -> Option<&Bytes> {
        match form {
            JsonForm::Standard => self.standard.as_ref(),
            JsonForm::Fastjson => self.fastjson.as_ref(),
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    generation: u64,
    routes: HashMap<String, Encoded>,
}

/// Encoded routes, cleared on every change.
#[derive(Debug, Default)]
pub struct RouteCache {
    inner: RwLock<Inner>,
}

impl RouteCache {
    /// The generation to pass to [`insert`](Self::insert); read it before reading the table.
    pub fn generation(&self) -> u64 {
        self.inner.read().generation
    }

    pub fn get(&self, topic: &str, form: JsonForm) -> Option<Bytes> {
        self.inner.read().routes.get(topic)?.get(form).cloned()
    }

    /// Stores an encoding made from the table as of `generation`; dropped if it changed since.
    pub fn insert(&self, generation: u64, topic: &str, form: JsonForm, bytes: Bytes) {
        let mut inner = self.inner.write();
        if inner.generation != generation {
            return;
        }
        *inner.routes.entry(topic.to_owned()).or_default().slot(form) = Some(bytes);
    }

    /// Forgets every encoding; call after each change to routes (or to order-topic config).
    pub fn invalidate(&self) {
        let mut inner = self.inner.write();
        inner.generation = inner.generation.wrapping_add(1);
        inner.routes.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_inserts_are_dropped() {
        let c = RouteCache::default();
        let g = c.generation();
        c.insert(g, "T", JsonForm::Standard, Bytes::from_static(b"std"));
        assert_eq!(c.get("T", JsonForm::Standard).unwrap(), "std");
        assert!(c.get("T", JsonForm::Fastjson).is_none());
        c.invalidate();
        assert!(c.get("T", JsonForm::Standard).is_none());
        c.insert(g, "T", JsonForm::Standard, Bytes::from_static(b"old"));
        assert!(c.get("T", JsonForm::Standard).is_none());
    }
}
