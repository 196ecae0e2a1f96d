//! Queue selection: round robin over the route's writable queues, skipping brokers that are
//! isolated by [`FaultTolerance`] and, on a retry, the broker that just failed (protocol.md 8.7).
//! Ordered messages bypass this and pick by key ([`queue_for_key`]).

use rmq_common::java::string_hash_code;
use rmq_common::MessageQueue;

use super::fault::FaultTolerance;
use crate::route::TopicRoute;

/// The next queue for a send. `None` only if the route has no writable queue.
pub fn select_queue(
    route: &TopicRoute,
    last_failed_broker: Option<&str>,
    fault: &FaultTolerance,
) -> Option<MessageQueue> {
    let queues = &route.publish_queues;
    let n = queues.len();
    if n == 0 {
        return None;
    }
    let start = route.next_index();
    let at = |i: usize| &queues[(start + i) % n];
    let not_last = |q: &MessageQueue| last_failed_broker != Some(q.broker_name.as_str());
    (0..n)
        .map(at)
        .find(|q| not_last(q) && fault.is_available(&q.broker_name))
        .or_else(|| (0..n).map(at).find(|q| not_last(q)))
        .or_else(|| Some(at(0)))
        .cloned()
}

/// The queue for a sharding key, as Java's `SelectMessageQueueByHash`:
/// `abs(key.hashCode() % n)`.
pub fn queue_for_key(key: &str, queue_count: usize) -> usize {
    if queue_count == 0 {
        return 0;
    }
    let v = string_hash_code(key) % queue_count as i32;
    v.unsigned_abs() as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_remoting::body::{BrokerData, QueueData, TopicRouteData};
    use std::time::Duration;

    fn route() -> TopicRoute {
        let b = |n: &str| BrokerData {
            broker_addrs: [(0, format!("{n}:1"))].into(),
            broker_name: n.into(),
            ..Default::default()
        };
        let q = |n: &str| QueueData {
            broker_name: n.into(),
            perm: 6,
            read_queue_nums: 2,
            write_queue_nums: 2,
            topic_sys_flag: 0,
        };
        TopicRoute::new(
            "T",
            TopicRouteData {
                broker_datas: vec![b("a"), b("b")],
                queue_datas: vec![q("a"), q("b")],
                ..Default::default()
            },
        )
    }

    #[test]
    fn round_robin_covers_every_queue() {
        let r = route();
        let f = FaultTolerance::default();
        let picked: Vec<_> = (0..4)
            .map(|_| select_queue(&r, None, &f).unwrap())
            .map(|q| format!("{}{}", q.broker_name, q.queue_id))
            .collect();
        assert_eq!(picked, ["a0", "a1", "b0", "b1"]);
    }

    #[tokio::test(start_paused = true)]
    async fn skips_failed_and_isolated_brokers() {
        let r = route();
        let f = FaultTolerance::default();
        for _ in 0..4 {
            assert_eq!(select_queue(&r, Some("a"), &f).unwrap().broker_name, "b");
        }
        f.record("b", Duration::ZERO, true);
        for _ in 0..4 {
            assert_eq!(select_queue(&r, None, &f).unwrap().broker_name, "a");
        }
        // Everything isolated: still answers, avoiding the last failed broker.
        f.record("a", Duration::ZERO, true);
        assert_eq!(select_queue(&r, Some("a"), &f).unwrap().broker_name, "b");
    }

    #[test]
    fn key_hash_matches_java() {
        // "order-1".hashCode() = -1207111310 (Java); % 8 = -6 ⇒ 6.
        assert_eq!(string_hash_code("order-1"), -1_207_111_310);
        assert_eq!(queue_for_key("order-1", 8), 6);
        assert_eq!(queue_for_key("anything", 0), 0);
        for k in ["a", "bb", "order-77"] {
            assert!(queue_for_key(k, 5) < 5);
        }
    }
}
