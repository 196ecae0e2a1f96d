//! Which replicas are alive, as the controller leader sees it: each broker's heartbeat (its
//! epoch, max offset and election priority) and when it came. Not replicated: a new leader
//! starts empty and waits one heartbeat timeout before it declares anyone dead, so a leader
//! change never looks like a crash. Time is an argument, so the rules test without clocks.

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
}

pub struct Liveness {
    /// `controllerHeartBeatTimeoutMills`: silent longer than this, a replica is dead.
    timeout: Duration,
    /// When this controller became leader: nobody is declared dead before `since + timeout`.
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
            .filter(|((name, _), (at, _))| name == broker_name && self.fresh(now, *at))
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
            .is_some_and(|(at, _)| self.fresh(now, *at))
    }

    /// Whether `id` may be declared dead: silent past the timeout, and this leader has led
    /// long enough to have heard from it.
    pub fn is_dead(&self, now: Instant, broker_name: &str, id: BrokerId) -> bool {
        now.saturating_duration_since(self.since) > self.timeout
            && !self.is_alive(now, broker_name, id)
    }

    /// Forgets replicas silent past the timeout; returns the groups they belonged to (each
    /// may need an election).
    pub fn expire(&mut self, now: Instant) -> BTreeSet<String> {
        let timeout = self.timeout;
        let mut groups = BTreeSet::new();
        self.seen.retain(|(name, _), (at, _)| {
            let keep = now.saturating_duration_since(*at) <= timeout;
            if !keep {
                groups.insert(name.clone());
            }
            keep
        });
        groups
    }

    fn fresh(&self, now: Instant, at: Instant) -> bool {
        now.saturating_duration_since(at) <= self.timeout
    }
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
