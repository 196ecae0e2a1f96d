//! Which replicas are alive, as one controller sees it: each broker's heartbeat (its epoch, max
//! offset, election priority and how long it may stay silent) and when it came. Not
//! replicated: brokers heartbeat every controller, so a follower that becomes leader already
//! knows who is alive; a controller just started knows nobody and waits one default timeout
//! before it declares a replica it never heard from dead, so a restart never looks like a
//! crash. Time is an argument, so the rules test without clocks.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use crate::election::Candidate;
use crate::replica_set::BrokerId;

/// What a broker reports in each heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    pub broker_name: String,
    pub id: BrokerId,
    pub epoch: i32,
    pub max_offset: i64,
    pub priority: i32,
    /// The broker's `controllerHeartBeatTimeoutMills`: silent longer than this, it is dead.
    pub timeout: Duration,
}

pub struct Liveness {
    /// How long to wait, after `since`, for a replica never heard from.
    timeout: Duration,
    /// When this controller started: nobody is declared dead before `since + timeout`.
    since: Instant,
    seen: HashMap<(String, BrokerId), (Instant, Heartbeat)>,
}

impl Liveness {
    pub fn new(timeout: Duration, now: Instant) -> Self {
        Liveness {
            timeout,
            since: now,
            seen: HashMap::new(),
        }
    }

    pub fn heartbeat(&mut self, now: Instant, hb: Heartbeat) {
        self.seen.insert((hb.broker_name.clone(), hb.id), (now, hb));
    }

    /// The live replicas of a group, as election candidates.
    pub fn alive(&self, now: Instant, broker_name: &str) -> Vec<Candidate> {
        let mut out: Vec<Candidate> = self
            .seen
            .iter()
            .filter(|((name, _), (at, hb))| name == broker_name && fresh(now, *at, hb))
            .map(|(_, (_, hb))| Candidate {
                id: hb.id,
                epoch: hb.epoch,
                max_offset: hb.max_offset,
                priority: hb.priority,
            })
            .collect();
        out.sort_by_key(|c| c.id);
        out
    }

    pub fn is_alive(&self, now: Instant, broker_name: &str, id: BrokerId) -> bool {
        self.seen
            .get(&(broker_name.to_owned(), id))
            .is_some_and(|(at, hb)| fresh(now, *at, hb))
    }

    /// Whether `id` may be declared dead: silent past the timeout its last heartbeat gave, or,
    /// never heard from, once this controller has run long enough to have heard from it.
    pub fn is_dead(&self, now: Instant, broker_name: &str, id: BrokerId) -> bool {
        match self.seen.get(&(broker_name.to_owned(), id)) {
            Some((at, hb)) => !fresh(now, *at, hb),
            None => now.saturating_duration_since(self.since) > self.timeout,
        }
    }

    /// Forgets replicas silent past the timeout; returns the groups they belonged to (each
    /// may need an election).
    pub fn expire(&mut self, now: Instant) -> BTreeSet<String> {
        let mut groups = BTreeSet::new();
        self.seen.retain(|(name, _), (at, hb)| {
            let keep = fresh(now, *at, hb);
            if !keep {
                groups.insert(name.clone());
            }
            keep
        });
        groups
    }

    /// The latest heartbeat of a replica, if it is alive.
    pub fn latest(&self, now: Instant, broker_name: &str, id: BrokerId) -> Option<&Heartbeat> {
        self.seen
            .get(&(broker_name.to_owned(), id))
            .filter(|(at, hb)| fresh(now, *at, hb))
            .map(|(_, hb)| hb)
    }
}

fn fresh(now: Instant, at: Instant, hb: &Heartbeat) -> bool {
    now.saturating_duration_since(at) <= hb.timeout
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hb(id: BrokerId, max_offset: i64) -> Heartbeat {
        Heartbeat {
            broker_name: "b".into(),
            id,
            epoch: 1,
            max_offset,
            priority: 0,
            timeout: Duration::from_secs(10),
        }
    }

    #[test]
    fn silence_past_the_timeout_is_death_but_not_right_after_taking_over() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut l = Liveness::new(Duration::from_secs(10), t0);
        l.heartbeat(t0, hb(1, 10));
        l.heartbeat(t0 + 5 * s, hb(2, 20));
        // Replica 3 never spoke, but this leader only just took over.
        assert!(!l.is_dead(t0 + 5 * s, "b", 3));
        // Replica 4 spoke, with a 2 s timeout, then fell silent: dead after 2 s, whatever the
        // controller's own start.
        l.heartbeat(
            t0,
            Heartbeat {
                timeout: 2 * s,
                ..hb(4, 0)
            },
        );
        assert!(!l.is_dead(t0 + 2 * s, "b", 4));
        assert!(l.is_dead(t0 + 3 * s, "b", 4));
        assert!(l.is_dead(t0 + 11 * s, "b", 3));
        let ids = |v: Vec<Candidate>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(ids(l.alive(t0 + 10 * s, "b")), [1, 2]);
        assert_eq!(ids(l.alive(t0 + 11 * s, "b")), [2]);
        assert!(l.is_dead(t0 + 11 * s, "b", 1));
        assert_eq!(l.alive(t0 + 11 * s, "b")[0].max_offset, 20);
        assert!(l.expire(t0 + 12 * s).contains("b"));
        assert!(l.expire(t0 + 12 * s).is_empty());
        assert!(l.alive(t0 + 12 * s, "other").is_empty());
    }
}
